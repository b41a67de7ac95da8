"""VdfShortcutFile against real binary shortcuts.vdf files in a temporary Steam tree."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import filelock
import pytest
import vdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from romdeck.adapters.steam import shortcuts_file
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.adapters.steam.shortcuts_file import VdfShortcutFile
from romdeck.domain.models import RegistryEntry, ShortcutSpec
from romdeck.domain.plan import FoundShortcut
from romdeck.errors import (
    BusyError,
    CorruptFileError,
    DiskFullError,
    InvalidInputError,
    StateError,
    SteamNotFoundError,
)
from steam_tree import (
    ESDE_LIKE,
    FOREIGN,
    HEROIC_LIKE,
    LUTRIS_LIKE,
    OLD_STEAM_LIKE,
    TRAILING,
    Entry,
    encode_map,
    encode_shortcuts,
    make_steam_tree,
    shortcuts_path,
)

USER = "12345678"
STEAM_ORDER = [
    "appid", "AppName", "Exe", "StartDir", "icon", "ShortcutPath", "LaunchOptions", "IsHidden",
    "AllowDesktopConfig", "AllowOverlay", "OpenVR", "Devkit", "DevkitGameID",
    "DevkitOverrideAppID", "LastPlayTime", "FlatpakAppID", "tags",
]  # fmt: skip


def ours(rom_id: int, appid: int, name: str = "Chrono Trigger", tags=("RomM: SNES",)):
    spec = ShortcutSpec(
        rom_id=rom_id,
        app_name=name,
        exe='"/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch"',
        start_dir='"/home/deck/homebrew/plugins/RomDeck/bin"',
        launch_options=f"--rom {rom_id}",
        tags=tuple(tags),
    )
    return RegistryEntry(spec=spec, appid=appid)


def load(path: Path) -> dict:
    return vdf.binary_loads(path.read_bytes(), raise_on_remaining=False)["shortcuts"]


def entry_bytes(entry: Entry) -> bytes:
    return encode_map(entry)


@pytest.fixture
def steam_root(tmp_path: Path) -> Path:
    return make_steam_tree(tmp_path, trailing=TRAILING)


@pytest.fixture
def shortcuts(steam_root: Path) -> VdfShortcutFile:
    return VdfShortcutFile(SteamLocator(steam_root))


def test_read_lists_every_shortcut_with_lower_cased_keys_and_unsigned_appids(shortcuts):
    rows = shortcuts.read(USER)

    assert [row["appname"] for row in rows] == [
        "Hades",
        "Diablo II: Lord of Destruction",
        "Emulation Station ✨",
    ]
    assert rows[0]["appid"] == -1_463_184_112 + 2**32
    assert rows[0]["tags"] == ["Heroic", "favorite"]
    assert rows[2]["appid"] == 2_098_876_543


def test_users_are_the_locators_users(tmp_path):
    root = make_steam_tree(tmp_path, users=("222", "111"))

    assert VdfShortcutFile(SteamLocator(root)).users() == ["111", "222"]


def test_a_new_shortcut_is_appended_with_steams_keys_in_steams_order(shortcuts, steam_root):
    changed = shortcuts.apply(USER, upserts=[ours(7, 0xC0FFEE01)], removals=[])

    entries = load(shortcuts_path(steam_root))
    assert changed is True
    assert list(entries) == ["0", "1", "2", "3"]
    added = entries["3"]
    assert list(added) == STEAM_ORDER
    assert added["appid"] == 0xC0FFEE01 - 2**32
    assert added["AppName"] == "Chrono Trigger"
    assert added["Exe"] == '"/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch"'
    assert added["LaunchOptions"] == "--rom 7"
    assert added["tags"] == {"0": "RomM: SNES"}
    assert (added["AllowOverlay"], added["IsHidden"]) == (1, 0)


def test_foreign_shortcuts_and_trailing_bytes_survive_byte_for_byte(shortcuts, steam_root):
    shortcuts.apply(USER, upserts=[ours(1, 0x80000001), ours(2, 0x80000002)], removals=[])

    data = shortcuts_path(steam_root).read_bytes()
    entries = load(shortcuts_path(steam_root))
    for index, original in enumerate(FOREIGN):
        assert vdf.binary_dumps(entries[str(index)]) == entry_bytes(original)
        assert list(entries[str(index)]) == list(original)
    assert data.endswith(b"\x08\x08" + TRAILING)


def test_renaming_our_shortcut_keeps_its_appid_and_its_casing_and_other_keys(tmp_path):
    mine = dict(HEROIC_LIKE, appid=0x9ABCDEF0 - 2**32, appname="Old name", LastPlayTime=1234)
    root = make_steam_tree(tmp_path, foreign=[LUTRIS_LIKE, mine])
    before = load(shortcuts_path(root))["1"]

    changed = VdfShortcutFile(SteamLocator(root)).apply(
        USER, upserts=[ours(9, 0x9ABCDEF0, name="New name", tags=())], removals=[]
    )

    after = load(shortcuts_path(root))
    assert changed is True
    assert list(after) == ["0", "1"]
    assert list(after["1"]) == list(before)
    assert after["1"]["appid"] == 0x9ABCDEF0 - 2**32
    assert after["1"]["appname"] == "New name"
    assert after["1"]["exe"] == '"/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch"'
    assert after["1"]["tags"] == {}
    assert "AppName" not in after["1"]
    untouched = ("icon", "openvr", "LastPlayTime", "FlatpakAppID", "IsHidden")
    assert {k: after["1"][k] for k in untouched} == {k: before[k] for k in untouched}


def test_shortcuts_without_an_appid_key_survive_adds_and_removals_byte_for_byte(tmp_path):
    foreign = [OLD_STEAM_LIKE, HEROIC_LIKE, OLD_STEAM_LIKE]
    root = make_steam_tree(tmp_path, foreign=foreign, trailing=TRAILING)
    shortcuts = VdfShortcutFile(SteamLocator(root))
    mine = ours(7, 0xC0FFEE01)

    shortcuts.apply(USER, upserts=[mine], removals=[])
    data = shortcuts_path(root).read_bytes()
    written = ours_entry_as_written(data, len(foreign))
    assert data == encode_shortcuts([*foreign, written], trailing=TRAILING)

    shortcuts.apply(USER, upserts=[], removals=[0xC0FFEE01])
    assert shortcuts_path(root).read_bytes() == encode_shortcuts(foreign, trailing=TRAILING)


def test_a_changed_exe_and_launch_options_reach_the_shortcut_in_place(shortcuts, steam_root):
    shortcuts.apply(USER, upserts=[ours(7, 0xC0FFEE01)], removals=[])
    moved = ours(7, 0xC0FFEE01)
    moved = RegistryEntry(
        spec=ShortcutSpec(
            rom_id=7,
            app_name=moved.spec.app_name,
            exe='"/opt/RomDeck/bin/romdeck-launch"',
            start_dir='"/opt/RomDeck/bin"',
            launch_options="romdeck:7",
            tags=moved.spec.tags,
        ),
        appid=0xC0FFEE01,
    )

    assert shortcuts.apply(USER, upserts=[moved], removals=[]) is True

    entries = load(shortcuts_path(steam_root))
    assert len(entries) == len(FOREIGN) + 1
    mine = entries[str(len(FOREIGN))]
    assert mine["Exe"] == '"/opt/RomDeck/bin/romdeck-launch"'
    assert mine["StartDir"] == '"/opt/RomDeck/bin"'
    assert mine["LaunchOptions"] == "romdeck:7"


def test_own_shortcuts_are_those_running_the_launcher_with_romdeck_options(tmp_path):
    mine = {
        "appid": 0x9ABCDEF0 - 2**32,
        "appname": "Chrono Trigger",
        "exe": '"/old/place/bin/romdeck-launch"',
        "StartDir": '"/old/place/bin"',
        "LaunchOptions": "romdeck:42",
        "tags": {"0": "RomM: SNES", "1": "favorite"},
    }
    no_appid = dict(mine, LaunchOptions="romdeck:43")
    del no_appid["appid"]
    lookalike = dict(mine, appid=5, LaunchOptions="romdeck:44 --debug")
    root = make_steam_tree(
        tmp_path, foreign=[HEROIC_LIKE, mine, OLD_STEAM_LIKE, no_appid, lookalike]
    )

    [found] = VdfShortcutFile(SteamLocator(root)).own_shortcuts(USER)

    assert found == FoundShortcut(
        appid=0x9ABCDEF0,
        rom_id=42,
        app_name="Chrono Trigger",
        exe='"/old/place/bin/romdeck-launch"',
        start_dir='"/old/place/bin"',
        launch_options="romdeck:42",
        tags=("RomM: SNES", "favorite"),
    )


def test_removal_deletes_by_appid_and_renumbers_the_rest_in_order(shortcuts, steam_root):
    lutris_appid = LUTRIS_LIKE["appid"] + 2**32  # type: ignore[operator]

    changed = shortcuts.apply(USER, upserts=[], removals=[lutris_appid])

    entries = load(shortcuts_path(steam_root))
    assert changed is True
    assert list(entries) == ["0", "1"]
    assert vdf.binary_dumps(entries["0"]) == entry_bytes(HEROIC_LIKE)
    assert vdf.binary_dumps(entries["1"]) == entry_bytes(ESDE_LIKE)


def test_a_removal_wins_over_an_upsert_of_the_same_appid(shortcuts, steam_root):
    changed = shortcuts.apply(USER, upserts=[ours(7, 0xC0FFEE01)], removals=[0xC0FFEE01])

    assert changed is False
    assert len(load(shortcuts_path(steam_root))) == len(FOREIGN)


def test_an_apply_that_changes_nothing_writes_nothing(shortcuts, steam_root):
    shortcuts.apply(USER, upserts=[ours(7, 0xC0FFEE01)], removals=[])
    path = shortcuts_path(steam_root)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    backups_before = sorted(p.name for p in path.parent.iterdir())

    changed = shortcuts.apply(USER, upserts=[ours(7, 0xC0FFEE01)], removals=[0x80000055])

    assert changed is False
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == backups_before


def test_a_missing_file_is_an_empty_set_and_is_created_on_first_write(tmp_path):
    root = make_steam_tree(tmp_path, foreign=None)
    shortcuts = VdfShortcutFile(SteamLocator(root))

    assert shortcuts.read(USER) == []
    assert shortcuts.apply(USER, upserts=[], removals=[0x80000001]) is False
    assert not shortcuts_path(root).exists()
    assert shortcuts.apply(USER, upserts=[ours(3, 0x80000003)], removals=[]) is True
    assert [row["appid"] for row in shortcuts.read(USER)] == [0x80000003]


def test_a_user_without_a_config_folder_gets_one(tmp_path):
    root = make_steam_tree(tmp_path, users=())
    (root / "userdata" / USER).mkdir(parents=True)

    VdfShortcutFile(SteamLocator(root)).apply(USER, upserts=[ours(3, 0x80000003)], removals=[])

    assert list(load(shortcuts_path(root))) == ["0"]


def test_an_unknown_user_is_refused(shortcuts):
    with pytest.raises(SteamNotFoundError, match="87654321"):
        shortcuts.apply("87654321", upserts=[ours(1, 0x80000001)], removals=[])
    with pytest.raises(SteamNotFoundError):
        shortcuts.read("../12345678")


@pytest.mark.parametrize(
    ("label", "content"),
    [
        ("garbage", b"\x07not a vdf file at all"),
        ("truncated", encode_shortcuts(FOREIGN)[:150]),
        ("no shortcuts root", encode_map({"screenshots": {"0": {"a": "b"}}}) + b"\x08"),
        ("empty", b""),
        ("invalid utf-8", encode_shortcuts([dict(ESDE_LIKE, AppName=b"Caf\xe9")])),
        ("duplicate keys", encode_shortcuts([[("AppName", "A"), ("AppName", "B")]])),  # type: ignore[list-item]
        ("entry not a map", encode_map({"shortcuts": {"0": "oops"}}) + b"\x08"),
    ],
)
def test_a_corrupt_file_is_refused_and_left_untouched(tmp_path, label, content):
    root = make_steam_tree(tmp_path, foreign=None)
    path = shortcuts_path(root)
    path.write_bytes(content)
    shortcuts = VdfShortcutFile(SteamLocator(root))

    with pytest.raises(CorruptFileError, match=str(path)):
        shortcuts.apply(USER, upserts=[ours(1, 0x80000001)], removals=[])

    assert path.read_bytes() == content, label
    assert sorted(p.name for p in path.parent.iterdir()) == ["shortcuts.vdf", "shortcuts.vdf.lock"]


def test_each_write_backs_up_the_previous_file_keeping_the_last_three(shortcuts, steam_root):
    path = shortcuts_path(steam_root)
    versions = [path.read_bytes()]
    for rom_id in range(1, 5):
        shortcuts.apply(USER, upserts=[ours(rom_id, 0x80000000 + rom_id)], removals=[])
        versions.append(path.read_bytes())

    backups = [path.with_name(f"shortcuts.vdf.romdeck-backup.{n}") for n in (1, 2, 3, 4)]
    assert [b.read_bytes() for b in backups[:3]] == [versions[3], versions[2], versions[1]]
    assert not backups[3].exists()


def test_a_full_disk_raises_disk_full_and_keeps_the_original(shortcuts, steam_root, monkeypatch):
    path = shortcuts_path(steam_root)
    original = path.read_bytes()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shortcuts_file.os, "replace", no_space)
    with pytest.raises(DiskFullError):
        shortcuts.apply(USER, upserts=[ours(1, 0x80000001)], removals=[])

    assert path.read_bytes() == original
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_another_write_failure_raises_state_error_naming_the_file(
    shortcuts, steam_root, monkeypatch
):
    real_replace = os.replace

    def denied_for_main_file(src, dst):
        if Path(dst).name == "shortcuts.vdf":
            raise OSError(errno.EACCES, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(shortcuts_file.os, "replace", denied_for_main_file)
    path = shortcuts_path(steam_root)
    original = path.read_bytes()

    with pytest.raises(StateError, match=str(path)):
        shortcuts.apply(USER, upserts=[ours(1, 0x80000001)], removals=[])

    assert path.read_bytes() == original


def test_text_steam_cannot_store_is_refused_before_touching_the_file(shortcuts, steam_root):
    path = shortcuts_path(steam_root)
    original = path.read_bytes()

    with pytest.raises(InvalidInputError):
        shortcuts.apply(USER, upserts=[ours(1, 0x80000001, name="bad\x00name")], removals=[])
    with pytest.raises(InvalidInputError):
        shortcuts.apply(USER, upserts=[ours(1, 2**32)], removals=[])

    assert path.read_bytes() == original


def test_a_held_lock_makes_apply_busy(steam_root):
    path = shortcuts_path(steam_root)
    shortcuts = VdfShortcutFile(SteamLocator(steam_root), lock_timeout_s=0.05)

    with filelock.FileLock(f"{path}.lock"), pytest.raises(BusyError):
        shortcuts.apply(USER, upserts=[ours(1, 0x80000001)], removals=[])


_KEYS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
_INT32 = st.integers(-(2**31), 2**31 - 1)
_ENTRY = st.dictionaries(
    _KEYS.filter(lambda k: k.lower() != "appid"),
    st.one_of(_TEXT, _INT32, st.dictionaries(_KEYS, _TEXT, max_size=3)),
    max_size=8,
)
_FOREIGN_APPID = _INT32.filter(lambda a: a != 0x80000001 - 2**32)  # not the id upserted below
_MAYBE_APPID = st.one_of(st.just({}), st.builds(lambda a: {"appid": a}, _FOREIGN_APPID))
_ENTRY = st.builds(lambda head, rest: {**head, **rest}, _MAYBE_APPID, _ENTRY)
"""Foreign shortcuts, with or without an ``appid`` (older Steam files have none)."""


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(foreign=st.lists(_ENTRY, max_size=4), trailing=st.binary(max_size=6))
def test_any_foreign_entries_survive_an_apply_unchanged(tmp_path_factory, foreign, trailing):
    root = make_steam_tree(tmp_path_factory.mktemp("steam"), foreign=foreign, trailing=trailing)
    shortcuts = VdfShortcutFile(SteamLocator(root))

    shortcuts.apply(USER, upserts=[ours(1, 0x80000001)], removals=[])

    data = shortcuts_path(root).read_bytes()
    rebuilt = encode_shortcuts([*foreign, ours_entry_as_written(data, len(foreign))])
    assert data == rebuilt + trailing


def ours_entry_as_written(data: bytes, index: int) -> dict:
    return vdf.binary_loads(data, raise_on_remaining=False)["shortcuts"][str(index)]


def test_a_lock_dir_keeps_the_lock_out_of_steams_folder(steam_root, tmp_path):
    locks = tmp_path / "romdeck-data" / "locks"
    shortcuts = VdfShortcutFile(SteamLocator(steam_root), lock_dir=locks)
    shortcuts.apply(USER, upserts=[ours(7, 0x80000001, "Zelda")], removals=[])
    path = shortcuts_path(steam_root, USER)
    assert not list(path.parent.glob("*.lock"))
    assert (locks / f"shortcuts-{USER}.lock").exists()


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the parses of shortcuts.vdf (calls of vdf.binary_load in the adapter)."""
    parses: list[int] = []
    real = shortcuts_file.vdf.binary_load

    def counted(*args, **kwargs):
        parses.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(shortcuts_file.vdf, "binary_load", counted)
    return parses


