"""SqliteCatalog: the local mirror of RomM's ROM list, on a real SQLite file."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from romdeck.adapters.store.catalog import SqliteCatalog
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import RomSummary


def rom(rom_id: int, platform_id: int = 1, **changes: object) -> RomSummary:
    base = RomSummary(
        id=rom_id,
        platform_id=platform_id,
        platform_slug=f"p{platform_id}",
        name=f"Game {rom_id}",
        fs_name=f"Game {rom_id} (USA).zip",
        fs_name_no_tags=f"Game {rom_id}",
        cover_path=f"/assets/roms/{platform_id}/{rom_id}/cover/big.png?ts=2024-01-01 00:00:00",
        updated_at="2024-05-01T12:00:00.123456+00:00",
        fs_size_bytes=1024 * rom_id,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[SqliteCatalog]:
    db = SqliteDatabase(tmp_path / "state.db")
    yield SqliteCatalog(db)
    db.close()


async def test_upserting_new_roms_counts_each_insert(catalog: SqliteCatalog) -> None:
    assert await catalog.upsert_roms([rom(1), rom(2), rom(3, platform_id=2)]) == 3


async def test_upserting_the_same_roms_again_changes_nothing(catalog: SqliteCatalog) -> None:
    roms = [rom(i) for i in range(1, 50)]
    await catalog.upsert_roms(roms)
    assert await catalog.upsert_roms(roms) == 0


async def test_only_roms_whose_content_differs_count_as_changed(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms([rom(1), rom(2), rom(3)])
    changed = [rom(1), rom(2, name="Renamed"), rom(3, missing_from_fs=True), rom(4)]
    assert await catalog.upsert_roms(changed) == 3
    assert [r.name for r in await catalog.roms(platform_ids=[1])] == [
        "Game 1",
        "Renamed",
        "Game 3",
        "Game 4",
    ]


async def test_a_rom_reads_back_exactly_as_written(catalog: SqliteCatalog) -> None:
    original = rom(42, platform_id=9, missing_from_fs=True, cover_path="")
    await catalog.upsert_roms([original])
    assert await catalog.roms(platform_ids=[9]) == [original]


async def test_upsert_accepts_a_generator(catalog: SqliteCatalog) -> None:
    assert await catalog.upsert_roms(rom(i) for i in range(5)) == 5


async def test_ten_thousand_roms_upsert_in_one_call_and_repeat_as_no_change(
    catalog: SqliteCatalog,
) -> None:
    roms = [rom(i, platform_id=i % 7) for i in range(1, 10_001)]
    assert await catalog.upsert_roms(roms) == 10_000
    assert await catalog.upsert_roms(roms) == 0
    assert sum((await catalog.counts()).values()) == 10_000


async def test_roms_lists_chosen_platforms_plus_extra_ids_ordered_by_id(
    catalog: SqliteCatalog,
) -> None:
    await catalog.upsert_roms([rom(5, 1), rom(2, 1), rom(9, 2), rom(7, 3), rom(1, 3)])
    found = await catalog.roms(platform_ids=[1], rom_ids=[7, 2])
    assert [r.id for r in found] == [2, 5, 7]


async def test_roms_handles_more_ids_than_one_query_can_bind(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms(rom(i, platform_id=i) for i in range(1, 2001))
    found = await catalog.roms(platform_ids=range(1, 1001), rom_ids=range(1500, 2500))
    assert [r.id for r in found] == [*range(1, 1001), *range(1500, 2001)]


async def test_roms_with_nothing_chosen_is_empty(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms([rom(1)])
    assert await catalog.roms(platform_ids=[]) == []


async def test_counts_and_rom_ids_are_per_platform(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms([rom(1, 1), rom(2, 1), rom(3, 2)])
    assert await catalog.counts() == {1: 2, 2: 1}
    assert await catalog.rom_ids(1) == {1, 2}
    assert await catalog.rom_ids(3) == set()


async def test_a_rom_moved_to_another_platform_leaves_the_old_one(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms([rom(1, 1)])
    assert await catalog.upsert_roms([rom(1, 2)]) == 1
    assert await catalog.rom_ids(1) == set()
    assert await catalog.rom_ids(2) == {1}


async def test_delete_roms_returns_how_many_were_known(catalog: SqliteCatalog) -> None:
    await catalog.upsert_roms([rom(1), rom(2), rom(3)])
    assert await catalog.delete_roms([2, 3, 3, 99]) == 2
    assert await catalog.rom_ids(1) == {1}


async def test_watermarks_are_set_replaced_and_cleared(catalog: SqliteCatalog) -> None:
    assert await catalog.watermark(1) is None
    await catalog.set_watermark(1, "2024-05-01T12:00:00+00:00")
    await catalog.set_watermark(1, "2024-06-01T12:00:00+00:00")
    await catalog.set_watermark(2, "2024-01-01T00:00:00+00:00")
    assert await catalog.watermark(1) == "2024-06-01T12:00:00+00:00"
    await catalog.clear_watermark(1)
    assert await catalog.watermark(1) is None
    assert await catalog.watermark(2) == "2024-01-01T00:00:00+00:00"
