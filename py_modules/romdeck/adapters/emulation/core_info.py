"""The libretro core ``.info`` files installed for the emulation target."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from romdeck.domain.emulation import EmulationTarget
from romdeck.domain.firmware import CoreInfo, parse_core_info

# RetroDECK's RetroArch reads info files from /var/config/retroarch/cores inside the
# flatpak (``libretro_info_path`` of its retroarch.cfg), i.e. ~/.var/app/<id>/config/...;
# the flatpak's own copy lives under share/libretro/info of the installed app.
_RETRODECK = (
    ".var/app/net.retrodeck.retrodeck/config/retroarch/cores",
    ".local/share/flatpak/app/net.retrodeck.retrodeck/current/active/files/share/libretro/info",
    "/var/lib/flatpak/app/net.retrodeck.retrodeck/current/active/files/share/libretro/info",
)
# EmuDeck installs RetroArch as a flatpak; its cores (.so and .info) share one folder.
_EMUDECK = (
    ".var/app/org.libretro.RetroArch/config/retroarch/cores",
    ".var/app/org.libretro.RetroArch/config/retroarch/info",
    ".config/retroarch/cores",
)


class CoreInfoFolders:
    """Finds and parses ``*_libretro.info`` files for a target (``CoreInfoSource`` port).

    Folders (relative ones are under ``home``), first found wins per core: RetroDECK's
    ``~/.var/app/net.retrodeck.retrodeck/config/retroarch/cores`` then the flatpak's
    ``share/libretro/info``; EmuDeck's RetroArch flatpak ``config/retroarch/cores``;
    plus ``extra`` folders (tests, a custom target). Files are read in a thread; an
    unreadable file is skipped (the table stands in for its core).
    """

    def __init__(self, home: Path, *, extra: Sequence[Path] = ()) -> None:
        self._home = home
        self._extra = tuple(extra)

    def folders(self, target: EmulationTarget) -> list[Path]:
        """Candidate folders for ``target``, in the order they are searched."""
        names = _EMUDECK if target == EmulationTarget.EMUDECK else _RETRODECK
        if target == EmulationTarget.CUSTOM:
            names = ()
        return [*self._extra, *(self._home / n for n in names)]

    async def installed_cores(self, target: EmulationTarget) -> dict[str, CoreInfo]:
        """Parsed ``.info`` of each core found, by short name (``swanstation``)."""
        return await asyncio.to_thread(self._read, self.folders(target))

    def _read(self, folders: list[Path]) -> dict[str, CoreInfo]:
        cores: dict[str, CoreInfo] = {}
        for folder in folders:
            try:
                files = sorted(folder.glob("*_libretro.info"))
            except OSError:
                continue
            for file in files:
                core = file.name.removesuffix("_libretro.info")
                if core in cores:
                    continue
                try:
                    text = file.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                cores[core] = parse_core_info(text, core)
        return cores
