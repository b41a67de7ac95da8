"""Launch argv for RetroDECK, EmuDeck's RetroArch and user templates: the ROM stays one argument."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from romdeck.adapters.emulation.es_systems import EsSystemsReader
from romdeck.domain.emulation import EmulationTarget
from romdeck.domain.launch_command import (
    RETROARCH_CORES,
    emudeck_argv,
    launch_argv,
    retroarch_core_for,
    retrodeck_argv,
    split_template,
    template_argv,
    template_for,
)
from romdeck.errors import InvalidInputError
from shared_files import real_files

ROMS = "/home/deck/retrodeck/roms"
CORES = "/home/deck/.var/app/org.libretro.RetroArch/config/retroarch/cores"

HOSTILE_NAMES = [
    "Super Mario World (USA).sfc",
    'Tom\'s "Big" Adventure.sfc',
    "$HOME and ${PATH} $(reboot).sfc",
    "`touch pwned` ; rm -rf ~ && echo.sfc",
    "Pokémon – 日本語版 (ジャパン).gb",
    "It's a 'quoted' name.gba",
    "back\\slash * ? [x] {rom} {system}.nes",
    "  leading and trailing spaces  .md",
    "-e looks like an option.cue",
]


def test_retrodeck_runs_the_flatpak_with_the_rom_last() -> None:
    rom = f"{ROMS}/snes/Game.sfc"
    assert retrodeck_argv(rom) == ("flatpak", "run", "net.retrodeck.retrodeck", rom)


def test_retrodeck_passes_the_system_and_a_chosen_es_systems_command() -> None:
    rom = f"{ROMS}/psx/Game.m3u"
    command = "%EMULATOR_RETROARCH% -L %CORE_RETROARCH%/swanstation_libretro.so %ROM%"
    argv = retrodeck_argv(rom, system="psx", emulator_command=command)
    assert argv == ("flatpak", "run", "net.retrodeck.retrodeck", "-e", command, "-s", "psx", rom)


def test_a_relative_rom_path_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        retrodeck_argv("roms/snes/Game.sfc")
    with pytest.raises(InvalidInputError):
        template_argv("emu {rom}", rom="-e Game.sfc")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_any_rom_name_stays_one_argument_for_retrodeck(name: str) -> None:
    rom = f"{ROMS}/snes/{name}"
    argv = retrodeck_argv(rom, system="snes")
    assert argv[-1] == rom
    assert len(argv) == 6


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_any_rom_name_stays_one_argument_in_a_template(name: str) -> None:
    rom = f"{ROMS}/snes/{name}"
    argv = template_argv("'/opt/My Emu/emu' --fullscreen {rom}", rom=rom)
    assert argv == ("/opt/My Emu/emu", "--fullscreen", rom)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_real_process_receives_the_rom_path_byte_for_byte(name: str) -> None:
    rom = f"{ROMS}/snes/{name}"
    printer = "import json, sys; print(json.dumps(sys.argv[1:]))"
    template = f"{shlex.quote(sys.executable)} -c {shlex.quote(printer)} --rom {{rom}} {{system}}"
    argv = template_argv(template, rom=rom, system="snes")
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    assert json.loads(out) == ["--rom", rom, "snes"]


def test_a_placeholder_inside_a_word_is_substituted_without_splitting() -> None:
    rom = f"{ROMS}/gba/My Game.gba"
    argv = template_argv("emu --rom={rom} --core={core}", rom=rom, core="/c/mgba_libretro.so")
    assert argv == ("emu", f"--rom={rom}", "--core=/c/mgba_libretro.so")


def test_text_substituted_into_a_template_is_not_scanned_again() -> None:
    rom = f"{ROMS}/nes/{{system}} {{core}}.nes"
    argv = template_argv("emu {system} {rom}", rom=rom, system="nes")
    assert argv == ("emu", "nes", rom)


@pytest.mark.parametrize(
    "template",
    ["", "   ", "emu 'unclosed {rom}", "emu --no-rom", "emu {rom} {frobnicate}"],
)
def test_a_bad_template_is_refused_with_a_reason(template: str) -> None:
    with pytest.raises(InvalidInputError):
        split_template(template)


def test_a_template_using_core_needs_a_core() -> None:
    with pytest.raises(InvalidInputError):
        template_argv("retroarch -L {core} {rom}", rom=f"{ROMS}/ps2/Game.iso")


def test_emudeck_starts_retroarch_with_the_systems_core() -> None:
    rom = "/home/deck/Emulation/roms/snes/Game.sfc"
    argv = emudeck_argv(rom, system="snes", cores_dir=CORES)
    assert argv == (
        "flatpak", "run", "org.libretro.RetroArch", "-L", f"{CORES}/snes9x_libretro.so", rom,
    )  # fmt: skip


def test_emudeck_can_use_a_chosen_core_or_let_retroarch_find_it() -> None:
    rom = "/home/deck/Emulation/roms/psx/Game.chd"
    assert emudeck_argv(rom, system="psx", cores_dir=CORES, core="pcsx_rearmed")[4] == (
        f"{CORES}/pcsx_rearmed_libretro.so"
    )
    assert emudeck_argv(rom, system="psx", cores_dir="")[4] == "swanstation_libretro.so"


def test_emudeck_refuses_a_system_with_no_retroarch_core() -> None:
    assert retroarch_core_for("ps2") is None
    with pytest.raises(InvalidInputError):
        emudeck_argv("/home/deck/Emulation/roms/ps2/Game.iso", system="ps2", cores_dir=CORES)


def test_every_core_we_pick_is_one_es_de_offers_for_that_system() -> None:
    path = real_files() / "es-de" / "es_systems.linux.xml"
    systems = {s.name: s for s in EsSystemsReader(path).read()}
    wrong = sorted(
        (system, core)
        for system, core in RETROARCH_CORES.items()
        if system not in systems or core not in systems[system].retroarch_cores()
    )
    assert wrong == []


def test_every_core_we_pick_has_a_libretro_info_file() -> None:
    folder = real_files() / "libretro-core-info"
    missing = sorted(
        c for c in set(RETROARCH_CORES.values()) if not (folder / f"{c}_libretro.info").is_file()
    )
    assert missing == []


def test_a_users_template_wins_over_the_targets_default() -> None:
    rom = f"{ROMS}/gba/Game.gba"
    argv = launch_argv(
        EmulationTarget.RETRODECK, rom=rom, system="gba", template="mgba-qt -f {rom}"
    )
    assert argv == ("mgba-qt", "-f", rom)


def test_the_core_placeholder_is_the_core_library_when_the_cores_folder_is_known() -> None:
    rom = f"{ROMS}/gba/Game.gba"
    template = "retroarch -L {core} {rom}"
    with_dir = launch_argv(
        EmulationTarget.CUSTOM, rom=rom, system="gba", template=template, cores_dir=CORES
    )
    without = launch_argv(EmulationTarget.CUSTOM, rom=rom, system="gba", template=template)
    assert with_dir == ("retroarch", "-L", f"{CORES}/mgba_libretro.so", rom)
    assert without == ("retroarch", "-L", "mgba", rom)


def test_each_target_builds_its_default_command() -> None:
    rom = f"{ROMS}/n64/Game.z64"
    assert launch_argv(EmulationTarget.RETRODECK, rom=rom, system="n64")[3:] == ("-s", "n64", rom)
    assert launch_argv(EmulationTarget.EMUDECK, rom=rom, system="n64", cores_dir=CORES)[4] == (
        f"{CORES}/mupen64plus_next_libretro.so"
    )
    with pytest.raises(InvalidInputError):
        launch_argv(EmulationTarget.CUSTOM, rom=rom, system="n64")


def test_a_systems_template_is_found_before_the_catch_all_one() -> None:
    templates = {"psx": "duckstation {rom}", "*": "retroarch {rom}"}
    assert template_for(templates, "psx") == "duckstation {rom}"
    assert template_for(templates, "snes") == "retroarch {rom}"
    assert template_for({}, "snes") == ""
