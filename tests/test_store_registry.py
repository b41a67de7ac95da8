"""SqliteRegistry: RomM ROM ↔ Steam shortcut per Steam user, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.registry import SqliteRegistry
from romdeck.domain.models import RegistryEntry, ShortcutSpec
from romdeck.errors import InvalidInputError, NotFoundError, StateError

USER = "12345678"


def entry(rom_id: int, appid: int | None = None, **spec_fields: object) -> RegistryEntry:
    spec = ShortcutSpec(
        rom_id=rom_id,
        app_name=str(spec_fields.get("app_name", f"Game {rom_id}")),
        exe='"/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch"',
        start_dir='"/home/deck/homebrew/plugins/RomDeck/bin"',
        launch_options=f"--rom {rom_id}",
        tags=("RomM", "Nintendo 64", "Ünïcödé"),
        cover_path=f"/assets/{rom_id}/cover.png?ts=2024-01-01 00:00:00",
    )
    return RegistryEntry(spec=spec, appid=appid or 0x80000000 + rom_id, cover_key="")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state.db")
    yield database
    database.close()


@pytest.fixture
def registry(db: SqliteDatabase) -> SqliteRegistry:
    return SqliteRegistry(db)


async def test_a_new_user_has_no_entries(registry: SqliteRegistry) -> None:
    assert await registry.entries(USER) == {}


async def test_committed_entries_read_back_by_rom_id(registry: SqliteRegistry) -> None:
    first, second = entry(1), entry(2, appid=0xFFFFFFFF)
    await registry.commit(USER, upserts=[first, second])
    assert await registry.entries(USER) == {1: first, 2: second}


async def test_entries_are_kept_apart_per_steam_user(registry: SqliteRegistry) -> None:
    await registry.commit(USER, upserts=[entry(1)])
    await registry.commit("999", upserts=[entry(2)])
    assert set(await registry.entries(USER)) == {1}
    assert set(await registry.entries("999")) == {2}


async def test_a_rename_updates_the_entry_and_keeps_its_appid(registry: SqliteRegistry) -> None:
    await registry.commit(USER, upserts=[entry(1, appid=0x80001234)])
    await registry.commit(USER, upserts=[entry(1, appid=0x80001234, app_name="New name")])
    (only,) = (await registry.entries(USER)).values()
    assert only.spec.app_name == "New name"
    assert only.appid == 0x80001234


async def test_commit_removes_and_upserts_together(registry: SqliteRegistry) -> None:
    await registry.commit(USER, upserts=[entry(1), entry(2)])
    await registry.commit(USER, upserts=[entry(3)], removed_rom_ids=[1, 77])
    assert set(await registry.entries(USER)) == {2, 3}


async def test_a_commit_that_fails_midway_changes_nothing(
    registry: SqliteRegistry, db: SqliteDatabase
) -> None:
    await registry.commit(USER, upserts=[entry(1)])
    with db.transaction() as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON registry WHEN NEW.rom_id = 99 "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    with pytest.raises(StateError, match="refused"):
        await registry.commit(USER, upserts=[entry(2), entry(99)], removed_rom_ids=[1])
    assert set(await registry.entries(USER)) == {1}


async def test_an_appid_beyond_32_bits_is_refused_before_writing(registry: SqliteRegistry) -> None:
    with pytest.raises(InvalidInputError):
        await registry.commit(USER, upserts=[entry(1), entry(2, appid=1 << 40)])
    assert await registry.entries(USER) == {}


async def test_set_cover_key_records_the_written_cover(registry: SqliteRegistry) -> None:
    await registry.commit(USER, upserts=[entry(1)])
    await registry.set_cover_key(USER, 1, "/assets/1/cover.png?ts=2024-01-01 00:00:00")
    assert (await registry.entries(USER))[
        1
    ].cover_key == "/assets/1/cover.png?ts=2024-01-01 00:00:00"


async def test_set_cover_key_of_an_unknown_rom_raises_not_found(registry: SqliteRegistry) -> None:
    with pytest.raises(NotFoundError):
        await registry.set_cover_key(USER, 5, "x")


async def test_unreadable_tags_raise_state_error(
    registry: SqliteRegistry, db: SqliteDatabase
) -> None:
    await registry.commit(USER, upserts=[entry(1)])
    with db.transaction() as conn:
        conn.execute("UPDATE registry SET tags = '{not json'")
    with pytest.raises(StateError):
        await registry.entries(USER)


async def test_counts_are_per_steam_user(registry: SqliteRegistry) -> None:
    await registry.commit("111", upserts=[entry(1), entry(2)])
    await registry.commit("222", upserts=[entry(3)])
    assert await registry.counts() == {"111": 2, "222": 1}
