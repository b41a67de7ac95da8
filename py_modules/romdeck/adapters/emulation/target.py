"""Which emulation target RomDeck installs for, read from the settings and the disk."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path

from romdeck.adapters.emulation.emudeck import EmuDeckPaths
from romdeck.adapters.emulation.retrodeck import RetroDeckPaths
from romdeck.domain.emulation import custom_root_paths
from romdeck.domain.layout import PlayTarget
from romdeck.domain.settings import EmulationSettings
from romdeck.errors import InvalidInputError

_Stamp = tuple[int, int, int, int] | None


def _stamp(path: Path) -> _Stamp:
    """(mode, mtime ns, size, inode) of ``path``, None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mode, st.st_mtime_ns, st.st_size, st.st_ino)


class EmulationTargetReader:
    """Resolves :class:`EmulationSettings` into a :class:`PlayTarget` for the user at ``home``.

    ``auto`` picks RetroDECK when its config exists, else EmuDeck when its settings exist,
    else RetroDECK's default folders (``~/retrodeck``). Reads small config files
    (``retrodeck.json``/``retrodeck.cfg``, EmuDeck's ``settings.sh``): :meth:`read` blocks,
    :meth:`current` and :meth:`read_async` do it in a thread. The last answer is kept
    and given again while the settings and those files' ``stat`` (mode, mtime, size,
    inode) are unchanged. ``settings`` gives the saved emulation settings (for
    :meth:`current`; it is called in the thread). Raises ``CorruptFileError`` for an
    unreadable config and ``InvalidInputError`` for a custom target without a ROMs root.
    """

    def __init__(self, home: Path, settings: Callable[[], EmulationSettings] | None = None) -> None:
        self._retrodeck = RetroDeckPaths(home)
        self._emudeck = EmuDeckPaths(home)
        self._settings = settings or EmulationSettings
        self._watched = (
            home / ".var/app/net.retrodeck.retrodeck",
            self._retrodeck.config_dir / "retrodeck.json",
            self._retrodeck.config_dir / "retrodeck.cfg",
            self._emudeck.settings_file,
        )
        self._lock = threading.Lock()
        self._last: tuple[EmulationSettings, tuple[_Stamp, ...], PlayTarget] | None = None

    async def current(self) -> PlayTarget:
        """The target for the saved settings, now (read in a thread)."""
        return await asyncio.to_thread(lambda: self.read(self._settings()))

    async def read_async(self, settings: EmulationSettings) -> PlayTarget:
        """:meth:`read` in a thread."""
        return await asyncio.to_thread(self.read, settings)

    def read(self, settings: EmulationSettings) -> PlayTarget:
        """The target to install for and launch on, now (blocking)."""
        stamps = tuple(_stamp(path) for path in self._watched)
        with self._lock:
            last = self._last
        if last is not None and last[0] == settings and last[1] == stamps:
            return last[2]
        target = self._resolve(settings)
        with self._lock:
            self._last = (settings, stamps, target)
        return target

    def _resolve(self, settings: EmulationSettings) -> PlayTarget:
        target = settings.target
        if target == "auto":
            emudeck_only = not self._retrodeck.is_installed() and self._emudeck.is_installed()
            target = "emudeck" if emudeck_only else "retrodeck"
        cores_dir = ""
        if target == "custom":
            if not settings.roms_root.startswith("/"):
                raise InvalidInputError(
                    "Set the ROMs folder (an absolute path) for a custom target."
                )
            paths = custom_root_paths(settings.roms_root, settings.bios_root)
        elif target == "emudeck":
            paths = self._emudeck.read()
            cores_dir = str(self._emudeck.retroarch_cores_dir())
        else:
            paths = self._retrodeck.read()
        return PlayTarget(
            paths=paths,
            templates=dict(settings.templates),
            cores_dir=cores_dir,
            system_overrides=dict(settings.system_overrides),
        )
