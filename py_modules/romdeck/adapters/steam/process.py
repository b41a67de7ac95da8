"""Whether the Steam client is running, from the process table in ``/proc``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path, PurePosixPath

from romdeck.errors import StateError

_STEAM_COMM = "steam"
_STEAM_BINARIES = frozenset({"steam", "steamwebhelper"})


class ProcSteamProcess:
    """Scans ``proc_root`` (``/proc``; a temp tree in tests) for the Steam client.

    A live process counts as Steam when its ``comm`` is ``steam``, or when its
    executable (``exe`` link, else ``argv[0]`` of ``cmdline``) is named ``steam`` or
    ``steamwebhelper`` and lies under ``steam_root`` (anywhere when ``steam_root`` is
    None). Zombies (state ``Z`` in ``stat``) and ``own_pid`` (default: this process)
    are ignored, as are processes that vanish or cannot be read while scanning.
    """

    def __init__(
        self,
        proc_root: Path = Path("/proc"),
        *,
        steam_root: Path | None = None,
        own_pid: int | None = None,
    ) -> None:
        self._proc_root = proc_root
        self._steam_roots = _root_forms(steam_root) if steam_root is not None else None
        self._own_pid = own_pid if own_pid is not None else os.getpid()

    async def running(self) -> bool:
        """:meth:`is_running`, off the event loop (it reads every process's files)."""
        return await asyncio.to_thread(self.is_running)

    def is_running(self) -> bool:
        """True when a Steam client process is alive.

        Raises ``StateError`` when ``proc_root`` cannot be listed.
        """
        try:
            process_dirs = [entry for entry in self._proc_root.iterdir() if entry.name.isdigit()]
        except OSError as err:
            raise StateError(f"Cannot list processes in {self._proc_root}: {err.strerror}") from err
        return any(
            self._is_steam(process_dir)
            for process_dir in process_dirs
            if int(process_dir.name) != self._own_pid
        )

    def _is_steam(self, process_dir: Path) -> bool:
        comm = _read_text(process_dir / "comm")
        if comm is None:
            return False
        steam = comm.strip() == _STEAM_COMM or any(
            self._is_steam_binary(path) for path in _executable_paths(process_dir)
        )
        return steam and not _is_zombie(process_dir)  # only Steam's own stat is read

    def _is_steam_binary(self, path: str) -> bool:
        if PurePosixPath(path).name not in _STEAM_BINARIES:
            return False
        if self._steam_roots is None:
            return True
        return any(
            PurePosixPath(form).is_relative_to(root)
            for form in _path_forms(path)
            for root in self._steam_roots
        )


def _executable_paths(process_dir: Path) -> list[str]:
    """The ``exe`` link target (when readable) and ``argv[0]`` (when absolute)."""
    paths: list[str] = []
    with contextlib.suppress(OSError):  # another user's process, a kernel thread, or gone
        paths.append(os.readlink(process_dir / "exe"))
    cmdline = _read_text(process_dir / "cmdline")
    if cmdline:
        argv0 = cmdline.split("\x00", 1)[0]
        if argv0.startswith("/"):
            paths.append(argv0)
    return paths


def _is_zombie(process_dir: Path) -> bool:
    stat = _read_text(process_dir / "stat")
    if stat is None:
        return False
    after_comm = stat.rpartition(")")[2].split()
    return bool(after_comm) and after_comm[0] == "Z"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None  # the process ended or is not ours to read


def _root_forms(steam_root: Path) -> tuple[PurePosixPath, ...]:
    return tuple(PurePosixPath(form) for form in _path_forms(str(steam_root)))


def _path_forms(path: str) -> set[str]:
    """The path as given and with symlinks resolved (``~/.steam/steam`` → the real folder)."""
    return {os.path.normpath(path), os.path.realpath(path)}
