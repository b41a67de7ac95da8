"""Where RetroArch writes a ROM's saves: the path rule, the core table, the cfg reader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from romdeck.adapters.emulation.retroarch_cfg import RetroArchSaveConfigReader, parse_cfg
from romdeck.domain.save_files import SaveDirConfig, core_for, save_dir, save_paths
from shared_files import real_files

RD_SNES = "/home/deck/retrodeck/roms/snes"
ROM = "/home/deck/retrodeck/roms/snes/Super Metroid (USA, Europe).sfc"


@pytest.mark.parametrize(
    ("config", "library", "expected"),
    [
        # RetroDECK's default: saves/<system>/
        (SaveDirConfig("/s", sort_by_content=True), "", "/s/snes"),
        (SaveDirConfig("/s"), "", "/s"),
        (SaveDirConfig("/s", sort_by_core=True), "Snes9x", "/s/Snes9x"),
        (SaveDirConfig("/s", sort_by_content=True, sort_by_core=True), "Snes9x", "/s/snes/Snes9x"),
        # in-content-dir wins over everything; no directory means next to the content
        (SaveDirConfig("/s", in_content_dir=True, sort_by_content=True), "", RD_SNES),
        (SaveDirConfig("", sort_by_content=True), "", RD_SNES),
    ],
)
def test_save_dir_follows_retroarch_settings(
    config: SaveDirConfig, library: str, expected: str
) -> None:
    assert save_dir(config, ROM, library) == expected


def test_a_snes_rom_has_one_battery_save_named_after_the_rom() -> None:
    paths = save_paths(SaveDirConfig("/s", sort_by_content=True), ROM, "snes9x")
    assert paths == ("/s/snes/Super Metroid (USA, Europe).srm",)


def test_game_boy_saves_include_the_real_time_clock() -> None:
    paths = save_paths(SaveDirConfig("/s"), "/r/gb/Pokemon Gold.gbc", "gambatte")
    assert paths == ("/s/Pokemon Gold.srm", "/s/Pokemon Gold.rtc")


def test_a_multi_disc_game_shares_one_save_named_after_its_m3u() -> None:
    config = SaveDirConfig("/s", sort_by_content=True)
    paths = save_paths(config, "/r/psx/Final Fantasy VII/Final Fantasy VII.m3u", "swanstation")
    assert paths[0] == "/s/Final Fantasy VII/Final Fantasy VII.srm"
    assert "/s/Final Fantasy VII/Final Fantasy VII_1.mcd" in paths


def test_ps1_and_ds_cores_name_their_memory_cards_and_saves() -> None:
    config = SaveDirConfig("/s")
    assert "/s/Crash.1.mcr" in save_paths(config, "/r/psx/Crash.chd", "mednafen_psx_hw")
    assert save_paths(config, "/r/nds/Zelda.nds", "desmume") == ("/s/Zelda.dsv",)
    assert save_paths(config, "/r/nds/Zelda.nds", "melonds") == ("/s/Zelda.sav",)
    assert save_paths(config, "/r/x/Game.bin", "unknown_core") == ("/s/Game.srm",)


def test_the_core_comes_from_the_command_else_the_system_default() -> None:
    argv = ("retroarch", "-L", "/cores/mednafen_psx_hw_libretro.so", "/r/psx/a.chd")
    assert core_for("psx", argv) == "mednafen_psx_hw"
    assert core_for("psx") == "swanstation"
    assert core_for("ps2") == ""


def test_retrodecks_real_retroarch_cfg_puts_saves_under_saves_path_by_system(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "retroarch.cfg"
    shutil.copy(real_files() / "retroarch" / "retroarch.retrodeck.cfg", cfg)
    config = RetroArchSaveConfigReader(
        cfg, home=tmp_path, saves_path="/home/deck/retrodeck/saves"
    ).read()
    assert config == SaveDirConfig("/home/deck/retrodeck/saves", sort_by_content=True)
    assert save_paths(config, ROM, "snes9x") == (
        "/home/deck/retrodeck/saves/snes/Super Metroid (USA, Europe).srm",
    )


def test_a_user_cfg_with_home_relative_and_default_directories(tmp_path: Path) -> None:
    cfg = tmp_path / "retroarch.cfg"
    cfg.write_text('savefile_directory = "~/saves"\nsort_savefiles_enable = "true"\n# x = "y"\n')
    config = RetroArchSaveConfigReader(cfg, home=Path("/home/u")).read()
    assert config == SaveDirConfig("/home/u/saves", sort_by_core=True)
    cfg.write_text('savefile_directory = "default"\nsavefiles_in_content_dir = "true"\n')
    assert RetroArchSaveConfigReader(cfg, home=tmp_path).read() == SaveDirConfig(
        "", in_content_dir=True
    )


def test_a_missing_cfg_gives_retrodecks_defaults(tmp_path: Path) -> None:
    reader = RetroArchSaveConfigReader(tmp_path / "none.cfg", home=tmp_path, saves_path="/sv")
    assert reader.read() == SaveDirConfig("/sv", sort_by_content=True)


def test_parse_cfg_keeps_the_last_value_and_skips_junk() -> None:
    assert parse_cfg('a = "1"\nnonsense\na = "2"\n b=3 \n') == {"a": "2", "b": "3"}
