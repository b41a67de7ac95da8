"""Where RetroArch writes a ROM's save files: a table per core and the path rule.

Pure: paths are POSIX strings; nothing here touches the file system. Which of the
candidate files exist is the caller's business (an adapter checks).

Coverage: RetroArch cores only (RetroDECK and EmuDeck launch most 8/16/32-bit systems
through them). Standalone emulators (Dolphin, PCSX2, PPSSPP standalone, Citra/Azahar,
Cemu, Ryujinx, DuckStation standalone, melonDS standalone) keep saves in their own
formats and folders and are not covered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from posixpath import basename, dirname, join, splitext

from romdeck.domain.launch_command import RETROARCH_CORES

BATTERY = (".srm",)
"""What a core writes through libretro's SAVE_RAM: ``<rom base>.srm``."""

CORE_SAVE_SUFFIXES: dict[str, tuple[str, ...]] = {
    # Game Boy family: battery RAM plus the real-time clock of MBC3 cartridges.
    "gambatte": (".srm", ".rtc"),
    "sameboy": (".srm", ".rtc"),
    "tgbdual": (".srm", ".rtc"),
    "gearboy": (".srm", ".rtc"),
    "mgba": (".srm",),
    "vba_next": (".srm",),
    "vbam": (".srm",),
    "gpsp": (".srm",),
    # Nintendo DS.
    "desmume": (".dsv",),
    "desmume2015": (".dsv",),
    "melonds": (".sav",),
    "melondsds": (".srm",),
    # PlayStation. Beetle and PCSX ReARMed write memory card 1 as the libretro .srm by
    # default; Beetle's further cards are ``<base>.<n>.mcr``; SwanStation writes per-game
    # cards ``<base>_1.mcd`` / ``<base>_2.mcd``.
    "mednafen_psx": (".srm", ".1.mcr", ".2.mcr"),
    "mednafen_psx_hw": (".srm", ".1.mcr", ".2.mcr"),
    "pcsx_rearmed": (".srm",),
    "swanstation": (".srm", "_1.mcd", "_2.mcd"),
    # Everything whose saves are one battery file.
    "snes9x": BATTERY,
    "bsnes": BATTERY,
    "mesen": BATTERY,
    "mesen-s": BATTERY,
    "fceumm": BATTERY,
    "nestopia": BATTERY,
    "genesis_plus_gx": BATTERY,
    "genesis_plus_gx_wide": BATTERY,
    "picodrive": BATTERY,
    "mupen64plus_next": BATTERY,
    "parallel_n64": BATTERY,
    "mednafen_pce": BATTERY,
    "mednafen_pce_fast": BATTERY,
    "mednafen_saturn": (".bkr", ".bcr", ".smpc"),
    "yabasanshiro": (".srm",),
    "mednafen_wswan": BATTERY,
    "mednafen_ngp": BATTERY,
    "mednafen_vb": BATTERY,
    "beetle_vb": BATTERY,
    "stella": BATTERY,
    "prosystem": BATTERY,
    "handy": BATTERY,
    "pokemini": BATTERY,
}
"""libretro core short name (``snes9x`` of ``snes9x_libretro.so``) → the suffixes RetroArch
or the core appends to the ROM's base name. Unknown cores get :data:`BATTERY`."""


def core_for(system: str, launch_argv: tuple[str, ...] = ()) -> str:
    """The libretro core a launch uses: ``-L .../<core>_libretro.so`` or ``-e <core>`` in
    the command, else the system's default (``RETROARCH_CORES``, the one table of
    default cores); ``""`` when unknown (not a RetroArch system)."""
    for flag, value in itertools.pairwise(launch_argv):
        if flag in ("-L", "--libretro", "-e") and value.endswith("_libretro.so"):
            return basename(value).removesuffix(".so").removesuffix("_libretro")
    return RETROARCH_CORES.get(system, "")


@dataclass(frozen=True, slots=True)
class SaveDirConfig:
    """RetroArch's save settings (``retroarch.cfg``) with placeholders already resolved.

    ``savefile_directory`` ``""`` means RetroArch's default (next to the content).
    ``sort_by_content`` is ``sort_savefiles_by_content_enable`` (adds the ROM's parent
    folder name), ``sort_by_core`` is ``sort_savefiles_enable`` (adds the core's
    ``library_name``), ``in_content_dir`` is ``savefiles_in_content_dir``.
    """

    savefile_directory: str
    in_content_dir: bool = False
    sort_by_content: bool = False
    sort_by_core: bool = False


def save_suffixes(core: str) -> tuple[str, ...]:
    """The save file suffixes of a libretro core (``snes9x``, ``mednafen_psx_hw``)."""
    return CORE_SAVE_SUFFIXES.get(core.removesuffix("_libretro"), BATTERY)


def save_dir(config: SaveDirConfig, launch_path: str, library_name: str = "") -> str:
    """The folder RetroArch writes a ROM's saves to (RetroArch's ``runloop_path_set_redirect``).

    ``launch_path``: the absolute file RetroArch loads (the ``.m3u`` of a multi-disc game).
    ``library_name``: the core's display name (``Snes9x``), needed only with
    ``sort_by_core``. Sorting applies only below a configured directory; in-content-dir
    mode, or no directory at all, puts saves next to the content.
    """
    content_dir = dirname(launch_path)
    folder = config.savefile_directory.rstrip("/")
    if folder and (config.sort_by_content or config.sort_by_core):
        if config.sort_by_content and basename(content_dir):
            folder = join(folder, basename(content_dir))
        if config.sort_by_core and library_name:
            folder = join(folder, library_name)
    if not folder or config.in_content_dir:
        folder = content_dir
    return folder


def save_base_name(launch_path: str) -> str:
    """RetroArch's save name stem: the content file's name without its last extension.

    A multi-disc game launched through ``Game.m3u`` shares one save, ``Game.srm``.
    """
    return splitext(basename(launch_path))[0]


def save_paths(
    config: SaveDirConfig, launch_path: str, core: str, library_name: str = ""
) -> tuple[str, ...]:
    """Every path where ``core`` may write ``launch_path``'s saves, primary save first."""
    folder = save_dir(config, launch_path, library_name)
    stem = save_base_name(launch_path)
    return tuple(join(folder, stem + suffix) for suffix in save_suffixes(core))
