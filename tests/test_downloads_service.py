"""DownloadService against the fake RomM server: real bytes, a temp RetroDECK tree, SQLite."""

# Assertions read small temp files directly; blocking there is harmless in tests.
# ruff: noqa: ASYNC240

from __future__ import annotations

import asyncio
import io
import sqlite3
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.library import ALL_SCOPES, FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.files.diskspace import StatvfsDiskSpace
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.files.extract import SafeExtractor
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.adapters.romm.catalog import AiohttpRommClient
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.installs import SqliteInstallStore
from romdeck.domain.downloads import DownloadState, DownloadStatus
from romdeck.domain.emulation import EmulationPaths, EmulationTarget
from romdeck.domain.layout import PlayTarget
from romdeck.domain.settings import Connection
from romdeck.services.downloads import DownloadService
from romdeck.services.installer import DownloadDeps, Installer


async def _no_sleep(_: float) -> None:
    return None


class TinyDisk:
    """A free-space probe that reports almost nothing free."""

    async def free_bytes_async(self, path: Path) -> int:
        return 1000


@dataclass
class Rig:
    service: DownloadService
    store: SqliteInstallStore
    roms: Path
    server: FakeRommServer
    library: FakeLibrary
    events: list[DownloadStatus] = field(default_factory=list)
    on_progress: Callable[[DownloadStatus], None] | None = None

    def content_requests(self) -> list[tuple[str, str, int]]:
        return [r for r in self.server.requests if "/content/" in r[1]]

    def leftovers(self) -> list[str]:
        return sorted(
            p.name
            for p in self.roms.rglob("*")
            if ".romdeck-" in p.name or p.suffix in (".part", ".json")
        )


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state.db")
    yield database
    database.close()


def build(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    server: FakeRommServer,
    library: FakeLibrary,
    db: SqliteDatabase,
    *,
    free_space: object | None = None,
    concurrency: int = 2,
) -> Rig:
    token = library.auth.create_client_token("admin", "deck", list(ALL_SCOPES), None).raw_token
    client = AiohttpRommClient(session, Connection(url=server.url, token=token))
    roms = tmp_path / "retrodeck" / "roms"
    roms.mkdir(parents=True)
    paths = EmulationPaths(str(roms), str(tmp_path / "saves"), "", "", EmulationTarget.RETRODECK)
    store = SqliteInstallStore(db)
    rig: Rig

    async def target() -> PlayTarget:
        return PlayTarget(paths=paths)

    def on_event(status: DownloadStatus) -> None:
        rig.events.append(status)
        if rig.on_progress is not None and status.bytes_done > 0:
            rig.on_progress(status)

    deps = DownloadDeps(
        connect=lambda: client,
        downloader=AiohttpDownloader(
            session, chunk_size=8192, sleep=_no_sleep, progress_interval_seconds=0
        ),
        extractor=SafeExtractor(),
        hasher=FileHasher(),
        tree=LocalInstallTree(),
        free_space=free_space or StatvfsDiskSpace(),  # type: ignore[arg-type]
        store=store,
        target=target,
        clock=SystemClock(),
        on_event=on_event,
        concurrency=concurrency,
    )
    rig = Rig(DownloadService(deps, installer=Installer(deps)), store, roms, server, library)
    return rig


@pytest.fixture
def rig(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    db: SqliteDatabase,
) -> Rig:
    return build(tmp_path, session, fake_romm, fake_library, db)


async def install(rig: Rig, *rom_ids: int) -> None:
    await rig.service.queue(list(rom_ids))
    await rig.service.wait_idle()


def served(library: FakeLibrary, rom_id: int, rel: str = "") -> bytes:
    files = library.roms[rom_id].files
    return next(f.content for f in files if not rel or f.rel_path == rel)


