"""TargetRetroArchConfig: the retroarch.cfg of the target chosen now, with real files."""

from __future__ import annotations

import shutil
from pathlib import Path

from romdeck.adapters.emulation.target_saves import TargetRetroArchConfig
from romdeck.domain.emulation import EmulationPaths, EmulationTarget
from romdeck.domain.layout import PlayTarget
from romdeck.domain.save_files import save_paths

REAL_CFG = Path(__file__).resolve().parents[2] / "shared" / "real-files" / "retroarch"


def target(kind: EmulationTarget, saves: str) -> PlayTarget:
    return PlayTarget(paths=EmulationPaths("/roms", saves, "", "", kind))


def test_retrodeck_reads_its_own_cfg_and_saves_path(tmp_path: Path) -> None:
    cfg = tmp_path / ".var/app/net.retrodeck.retrodeck/config/retroarch/retroarch.cfg"
    cfg.parent.mkdir(parents=True)
    source = REAL_CFG / "retroarch.retrodeck.cfg"
    if source.is_file():
        shutil.copy(source, cfg)
    else:  # the lines of RetroDECK's file that matter
        cfg.write_text('savefile_directory = "RETRODECKHOMEDIR/saves"\n'
                       'sort_savefiles_by_content_enable = "true"\n')  # fmt: skip
    saves = str(tmp_path / "retrodeck" / "saves")
    current = [target(EmulationTarget.RETRODECK, saves)]
    config = TargetRetroArchConfig(tmp_path, lambda: current[0]).read()
    assert config.savefile_directory == saves and config.sort_by_content
    assert save_paths(config, "/roms/snes/Super Metroid.sfc", "snes9x")[0] == (
        f"{saves}/snes/Super Metroid.srm"
    )
    current[0] = target(EmulationTarget.CUSTOM, "")  # followed at the next read
    assert TargetRetroArchConfig(tmp_path, lambda: current[0]).read().savefile_directory == ""


def test_emudeck_reads_the_retroarch_flatpak_cfg(tmp_path: Path) -> None:
    cfg = tmp_path / ".var/app/org.libretro.RetroArch/config/retroarch/retroarch.cfg"
    cfg.parent.mkdir(parents=True)
    saves = "~/.var/app/org.libretro.RetroArch/config/retroarch/saves"
    cfg.write_text(f'savefile_directory = "{saves}"\nsort_savefiles_enable = "true"\n')
    emudeck = target(EmulationTarget.EMUDECK, str(tmp_path / "Emulation/saves/retroarch/saves"))
    config = TargetRetroArchConfig(tmp_path, lambda: emudeck).read()
    assert config.savefile_directory == str(cfg.parent / "saves")
    assert config.sort_by_core and not config.sort_by_content
