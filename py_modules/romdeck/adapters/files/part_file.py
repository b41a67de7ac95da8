"""The blocking file side of a download: ``<target>.part`` and its ``.part.json`` sidecar.

Every method blocks (call it in a worker thread) and raises ``DiskFullError`` (ENOSPC,
EDQUOT) or ``DownloadFailedError`` for an ``OSError``, naming the path involved.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from romdeck.adapters.files.atomic import fsync_dir, write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.domain.downloads import PartState
from romdeck.errors import DownloadFailedError, RomDeckError


class PartFile:
    """The partial download of ``target``: ``<target>.part`` holds the bytes received so far,
    ``<target>.part.json`` the :class:`PartState` (URL, ETag, Last-Modified, sizes) that says
    whether a later request may resume it. ``installed`` turns True once the part has been
    renamed to ``target``.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.part = target.with_name(target.name + ".part")
        self.sidecar = target.with_name(target.name + ".part.json")
        self.installed = False

    def load(self) -> tuple[PartState | None, int]:
        """Create the target's folder; return the sidecar's state (None when there is none)
        and the part's size in bytes (0 when there is no part)."""
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            state = (
                PartState.from_json(self.sidecar.read_text("utf-8"))
                if self.sidecar.exists()
                else None
            )
            size = self.part.stat().st_size if self.part.exists() else 0
        except OSError as err:
            raise storage_error(err, self.target.parent) from err
        return state, size

    def open(self, offset: int) -> BinaryIO:
        """Open the part (created if missing), cut it to ``offset`` bytes and seek there."""
        try:
            file = self.part.open("r+b" if self.part.exists() else "w+b")
            file.truncate(offset)
            file.seek(offset)
        except OSError as err:
            raise storage_error(err, self.part) from err
        return file

    def save_state(self, state: PartState) -> None:
        """Replace the sidecar atomically with ``state``."""
        try:
            write_bytes_atomic(self.sidecar, state.to_json().encode("utf-8"))
        except OSError as err:
            raise storage_error(err, self.sidecar) from err

    def install(self) -> None:
        """Flush the part, rename it to ``target`` (replacing any file there), drop the sidecar."""
        try:
            self.part.touch()  # a 0-byte file answered 416 has no part yet
            with self.part.open("r+b") as file:
                os.fsync(file.fileno())
            os.replace(self.part, self.target)
            self.installed = True
            self.sidecar.unlink(missing_ok=True)
        except OSError as err:
            raise storage_error(err, self.target) from err
        fsync_dir(self.target.parent)

    def discard(self) -> None:
        """Remove the part, its sidecar and an older version's sidecar temp; never raises."""
        legacy_temp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        for path in (self.part, self.sidecar, legacy_temp):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def storage_error(err: OSError, path: Path) -> RomDeckError:
    """Our error for an ``OSError`` met while writing ``path``: disk full or a failed download."""
    return write_error(err, path, other=DownloadFailedError)
