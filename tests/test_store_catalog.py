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


def test_upserting_new_roms_counts_each_insert(catalog: SqliteCatalog) -> None:
    assert catalog.upsert_roms([rom(1), rom(2), rom(3, platform_id=2)]) == 3


def test_upserting_the_same_roms_again_changes_nothing(catalog: SqliteCatalog) -> None:
    roms = [rom(i) for i in range(1, 50)]
    catalog.upsert_roms(roms)
    assert catalog.upsert_roms(roms) == 0


def test_only_roms_whose_content_differs_count_as_changed(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms([rom(1), rom(2), rom(3)])
    changed = [rom(1), rom(2, name="Renamed"), rom(3, missing_from_fs=True), rom(4)]
    assert catalog.upsert_roms(changed) == 3
    assert [r.name for r in catalog.roms(platform_ids=[1])] == [
        "Game 1",
        "Renamed",
        "Game 3",
        "Game 4",
    ]


def test_a_rom_reads_back_exactly_as_written(catalog: SqliteCatalog) -> None:
    original = rom(42, platform_id=9, missing_from_fs=True, cover_path="")
    catalog.upsert_roms([original])
    assert catalog.roms(platform_ids=[9]) == [original]


def test_upsert_accepts_a_generator(catalog: SqliteCatalog) -> None:
    assert catalog.upsert_roms(rom(i) for i in range(5)) == 5


def test_ten_thousand_roms_upsert_in_one_call_and_repeat_as_no_change(
    catalog: SqliteCatalog,
) -> None:
    roms = [rom(i, platform_id=i % 7) for i in range(1, 10_001)]
    assert catalog.upsert_roms(roms) == 10_000
    assert catalog.upsert_roms(roms) == 0
    assert sum(catalog.counts().values()) == 10_000


def test_roms_lists_chosen_platforms_plus_extra_ids_ordered_by_id(
    catalog: SqliteCatalog,
) -> None:
    catalog.upsert_roms([rom(5, 1), rom(2, 1), rom(9, 2), rom(7, 3), rom(1, 3)])
    found = catalog.roms(platform_ids=[1], rom_ids=[7, 2])
    assert [r.id for r in found] == [2, 5, 7]


def test_roms_handles_more_ids_than_one_query_can_bind(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms(rom(i, platform_id=i) for i in range(1, 2001))
    found = catalog.roms(platform_ids=range(1, 1001), rom_ids=range(1500, 2500))
    assert [r.id for r in found] == [*range(1, 1001), *range(1500, 2001)]


def test_roms_with_nothing_chosen_is_empty(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms([rom(1)])
    assert catalog.roms(platform_ids=[]) == []


def test_counts_and_rom_ids_are_per_platform(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms([rom(1, 1), rom(2, 1), rom(3, 2)])
    assert catalog.counts() == {1: 2, 2: 1}
    assert catalog.rom_ids(1) == {1, 2}
    assert catalog.rom_ids(3) == set()


def test_a_rom_moved_to_another_platform_leaves_the_old_one(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms([rom(1, 1)])
    assert catalog.upsert_roms([rom(1, 2)]) == 1
    assert catalog.rom_ids(1) == set()
    assert catalog.rom_ids(2) == {1}


def test_delete_roms_returns_how_many_were_known(catalog: SqliteCatalog) -> None:
    catalog.upsert_roms([rom(1), rom(2), rom(3)])
    assert catalog.delete_roms([2, 3, 3, 99]) == 2
    assert catalog.rom_ids(1) == {1}


def test_watermarks_are_set_replaced_and_cleared(catalog: SqliteCatalog) -> None:
    assert catalog.watermark(1) is None
    catalog.set_watermark(1, "2024-05-01T12:00:00+00:00")
    catalog.set_watermark(1, "2024-06-01T12:00:00+00:00")
    catalog.set_watermark(2, "2024-01-01T00:00:00+00:00")
    assert catalog.watermark(1) == "2024-06-01T12:00:00+00:00"
    catalog.clear_watermark(1)
    assert catalog.watermark(1) is None
    assert catalog.watermark(2) == "2024-01-01T00:00:00+00:00"
