"""SqliteInstallStore: installs and the download queue, and the launcher's read-only view."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.installs import DownloadRecord, SqliteInstallStore
from romdeck.domain.models import Install


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


def test_a_recorded_install_reads_back_exactly(store: SqliteInstallStore) -> None:
    store.record(install(3))
    assert store.get(3) == install(3)
    assert store.get(4) is None


def test_recording_again_replaces_the_install(store: SqliteInstallStore) -> None:
    store.record(install(3))
    store.record(install(3, system="psp", launch_argv=("a", "b c")))
    assert store.get(3) == install(3, system="psp", launch_argv=("a", "b c"))
    assert len(store.list()) == 1


def test_list_returns_installs_by_rom_id(store: SqliteInstallStore) -> None:
    for rom_id in (9, 2, 5):
        store.record(install(rom_id))
    assert [i.rom_id for i in store.list()] == [2, 5, 9]


def test_remove_forgets_an_install_and_says_whether_it_existed(store: SqliteInstallStore) -> None:
    store.record(install(3))
    assert store.remove(3) is True
    assert store.remove(3) is False
    assert store.get(3) is None


def test_downloads_keep_queue_order_when_progress_updates(store: SqliteInstallStore) -> None:
    store.set_download(20, "queued")
    store.set_download(10, "queued")
    store.set_download(20, "downloading", 512, 2048)
    assert [d.rom_id for d in store.downloads()] == [20, 10]
    assert store.downloads()[0] == DownloadRecord(
        rom_id=20,
        state="downloading",
        bytes_done=512,
        bytes_total=2048,
        error="",
        position=1,
        updated_at="2024-05-01T12:00:03+00:00",
    )


def test_a_failed_download_keeps_its_error(store: SqliteInstallStore) -> None:
    store.set_download(1, "failed", 10, 20, "Disk full")
    (record,) = store.downloads()
    assert (record.state, record.error) == ("failed", "Disk full")


def test_a_download_taken_off_the_queue_is_gone(store: SqliteInstallStore) -> None:
    store.set_download(1, "queued")
    store.set_download(2, "queued")
    assert store.remove_download(1) is True
    assert store.remove_download(1) is False
    assert [d.rom_id for d in store.downloads()] == [2]
    store.set_download(3, "queued")
    assert [d.rom_id for d in store.downloads()] == [2, 3]


def test_the_launcher_can_read_installs_read_only_while_the_backend_holds_the_db(
    store: SqliteInstallStore, db: SqliteDatabase
) -> None:
    store.record(install(7))
    readonly = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        row = readonly.execute("SELECT launch_argv FROM installs WHERE rom_id = ?", (7,)).fetchone()
        with pytest.raises(sqlite3.OperationalError):
            readonly.execute("DELETE FROM installs")
    finally:
        readonly.close()
    assert tuple(json.loads(row[0])) == install(7).launch_argv


def test_the_launcher_can_read_installs_read_only_after_the_backend_closed_the_db(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    SqliteInstallStore(db).record(install(8))
    db.close()
    readonly = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        row = readonly.execute("SELECT launch_argv FROM installs WHERE rom_id = 8").fetchone()
    finally:
        readonly.close()
    assert tuple(json.loads(row[0])) == install(8).launch_argv
