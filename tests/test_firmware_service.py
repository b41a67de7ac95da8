"""BIOS status and downloads: the real service and adapters against the fake RomM server,
in a RetroDECK home made from RetroDECK's real config files, with real SQLite."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.records import FakeFirmware
from fakeromm.server import FakeRommServer
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.emulation.core_info import CoreInfoFolders
from romdeck.adapters.emulation.target import EmulationTargetReader
from romdeck.adapters.files.bios_folder import LocalBiosFolder
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.romm import parse
from romdeck.adapters.romm.firmware import AiohttpRommFirmware
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.firmware_files import SqliteFirmwarePlacements
from romdeck.domain.firmware import FirmwareStatus
from romdeck.domain.settings import Connection, EmulationSettings
from romdeck.errors import InvalidInputError
from romdeck.services.firmware import FirmwareDeps, FirmwareService, PlatformFirmware
from shared_files import CAPTURES, real_files

S = FirmwareStatus
RD_CONFIG = Path(".var/app/net.retrodeck.retrodeck/config/retrodeck")
RD_CORES = Path(".var/app/net.retrodeck.retrodeck/config/retroarch/cores")


def read(path: str) -> bytes:
    return Path(path).read_bytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write_retrodeck_json(home: Path, bios: Path) -> None:
    """RetroDECK's real retrodeck.json, its paths moved into the test's home."""
    data = json.loads((real_files() / "retrodeck" / "retrodeck.json").read_text())
    data["paths"] = {k: v.replace("/home/deck", str(home)) if isinstance(v, str) else v
                     for k, v in data["paths"].items()}  # fmt: skip
    data["paths"]["bios_path"] = str(bios)
    (home / RD_CONFIG).mkdir(parents=True, exist_ok=True)
    (home / RD_CONFIG / "retrodeck.json").write_text(json.dumps(data))


def install_core(home: Path, core: str, replace: dict[str, str] | None = None) -> None:
    """Put a real core .info where RetroDECK's RetroArch reads them, edited by ``replace``."""
    text = (real_files() / "libretro-core-info" / f"{core}_libretro.info").read_text()
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    (home / RD_CORES).mkdir(parents=True, exist_ok=True)
    (home / RD_CORES / f"{core}_libretro.info").write_text(text)


@dataclass
class Rig:
    home: Path
    bios: Path
    data: Path
    library: FakeLibrary
    server: FakeRommServer
    service: FirmwareService
    db: SqliteDatabase

    def fw(self, name: str) -> FakeFirmware:
        return next(f for f in self.library.firmware.values() if f.file_name == name)

    def platform(self, slug: str) -> int:
        return next(pid for pid, p in self.library.platforms.items() if p["slug"] == slug)

    async def one(self, slug: str) -> PlatformFirmware:
        [platform] = await self.service.status(slug)
        return platform

    async def statuses(self, slug: str) -> dict[str, S]:
        return {f.path: f.status for f in (await self.one(slug)).files}


