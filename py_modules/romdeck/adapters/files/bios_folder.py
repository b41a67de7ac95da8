"""The target's bios folder on disk: md5 of what is there, staged installs, backups."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from romdeck.adapters.files.atomic import fsync_dir
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.files.part_file import PartFile, storage_error
from romdeck.domain.firmware import is_safe_bios_path
from romdeck.errors import InvalidInputError, NotFoundError, StateError


class LocalBiosFolder:
    """The ``BiosFolder`` port: files under a bios root, by ``/`` paths relative to it.

    Hashing runs in a worker thread (``FileHasher``); moves and renames too. Files we
    replace or force-delete are moved to ``backup_dir/<path>.<n>`` first (n counts up,
    never overwriting a backup). A path must be safe (relative, no ``..``), else
    ``InvalidInputError``; symlinks the user made inside the bios folder (a ``dc`` folder
    on the SD card) are followed, as the emulators follow them. Disk errors become
    ``DiskFullError``/``DownloadFailedError``.
    """

    def __init__(self, hasher: FileHasher, backup_dir: Path) -> None:
        self._hasher = hasher
        self._backups = backup_dir

    def _file(self, root: str, path: str) -> Path:
        if not root.startswith("/"):
            raise InvalidInputError("The BIOS folder is not known: set it for this target.")
        if not is_safe_bios_path(path):
            raise InvalidInputError(f"{path!r} is not a path inside the BIOS folder.")
        return Path(root) / path

    async def md5s(self, root: str, paths: Sequence[str]) -> dict[str, str]:
        """md5 (lowercase hex) of each of ``paths`` that is a file under ``root``."""
        found: dict[str, str] = {}
        for path in paths:
            file = self._file(root, path)
            if not await asyncio.to_thread(file.is_file):
                continue
            try:
                found[path] = (await self._hasher.hash_file(file, ("md5",)))["md5"]
            except NotFoundError:
                continue
        return found

    async def md5_of(self, file: str) -> str:
        """md5 of one absolute file (a staged download). Raises ``NotFoundError``/``StateError``."""
        return (await self._hasher.hash_file(Path(file), ("md5",)))["md5"]

    def staging_path(self, root: str, path: str) -> str:
        """Where to download ``path`` before it is installed: a hidden file beside it."""
        file = self._file(root, path)
        return str(file.with_name(f".{file.name}.romdeck-new"))

    async def install(self, root: str, staged: str, path: str, *, backup: bool) -> str:
        """Rename ``staged`` over ``root/path`` atomically (same folder), after moving the
        file there to the backups when ``backup``. Returns the backup path (``""``: none)."""
        file = self._file(root, path)
        return await asyncio.to_thread(self._install, Path(staged), file, path, backup)

    async def discard(self, staged: str) -> None:
        """Remove a staged download and any partial download of it (``.part``,
        ``.part.json``): nothing half-done stays in the bios folder."""
        await asyncio.to_thread(self._discard, PartFile(Path(staged)))

    def _discard(self, files: PartFile) -> None:
        for file in (files.target, files.part, files.sidecar):
            file.unlink(missing_ok=True)

    async def remove(self, root: str, path: str, *, backup: bool) -> str:
        """Delete ``root/path`` (moved to the backups when ``backup``); returns the backup
        path or ``""``. Raises ``NotFoundError`` when there is no such file."""
        file = self._file(root, path)
        return await asyncio.to_thread(self._remove, file, path, backup)

    def _install(self, staged: Path, file: Path, path: str, backup: bool) -> str:
        try:
            saved = self._backup(file, path) if backup and file.exists() else ""
            os.replace(staged, file)
            fsync_dir(file.parent)
            return saved
        except OSError as err:
            raise storage_error(err, file) from err

    def _remove(self, file: Path, path: str, backup: bool) -> str:
        if not file.is_file():
            raise NotFoundError(f"There is no BIOS file {path}.")
        try:
            if backup:
                return self._backup(file, path)
            file.unlink()
            fsync_dir(file.parent)
            return ""
        except OSError as err:
            raise StateError(f"Cannot remove {file}: {err.strerror or err}") from err

    def _backup(self, file: Path, path: str) -> str:
        target = self._backups / path
        target.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while (candidate := target.with_name(f"{target.name}.{n}")).exists():
            n += 1
        shutil.move(file, candidate)
        return str(candidate)
