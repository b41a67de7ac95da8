"""File operations on installed games in the emulation target's ROM folders."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from romdeck.adapters.files.atomic import fsync_dir, write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.errors import DownloadFailedError, RomDeckError


class LocalInstallTree:
    """Renames, listings, playlist writes and removals, each run in a worker thread.

    Never follows symlinks when listing or removing, and never removes anything outside
    the ``root`` it is given. Raises ``DiskFullError`` (ENOSPC/EDQUOT) or
    ``DownloadFailedError`` for any other failed write.
    """

    async def exists(self, path: Path) -> bool:
        """True when something (file, folder, link) is at ``path``."""
        return await asyncio.to_thread(os.path.lexists, path)

    async def file_sizes(self, root: Path) -> dict[str, int]:
        """Regular files under ``root`` by ``/``-relative path → bytes.

        A file ``root`` gives ``{"": size}``; nothing there gives ``{}``.
        """
        return await asyncio.to_thread(_file_sizes, root)

    async def move(self, source: Path, target: Path) -> None:
        """Rename ``source`` to ``target`` (same file system); ``target`` must not exist."""
        await asyncio.to_thread(_move, source, target)

    async def write_text(self, path: Path, text: str) -> None:
        """Write UTF-8 ``text`` to ``path`` atomically (temp, fsync, rename)."""
        await asyncio.to_thread(_write_text, path, text)

    async def remove(self, root: Path, relative: Sequence[str] = ()) -> None:
        """Remove the file ``root``, or the ``relative`` files under the folder ``root``
        (all of it when empty) and then every folder left empty, ``root`` included."""
        await asyncio.to_thread(_remove, root, tuple(relative))

    async def discard_partial(self, target: Path) -> None:
        """Remove ``<target>.part`` and ``<target>.part.json`` (the downloader's names)."""
        for suffix in (".part", ".part.json"):
            await asyncio.to_thread(_unlink, target.with_name(target.name + suffix))


def _error(err: OSError, path: Path) -> RomDeckError:
    return write_error(err, path, other=DownloadFailedError, doing="change")


def _file_sizes(root: Path) -> dict[str, int]:
    try:
        info = root.lstat()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise _error(err, root) from err
    if stat.S_ISREG(info.st_mode):
        return {"": info.st_size}
    sizes: dict[str, int] = {}
    if not stat.S_ISDIR(info.st_mode):
        return sizes
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            path = Path(folder, name)
            with contextlib.suppress(OSError):
                entry = path.lstat()
                if stat.S_ISREG(entry.st_mode):
                    sizes[path.relative_to(root).as_posix()] = entry.st_size
    return sizes


def _move(source: Path, target: Path) -> None:
    try:
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "already exists", str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
        fsync_dir(target.parent)
    except OSError as err:
        raise _error(err, target) from err


def _write_text(path: Path, text: str) -> None:
    try:
        write_bytes_atomic(path, text.encode("utf-8"))
    except OSError as err:
        raise _error(err, path) from err


def _remove(root: Path, relative: tuple[str, ...]) -> None:
    try:
        if not os.path.lexists(root):
            return
        if not root.is_dir() or root.is_symlink():
            root.unlink()
            return
        if not relative:
            shutil.rmtree(root)
            return
        for rel in relative:
            path = root.joinpath(*rel.split("/"))
            if path.is_symlink() or path.is_file():
                path.unlink()
        _prune(root)
    except OSError as err:
        raise _error(err, root) from err


def _prune(root: Path) -> None:
    """Remove folders left empty under ``root`` (deepest first), then ``root`` if empty."""
    for folder, _dirs, _files in sorted(os.walk(root), key=lambda e: -len(e[0])):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
