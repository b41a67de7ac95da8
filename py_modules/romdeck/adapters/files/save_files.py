"""Save files on disk for the saves service: whole reads with md5, atomic replaces, kept copies."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.domain.save_records import LocalSave
from romdeck.domain.save_status import LocalVersion
from romdeck.errors import DiskFullError, InvalidInputError, StateError

_UNSAFE = re.compile(r"[^\w .()\[\]-]")
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.\d+\.tmp")


def _drop_stale_temps(path: Path) -> None:
    """Delete ``write_bytes_atomic`` temp files of ``path`` whose writing process is dead."""
    try:
        entries = os.listdir(path.parent)
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry)
        if match is None or match["name"] != path.name or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):  # another writer removed it first
            (path.parent / entry).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class LocalSaveFiles:
    """Reads and writes the user's save files; keeps backup and conflict copies under
    ``root`` (``<root>/<kind>/<rom_id>/<n>-<name>``, ``kind`` ``backups``/``conflicts``).

    Work runs in a thread. Raises ``DiskFullError`` when the disk is full and
    ``StateError`` for other OS errors; a failed write leaves the old file as it was.
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    async def read(self, path: str) -> LocalSave | None:
        """The file whole with its md5, or ``None`` when it is missing."""

        def run() -> LocalSave | None:
            try:
                data = Path(path).read_bytes()
                mtime = os.stat(path).st_mtime
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise StateError(f"Cannot read the save {path}: {exc.strerror}") from None
            modified = datetime.fromtimestamp(mtime, UTC).isoformat()
            return LocalSave(path, data, hashlib.md5(data).hexdigest(), modified)

        return await asyncio.to_thread(run)

    async def write(self, path: str, data: bytes) -> None:
        """Replace ``path`` atomically (folder created). Temp files an earlier writer left
        beside it when it was killed mid-write (``.<name>.<pid>.<thread>.tmp``, its process
        gone) are removed first, so none lingers in the saves folder."""

        def run() -> None:
            _drop_stale_temps(Path(path))
            self._write(Path(path), data)

        await asyncio.to_thread(run)

    async def keep_copy(self, kind: str, rom_id: int, name: str, data: bytes) -> str:
        """Keep ``data`` as a new file under ``<root>/<kind>/<rom_id>/``; returns its path."""
        if kind not in ("backups", "conflicts"):
            raise InvalidInputError(f"Unknown kind of save copy: {kind}")

        def run() -> str:
            folder = self._root / kind / str(rom_id)
            folder.mkdir(parents=True, exist_ok=True)
            number = len(os.listdir(folder)) + 1
            target = folder / f"{number:04d}-{_UNSAFE.sub('_', name)}"
            while target.exists():
                number += 1
                target = folder / f"{number:04d}-{_UNSAFE.sub('_', name)}"
            self._write(target, data)
            return str(target)

        return await asyncio.to_thread(run)

    async def remove_copy(self, path: str) -> None:
        """Delete a kept copy; refuses any path outside ``root``."""

        def run() -> None:
            target = Path(path).resolve()
            if not target.is_relative_to(self._root.resolve()):
                raise InvalidInputError(f"{path} is not one of RomDeck's save copies.")
            target.unlink(missing_ok=True)

        await asyncio.to_thread(run)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
        except OSError as exc:
            if exc.errno == 28:
                raise DiskFullError(f"No space left to write {path}.") from None
            raise StateError(f"Cannot write {path}: {exc.strerror}") from None

    async def version(self, path: str) -> LocalVersion | None:
        """The file's md5, size (bytes) and mtime (ISO-8601 UTC), or ``None`` when missing."""

        def run() -> LocalVersion | None:
            try:
                with open(path, "rb") as handle:
                    stat = os.fstat(handle.fileno())
                    digest = hashlib.file_digest(handle, "md5").hexdigest()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise StateError(f"Cannot read the save {path}: {exc.strerror}") from None
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds")
            return LocalVersion(digest, stat.st_size, modified)

        return await asyncio.to_thread(run)
