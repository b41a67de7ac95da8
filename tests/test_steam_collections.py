"""Our collections in Steam's cloud-storage namespace: the pure merge and JsonCloudCollections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from romdeck.adapters.steam.cloud_collections import JsonCloudCollections
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.domain.models import RegistryEntry, ShortcutSpec
from romdeck.domain.steam_collections import (
    CollectionsStatus,
    collection_id,
    memberships,
    merge_collections,
)
from romdeck.errors import CorruptFileError
from steam_tree import (
    FOREIGN_MODIFIED,
    FOREIGN_NAMESPACE,
    FOREIGN_NAMESPACE_PAIRS,
    cloud_dir,
    make_cloud_storage,
    make_steam_tree,
)

USER = "12345678"
NOW = 1_790_000_000
SNES = "RomM: Super Nintendo"
GBA = "RomM: Game Boy Advance"
KEY_SNES = f"user-collections.{collection_id(SNES)}"
KEY_GBA = f"user-collections.{collection_id(GBA)}"


def pairs(text: str) -> dict[str, dict]:
    return {key: entry for key, entry in json.loads(text)}


def value(entry: dict) -> dict:
    return json.loads(entry["value"])


def test_our_collections_are_appended_and_every_foreign_pair_keeps_its_bytes_and_place():
    merge = merge_collections(
        FOREIGN_NAMESPACE, FOREIGN_MODIFIED, {SNES: [0x80000002, 0x80000001]}, now=NOW
    )

    assert merge.namespace is not None
    assert merge.namespace.startswith(FOREIGN_NAMESPACE[:-1] + ",")
    assert json.loads(merge.namespace)[: len(FOREIGN_NAMESPACE_PAIRS)] == json.loads(
        FOREIGN_NAMESPACE
    )
    key, entry = json.loads(merge.namespace)[-1]
    assert key == KEY_SNES == "user-collections." + value(entry)["id"]
    assert entry == {
        "key": KEY_SNES,
        "timestamp": NOW,
        "value": entry["value"],
        "conflictResolutionMethod": "custom",
        "strMethodId": "union-collections",
    }, "no version: Steam's own upserts carry none"
    assert entry["value"] == (
        f'{{"id":"{collection_id(SNES)}","name":"{SNES}",'
        '"added":[2147483649,2147483650],"removed":[]}'
    )
    assert json.loads(merge.modified or "") == ["user-collections.uc-N+7x4GknDljy", KEY_SNES]
    assert merge.written == (SNES,) and merge.removed == ()


def test_ids_are_stable_outside_steams_reserved_ids_and_need_no_escaping():
    cid = collection_id(SNES)
    assert cid == collection_id(SNES) != collection_id(GBA)
    assert cid.startswith("romdeck-") and cid.replace("-", "").isalnum()


def test_the_same_collections_again_change_nothing():
    first = merge_collections(FOREIGN_NAMESPACE, None, {SNES: [0x80000001]}, now=NOW)
    assert first.namespace is not None and first.modified == f'["{KEY_SNES}"]'

    again = merge_collections(first.namespace, first.modified, {SNES: [0x80000001]}, now=NOW + 9)

    assert again.namespace is None and again.modified is None


def test_a_changed_membership_is_rewritten_in_place_with_a_newer_timestamp():
    first = merge_collections(
        FOREIGN_NAMESPACE, "[]", {SNES: [0x80000001], GBA: [0x80000005]}, now=NOW
    )
    assert first.namespace is not None
    order = [key for key, _ in json.loads(first.namespace)]

    second = merge_collections(first.namespace, "[]", {SNES: [0x80000001], GBA: []}, now=NOW - 50)

    assert second.namespace is not None
    assert [key for key, _ in json.loads(second.namespace)] == order
    gba = pairs(second.namespace)[KEY_GBA]
    assert gba["timestamp"] == NOW + 1, "above the old timestamp even when the clock is behind"
    assert value(gba)["added"] == []
    assert pairs(second.namespace)[KEY_SNES] == pairs(first.namespace)[KEY_SNES]
    assert json.loads(second.modified or "") == [KEY_GBA]


def test_a_collection_no_longer_wanted_becomes_a_marked_tombstone_and_stays_one():
    first = merge_collections(FOREIGN_NAMESPACE, "[]", {SNES: [1], GBA: [2]}, now=NOW)
    assert first.namespace is not None

    second = merge_collections(first.namespace, "[]", {SNES: [1]}, now=NOW + 5)

    assert second.namespace is not None
    assert pairs(second.namespace)[KEY_GBA] == {
        "key": KEY_GBA,
        "timestamp": NOW + 5,
        "is_deleted": True,
    }
    assert second.removed == (GBA,)
    assert json.loads(second.modified or "") == [KEY_GBA]
    third = merge_collections(second.namespace, second.modified, {SNES: [1]}, now=NOW + 9)
    assert third.namespace is None and third.modified is None


def test_a_users_collection_of_the_same_name_is_left_alone():
    merge = merge_collections(FOREIGN_NAMESPACE, None, {SNES: [1]}, now=NOW)
    assert merge.namespace is not None
    theirs = pairs(merge.namespace)["user-collections.from-tag-RomM: Super Nintendo"]
    assert theirs == pairs(FOREIGN_NAMESPACE)["user-collections.from-tag-RomM: Super Nintendo"]


def test_signed_appids_are_stored_unsigned():
    merge = merge_collections("[]", None, {SNES: [-2, 0x80000001]}, now=NOW)
    assert value(pairs(merge.namespace or "")[KEY_SNES])["added"] == [0x80000001, 0xFFFFFFFE]


def test_duplicate_pairs_of_ours_collapse_into_the_first_place_keeping_the_last_value():
    first = merge_collections("[]", None, {SNES: [1]}, now=NOW)
    ours = json.loads(first.namespace or "")[0]
    doubled = json.dumps([ours, ["x", {"key": "x", "timestamp": 1, "value": "1"}], ours])

    merge = merge_collections(doubled, "[]", {SNES: [1]}, now=NOW)

    assert [key for key, _ in json.loads(merge.namespace or "")] == [KEY_SNES, "x"]


@pytest.mark.parametrize("text", ["", "{}", "[", '[["a",{}],]', '[["a",{}]] trailing', "[1 2]"])
def test_text_that_is_not_a_json_array_is_refused(text):
    with pytest.raises(ValueError):
        merge_collections(text, None, {SNES: [1]}, now=NOW)
    with pytest.raises(ValueError):
        merge_collections("[]", text, {SNES: [1]}, now=NOW)


def test_memberships_come_from_the_tags_of_our_shortcuts():
    def entry(rom_id: int, appid: int, *tags: str) -> RegistryEntry:
        spec = ShortcutSpec(rom_id, f"Game {rom_id}", '"/l"', '"/"', f"romdeck:{rom_id}", tags)
        return RegistryEntry(spec=spec, appid=appid)

    got = memberships([entry(1, 0x80000001, SNES, "RomM: RPGs"), entry(2, 0x80000002, SNES)])
    assert got == {SNES: {0x80000001, 0x80000002}, "RomM: RPGs": {0x80000001}}


# JsonCloudCollections on real files


@pytest.fixture
def steam_root(tmp_path: Path) -> Path:
    return make_steam_tree(tmp_path)


def store(root: Path, now: float = NOW) -> JsonCloudCollections:
    return JsonCloudCollections(SteamLocator(root), lock_dir=root.parent / "locks", now=lambda: now)


def test_a_client_without_cloud_storage_is_reported_and_nothing_is_created(steam_root):
    report = store(steam_root).write(USER, {SNES: {0x80000001}})

    assert report.status is CollectionsStatus.NO_CLOUD_STORAGE
    assert report.path.endswith("cloudstorage/cloud-storage-namespace-1.json")
    assert not cloud_dir(steam_root).exists()


def test_writing_backs_up_both_files_then_replaces_them(steam_root):
    folder = make_cloud_storage(steam_root)

    report = store(steam_root).write(USER, {SNES: {0x80000001}})

    assert report.status is CollectionsStatus.WRITTEN and report.written == (SNES,)
    namespace = (folder / "cloud-storage-namespace-1.json").read_text(encoding="utf-8")
    assert namespace.startswith(FOREIGN_NAMESPACE[:-1] + ",")
    assert KEY_SNES in pairs(namespace)
    modified = json.loads((folder / "cloud-storage-namespace-1.modified.json").read_text())
    assert modified == ["user-collections.uc-N+7x4GknDljy", KEY_SNES]
    backup = folder / "cloud-storage-namespace-1.json.romdeck-backup.1"
    assert backup.read_text(encoding="utf-8") == FOREIGN_NAMESPACE
    modified_backup = folder / "cloud-storage-namespace-1.modified.json.romdeck-backup.1"
    assert modified_backup.read_text() == FOREIGN_MODIFIED
    assert (folder / "cloud-storage-namespaces.json").read_text() == '[[1,"11275"],[3,"0"]]'
    assert not list(folder.glob("*.lock")) and not list(folder.glob(".*tmp"))


def test_a_missing_modified_file_is_created(steam_root):
    folder = make_cloud_storage(steam_root, modified=None)

    store(steam_root).write(USER, {SNES: {0x80000001}})

    modified = folder / "cloud-storage-namespace-1.modified.json"
    assert json.loads(modified.read_text()) == [KEY_SNES]
    assert not (folder / "cloud-storage-namespace-1.modified.json.romdeck-backup.1").exists()


def test_an_unchanged_write_touches_no_file(steam_root):
    folder = make_cloud_storage(steam_root)
    store(steam_root).write(USER, {SNES: {0x80000001}})
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}

    report = store(steam_root, NOW + 60).write(USER, {SNES: {0x80000001}})

    assert report.status is CollectionsStatus.UNCHANGED
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


@pytest.mark.parametrize("which", ["namespace", "modified"])
def test_a_file_that_is_not_steams_json_is_refused_and_both_are_left_untouched(steam_root, which):
    bad = '{"not": "an array"}'
    folder = make_cloud_storage(
        steam_root,
        namespace=bad if which == "namespace" else FOREIGN_NAMESPACE,
        modified=bad if which == "modified" else FOREIGN_MODIFIED,
    )
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    with pytest.raises(CorruptFileError, match="left untouched"):
        store(steam_root).write(USER, {SNES: {0x80000001}})

    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
