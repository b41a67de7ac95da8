"""Value types of the emulation target: where ROMs, saves and BIOS live, and ES-DE systems.

Paths are absolute POSIX path strings as found on the device (``""``: not known or
not managed by the target). Nothing here touches the file system.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from posixpath import join


class EmulationTarget(StrEnum):
    """Which front end owns the ROM folders (compares equal to its string value)."""

    RETRODECK = "retrodeck"
    EMUDECK = "emudeck"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class EmulationPaths:
    """The folders of one emulation target.

    ``roms`` holds one folder per system (``<roms>/<system>/<game>``); ``saves`` and
    ``states`` are where RetroArch writes battery saves and save states (RetroArch
    adds the ROM's parent folder name below them when it sorts by content); ``bios``
    is RetroArch's ``system_directory``. ``source`` names what the paths were read
    from (``retrodeck.json``, ``retrodeck.cfg``, ``settings.sh``, ``default``, ``user``).
    """

    roms: str
    saves: str
    states: str
    bios: str
    target: EmulationTarget = EmulationTarget.RETRODECK
    source: str = "default"

    def system_dir(self, system: str) -> str:
        """The folder of one system's ROMs (``<roms>/<system>``)."""
        return join(self.roms, system)


def custom_root_paths(roms_root: str, bios_root: str = "") -> EmulationPaths:
    """Paths for a ROMs root the user chose, and the BIOS folder they set (``""``: BIOS not
    managed); saves and states are not managed (``""``)."""
    return EmulationPaths(
        roms=roms_root.rstrip("/") or "/",
        saves="",
        states="",
        bios=bios_root.rstrip("/") if bios_root else "",
        target=EmulationTarget.CUSTOM,
        source="user",
    )


@dataclass(frozen=True, slots=True)
class EsCommand:
    """One ``<command>`` of an ES-DE system: its ``label`` and raw text with ``%PLACEHOLDERS%``."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class EsSystem:
    """One ``<system>`` of an ES-DE ``es_systems.xml``.

    ``name`` is the ROM folder under ``roms/``; ``extensions`` are lowercase with the
    dot, deduplicated, in file order; ``commands`` in file order (the first is ES-DE's
    default); ``platforms`` are the comma-separated ``<platform>`` ids.
    """

    name: str
    fullname: str
    extensions: tuple[str, ...]
    commands: tuple[EsCommand, ...]
    platforms: tuple[str, ...]

    def retroarch_cores(self) -> tuple[str, ...]:
        """Short names of the libretro cores its commands load (``snes9x``), in order."""
        cores: list[str] = []
        marker = "%CORE_RETROARCH%/"
        for cmd in self.commands:
            start = cmd.command.find(marker)
            if start < 0:
                continue
            words = cmd.command[start + len(marker) :].split()
            core = words[0].removesuffix(".so").removesuffix("_libretro") if words else ""
            if core and core not in cores:
                cores.append(core)
        return tuple(cores)
