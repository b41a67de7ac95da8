"""Core .info discovery per target and the bios folder's path safety and backups."""

from __future__ import annotations

from pathlib import Path

import pytest

from romdeck.adapters.emulation.core_info import CoreInfoFolders
from romdeck.adapters.files.bios_folder import LocalBiosFolder
from romdeck.adapters.files.hashing import FileHasher
from romdeck.domain.emulation import EmulationTarget
from romdeck.errors import InvalidInputError
from shared_files import real_files

INFO = "swanstation_libretro.info"


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _copy_info(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INFO).write_text((real_files() / "libretro-core-info" / INFO).read_text())


async def test_retrodeck_cores_are_found_in_its_retroarch_config_folder(tmp_path: Path) -> None:
    _copy_info(tmp_path / ".var/app/net.retrodeck.retrodeck/config/retroarch/cores")
    cores = await CoreInfoFolders(tmp_path).installed_cores(EmulationTarget.RETRODECK)
    assert "swanstation" in cores
    assert [f.path for f in cores["swanstation"].firmware][1] == "scph5500.bin"
    assert await CoreInfoFolders(tmp_path).installed_cores(EmulationTarget.EMUDECK) == {}


async def test_emudeck_cores_are_found_in_the_retroarch_flatpak(tmp_path: Path) -> None:
    _copy_info(tmp_path / ".var/app/org.libretro.RetroArch/config/retroarch/cores")
    cores = await CoreInfoFolders(tmp_path).installed_cores(EmulationTarget.EMUDECK)
    assert set(cores) == {"swanstation"}


async def test_the_bios_folder_refuses_paths_that_leave_it(tmp_path: Path) -> None:
    bios = tmp_path / "bios"
    bios.mkdir()
    folder = LocalBiosFolder(FileHasher(), tmp_path / "backups")
    for path in ("../x.bin", "/abs.bin", "a/../../x.bin", "a//b.bin", "a\\b.bin"):
        with pytest.raises(InvalidInputError):
            folder.staging_path(str(bios), path)
    with pytest.raises(InvalidInputError):
        await folder.md5s("", ["x.bin"])


async def test_backups_never_overwrite_an_earlier_backup(tmp_path: Path) -> None:
    bios = tmp_path / "bios"
    bios.mkdir()
    folder = LocalBiosFolder(FileHasher(), tmp_path / "backups")
    saved = []
    for content in (b"one", b"two"):
        (bios / "x.bin").write_bytes(content)
        saved.append(await folder.remove(str(bios), "x.bin", backup=True))
    assert saved[0] != saved[1]
    assert [_read(p) for p in saved] == [b"one", b"two"]