# ---- layouts -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rom_id", "root", "launch"),
    [
        (20, "snes/Super Metroid (USA, Europe).sfc", ""),
        (5, "gba/Kirby & The Amazing Mirror (USA).gba", ""),
        (4, "gba/Harry Potter à l'École des Sorciers (France).gba", ""),
        (12, "psx/Castlevania - Symphony of the Night (USA)",
         "Castlevania - Symphony of the Night (USA).m3u"),
        (14, "psx/Metal Gear Solid (USA)", "Metal Gear Solid (USA).m3u"),
        (15, "psx/Resident Evil 2 (USA)", "Resident Evil 2 (USA).m3u"),
    ],
)  # fmt: skip
async def test_each_layout_installs_into_its_system_folder_with_its_launch_file(
    rig: Rig, rom_id: int, root: str, launch: str
) -> None:
    await install(rig, rom_id)
    record = await rig.store.get(rom_id)
    assert record is not None, rig.events[-1]
    assert record.root == str(rig.roms / root)
    assert record.launch_path == str(rig.roms / root / launch) if launch else record.root
    assert Path(record.launch_path).is_file()
    assert record.launch_argv[-1] == record.launch_path
    assert record.launch_argv[:3] == ("flatpak", "run", "net.retrodeck.retrodeck")
    for f in rig.library.roms[rom_id].files:
        path = Path(record.root) / f.rel_path if launch else Path(record.root)
        assert path.read_bytes() == f.content
    assert record.size_bytes == sum(
        p.stat().st_size for p in [Path(record.root), *Path(record.root).rglob("*")] if p.is_file()
    )
    assert rig.leftovers() == []
    assert rig.service.statuses()[-1].state == DownloadState.INSTALLED


async def test_a_multi_disc_game_in_sub_folders_gets_a_playlist_of_its_discs(rig: Rig) -> None:
    await install(rig, 14)
    record = await rig.store.get(14)
    assert record is not None
    playlist = Path(record.launch_path).read_text(encoding="utf-8").splitlines()
    assert playlist == [
        "Disc 1/Metal Gear Solid (USA) (Disc 1).cue",
        "Disc 2/Metal Gear Solid (USA) (Disc 2).cue",
    ]
    assert (Path(record.root) / "Disc 2" / "Metal Gear Solid (USA) (Disc 2).cue").is_file()


async def test_a_zipped_rom_is_unpacked_and_flattened_for_a_system_that_cannot_read_zips(
    rig: Rig,
) -> None:
    await install(rig, 19)
    record = await rig.store.get(19)
    assert record is not None, rig.events[-1]
    with zipfile.ZipFile(io.BytesIO(served(rig.library, 19))) as archive:
        member = archive.namelist()[0]
        expected = archive.read(member)
    assert record.launch_path == str(rig.roms / "snes" / member)
    assert Path(record.launch_path).read_bytes() == expected
    assert sorted(p.name for p in (rig.roms / "snes").iterdir()) == [member]


async def test_multi_file_downloads_start_with_a_range_request(rig: Rig) -> None:
    await install(rig, 12)
    assert [status for _, _, status in rig.content_requests()] == [206]


# ---- interruptions -----------------------------------------------------------------------------
async def test_a_connection_cut_mid_download_resumes_to_the_exact_bytes(rig: Rig) -> None:
    big = bytes(range(256)) * 16384  # 4 MiB: the cut comes after bytes reached the disk
    platform = rig.library.roms[20].platform_id
    rom_id = rig.library.add_rom(platform, name="Big", files=[("Big (USA).sfc", big)])
    rig.server.fail_after(0, drop_after_bytes=3 * 1024 * 1024)
    await install(rig, rom_id)
    record = await rig.store.get(rom_id)
    assert record is not None, rig.events[-1]
    assert Path(record.root).read_bytes() == big
    # Every request is cut after 3 MiB, so only a Range resume of the rest can finish.
    assert len(rig.content_requests()) == 2


async def test_a_paused_download_keeps_its_part_and_resumes_with_a_range(rig: Rig) -> None:
    pausing: list[asyncio.Task[DownloadStatus]] = []

    def pause_once(status: DownloadStatus) -> None:
        if not pausing:
            pausing.append(asyncio.create_task(rig.service.pause(status.rom_id)))

    rig.on_progress = pause_once
    await rig.service.queue([20])
    await rig.service.wait_idle()
    await pausing[0]
    assert rig.service.statuses()[0].state == DownloadState.PAUSED
    part = rig.roms / "snes" / "Super Metroid (USA, Europe).sfc.part"
    assert part.is_file()
    rig.on_progress = None
    await rig.service.resume(20)
    await rig.service.wait_idle()
    record = await rig.store.get(20)
    assert record is not None
    assert Path(record.root).read_bytes() == served(rig.library, 20)
    assert 206 in [status for _, _, status in rig.content_requests()]
    assert not part.exists()


