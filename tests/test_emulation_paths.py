"""RetroDECK and EmuDeck folders read from their real configuration files in a Deck-like home."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from romdeck.adapters.emulation.emudeck import EmuDeckPaths
from romdeck.adapters.emulation.retrodeck import RetroDeckPaths
from romdeck.domain.emulation import EmulationPaths, EmulationTarget, custom_root_paths
from romdeck.errors import CorruptFileError
from shared_files import real_files

RD_CONFIG = Path(".var/app/net.retrodeck.retrodeck/config/retrodeck")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / "deck").mkdir(parents=True)
    return tmp_path / "home" / "deck"


def install(home: Path, real_name: str, deck_name: str) -> Path:
    """Copy a real RetroDECK file to where a Deck keeps it; returns the copy."""
    target = home / RD_CONFIG / deck_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real_files() / "retrodeck" / real_name, target)
    return target


def write_rd(home: Path, name: str, text: str) -> None:
    target = home / RD_CONFIG / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def test_retrodeck_010_paths_come_from_the_real_retrodeck_json(home: Path) -> None:
    install(home, "retrodeck.json", "retrodeck.json")
    assert RetroDeckPaths(home).read() == EmulationPaths(
        roms="/home/deck/retrodeck/roms",
        saves="/home/deck/retrodeck/saves",
        states="/home/deck/retrodeck/states",
        bios="/home/deck/retrodeck/bios",
        target=EmulationTarget.RETRODECK,
        source="retrodeck.json",
    )


def test_retrodeck_09_paths_come_from_the_real_retrodeck_cfg(home: Path) -> None:
    install(home, "retrodeck-0.9.cfg", "retrodeck.cfg")
    paths = RetroDeckPaths(home).read()
    assert (paths.roms, paths.saves, paths.states, paths.bios) == (
        "/home/deck/retrodeck/roms",
        "/home/deck/retrodeck/saves",
        "/home/deck/retrodeck/states",
        "/home/deck/retrodeck/bios",
    )
    assert paths.source == "retrodeck.cfg"


def test_the_json_wins_when_an_old_cfg_is_still_there(home: Path) -> None:
    install(home, "retrodeck-0.9.cfg", "retrodeck.cfg")
    data = json.loads((real_files() / "retrodeck" / "retrodeck.json").read_text())
    data["paths"]["roms_path"] = "/run/media/mmcblk0p1/retrodeck/roms"
    write_rd(home, "retrodeck.json", json.dumps(data))
    paths = RetroDeckPaths(home).read()
    assert paths.roms == "/run/media/mmcblk0p1/retrodeck/roms"
    assert paths.source == "retrodeck.json"


def test_without_any_config_retrodeck_uses_its_home_folder(home: Path) -> None:
    paths = RetroDeckPaths(home).read()
    assert paths.roms == f"{home}/retrodeck/roms"
    assert paths.bios == f"{home}/retrodeck/bios"
    assert paths.source == "default"
    assert not RetroDeckPaths(home).is_installed()


def test_a_missing_or_empty_json_path_falls_back_to_the_rd_home(home: Path) -> None:
    data = json.loads((real_files() / "retrodeck" / "retrodeck.json").read_text())
    data["paths"]["rd_home_path"] = "/run/media/deck/SD/retrodeck/"
    data["paths"]["roms_path"] = ""
    del data["paths"]["bios_path"]
    write_rd(home, "retrodeck.json", json.dumps(data))
    paths = RetroDeckPaths(home).read()
    assert paths.roms == "/run/media/deck/SD/retrodeck/roms"
    assert paths.bios == "/run/media/deck/SD/retrodeck/bios"
    assert paths.saves == "/home/deck/retrodeck/saves"


@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"paths": "nope"}', "{}"])
def test_an_unreadable_retrodeck_json_is_reported_not_guessed(home: Path, text: str) -> None:
    write_rd(home, "retrodeck.json", text)
    with pytest.raises(CorruptFileError):
        RetroDeckPaths(home).read()


def test_the_cfg_parser_tolerates_comments_spaces_quotes_and_crlf(home: Path) -> None:
    text = (
        "version=0.9.1b\r\n# a comment\r\n; another\r\n\r\n[ paths ]\r\n"
        'roms_folder = "/run/media/mmcblk0p1/retrodeck/roms/"\r\n'
        "this line has no equals sign\r\n"
        "saves_folder='~/rd saves'\r\n"
        "states_folder=$HOME/rd/states\r\n"
        "[options]\r\nroms_folder=/wrong\r\n"
    )
    write_rd(home, "retrodeck.cfg", text)
    paths = RetroDeckPaths(home).read()
    assert paths.roms == "/run/media/mmcblk0p1/retrodeck/roms"
    assert paths.saves == f"{home}/rd saves"
    assert paths.states == f"{home}/rd/states"
    assert paths.bios == f"{home}/retrodeck/bios"


def test_retrodeck_counts_as_installed_when_its_flatpak_folder_exists(home: Path) -> None:
    install(home, "retrodeck.json", "retrodeck.json")
    assert RetroDeckPaths(home).is_installed()


def write_emudeck(home: Path, text: str) -> None:
    target = home / ".config" / "EmuDeck" / "settings.sh"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")


def test_emudeck_default_settings_with_tilde_paths_are_expanded(home: Path) -> None:
    write_emudeck(
        home,
        "#!/bin/bash\nexpert=false\nemulationPath=~/Emulation/\nromsPath=~/Emulation/roms/\n"
        'biosPath=~/Emulation/bios/\nsavesPath=~/Emulation/saves/\nesdeTheme="EPICNOIR"\n',
    )
    assert EmuDeckPaths(home).read() == EmulationPaths(
        roms=f"{home}/Emulation/roms",
        saves=f"{home}/Emulation/saves/retroarch/saves",
        states=f"{home}/Emulation/saves/retroarch/states",
        bios=f"{home}/Emulation/bios",
        target=EmulationTarget.EMUDECK,
        source="settings.sh",
    )


def test_emudeck_settings_on_an_sd_card_expand_earlier_variables(home: Path) -> None:
    write_emudeck(
        home,
        'export emulationPath="/run/media/mmcblk0p1/Emulation"\n'
        'romsPath="$emulationPath/roms"\nbiosPath="${emulationPath}/bios"\n'
        "savesPath='/literal/$emulationPath'\n",
    )
    paths = EmuDeckPaths(home).read()
    assert paths.roms == "/run/media/mmcblk0p1/Emulation/roms"
    assert paths.bios == "/run/media/mmcblk0p1/Emulation/bios"
    assert paths.saves == "/literal/$emulationPath/retroarch/saves"


def test_without_settings_emudeck_uses_the_emulation_folder(home: Path) -> None:
    emudeck = EmuDeckPaths(home)
    paths = emudeck.read()
    assert (paths.roms, paths.bios, paths.source) == (
        f"{home}/Emulation/roms",
        f"{home}/Emulation/bios",
        "default",
    )
    assert not emudeck.is_installed()
    assert emudeck.retroarch_cores_dir() == (
        home / ".var/app/org.libretro.RetroArch/config/retroarch/cores"
    )


def test_a_user_roms_root_has_no_managed_saves_or_bios() -> None:
    paths = custom_root_paths("/mnt/games/roms/")
    assert paths.roms == "/mnt/games/roms"
    assert (paths.saves, paths.states, paths.bios) == ("", "", "")
    assert paths.target == "custom"
    assert paths.system_dir("psx") == "/mnt/games/roms/psx"
