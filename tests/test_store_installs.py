"""SqliteInstallStore: installs and the download queue, and the launcher's read-only view."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.installs import DownloadRecord, SqliteInstallStore
from romdeck.domain.models import Install
from romdeck.errors import StateError


def install(rom_id: int, **changes: object) -> Install:
    values: dict[str, object] = {
        "rom_id": rom_id,
        "platform_slug": "psx",
        "system": "psx",
        "root": f"/home/deck/retrodeck/roms/psx/Game {rom_id}",
        "launch_path": f"/home/deck/retrodeck/roms/psx/Game {rom_id}/Game {rom_id}.m3u",
        "size_bytes": 700 * 1024 * 1024,
        "launch_argv": ("flatpak", "run", "net.retrodeck.retrodeck", f"/roms/Game {rom_id}.m3u"),
        "installed_at": "2024-05-01T12:00:00+00:00",
    }
    values.update(changes)
    return Install(**values)  # type: ignore[arg-type]


class Ticks:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"2024-05-01T12:00:{self.n:02d}+00:00"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state.db")
    yield database
    database.close()


@pytest.fixture
def store(db: SqliteDatabase) -> SqliteInstallStore:
    return SqliteInstallStore(db, now=Ticks())


async def test_a_recorded_install_reads_back_exactly(store: SqliteInstallStore) -> None:
    await store.record(install(3))
    assert await store.get(3) == install(3)
    assert await store.get(4) is None


async def test_recording_again_replaces_the_install(store: SqliteInstallStore) -> None:
    await store.record(install(3))
    await store.record(install(3, system="psp", launch_argv=("a", "b c")))
    assert await store.get(3) == install(3, system="psp", launch_argv=("a", "b c"))
    assert len(await store.list()) == 1


async def test_list_returns_installs_by_rom_id(store: SqliteInstallStore) -> None:
    for rom_id in (9, 2, 5):
        await store.record(install(rom_id))
    assert [i.rom_id for i in await store.list()] == [2, 5, 9]


async def test_remove_forgets_an_install_and_says_whether_it_existed(
    store: SqliteInstallStore,
) -> None:
    await store.record(install(3))
    assert await store.remove(3) is True
    assert await store.remove(3) is False
    assert await store.get(3) is None


async def test_downloads_keep_queue_order_when_progress_updates(store: SqliteInstallStore) -> None:
    await store.set_download(20, "queued")
    await store.set_download(10, "queued")
    await store.set_download(20, "downloading", 512, 2048)
    assert [d.rom_id for d in await store.downloads()] == [20, 10]
    assert (await store.downloads())[0] == DownloadRecord(
        rom_id=20,
        state="downloading",
        bytes_done=512,
        bytes_total=2048,
        error="",
        position=1,
        updated_at="2024-05-01T12:00:03+00:00",
    )


async def test_a_failed_download_keeps_its_error(store: SqliteInstallStore) -> None:
    await store.set_download(1, "failed", 10, 20, "Disk full")
    (record,) = await store.downloads()
    assert (record.state, record.error) == ("failed", "Disk full")


async def test_a_download_taken_off_the_queue_is_gone(store: SqliteInstallStore) -> None:
    await store.set_download(1, "queued")
    await store.set_download(2, "queued")
    assert await store.remove_download(1) is True
    assert await store.remove_download(1) is False
    assert [d.rom_id for d in await store.downloads()] == [2]
    await store.set_download(3, "queued")
    assert [d.rom_id for d in await store.downloads()] == [2, 3]


async def test_the_launcher_can_read_installs_read_only_while_the_backend_holds_the_db(
    store: SqliteInstallStore, db: SqliteDatabase
) -> None:
    await store.record(install(7))
    readonly = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        row = readonly.execute("SELECT launch_argv FROM installs WHERE rom_id = ?", (7,)).fetchone()
        with pytest.raises(sqlite3.OperationalError):
            readonly.execute("DELETE FROM installs")
    finally:
        readonly.close()
    assert tuple(json.loads(row[0])) == install(7).launch_argv


async def test_the_launcher_can_read_installs_read_only_after_the_backend_closed_the_db(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    await SqliteInstallStore(db).record(install(8))
    db.close()
    readonly = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        row = readonly.execute("SELECT launch_argv FROM installs WHERE rom_id = 8").fetchone()
    finally:
        readonly.close()
    assert tuple(json.loads(row[0])) == install(8).launch_argv


# ---- off the event loop ------------------------------------------------------------------


class ThreadSpy(SqliteDatabase):
    """The real database, noting which thread opens each read or write (after opening)."""

    def __init__(self, path: Path) -> None:
        self.threads: list[int] = []
        super().__init__(path)
        self.threads.clear()  # the migrations ran while opening

    def read(self):  # type: ignore[override]
        self.threads.append(threading.get_ident())
        return super().read()

    def transaction(self):  # type: ignore[override]
        self.threads.append(threading.get_ident())
        return super().transaction()


@contextlib.contextmanager
def write_locked(db: SqliteDatabase) -> Iterator[sqlite3.Connection]:
    """Another connection (another process, say) holding state.db's write lock."""
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.rollback()
        other.close()