async def test_a_scan_then_a_write_parse_the_file_once_and_keep_every_foreign_byte(
    shortcuts, steam_root, monkeypatch
):
    path = shortcuts_path(steam_root, USER)
    before = load(path)
    parses = counting_parses(monkeypatch)
    scan = await shortcuts.scan(USER)
    assert scan.appids == {row["appid"] for row in shortcuts.read(USER)}
    parses.clear()  # read() above parsed on its own
    assert await shortcuts.write(USER, upserts=[ours(7, 0x80000007)], removals=[])
    assert parses == []
    after = load(path)
    assert list(after.values())[: len(before)] == list(before.values())
    assert after[str(len(before))]["LaunchOptions"] == "--rom 7"
    assert path.read_bytes().endswith(TRAILING)


async def test_a_file_changed_between_scan_and_write_is_parsed_again_and_the_change_kept(
    shortcuts, steam_root, monkeypatch
):
    path = shortcuts_path(steam_root, USER)
    await shortcuts.scan(USER)
    other = VdfShortcutFile(SteamLocator(steam_root))
    other.apply(USER, upserts=[ours(8, 0x80000008, name="Written by another run")], removals=[])
    parses = counting_parses(monkeypatch)
    await shortcuts.write(USER, upserts=[ours(9, 0x80000009)], removals=[])
    assert parses == [1]
    names = [v for s in load(path).values() for k, v in s.items() if k.lower() == "appname"]
    assert "Written by another run" in names and "Chrono Trigger" in names


