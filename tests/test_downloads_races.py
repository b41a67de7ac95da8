"""DownloadService under concurrency and failure: two callers, a running game, a bug in a
task, and closing while a download runs. Fake RomM server, temp RetroDECK tree, SQLite."""

# Assertions read small temp files directly; blocking there is harmless in tests.
# ruff: noqa: ASYNC240

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.downloads import DownloadState, DownloadStatus
from romdeck.domain.layout import PlayTarget
from romdeck.errors import BusyError
from romdeck.services.launch import LaunchService
from test_downloads_service import Rig, build, install, served


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state.db")
    yield database
    database.close()


@pytest.fixture
def rig(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    db: SqliteDatabase,
) -> Rig:
    return build(tmp_path, session, fake_romm, fake_library, db)


def content_gets(rig: Rig) -> list[str]:
    return [path for method, path, _ in rig.content_requests() if method == "GET"]


async def test_the_same_rom_queued_by_two_callers_at_once_downloads_once(rig: Rig) -> None:
    first, second = await asyncio.gather(rig.service.queue([20]), rig.service.queue([20]))
    await rig.service.wait_idle()
    assert first[0].state == second[0].state == DownloadState.QUEUED
    assert len(content_gets(rig)) == 1
    record = await rig.store.get(20)
    assert record is not None
    assert Path(record.root).read_bytes() == served(rig.library, 20)
    assert [s.rom_id for s in rig.service.statuses()] == [20]


async def test_uninstalling_a_game_that_is_running_is_refused_until_it_exits(rig: Rig) -> None:
    await install(rig, 20)

    async def no_target() -> PlayTarget:
        raise AssertionError("the recorded command is used")

    launch = LaunchService(
        installs=rig.store,
        downloads=rig.service,
        probe=LocalInstallTree(),
        target=no_target,
        listeners=[rig.service],
    )
    at = "2026-12-01T20:00:00+00:00"
    await launch.handle({"op": "started", "rom_id": 20, "pid": 4242, "at": at})
    with pytest.raises(BusyError, match="running"):
        await rig.service.uninstall(20)
    record = await rig.store.get(20)
    assert record is not None
    assert Path(record.root).is_file()
    await launch.handle({"op": "exited", "rom_id": 20, "code": 0, "at": at, "seconds": 5})
    assert await rig.service.uninstall(20) > 0
    assert await rig.store.get(20) is None


async def test_a_bug_inside_a_download_fails_it_as_internal_and_the_queue_moves_on(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    db: SqliteDatabase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = build(tmp_path, session, fake_romm, fake_library, db, concurrency=1)
    real = AiohttpDownloader.download

    async def buggy(self: AiohttpDownloader, url: str, target: Path, **kwargs: object) -> object:
        if "Super" in target.name:
            raise KeyError("not ours")
        return await real(self, url, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AiohttpDownloader, "download", buggy)
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(install(rig, 20, 5), 20)  # a task that died would hang here
    by_rom = {s.rom_id: s for s in rig.service.statuses()}
    assert by_rom[20].state == DownloadState.FAILED
    assert by_rom[20].error_code == "internal"
    assert "not ours" in by_rom[20].error_message
    assert by_rom[5].state == DownloadState.INSTALLED
    assert any(r.exc_info and "ROM 20" in r.getMessage() for r in caplog.records)
    assert [r.state for r in await rig.store.downloads()] == ["failed"]


async def test_close_returns_quickly_during_a_slow_download_and_keeps_what_arrived(
    rig: Rig,
) -> None:
    rig.server.chunk_delay = 0.05  # 16 KiB per 50 ms: minutes for a big ROM
    platform = rig.library.roms[20].platform_id
    big = bytes(range(256)) * 8192  # 2 MiB
    rom_id = rig.library.add_rom(platform, name="Slow", files=[("Slow (USA).sfc", big)])
    arrived = asyncio.Event()

    def on_progress(status: DownloadStatus) -> None:
        if status.bytes_done >= 100_000:
            arrived.set()

    rig.on_progress = on_progress
    await rig.service.queue([rom_id])
    await asyncio.wait_for(arrived.wait(), 10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await rig.service.close()
    assert loop.time() - started < 5
    kept = next(rig.roms.rglob("Slow (USA).sfc.part")).read_bytes()
    assert len(kept) >= 100_000
    assert kept == big[: len(kept)]