async def test_every_call_runs_its_sql_off_the_event_loop_thread(tmp_path: Path) -> None:
    db = ThreadSpy(tmp_path / "state.db")
    store = SqliteInstallStore(db)
    try:
        await store.record(install(1))
        await store.get(1)
        await store.list()
        await store.set_download(2, "queued")
        await store.downloads()
        await store.remove_download(2)
        await store.remove(1)
    finally:
        await store.close()
        db.close()
    assert len(db.threads) == 7
    assert threading.get_ident() not in db.threads


async def test_the_loop_keeps_running_while_another_connection_holds_the_database(
    store: SqliteInstallStore, db: SqliteDatabase
) -> None:
    ticks = 0
    with write_locked(db):
        write = asyncio.ensure_future(store.set_download(5, "queued"))
        for _ in range(20):  # a store blocking the loop would stall here until busy_timeout
            await asyncio.sleep(0.01)
            ticks += 1
        assert not write.done()  # still waiting for the lock, in its thread
    await write
    assert ticks == 20
    assert [d.rom_id for d in await store.downloads()] == [5]


async def test_writes_land_in_the_order_they_were_made(
    store: SqliteInstallStore, db: SqliteDatabase
) -> None:
    states = ["queued", "downloading", "paused", "queued", "downloading", "failed"]
    with write_locked(db):
        writes = [asyncio.ensure_future(store.set_download(7, s)) for s in states]
        await asyncio.sleep(0.05)
    await asyncio.gather(*writes)
    assert [d.state for d in await store.downloads()] == ["failed"]


async def test_a_write_is_applied_even_when_its_caller_is_cancelled(
    store: SqliteInstallStore, db: SqliteDatabase
) -> None:
    with write_locked(db):
        first = asyncio.ensure_future(store.set_download(1, "queued"))
        second = asyncio.ensure_future(store.set_download(2, "paused"))
        await asyncio.sleep(0.05)  # the first waits for the lock; the second is queued behind
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
    await first
    await store.remove_download(99)  # runs after every earlier call
    assert [(d.rom_id, d.state) for d in await store.downloads()] == [(1, "queued"), (2, "paused")]


async def test_a_blocking_read_serves_code_that_already_runs_in_a_thread(
    store: SqliteInstallStore,
) -> None:
    await store.record(install(4))
    assert await asyncio.to_thread(store.get_blocking, 4) == install(4)
    assert await asyncio.to_thread(store.get_blocking, 5) is None


async def test_a_closed_store_refuses_calls_with_a_state_error(store: SqliteInstallStore) -> None:
    await store.close()
    with pytest.raises(StateError, match="closed"):
        await store.get(1)
    await store.close()  # again: nothing to do


class GatedDb(SqliteDatabase):
    """The real database; each write waits until ``gate`` is set (a slow disk, say)."""

    def __init__(self, path: Path) -> None:
        self.gate = threading.Event()
        self.gate.set()
        super().__init__(path)

    def transaction(self):  # type: ignore[override]
        self.gate.wait(timeout=10)
        return super().transaction()


async def test_closing_waits_for_a_write_whose_caller_was_cancelled(tmp_path: Path) -> None:
    db = GatedDb(tmp_path / "state.db")
    store = SqliteInstallStore(db)
    db.gate.clear()
    first = asyncio.ensure_future(store.set_download(1, "queued"))
    second = asyncio.ensure_future(store.record(install(2)))
    await asyncio.sleep(0.05)
    second.cancel()  # as App.close cancels a download that is recording its install
    await asyncio.gather(second, return_exceptions=True)
    closing = asyncio.ensure_future(store.close())
    await asyncio.wait({closing}, timeout=0.1)
    if closing.done():  # returned with writes still pending: close the database, as App does
        db.close()
    db.gate.set()
    await closing
    db.close()
    await asyncio.gather(first, return_exceptions=True)
    readonly = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        rows = readonly.execute("SELECT rom_id FROM installs").fetchall()
    finally:
        readonly.close()
    assert rows == [(2,)]