async def test_cancelling_a_running_download_leaves_nothing(rig: Rig) -> None:
    cancelling: list[asyncio.Task[DownloadStatus]] = []

    def cancel_once(status: DownloadStatus) -> None:
        if not cancelling:
            cancelling.append(asyncio.create_task(rig.service.cancel(status.rom_id)))

    rig.on_progress = cancel_once
    await rig.service.queue([12])
    await rig.service.wait_idle()
    assert (await cancelling[0]).state == DownloadState.CANCELLED
    assert list((rig.roms / "psx").iterdir()) == []
    assert await rig.store.get(12) is None
    assert await rig.store.downloads() == []


async def test_cancelling_a_paused_download_removes_its_part(rig: Rig) -> None:
    pausing: list[asyncio.Task[DownloadStatus]] = []
    rig.on_progress = lambda s: (
        pausing.append(asyncio.create_task(rig.service.pause(20))) if not pausing else None
    )
    await rig.service.queue([20])
    await rig.service.wait_idle()
    await pausing[0]
    await rig.service.cancel(20)
    assert list((rig.roms / "snes").iterdir()) == []


async def test_a_hash_mismatch_installs_nothing(rig: Rig) -> None:
    damaged = rig.library.roms[20].files[0]
    _ = damaged.digest
    damaged.content = bytes(reversed(damaged.content))
    await install(rig, 20)
    status = rig.service.statuses()[0]
    assert status.state == DownloadState.FAILED
    assert status.error_code == "hash_mismatch"
    assert list((rig.roms / "snes").iterdir()) == []
    assert await rig.store.get(20) is None


async def test_a_damaged_file_inside_a_multi_file_zip_installs_nothing(rig: Rig) -> None:
    damaged = rig.library.roms[12].files[0]
    _ = damaged.digest
    damaged.content = bytes(reversed(damaged.content))
    await install(rig, 12)
    status = rig.service.statuses()[0]
    assert status.error_code == "hash_mismatch", status
    assert list((rig.roms / "psx").iterdir()) == []


async def test_a_full_disk_fails_cleanly_before_any_download(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    db: SqliteDatabase,
) -> None:
    rig = build(tmp_path, session, fake_romm, fake_library, db, free_space=TinyDisk())
    await install(rig, 12)
    status = rig.service.statuses()[0]
    assert status.state == DownloadState.FAILED
    assert status.error_code == "disk_full"
    assert "MiB" in status.error_message
    assert rig.content_requests() == []
    assert not (rig.roms / "psx").exists() or list((rig.roms / "psx").iterdir()) == []


async def test_two_downloads_run_at_once_and_the_rest_wait(rig: Rig) -> None:
    await rig.service.queue([20, 5, 4])
    states = [s.state for s in rig.service.statuses()]
    assert states == [DownloadState.QUEUED] * 3
    running = sum(1 for job in rig.service._jobs.values() if job.task is not None)
    assert running == 2
    await rig.service.wait_idle()
    assert [s.state for s in rig.service.statuses()] == [DownloadState.INSTALLED] * 3


async def test_progress_reports_bytes_total_and_rate(rig: Rig) -> None:
    await install(rig, 20)
    reports = [e for e in rig.events if e.bytes_done > 0]
    assert reports[-1].bytes_done == reports[-1].bytes_total == 65536


