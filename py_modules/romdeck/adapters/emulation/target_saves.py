"""RetroArch's save settings for the emulation target chosen now (RetroDECK, EmuDeck, custom)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from romdeck.adapters.emulation.retroarch_cfg import (
    FLATPAK_RETROARCH_CFG,
    RETRODECK_CFG,
    RetroArchSaveConfigReader,
)
from romdeck.adapters.emulation.state_locator import RetroArchStateLocator
from romdeck.domain.emulation import EmulationTarget
from romdeck.domain.layout import PlayTarget
from romdeck.domain.models import Install
from romdeck.domain.save_files import SaveDirConfig
from romdeck.domain.save_records import SaveTarget


class TargetRetroArchConfig(RetroArchSaveConfigReader):
    """Reads the ``retroarch.cfg`` of the target ``target()`` returns, on every call.

    RetroDECK: ``~/.var/app/net.retrodeck.retrodeck/config/retroarch/retroarch.cfg`` with
    RetroDECK's ``saves_path`` (the target's ``paths.saves``) for its ``RETRODECKHOMEDIR``
    placeholder. EmuDeck and custom targets: the RetroArch flatpak's
    ``~/.var/app/org.libretro.RetroArch/config/retroarch/retroarch.cfg`` (EmuDeck's saves
    folders are symlinks into it); a custom target without that file keeps saves next to
    the ROM, RetroArch's own default. Blocking (small files): call it off the event loop.
    Raises ``CorruptFileError`` (unreadable cfg) and what ``target()`` raises.
    """

    def __init__(self, home: Path, target: Callable[[], PlayTarget]) -> None:
        super().__init__(home / RETRODECK_CFG, home=home)
        self._target_of = target
        self._user_home = home

    def reader(self) -> RetroArchSaveConfigReader:
        """The plain reader for the current target's file."""
        paths = self._target_of().paths
        if paths.target == EmulationTarget.RETRODECK:
            cfg = self._user_home / RETRODECK_CFG
        else:
            cfg = self._user_home / FLATPAK_RETROARCH_CFG
        return RetroArchSaveConfigReader(cfg, home=self._user_home, saves_path=paths.saves)

    def read(self) -> SaveDirConfig:
        """The save settings of the current target's ``retroarch.cfg``."""
        return self.reader().read()


class TargetStateLocator:
    """The ``SaveLocator`` port for save states on the target chosen now.

    Each call builds a :class:`RetroArchStateLocator` for the current target's
    ``retroarch.cfg`` (as :class:`TargetRetroArchConfig` picks it) and its states folder
    (RetroDECK's ``states_path``, the target's ``paths.states``), in a thread.
    ``install_for`` and ``target`` are blocking. Raises ``CorruptFileError`` for an
    unreadable cfg and what ``target()`` raises.
    """

    def __init__(
        self, install_for: Callable[[int], Install | None], home: Path,
        target: Callable[[], PlayTarget],
    ) -> None:  # fmt: skip
        self._install_for = install_for
        self._home = home
        self._target = target

    def _locator(self) -> RetroArchStateLocator:
        paths = self._target().paths
        retrodeck = paths.target == EmulationTarget.RETRODECK
        cfg = self._home / (RETRODECK_CFG if retrodeck else FLATPAK_RETROARCH_CFG)
        return RetroArchStateLocator(
            self._install_for, cfg, home=self._home, states_path=paths.states
        )

    async def locate(self, rom_id: int) -> SaveTarget | None:
        """The ROM's core and candidate state paths, or ``None`` (not installed, no core)."""
        locator = await asyncio.to_thread(self._locator)
        return await locator.locate(rom_id)
