"""The argv that starts a game, per emulation target. Pure: nothing is run or checked on disk.

Every builder returns a tuple of strings meant for ``execve`` (no shell). The ROM path
is always exactly one element, whatever it contains (spaces, quotes, ``$``, backticks,
unicode), because placeholders are substituted *after* a template is split.

- RetroDECK: ``flatpak run net.retrodeck.retrodeck [-e <command>] [-s <system>] <rom>``.
  RetroDECK's launcher (0.9.0b and later) picks the emulator as ES-DE would (the game's
  ``<altemulator>``, the system's ``<alternativeEmulator>``, else the first ``<command>``
  of es_systems.xml); ``-e`` forces one es_systems ``<command>`` text instead, and ``-s``
  names the system when the ROM does not sit under a folder called ``roms/``.
- EmuDeck: there is no launcher to reuse outside ES-DE, so we start EmuDeck's RetroArch
  flatpak directly: ``flatpak run org.libretro.RetroArch -L <cores>/<core>_libretro.so <rom>``.
  The core per system (:data:`RETROARCH_CORES`) is ES-DE's first RetroArch core for that
  system — the one ES-DE itself uses by default, and one of the cores EmuDeck downloads
  for ES-DE — or, where ES-DE's default is a standalone emulator, its RetroArch
  alternative. Systems only standalone emulators run well (PS2, PS3, Switch, Wii U,
  Vita, Xbox) have no row: they need a user template.
- A user template (any target): a command line with ``{rom}`` and optionally ``{core}``
  and ``{system}``, split like a POSIX shell would split it (quotes respected, nothing
  expanded).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from posixpath import join
from types import MappingProxyType

from romdeck.domain.emulation import EmulationTarget
from romdeck.errors import InvalidInputError

RETRODECK_FLATPAK_ID = "net.retrodeck.retrodeck"
RETROARCH_FLATPAK_ID = "org.libretro.RetroArch"

_CORES: dict[str, str] = {
    "3do": "opera",
    "amiga": "puae", "amigacd32": "puae", "cdtv": "puae",
    "amstradcpc": "cap32", "gx4000": "cap32",
    "arcade": "mame", "mame": "mame", "cps1": "mame", "cps2": "mame", "cps3": "mame",
    "fbneo": "fbneo", "neogeo": "fbneo", "neogeocd": "neocd",
    "naomi": "flycast", "atomiswave": "flycast", "dreamcast": "flycast", "stv": "kronos",
    "atari2600": "stella", "atari5200": "a5200", "atari7800": "prosystem",
    "atari800": "atari800", "atarixe": "atari800", "atarilynx": "handy",
    "atarijaguar": "virtualjaguar", "atarist": "hatari",
    "c64": "vice_x64sc", "vic20": "vice_xvic", "plus4": "vice_xplus4",
    "cdimono1": "same_cdi", "channelf": "freechaf", "colecovision": "bluemsx",
    "dos": "dosbox_pure", "pc": "dosbox_pure",
    "nes": "mesen", "famicom": "mesen", "fds": "mesen",
    "snes": "snes9x", "sfc": "snes9x", "satellaview": "snes9x", "sufami": "snes9x",
    "n64": "mupen64plus_next", "n64dd": "parallel_n64",
    "gb": "gambatte", "gbc": "gambatte", "gba": "mgba", "nds": "desmume",
    "n3ds": "citra", "gc": "dolphin", "wii": "dolphin", "virtualboy": "mednafen_vb",
    "gameandwatch": "gw", "pokemini": "pokemini",
    "psx": "swanstation", "psp": "ppsspp",
    "mastersystem": "genesis_plus_gx", "genesis": "genesis_plus_gx",
    "megadrive": "genesis_plus_gx", "segacd": "genesis_plus_gx", "megacd": "genesis_plus_gx",
    "gamegear": "genesis_plus_gx", "sg-1000": "genesis_plus_gx", "sega32x": "picodrive",
    "saturn": "mednafen_saturn",
    "tg16": "mednafen_pce", "pcengine": "mednafen_pce", "tg-cd": "mednafen_pce",
    "pcenginecd": "mednafen_pce", "supergrafx": "mednafen_supergrafx", "pcfx": "mednafen_pcfx",
    "ngp": "mednafen_ngp", "ngpc": "mednafen_ngp",
    "wonderswan": "mednafen_wswan", "wonderswancolor": "mednafen_wswan",
    "intellivision": "freeintv", "vectrex": "vecx", "odyssey2": "o2em", "videopac": "o2em",
    "msx": "bluemsx", "msx2": "bluemsx", "spectravideo": "bluemsx",
    "zxspectrum": "fuse", "zx81": "81", "x68000": "px68k", "x1": "x1",
    "pc88": "quasi88", "pc98": "np2kai", "moto": "theodore", "to8": "theodore",
    "scummvm": "scummvm", "tic80": "tic80", "arduboy": "arduous", "uzebox": "uzem",
    "easyrpg": "easyrpg", "supervision": "potator", "megaduck": "sameduck",
    "msxturbor": "bluemsx", "palm": "mu", "j2me": "squirreljme",
}  # fmt: skip

RETROARCH_CORES: Mapping[str, str] = MappingProxyType(_CORES)
"""ES-DE system → libretro core short name (``snes9x`` for ``snes9x_libretro.so``)."""

PLACEHOLDERS: frozenset[str] = frozenset({"rom", "core", "system"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def retroarch_core_for(system: str) -> str | None:
    """The libretro core short name for an ES-DE system, or None when we don't pick one."""
    return RETROARCH_CORES.get(system.strip().lower())