# ---- uninstall, installed list, adoption ---------------------------------------------------------
async def test_uninstall_removes_the_game_but_not_its_saves(rig: Rig) -> None:
    await install(rig, 14, 20)
    folder = rig.roms / "psx" / "Metal Gear Solid (USA)"
    (folder / "saves").mkdir()
    (folder / "saves" / "card.mcd").write_bytes(b"save")
    beside = rig.roms / "snes" / "Super Metroid (USA, Europe).srm"
    beside.write_bytes(b"sram")
    freed = await rig.service.uninstall(14) + await rig.service.uninstall(20)
    assert freed == sum(len(f.content) for f in rig.library.roms[14].files) + 65536 + len(
        "\n".join(f.rel_path for f in rig.library.roms[14].files if f.rel_path.endswith(".cue"))
    )
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        "saves",
        "saves/card.mcd",
    ]
    assert beside.read_bytes() == b"sram"
    assert not (rig.roms / "snes" / "Super Metroid (USA, Europe).sfc").exists()
    assert await rig.store.list() == []


async def test_the_installed_list_sums_sizes_per_platform(rig: Rig) -> None:
    await install(rig, 20, 5, 4)
    listing = await rig.service.installed()
    assert listing.bytes_by_platform == {"snes": 65536, "gba": 2 * 65536}
    assert listing.total_bytes == 3 * 65536


async def test_matching_files_already_in_place_are_adopted_without_a_download(rig: Rig) -> None:
    (rig.roms / "snes").mkdir()
    (rig.roms / "snes" / "Super Metroid (USA, Europe).sfc").write_bytes(served(rig.library, 20))
    folder = rig.roms / "psx" / "Resident Evil 2 (USA)"
    folder.mkdir(parents=True)
    for f in rig.library.roms[15].files:
        (folder / f.rel_path).write_bytes(f.content)
    await install(rig, 20, 15)
    assert rig.content_requests() == []
    adopted = await rig.store.get(15)
    assert adopted is not None
    assert adopted.launch_path == str(folder / "Resident Evil 2 (USA).m3u")
    assert await rig.store.get(20) is not None


async def test_a_different_file_in_the_way_is_not_overwritten(rig: Rig) -> None:
    (rig.roms / "snes").mkdir()
    mine = rig.roms / "snes" / "Super Metroid (USA, Europe).sfc"
    mine.write_bytes(b"my own hack")
    await install(rig, 20)
    assert rig.service.statuses()[0].error_code == "invalid_input"
    assert mine.read_bytes() == b"my own hack"
    assert rig.content_requests() == []


async def test_an_installed_rom_is_not_downloaded_again(rig: Rig) -> None:
    await install(rig, 20)
    rig.server.reset_log()
    statuses = await rig.service.queue([20])
    assert statuses[0].state == DownloadState.INSTALLED
    assert rig.server.requests == []


async def test_close_keeps_the_part_of_a_running_download_for_next_time(rig: Rig) -> None:
    closing: list[asyncio.Task[None]] = []
    started = asyncio.Event()

    def close_once(_: DownloadStatus) -> None:
        if not closing:
            closing.append(asyncio.create_task(rig.service.close()))
            started.set()

    rig.on_progress = close_once
    await rig.service.queue([20])
    await started.wait()
    await closing[0]
    assert (rig.roms / "snes" / "Super Metroid (USA, Europe).sfc.part").is_file()
    assert [r.state for r in await rig.store.downloads()] == ["downloading"]


async def test_a_locked_database_delays_the_queue_without_stalling_the_loop(
    rig: Rig, db: SqliteDatabase
) -> None:
    other = sqlite3.connect(db.path, isolation_level=None)  # another process writing state.db
    other.execute("BEGIN IMMEDIATE")
    try:
        queued = asyncio.ensure_future(rig.service.queue([20]))
        ticks = 0
        while ticks < 20 and not rig.service.statuses():  # the ROM is described, then queued
            await asyncio.sleep(0.01)
            ticks += 1
        for _ in range(10):  # a store blocking the loop would hold it here until busy_timeout
            await asyncio.sleep(0.01)
            ticks += 1
        assert [s.state for s in rig.service.statuses()] == [DownloadState.QUEUED]
        assert not queued.done()  # its row waits for the lock, in the store's thread
    finally:
        other.rollback()
        other.close()
    await queued
    await rig.service.wait_idle()
    assert ticks >= 10
    record = await rig.store.get(20)
    assert record is not None and Path(record.launch_path).is_file()
