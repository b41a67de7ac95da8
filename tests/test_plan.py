"""The sync plan's rules: names, tags, add/update/remove, idempotence, appid allocation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.domain.models import Collection, Platform, RegistryEntry, RomSummary
from romdeck.domain.plan import (
    FoundShortcut,
    adopt_shortcuts,
    allocate_appid,
    desired_shortcuts,
    own_rom_id,
    plan_sync,
    shortcut_name,
)

LAUNCHER = "/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch"
SNES = Platform(1, "snes", "snes", "Super Nintendo", "Super Nintendo Entertainment System", 2)
GBA = Platform(2, "gba", "gba", "Game Boy Advance", "Game Boy Advance", 1)
PLATFORMS = {p.id: p for p in (SNES, GBA)}


def rom(rom_id: int, name: str = "", platform: Platform = SNES, **kw: object) -> RomSummary:
    base = RomSummary(
        id=rom_id,
        platform_id=platform.id,
        platform_slug=platform.slug,
        name=name,
        fs_name=f"Game {rom_id} (USA).sfc",
        fs_name_no_tags=f"Game {rom_id}",
        cover_path="",
        updated_at="2026-11-28T20:00:00+00:00",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def desired(*roms: RomSummary, collections: tuple[Collection, ...] = ()):
    return desired_shortcuts(roms, platforms=PLATFORMS, collections=collections, launcher=LAUNCHER)


def applied(specs) -> dict[int, RegistryEntry]:
    taken: set[int] = set()
    entries = {}
    for spec in specs.values():
        appid = allocate_appid(spec, taken)
        taken.add(appid)
        entries[spec.rom_id] = RegistryEntry(spec=spec, appid=appid)
    return entries


def test_the_name_is_romms_name_else_the_file_name_without_tags():
    assert shortcut_name(rom(1, "Super Metroid")) == "Super Metroid"
    assert shortcut_name(rom(1, "")) == "Game 1"
    assert shortcut_name(rom(1, "", fs_name_no_tags="", fs_name="x.sfc")) == "x.sfc"
    assert shortcut_name(rom(1, "Bad\x00Name\n")) == "Bad Name"


def test_a_shortcut_runs_the_launcher_with_the_rom_id_and_sits_in_its_platform_collection():
    spec = desired(rom(7, "Zelda"))[7]
    assert spec.exe == f'"{LAUNCHER}"'
    assert spec.start_dir == '"/home/deck/homebrew/plugins/RomDeck/bin"'
    assert spec.launch_options == "romdeck:7"
    assert spec.tags == ("RomM: Super Nintendo Entertainment System",)


def test_a_rom_in_a_chosen_collection_gets_that_collection_as_a_second_tag():
    favourites = Collection(3, "Favourites", (7,), 1)
    spec = desired(rom(7, "Zelda"), collections=(favourites,))[7]
    assert spec.tags == ("RomM: Super Nintendo Entertainment System", "RomM: Favourites")


def test_roms_missing_from_the_servers_disk_get_no_shortcut():
    assert desired(rom(1, "A"), rom(2, "B", missing_from_fs=True)).keys() == {1}


def test_a_first_plan_adds_everything_and_a_second_plan_is_empty():
    want = desired(rom(1, "A"), rom(2, "B", platform=GBA))
    first = plan_sync(want, {})
    assert [s.rom_id for s in first.add] == [1, 2]
    second = plan_sync(want, applied(want))
    assert second.is_empty and second.unchanged == 2


def test_a_renamed_rom_is_updated_and_keeps_its_appid():
    before = desired(rom(1, "Old Name"))
    registry = applied(before)
    plan = plan_sync(desired(rom(1, "New Name")), registry)
    assert not plan.add and not plan.remove
    [(entry, spec)] = plan.update
    assert entry.appid == registry[1].appid and spec.app_name == "New Name"


def test_a_rom_moved_to_another_platform_is_updated_not_duplicated():
    registry = applied(desired(rom(1, "A")))
    plan = plan_sync(desired(rom(1, "A", platform=GBA)), registry)
    assert len(plan.update) == 1 and not plan.add and not plan.remove
    assert plan.update[0][1].tags == ("RomM: Game Boy Advance",)


def test_a_moved_launcher_updates_every_shortcuts_exe_and_start_dir_keeping_appids():
    registry = applied(desired(rom(1, "A"), rom(2, "B")))
    moved = desired_shortcuts(
        [rom(1, "A"), rom(2, "B")],
        platforms=PLATFORMS,
        collections=(),
        launcher="/opt/RomDeck/bin/romdeck-launch",
    )
    plan = plan_sync(moved, registry)
    assert not plan.add and not plan.remove and plan.unchanged == 0
    assert [(e.appid, s.exe, s.start_dir) for e, s in plan.update] == [
        (registry[i].appid, '"/opt/RomDeck/bin/romdeck-launch"', '"/opt/RomDeck/bin"')
        for i in (1, 2)
    ]


def test_changed_launch_options_are_updated():
    want = desired(rom(1, "A"))
    registry = {1: replace(applied(want)[1], spec=replace(want[1], launch_options="--rom 1"))}
    plan = plan_sync(want, registry)
    [(entry, spec)] = plan.update
    assert entry.appid == registry[1].appid and spec.launch_options == "romdeck:1"


def test_a_rom_no_longer_wanted_is_removed():
    registry = applied(desired(rom(1, "A"), rom(2, "B")))
    plan = plan_sync(desired(rom(1, "A")), registry)
    assert [e.rom_id for e in plan.remove] == [2]


def test_two_roms_with_the_same_name_get_different_appids():
    want = desired(rom(1, "Tetris"), rom(2, "Tetris", platform=GBA))
    entries = applied(want)
    assert entries[1].appid != entries[2].appid
    assert all(e.appid >= 0x80000000 for e in entries.values())


def test_the_appid_is_steams_crc_of_exe_and_name_when_free():
    import zlib

    spec = desired(rom(1, "Tetris"))[1]
    expected = zlib.crc32((spec.exe + spec.app_name).encode()) | 0x80000000
    assert allocate_appid(spec, set()) == expected


def test_appid_collisions_are_salted_until_free_not_just_once():
    spec = desired(rom(1, "Tetris"))[1]
    first = allocate_appid(spec, set())
    second = allocate_appid(spec, {first})
    third = allocate_appid(spec, {first, second})
    fourth = allocate_appid(spec, {first, second, third})
    assert len({first, second, third, fourth}) == 4
    assert all(a >= 0x80000000 for a in (second, third, fourth))


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(
    before=st.dictionaries(st.integers(1, 50), names, max_size=20),
    after=st.dictionaries(st.integers(1, 50), names, max_size=20),
)
def test_applying_any_plan_then_planning_again_yields_nothing(before, after):
    registry = applied(desired(*(rom(i, n) for i, n in before.items())))
    want = desired(*(rom(i, n) for i, n in after.items()))
    plan = plan_sync(want, registry)
    for spec in plan.add:
        registry[spec.rom_id] = RegistryEntry(spec=spec, appid=allocate_appid(spec, set()))
    for entry, spec in plan.update:
        registry[spec.rom_id] = replace(entry, spec=spec)
    for entry in plan.remove:
        del registry[entry.rom_id]
    again = plan_sync(want, registry)
    assert again.is_empty
    assert again.unchanged == len(want)


def test_art_is_needed_for_a_new_cover_or_a_changed_one_only():
    from romdeck.domain.plan import needs_artwork

    spec = desired(rom(1, "A", cover_path="/assets/1/big.png?ts=1"))[1]
    assert needs_artwork(spec, None)
    applied_entry = RegistryEntry(spec=spec, appid=1, cover_key=spec.cover_path)
    assert not needs_artwork(spec, applied_entry)
    newer = replace(spec, cover_path="/assets/1/big.png?ts=2")
    assert needs_artwork(newer, applied_entry)
    assert not needs_artwork(replace(spec, cover_path=""), None)


OURS_EXE = f'"{LAUNCHER}"'


@pytest.mark.parametrize(
    ("exe", "options", "rom_id"),
    [
        (OURS_EXE, "romdeck:12", 12),
        ('"/opt/Moved/bin/romdeck-launch"', "romdeck:12", 12),  # the plugin moved
        ("/opt/RomDeck/bin/romdeck-launch", " romdeck:7 ", 7),  # unquoted, blanks around
        (OURS_EXE, "romdeck:12 --fullscreen", None),
        (OURS_EXE, "romdeck:0", None),
        (OURS_EXE, "", None),
        ('"/usr/bin/flatpak"', "romdeck:12", None),
        ('"/opt/romdeck-launch-old"', "romdeck:12", None),
    ],
)
def test_our_shortcuts_are_the_launcher_with_romdeck_and_a_rom_id(exe, options, rom_id):
    assert own_rom_id(exe, options) == rom_id


def found(appid: int, rom_id: int, name: str = "A", exe: str = OURS_EXE) -> FoundShortcut:
    return FoundShortcut(appid, rom_id, name, exe, '"/x"', f"romdeck:{rom_id}", ("RomM: SNES",))


def test_our_shortcuts_the_registry_lacks_are_adopted_with_their_appid_and_file_values():
    registry = applied(desired(rom(1, "A")))
    [adopted] = adopt_shortcuts([found(registry[1].appid, 1), found(0x80000009, 2, "B")], registry)
    assert adopted.appid == 0x80000009 and adopted.rom_id == 2
    assert (adopted.spec.app_name, adopted.spec.exe, adopted.spec.launch_options) == (
        "B",
        OURS_EXE,
        "romdeck:2",
    )
    assert adopted.spec.tags == ("RomM: SNES",) and adopted.spec.cover_path == ""


def test_an_adopted_shortcut_is_then_updated_to_the_wanted_spec_not_added_again():
    want = desired(rom(1, "A", cover_path="/c.png"))
    adopted = {e.rom_id: e for e in adopt_shortcuts([found(0x80000009, 1, "Old")], {})}
    plan = plan_sync(want, adopted)
    assert not plan.add and not plan.remove
    [(entry, spec)] = plan.update
    assert entry.appid == 0x80000009 and spec == want[1]


def test_a_registry_appid_missing_from_the_file_yields_to_the_shortcut_found():
    registry = applied(desired(rom(1, "A")))
    [adopted] = adopt_shortcuts([found(0x80000009, 1)], registry)
    assert adopted.appid == 0x80000009


def test_duplicates_of_one_rom_adopt_the_first_and_another_roms_appid_is_never_taken():
    registry = applied(desired(rom(1, "A")))
    taken = registry[1].appid
    adopted = adopt_shortcuts(
        [found(taken, 2), found(0x80000010, 2), found(0x80000011, 2), found(taken, 1)], registry
    )
    assert [(e.rom_id, e.appid) for e in adopted] == [(2, 0x80000010)]
