"""Steam collections written into the library cloud-storage namespace (Steam not running)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.adapters.files.write_lock import write_lock
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.domain.steam_collections import (
    NAMESPACE_LIMIT_CHARS,
    CollectionsReport,
    CollectionsStatus,
    merge_collections,
)
from romdeck.errors import (
    CorruptFileError,
    RomDeckError,
    StateError,
    SteamNotFoundError,
)

NAMESPACE_FILE = "cloud-storage-namespace-1.json"
MODIFIED_FILE = "cloud-storage-namespace-1.modified.json"
BACKUP_COUNT = 3
"""Previous versions kept beside each file: ``<name>.romdeck-backup.1`` (newest) to ``.3``."""


class JsonCloudCollections:
    """``userdata/<user>/config/cloudstorage/cloud-storage-namespace-1.json`` of a Steam install.

    Writes RomDeck's collections with :func:`~romdeck.domain.steam_collections.merge_collections`
    (every other pair kept as the very text read) and marks the changed keys in
    ``cloud-storage-namespace-1.modified.json`` so Steam uploads them instead of letting
    the cloud copy win. The ``.modified`` file is written first, then the namespace;
    each is backed up (last :data:`BACKUP_COUNT`) and replaced atomically, under a lock
    (``lock_dir`` when given). Never creates the namespace file: where it is missing
    (a client older than 2025-09) the report says so and nothing is written. Only safe
    while Steam is not running (the caller checks). ``now``: Unix time in seconds.
    """

    def __init__(
        self,
        locator: SteamLocator,
        *,
        lock_dir: Path | None = None,
        lock_timeout_s: float = 10.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._locator = locator
        self._lock_dir = lock_dir
        self._lock_timeout_s = lock_timeout_s
        self._now = now

    async def save(
        self, steam_user: str, collections: Mapping[str, Collection[int]]
    ) -> CollectionsReport:
        """:meth:`write`, off the event loop."""
        return await asyncio.to_thread(self.write, steam_user, collections)

    def folder(self, steam_user: str) -> Path:
        """The user's ``config/cloudstorage`` folder (it may not exist)."""
        if not steam_user.isdigit():
            raise SteamNotFoundError(f"{steam_user!r} is not a Steam user id")
        return self._locator.root() / "userdata" / steam_user / "config" / "cloudstorage"

    def write(
        self, steam_user: str, collections: Mapping[str, Collection[int]]
    ) -> CollectionsReport:
        """Make our collections exactly ``collections`` (name → unsigned appids).

        Returns the report (``no_cloud_storage``, ``unchanged``, ``too_large`` or
        ``written`` with the names written and removed). Raises ``SteamNotFoundError``,
        ``CorruptFileError`` (a file that is not Steam's JSON array; both left untouched),
        ``BusyError`` (lock held), ``DiskFullError`` or ``StateError``.
        """
        folder = self.folder(steam_user)
        namespace_path = folder / NAMESPACE_FILE
        modified_path = folder / MODIFIED_FILE
        if not namespace_path.is_file():
            return CollectionsReport(CollectionsStatus.NO_CLOUD_STORAGE, str(namespace_path))
        with self._locked(steam_user, namespace_path):
            namespace = _read_text(namespace_path)
            if namespace is None:
                return CollectionsReport(CollectionsStatus.NO_CLOUD_STORAGE, str(namespace_path))
            modified = _read_text(modified_path)
            try:
                merge = merge_collections(namespace, modified, collections, now=int(self._now()))
            except ValueError as err:
                raise CorruptFileError(
                    f"{namespace_path} or {modified_path} is not Steam's JSON ({err}); "
                    "left untouched"
                ) from err
            if merge.namespace is None:
                return CollectionsReport(CollectionsStatus.UNCHANGED, str(namespace_path))
            if len(merge.namespace) > NAMESPACE_LIMIT_CHARS:
                return CollectionsReport(CollectionsStatus.TOO_LARGE, str(namespace_path))
            if merge.modified is not None:
                _replace(modified_path, modified, merge.modified)
            _replace(namespace_path, namespace, merge.namespace)
        return CollectionsReport(
            CollectionsStatus.WRITTEN, str(namespace_path), merge.written, merge.removed
        )

    def _locked(self, steam_user: str, path: Path) -> AbstractContextManager[None]:
        lock_path = (
            self._lock_dir / f"cloudstorage-{steam_user}.lock"
            if self._lock_dir is not None
            else Path(f"{path}.lock")
        )
        return write_lock(path, lock_path, self._lock_timeout_s)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as err:
        raise CorruptFileError(f"{path} is not UTF-8 text; left untouched") from err
    except OSError as err:
        raise StateError(f"Cannot read {path}: {err.strerror}") from err


def _replace(path: Path, original: str | None, text: str) -> None:
    """Back up ``original`` (when the file existed), then write ``text`` atomically."""
    try:
        if original is not None:
            numbers = range(1, BACKUP_COUNT + 1)
            backups = [path.with_name(f"{path.name}.romdeck-backup.{n}") for n in numbers]
            for older, newer in zip(reversed(backups[1:]), reversed(backups[:-1]), strict=True):
                if newer.exists():
                    os.replace(newer, older)
            write_bytes_atomic(backups[0], original.encode("utf-8"))
        write_bytes_atomic(path, text.encode("utf-8"))
    except OSError as err:
        raise _write_error(path, err) from err


def _write_error(path: Path, err: OSError) -> RomDeckError:
    return write_error(err, path, other=StateError)