def core_library_path(cores_dir: str, core: str) -> str:
    """``<cores_dir>/<core>_libretro.so`` (Linux core file name)."""
    return join(cores_dir, f"{core}_libretro.so")


def _require_rom(rom: str) -> None:
    if not rom.startswith("/"):
        raise InvalidInputError(f"The ROM path must be absolute: {rom!r}.")


def retrodeck_argv(rom: str, *, system: str = "", emulator_command: str = "") -> tuple[str, ...]:
    """``flatpak run net.retrodeck.retrodeck [-e <emulator_command>] [-s <system>] <rom>``.

    ``rom`` is an absolute path to an existing file (RetroDECK checks); ``system`` the
    ES-DE folder name; ``emulator_command`` one es_systems ``<command>`` text (with its
    ``%EMULATOR_...%``/``%ROM%`` placeholders, as RetroDECK expects). Raises
    ``InvalidInputError`` for a relative ROM path.
    """
    _require_rom(rom)
    argv = ["flatpak", "run", RETRODECK_FLATPAK_ID]
    if emulator_command:
        argv += ["-e", emulator_command]
    if system:
        argv += ["-s", system]
    return (*argv, rom)


def emudeck_argv(rom: str, *, system: str, cores_dir: str, core: str = "") -> tuple[str, ...]:
    """``flatpak run org.libretro.RetroArch -L <cores_dir>/<core>_libretro.so <rom>``.

    ``core`` defaults to :func:`retroarch_core_for` ``(system)``; ``cores_dir`` is the
    RetroArch flatpak's cores folder on the host (``""``: pass the bare file name, which
    RetroArch looks up in its own cores folder). Raises ``InvalidInputError`` for a
    relative ROM path or a system with no core (the user must set a template).
    """
    _require_rom(rom)
    chosen = core or retroarch_core_for(system)
    if not chosen:
        raise InvalidInputError(
            f"No RetroArch core is known for {system!r}; set a launch command for it."
        )
    return ("flatpak", "run", RETROARCH_FLATPAK_ID, "-L", core_library_path(cores_dir, chosen), rom)


def split_template(template: str) -> tuple[str, ...]:
    """Split and check a user command template; returns its words, placeholders intact.

    Raises ``InvalidInputError`` when the template is empty, has unbalanced quotes, has
    no ``{rom}``, or names a placeholder other than ``{rom}``, ``{core}``, ``{system}``.
    """
    try:
        words = tuple(shlex.split(template, comments=False, posix=True))
    except ValueError as exc:
        raise InvalidInputError(f"The launch command cannot be read: {exc}.") from None
    if not words:
        raise InvalidInputError("The launch command is empty.")
    names = {m.group(1) for w in words for m in _PLACEHOLDER.finditer(w)}
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise InvalidInputError(f"Unknown placeholder in the launch command: {{{unknown[0]}}}.")
    if "rom" not in names:
        raise InvalidInputError("The launch command must contain {rom}.")
    return words


def template_argv(template: str, *, rom: str, core: str = "", system: str = "") -> tuple[str, ...]:
    """Build argv from a user template: split first, then substitute in each word.

    ``{rom}`` becomes the ROM path, ``{core}`` the core (as given: a library path or a
    short name), ``{system}`` the ES-DE system. Substituted text is never split again
    nor re-scanned for placeholders. Raises ``InvalidInputError`` as
    :func:`split_template` does, for a relative ROM path, or when ``{core}``/``{system}``
    is used but empty.
    """
    _require_rom(rom)
    values = {"rom": rom, "core": core, "system": system}
    words = split_template(template)
    for name in ("core", "system"):
        if not values[name] and any(f"{{{name}}}" in w for w in words):
            raise InvalidInputError(f"The launch command uses {{{name}}} but none is known.")
    return tuple(_PLACEHOLDER.sub(lambda m: values[m.group(1)], w) for w in words)


def template_for(templates: Mapping[str, str], system: str) -> str:
    """The user's template for a system, else their ``"*"`` template, else ``""``."""
    return templates.get(system) or templates.get("*") or ""


def launch_argv(
    target: EmulationTarget,
    *,
    rom: str,
    system: str,
    template: str = "",
    cores_dir: str = "",
    emulator_command: str = "",
) -> tuple[str, ...]:
    """The argv for a game on ``target``: the user's ``template`` wins when set.

    Otherwise RetroDECK uses :func:`retrodeck_argv` (with ``-s system``), EmuDeck
    :func:`emudeck_argv`; a custom ROMs root needs a template. In a template ``{core}``
    is the core library path under ``cores_dir`` when that is known, else the short name.
    Raises ``InvalidInputError`` when no command can be built.
    """
    if template:
        core = retroarch_core_for(system) or ""
        if core and cores_dir:
            core = core_library_path(cores_dir, core)
        return template_argv(template, rom=rom, core=core, system=system)
    if target == EmulationTarget.RETRODECK:
        return retrodeck_argv(rom, system=system, emulator_command=emulator_command)
    if target == EmulationTarget.EMUDECK:
        return emudeck_argv(rom, system=system, cores_dir=cores_dir)
    raise InvalidInputError("A custom ROMs folder needs a launch command; set one in settings.")