@pytest.fixture
async def rig(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[Rig]:
    home, bios, data = tmp_path / "home", tmp_path / "rd" / "bios", tmp_path / "data"
    write_retrodeck_json(home, bios)
    token = fake_library.auth.create_client_token("admin", "deck", list(ALL_SCOPES), None)
    connection = Connection(url=fake_romm.url, token=token.raw_token)
    db = SqliteDatabase(data / "state.db")
    reader = EmulationTargetReader(home)
    async with aiohttp.ClientSession() as session:
        api = AiohttpRommFirmware(session, connection, AiohttpDownloader(session, attempts=1))
        service = FirmwareService(
            FirmwareDeps(
                connect=lambda: api,
                folder=LocalBiosFolder(FileHasher(), data / "bios-backups"),
                placements=SqliteFirmwarePlacements(db),
                cores=CoreInfoFolders(home),
                target=lambda: reader.read_async(EmulationSettings(target="retrodeck")),
                clock=SystemClock(),
            )
        )
        yield Rig(home, bios, data, fake_library, fake_romm, service, db)
    db.close()


def test_the_recorded_firmware_list_parses_with_hashes_and_sizes() -> None:
    data = json.loads((CAPTURES / "firmware_psx.json").read_text())
    files = parse.parse_firmware_list(data)
    assert [(f.id, f.file_name, f.size_bytes) for f in files] == [
        (2, "scph1001.bin", 524288),
        (3, "scph5501.bin", 524288),
    ]
    assert files[1].md5 == "5eec2b4c3b43c21c55f29f0037cc037f" and not files[1].is_verified


async def test_the_fake_server_lists_the_recorded_firmware_per_platform(rig: Rig) -> None:
    psx = await rig.one("psx")
    by_name = {f.file_name: f for f in psx.files}
    assert by_name["scph5501.bin"].server is not None
    assert by_name["scph5501.bin"].server.md5 == md5(rig.fw("scph5501.bin").content)
    assert by_name["scph1001.bin"].server is not None  # on the server, asked for by nobody
    assert by_name["scph1001.bin"].requirement is None
    assert ("GET", "/api/firmware?platform_id=4", 200) in rig.server.requests


async def test_the_bios_folder_is_read_from_retrodecks_real_json(rig: Rig) -> None:
    assert (await rig.one("psx")).bios_root == str(rig.bios)


async def test_the_bios_folder_is_read_from_retrodecks_real_0_9_cfg(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / RD_CONFIG).mkdir(parents=True)
    real = (real_files() / "retrodeck" / "retrodeck-0.9.cfg").read_text()
    (home / RD_CONFIG / "retrodeck.cfg").write_text(real)
    target = EmulationTargetReader(home).read(EmulationSettings(target="retrodeck"))
    assert target.paths.bios == "/home/deck/retrodeck/bios"
    assert target.paths.source == "retrodeck.cfg"


async def test_ps1_and_gba_firmware_land_where_their_cores_look(rig: Rig) -> None:
    ps1 = md5(rig.fw("scph5501.bin").content)
    gba = md5(rig.fw("gba_bios.bin").content)
    # The installed cores' .info files know these dumps as good (the fake's bytes are random).
    install_core(rig.home, "swanstation", {"490f666e1afb15b7362b406ed1cea246": ps1})
    install_core(rig.home, "mgba", {"a860e8c0b6d573d191e4ec7db1b1e4f6": gba})
    assert (await rig.statuses("psx"))["scph5501.bin"] is S.OPTIONAL_MISSING
    assert (await rig.statuses("gba"))["gba_bios.bin"] is S.OPTIONAL_MISSING

    seen: list[tuple[str, int]] = []
    results = await rig.service.download(
        "psx", ["scph5501.bin"], lambda p, d, t: seen.append((p, d))
    )
    assert [(r.path, r.outcome, r.status) for r in results] == [
        ("scph5501.bin", "downloaded", S.VERIFIED)
    ]
    results = await rig.service.download(None, ["gba_bios.bin"])
    assert [(r.path, r.outcome) for r in results] == [("gba_bios.bin", "downloaded")]

    assert (rig.bios / "scph5501.bin").read_bytes() == rig.fw("scph5501.bin").content
    assert (rig.bios / "gba_bios.bin").read_bytes() == rig.fw("gba_bios.bin").content
    assert (await rig.statuses("psx"))["scph5501.bin"] is S.VERIFIED
    assert (await rig.statuses("gba"))["gba_bios.bin"] is S.VERIFIED
    assert seen and seen[-1] == ("scph5501.bin", len(rig.fw("scph5501.bin").content))
    assert not [p for p in rig.bios.rglob("*") if ".romdeck-new" in p.name or p.suffix == ".part"]
    assert (await rig.one("psx")).placed == {"scph5501.bin"}


async def test_a_server_copy_that_is_not_a_known_dump_lands_but_reads_wrong_hash(rig: Rig) -> None:
    """With the table's real md5s, the fake's random bytes are no known good dump."""
    [result] = await rig.service.download("gba", ["gba_bios.bin"])
    assert (result.outcome, result.status) == ("downloaded", S.WRONG_HASH)
    assert (await rig.statuses("gba"))["gba_bios.bin"] is S.WRONG_HASH


async def test_bytes_that_do_not_match_the_servers_hash_are_refused(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    render = rig.library.render_firmware

    def lying(fw: FakeFirmware) -> dict[str, Any]:
        row = render(fw)
        if fw.file_name == "scph5501.bin":
            row.update(md5_hash="0" * 32, sha1_hash="0" * 40, crc_hash="00000000")
        return row

    monkeypatch.setattr(rig.library, "render_firmware", lying)
    [result] = await rig.service.download("psx", ["scph5501.bin"])
    assert (result.outcome, result.error_code) == ("failed", "hash_mismatch")
    assert not (rig.bios / "scph5501.bin").exists()
    assert not [p for p in rig.bios.rglob("*") if p.is_file()]
    assert (await rig.one("psx")).placed == frozenset()


async def test_a_verified_file_is_never_replaced(rig: Rig) -> None:
    good = b"the user's own good dump"
    install_core(rig.home, "mgba", {"a860e8c0b6d573d191e4ec7db1b1e4f6": md5(good)})
    rig.bios.mkdir(parents=True)
    (rig.bios / "gba_bios.bin").write_bytes(good)
    [result] = await rig.service.download("gba", ["gba_bios.bin"])
    assert (result.outcome, result.status) == ("skipped", S.VERIFIED)
    assert (rig.bios / "gba_bios.bin").read_bytes() == good
    assert not any(p.name.startswith("gba_bios.bin.") for p in rig.data.rglob("*"))


async def test_a_wrong_local_file_is_replaced_by_a_verified_copy_and_backed_up(rig: Rig) -> None:
    server_copy = md5(rig.fw("gba_bios.bin").content)
    install_core(rig.home, "mgba", {"a860e8c0b6d573d191e4ec7db1b1e4f6": server_copy})
    rig.bios.mkdir(parents=True)
    (rig.bios / "gba_bios.bin").write_bytes(b"a bad dump")
    assert (await rig.statuses("gba"))["gba_bios.bin"] is S.WRONG_HASH
    [result] = await rig.service.download("gba", [])
    assert (result.outcome, result.status) == ("downloaded", S.VERIFIED)
    assert read(result.backup_path) == b"a bad dump"
    assert md5((rig.bios / "gba_bios.bin").read_bytes()) == server_copy


async def test_a_wrong_local_file_is_kept_when_the_server_copy_is_no_better(rig: Rig) -> None:
    rig.bios.mkdir(parents=True)
    (rig.bios / "gba_bios.bin").write_bytes(b"a bad dump")
    [result] = await rig.service.download("gba", ["gba_bios.bin"])
    assert (result.outcome, result.status) == ("skipped", S.WRONG_HASH)
    assert (rig.bios / "gba_bios.bin").read_bytes() == b"a bad dump"


async def test_dreamcast_firmware_goes_into_the_dc_subfolder(rig: Rig) -> None:
    dc = rig.library.add_platform("dc", "Dreamcast")
    rig.library.add_firmware(dc, "dc_boot.bin", b"DC" * 1024)
    statuses = await rig.statuses("dc")
    assert statuses["dc/dc_boot.bin"] is S.OPTIONAL_MISSING
    [result] = await rig.service.download("dc", ["dc_boot.bin"])
    assert result.outcome == "downloaded"
    assert (rig.bios / "dc" / "dc_boot.bin").read_bytes() == b"DC" * 1024
    assert (await rig.statuses("dc"))["dc/dc_boot.bin"] is S.WRONG_HASH  # not the real dump


async def test_a_platform_that_needs_nothing_says_so(rig: Rig) -> None:
    rig.library.add_platform("ngc", "GameCube")
    gc = await rig.one("ngc")
    assert not gc.needs_firmware and gc.files == ()


async def test_a_server_with_none_of_the_files_leaves_required_ones_missing(rig: Rig) -> None:
    rig.library.add_platform("saturn", "Saturn")
    saturn = await rig.one("saturn")
    assert saturn.needs_firmware
    required = {f.path: f.status for f in saturn.files if f.required}
    assert required == {"sega_101.bin": S.MISSING, "mpr-17933.bin": S.MISSING}
    results = await rig.service.download("saturn", [])
    assert all(r.outcome == "skipped" for r in results)
    assert not rig.bios.exists() or not any(rig.bios.iterdir())


async def test_an_unknown_file_name_is_refused_before_anything_downloads(rig: Rig) -> None:
    with pytest.raises(InvalidInputError, match=r"nosuch\.bin"):
        await rig.service.download(None, ["scph5501.bin", "nosuch.bin"])
    assert not rig.bios.exists()


async def test_delete_removes_only_files_we_placed_unless_forced(rig: Rig) -> None:
    await rig.service.download("psx", ["scph5501.bin"])
    rig.bios.joinpath("user.bin").write_bytes(b"mine")
    deleted = await rig.service.delete("scph5501.bin")
    assert deleted.backup_path == "" and not (rig.bios / "scph5501.bin").exists()

    with pytest.raises(InvalidInputError, match="not placed by RomDeck"):
        await rig.service.delete("user.bin")
    assert (rig.bios / "user.bin").read_bytes() == b"mine"
    forced = await rig.service.delete("user.bin", force=True)
    assert read(forced.backup_path) == b"mine"
    assert not (rig.bios / "user.bin").exists()


async def test_a_placed_file_the_user_changed_is_not_deleted_without_force(rig: Rig) -> None:
    await rig.service.download("psx", ["scph5501.bin"])
    (rig.bios / "scph5501.bin").write_bytes(b"replaced by the user")
    with pytest.raises(InvalidInputError, match="changed"):
        await rig.service.delete("scph5501.bin")
    assert (rig.bios / "scph5501.bin").read_bytes() == b"replaced by the user"


async def test_unsafe_paths_are_refused(rig: Rig) -> None:
    for path in ("../escape.bin", "/etc/passwd", "dc/../../x"):
        with pytest.raises(InvalidInputError):
            await rig.service.delete(path, force=True)


async def test_a_verified_file_that_appears_during_the_download_is_kept(rig: Rig) -> None:
    """The check is made again just before the rename, not only when the row was read."""
    good = b"placed by the user while RomDeck downloaded"
    install_core(rig.home, "mgba", {"a860e8c0b6d573d191e4ec7db1b1e4f6": md5(good)})

    def user_copies_a_good_dump(path: str, done: int, total: int | None) -> None:
        (rig.bios / path).write_bytes(good)

    [result] = await rig.service.download("gba", ["gba_bios.bin"], user_copies_a_good_dump)
    assert (result.outcome, result.status) == ("skipped", S.VERIFIED)
    assert (rig.bios / "gba_bios.bin").read_bytes() == good
    assert not [p for p in rig.bios.iterdir() if p.name != "gba_bios.bin"]


async def test_the_fake_serves_firmware_in_the_recorded_shape(rig: Rig) -> None:
    recorded = json.loads((CAPTURES / "firmware.json").read_text())[0]
    served = rig.library.render_firmware(rig.fw("gba_bios.bin"))
    assert served.keys() == recorded.keys()
    assert served["file_path"] == recorded["file_path"] == "bios/gba"


async def test_a_sub_folder_the_user_linked_elsewhere_is_followed(rig: Rig, tmp_path: Path) -> None:
    dc = rig.library.add_platform("dc", "Dreamcast")
    rig.library.add_firmware(dc, "dc_boot.bin", b"DC" * 1024)
    sdcard = tmp_path / "sdcard-dc"
    sdcard.mkdir()
    rig.bios.mkdir(parents=True)
    (rig.bios / "dc").symlink_to(sdcard)
    [result] = await rig.service.download("dc", ["dc_boot.bin"])
    assert result.outcome == "downloaded"
    assert (sdcard / "dc_boot.bin").read_bytes() == b"DC" * 1024


async def test_a_cut_download_fails_that_file_and_leaves_nothing_in_the_bios_folder(
    rig: Rig,
) -> None:
    rig.server.fail_after(0, drop_after_bytes=1000)
    [result] = await rig.service.download("psx", ["scph5501.bin"])
    assert result.outcome == "failed"
    assert sorted(p.name for p in rig.bios.rglob("*")) == []
    rig.server.clear_failures()
    [result] = await rig.service.download("psx", ["scph5501.bin"])
    assert result.outcome == "downloaded"
    assert (rig.bios / "scph5501.bin").read_bytes() == rig.fw("scph5501.bin").content


async def test_a_cancelled_download_leaves_nothing_in_the_bios_folder(rig: Rig) -> None:
    seen: list[int] = []

    def cancel_mid_download(path: str, done: int, total: int | None) -> None:
        seen.append(done)
        assert [p for p in rig.bios.rglob("*") if p.is_file()]  # the part file is there
        task.cancel()

    task = asyncio.ensure_future(rig.service.download("psx", ["scph5501.bin"], cancel_mid_download))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen
    assert sorted(p.name for p in rig.bios.rglob("*")) == []
