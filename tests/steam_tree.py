"""Builds temporary Steam installs with a binary ``shortcuts.vdf`` laid out as Steam writes it.

The encoder here is written from the format (type byte, NUL-terminated key, value;
``0x08`` closes a map) and does not use the ``vdf`` library, so tests that compare
its bytes with what the adapter wrote check the adapter, not the library against itself.
Values: ``str`` (type 0x01, UTF-8), ``bytes`` (a raw 0x01 string, for invalid UTF-8),
``int`` (type 0x02, little-endian int32), a ``Mapping`` (type 0x00, nested map), or a
``list`` of ``(key, value)`` pairs (a nested map that may repeat keys).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

VdfValue = str | bytes | int | Mapping[str, "VdfValue"] | list[tuple[str, "VdfValue"]]
Entry = Mapping[str, VdfValue]

HEROIC_LIKE: Entry = {
    "appid": -1_463_184_112,
    "appname": "Hades",
    "exe": '"/usr/bin/flatpak"',
    "StartDir": '"/usr/bin/"',
    "icon": "/home/deck/.var/app/com.heroicgameslauncher.hgl/config/heroic/icons/hades.png",
    "ShortcutPath": "",
    "LaunchOptions": "run com.heroicgameslauncher.hgl --no-gui --no-sandbox heroic://launch/hades",
    "IsHidden": 0,
    "AllowDesktopConfig": 1,
    "AllowOverlay": 1,
    "openvr": 0,
    "Devkit": 0,
    "DevkitGameID": "",
    "DevkitOverrideAppID": 0,
    "LastPlayTime": 1_712_345_678,
    "FlatpakAppID": "com.heroicgameslauncher.hgl",
    "tags": {"0": "Heroic", "1": "favorite"},
}

LUTRIS_LIKE: Entry = {
    "appid": -2_021_109_821,
    "AppName": "Diablo II: Lord of Destruction",
    "Exe": '"/usr/bin/lutris"',
    "StartDir": '"/home/deck/Games/diablo-ii"',
    "icon": "/home/deck/.local/share/icons/hicolor/128x128/apps/lutris_diablo-ii.png",
    "ShortcutPath": "/home/deck/.local/share/applications/net.lutris.diablo-ii-12.desktop",
    "LaunchOptions": "lutris:rungameid/12",
    "IsHidden": 1,
    "AllowDesktopConfig": 0,
    "AllowOverlay": 1,
    "OpenVR": 0,
    "Devkit": 0,
    "DevkitGameID": "",
    "DevkitOverrideAppID": 0,
    "LastPlayTime": 0,
    "FlatpakAppID": "",
    "sortas": "diablo 2",
    "tags": {},
    "SomeFutureKey": "kept as is",
}

ESDE_LIKE: Entry = {
    "appid": 2_098_876_543,
    "AppName": "Emulation Station ✨",
    "Exe": '"/home/deck/Applications/ES-DE_x64.AppImage"',
    "StartDir": '"/home/deck/Applications/"',
    "icon": "",
    "ShortcutPath": "",
    "LaunchOptions": "",
    "IsHidden": 0,
    "AllowDesktopConfig": 1,
    "AllowOverlay": 1,
    "OpenVR": 0,
    "Devkit": 0,
    "DevkitGameID": "",
    "DevkitOverrideAppID": 0,
    "LastPlayTime": -5,
    "tags": {"0": "Emulation"},
}

OLD_STEAM_LIKE: Entry = {
    "AppName": "Dolphin",
    "Exe": '"/usr/bin/dolphin-emu"',
    "StartDir": '"/usr/bin/"',
    "icon": "",
    "ShortcutPath": "/usr/share/applications/dolphin-emu.desktop",
    "LaunchOptions": "",
    "IsHidden": 0,
    "AllowDesktopConfig": 1,
    "AllowOverlay": 1,
    "OpenVR": 0,
    "Devkit": 0,
    "DevkitGameID": "",
    "LastPlayTime": 1_500_000_000,
    "tags": {"0": "Emulators"},
}
"""A shortcut as Steam wrote them before ids were stored: no ``appid`` key at all."""

FOREIGN: tuple[Entry, ...] = (HEROIC_LIKE, LUTRIS_LIKE, ESDE_LIKE)
"""Realistic shortcuts of other launchers: odd casing, extra keys, signed and unsigned ids."""

TRAILING = b"\x08\x00\x00\x00"
"""Bytes some files carry after the root's end marker."""


def make_steam_tree(
    tmp_path: Path,
    users: Sequence[str] = ("12345678",),
    foreign: Sequence[Entry] | None = FOREIGN,
    *,
    trailing: bytes = b"",
) -> Path:
    """Create ``tmp_path/Steam`` with ``userdata/<user>/config`` for each user; returns the root.

    Each user gets a ``shortcuts.vdf`` holding ``foreign`` (numbered ``"0"..``) and then
    ``trailing``; ``foreign=None`` writes no ``shortcuts.vdf`` at all.
    """
    root = tmp_path / "Steam"
    for user in users:
        config = root / "userdata" / user / "config"
        config.mkdir(parents=True)
        if foreign is not None:
            (config / "shortcuts.vdf").write_bytes(encode_shortcuts(foreign, trailing=trailing))
    return root


