"""Finds an installed ROM's save files from its install record and RetroArch's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from romdeck.adapters.emulation.retroarch_cfg import RetroArchSaveConfigReader
from romdeck.domain.models import Install
from romdeck.domain.save_files import core_for, save_paths
from romdeck.domain.save_records import SaveTarget


class RetroArchSaveLocator:
    """The ``SaveLocator`` port for RetroArch cores.

    ``install_for`` returns a ROM's install record (``None``: not installed; blocking, a
    SQLite read); ``config`` reads ``retroarch.cfg`` on every call, so a change the user
    makes in RetroArch is followed. ``library_names`` maps a core to its ``library_name``
    (only needed when RetroArch sorts saves by core). Runs in a thread.
    """

    def __init__(
        self, install_for: Callable[[int], Install | None], config: RetroArchSaveConfigReader,
        library_names: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self._install_for = install_for
        self._config = config
        self._library_names = library_names or {}

    async def locate(self, rom_id: int) -> SaveTarget | None:
        """The ROM's core and candidate save paths, or ``None`` (not installed, no core known)."""
        return await asyncio.to_thread(self._locate, rom_id)

    def _locate(self, rom_id: int) -> SaveTarget | None:
        install = self._install_for(rom_id)
        if install is None or not install.launch_path:
            return None
        core = core_for(install.system, install.launch_argv)
        if not core:
            return None
        config = self._config.read()
        library = self._library_names.get(core, "")
        return SaveTarget(rom_id, core, save_paths(config, install.launch_path, core, library))
