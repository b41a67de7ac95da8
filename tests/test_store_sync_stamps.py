"""JsonSyncStamps: a cache of the headless sync's stamps; a broken file only costs a full plan."""

from __future__ import annotations

from pathlib import Path

from romdeck.adapters.store.sync_stamps import JsonSyncStamps
from romdeck.domain.sync_stamp import SyncStamp


async def test_stamps_round_trip_through_the_file(tmp_path: Path) -> None:
    store = JsonSyncStamps(tmp_path / "data" / "sync-stamps.json")
    assert await store.load() == {}
    stamps = {"123": SyncStamp("lib", "local", 42, ("a note",)), "456": SyncStamp("l", "x", 0)}
    await store.save(stamps)
    assert await store.load() == stamps


async def test_an_unreadable_file_counts_as_no_stamps(tmp_path: Path) -> None:
    path = tmp_path / "sync-stamps.json"
    for broken in (b"{not json", b'{"version": 1, "users": {"1": {"library": "x"}}}', b"[]"):
        path.write_bytes(broken)
        assert await JsonSyncStamps(path).load() == {}