async def test_a_scan_finds_our_shortcuts_as_own_shortcuts_does(shortcuts, steam_root):
    await shortcuts.write(
        USER,
        upserts=[
            RegistryEntry(
                spec=ShortcutSpec(
                    rom_id=5,
                    app_name="Ours",
                    exe='"/opt/RomDeck/bin/romdeck-launch"',
                    start_dir='"/opt/RomDeck/bin"',
                    launch_options="romdeck:5",
                    tags=("RomM: SNES",),
                ),
                appid=0x80000005,
            )
        ],
        removals=[],
    )
    scan = await shortcuts.scan(USER)
    assert list(scan.own) == shortcuts.own_shortcuts(USER)
    assert [found.rom_id for found in scan.own] == [5]
    assert await shortcuts.list_users() == shortcuts.users()


async def test_a_scanned_file_that_cannot_be_rewritten_exactly_is_refused_at_the_write(tmp_path):
    root = make_steam_tree(tmp_path, foreign=None)
    path = shortcuts_path(root)
    content = encode_shortcuts([[("AppName", "A"), ("AppName", "B")]])  # type: ignore[list-item]
    path.write_bytes(content)
    shortcuts = VdfShortcutFile(SteamLocator(root))
    await shortcuts.scan(USER)  # reading is fine: nothing is rewritten

    with pytest.raises(CorruptFileError, match=str(path)):
        await shortcuts.write(USER, upserts=[ours(1, 0x80000001)], removals=[])

    assert path.read_bytes() == content