def shortcuts_path(steam_root: Path, user: str = "12345678") -> Path:
    return steam_root / "userdata" / user / "config" / "shortcuts.vdf"


def encode_shortcuts(entries: Sequence[Entry], *, trailing: bytes = b"") -> bytes:
    """A whole ``shortcuts.vdf``: root ``shortcuts`` → ``{"0": entry, ...}``, then ``trailing``."""
    numbered = {str(index): entry for index, entry in enumerate(entries)}
    return encode_map({"shortcuts": numbered}) + trailing


def encode_map(pairs: Mapping[str, VdfValue] | list[tuple[str, VdfValue]]) -> bytes:
    """The items of one map followed by its ``0x08`` end marker."""
    items = pairs if isinstance(pairs, list) else list(pairs.items())
    return b"".join(_encode_item(key, value) for key, value in items) + b"\x08"


def _encode_item(key: str, value: VdfValue) -> bytes:
    name = key.encode("utf-8") + b"\x00"
    if isinstance(value, Mapping | list):
        return b"\x00" + name + encode_map(value)
    if isinstance(value, str):
        return b"\x01" + name + value.encode("utf-8") + b"\x00"
    if isinstance(value, bytes):
        return b"\x01" + name + value + b"\x00"
    return b"\x02" + name + struct.pack("<i", value)


def _pair(key: str, entry: dict[str, object]) -> str:
    return json.dumps([key, {"key": key, **entry}], ensure_ascii=False, separators=(",", ":"))


def _collection(
    cid: str, name: str | None, added: list[int] | None, **extra: object
) -> dict[str, object]:
    value: dict[str, object] = {"id": cid}
    if name is not None:
        value["name"] = name
    if added is not None:
        value["added"] = added
        value["removed"] = []
    value.update(extra)
    return {
        "timestamp": 1758107478,
        "value": json.dumps(value, ensure_ascii=False, separators=(",", ":")),
        "version": "11275",
        "conflictResolutionMethod": "custom",
        "strMethodId": "union-collections",
    }


_DYNAMIC_FILTER = {
    "nFormatVersion": 2,
    "strSearchText": "",
    "filterGroups": [{"rgOptions": [2], "bAcceptUnion": False}],
    "setSuggestions": {},
}

FOREIGN_NAMESPACE_PAIRS: tuple[str, ...] = (
    _pair(
        "collection-bootstrap-complete",
        {"timestamp": 1600000000, "value": "true", "version": "12"},
    ),
    _pair("user-collections.favorite", _collection("favorite", None, [2556990, 2717785613])),
    _pair("user-collections.hidden", _collection("hidden", None, [220])),
    _pair(
        "user-collections.uc-N+7x4GknDljy",
        _collection("uc-N+7x4GknDljy", "Jeux préférés 🎮", [2556990, 2717785613]),
    ),
    _pair(
        "user-collections.from-tag-RomM: Super Nintendo",
        _collection("from-tag-RomM: Super Nintendo", "RomM: Super Nintendo", [2717785613]),
    ),
    _pair(
        "user-collections.uc-dynAmIc0",
        _collection("uc-dynAmIc0", "Deck Verified", [], filterSpec=_DYNAMIC_FILTER),
    ),
    _pair("user-collections.partner-ea-access", _collection("partner-ea-access", "ea", None)),
    _pair(
        "user-collections.uc-g0ne",
        {"timestamp": 1700000000, "is_deleted": True, "version": "9000"},
    ),
    '["showcases.1",{"key":"showcases.1","timestamp":1758000000,'
    '"value":"{\\"strTitle\\":\\"Caf\\u00e9\\"}","version":"11000","conflictResolutionMethod":'
    '"last-write"}]',
)
"""Namespace-1 pairs in the shapes research/steam-collections.md 2.2 documents: the
bootstrap flag, Favorites, Hidden, a user collection, one Steam made from a tag, a
dynamic one (``filterSpec``), ``partner-ea-access`` (no ``added``), a tombstone, and a
showcase written with ``\\u`` escapes (a re-encoder would change its bytes)."""

FOREIGN_NAMESPACE = "[" + ",".join(FOREIGN_NAMESPACE_PAIRS) + "]"
FOREIGN_MODIFIED = '["user-collections.uc-N+7x4GknDljy"]'


def cloud_dir(steam_root: Path, user: str = "12345678") -> Path:
    return steam_root / "userdata" / user / "config" / "cloudstorage"


def make_cloud_storage(
    steam_root: Path,
    user: str = "12345678",
    namespace: str = FOREIGN_NAMESPACE,
    modified: str | None = FOREIGN_MODIFIED,
) -> Path:
    """Write the user's ``cloudstorage`` files as the 2025-09+ client keeps them."""
    folder = cloud_dir(steam_root, user)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cloud-storage-namespaces.json").write_text('[[1,"11275"],[3,"0"]]')
    (folder / "cloud-storage-namespace-1.json").write_text(namespace, encoding="utf-8")
    if modified is not None:
        (folder / "cloud-storage-namespace-1.modified.json").write_text(modified)
    return folder
