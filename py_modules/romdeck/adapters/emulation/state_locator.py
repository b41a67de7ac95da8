"""Finds an installed ROM's RetroArch save states from its install record and ``retroarch.cfg``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from posixpath import normpath

from romdeck.adapters.emulation.retroarch_cfg import parse_cfg
from romdeck.domain.models import Install
from romdeck.domain.save_files import SaveDirConfig, core_for
from romdeck.domain.save_records import SaveTarget
from romdeck.domain.save_states import state_paths
from romdeck.errors import CorruptFileError

_PLACEHOLDER = "RETRODECKHOMEDIR/states"


class RetroArchStateLocator:
    """The ``SaveLocator`` port for states: every state path of a ROM's content.

    Reads ``cfg`` (``savestate_directory``, ``savestates_in_content_dir``,
    ``sort_savestates_enable``, ``sort_savestates_by_content_enable``) on every call;
    ``states_path`` (RetroDECK's ``states_path``) replaces RetroDECK's placeholder
    ``RETRODECKHOMEDIR/states`` and is the folder (by system) when the file is missing.
    ``"default"``/empty means next to the content. ``install_for`` is blocking (SQLite);
    the work runs in a thread. Raises ``CorruptFileError`` for an unreadable cfg.
    """

    def __init__(
        self, install_for: Callable[[int], Install | None], cfg: Path, *, home: Path,
        states_path: str = "", library_names: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self._install_for = install_for
        self._cfg = cfg
        self._home = home
        self._states_path = states_path
        self._library_names = library_names or {}

    async def locate(self, rom_id: int) -> SaveTarget | None:
        """The ROM's core and candidate state paths, or ``None`` (not installed, no core)."""
        return await asyncio.to_thread(self._locate, rom_id)

    def read(self) -> SaveDirConfig:
        """The state folder settings now in the cfg (the save rule's shape)."""
        if not self._cfg.is_file():
            return SaveDirConfig(self._states_path, sort_by_content=bool(self._states_path))
        try:
            cfg = parse_cfg(self._cfg.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise CorruptFileError(f"{self._cfg} cannot be read: {exc.strerror}.") from None
        return SaveDirConfig(
            savefile_directory=self._directory(cfg.get("savestate_directory", "")),
            in_content_dir=cfg.get("savestates_in_content_dir") == "true",
            sort_by_content=cfg.get("sort_savestates_by_content_enable") == "true",
            sort_by_core=cfg.get("sort_savestates_enable") == "true",
        )

    def _locate(self, rom_id: int) -> SaveTarget | None:
        install = self._install_for(rom_id)
        if install is None or not install.launch_path:
            return None
        core = core_for(install.system, install.launch_argv)
        if not core:
            return None
        library = self._library_names.get(core, "")
        return SaveTarget(rom_id, core, state_paths(self.read(), install.launch_path, library))

    def _directory(self, value: str) -> str:
        if value in ("", "default"):
            return ""
        if value.startswith(_PLACEHOLDER):
            rest = value[len(_PLACEHOLDER) :]
            return normpath(self._states_path + rest) if self._states_path else ""
        if value == "~" or value.startswith("~/"):
            value = str(self._home) + value[1:]
        return normpath(value) if value.startswith("/") else ""
