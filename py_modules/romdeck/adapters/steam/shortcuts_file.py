"""Steam's ``shortcuts.vdf`` read and written directly, for when Steam is not running."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vdf

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.adapters.files.write_lock import write_lock
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.domain.appid import to_signed_int32, to_unsigned_int32
from romdeck.domain.models import RegistryEntry
from romdeck.domain.plan import FoundShortcut, ShortcutScan, own_rom_id
from romdeck.errors import (
    CorruptFileError,
    InvalidInputError,
    RomDeckError,
    StateError,
    SteamNotFoundError,
)

BACKUP_COUNT = 3
"""How many previous versions are kept: ``shortcuts.vdf.romdeck-backup.1`` (newest) to ``.3``."""

_PARSE_ERRORS = (SyntaxError, struct.error, UnicodeError, ValueError, TypeError)

VdfMap = dict[str, Any]


@dataclass(slots=True)
class _Document:
    """A parsed file: the whole tree, the key of its shortcuts map, and what followed it."""

    root: VdfMap
    shortcuts_key: str
    trailing: bytes
    canonical: bytes


class VdfShortcutFile:
    """``userdata/<user>/config/shortcuts.vdf`` (binary KeyValues) of a Steam install.

    RomDeck's shortcuts are found by ``appid`` (stored as a signed int32, handled here
    as unsigned). Of those it owns only ``AppName``, ``Exe``, ``StartDir``,
    ``LaunchOptions`` and ``tags``; every other key, every foreign shortcut, key order,
    key casing, value types and bytes after the root are kept exactly as read.

    A file that cannot be parsed, has no ``shortcuts`` map, or would not re-encode to
    the very bytes read (invalid UTF-8, duplicate keys) raises ``CorruptFileError``
    and is left untouched. Writes hold a lock (in ``lock_dir`` when given, else
    ``shortcuts.vdf.lock`` beside the file), keep the last
    :data:`BACKUP_COUNT` versions, and replace the file atomically. Only safe while
    Steam is not running: the caller checks that. ``lock_timeout_s``: how long to wait
    for another writer (seconds) before ``BusyError``.
    """

    def __init__(
        self, locator: SteamLocator, *, lock_timeout_s: float = 10.0, lock_dir: Path | None = None
    ) -> None:
        self._locator = locator
        self._lock_timeout_s = lock_timeout_s
        self._lock_dir = lock_dir
        self._parsed: dict[Path, tuple[bytes, _Document]] = {}
        """The last :meth:`scan`'s parse per file, reused once by :meth:`apply` when the
        file still holds the very bytes scanned (a sync parses the file once)."""

    async def list_users(self) -> list[str]:
        """:meth:`users`, off the event loop."""
        return await asyncio.to_thread(self.users)

    async def scan(self, steam_user: str) -> ShortcutScan:
        """Every appid and our shortcuts (:meth:`appids`, :meth:`own_shortcuts`) from one
        parse, off the event loop; the parse is kept for the next :meth:`write`.

        Raises ``SteamNotFoundError``, ``CorruptFileError`` or ``StateError``.
        """
        return await asyncio.to_thread(self._scan_sync, steam_user)

    def _scan_sync(self, steam_user: str) -> ShortcutScan:
        path = self.path(steam_user)
        data = _read_bytes(path)
        if data is None:
            return ShortcutScan(frozenset(), ())
        document = _parse(path, data, verify=False)  # read-only until a write verifies it
        self._parsed[path] = (data, document)
        views = [_lower_view(entry) for entry in document.root[document.shortcuts_key].values()]
        appids = frozenset(a for v in views if isinstance(a := v.get("appid"), int))
        return ShortcutScan(appids, tuple(_found(views)))

    async def write(
        self, steam_user: str, *, upserts: Sequence[RegistryEntry], removals: Sequence[int]
    ) -> bool:
        """:meth:`apply`, off the event loop."""
        return await asyncio.to_thread(
            functools.partial(self.apply, steam_user, upserts=upserts, removals=removals)
        )

    def users(self) -> list[str]:
        """Steam user ids that have a ``config`` folder. Raises ``SteamNotFoundError``."""
        return self._locator.users()

    def path(self, steam_user: str) -> Path:
        """The user's ``shortcuts.vdf`` (it may not exist). Raises ``SteamNotFoundError``."""
        if not steam_user.isdigit():
            raise SteamNotFoundError(f"{steam_user!r} is not a Steam user id")
        user_dir = self._locator.root() / "userdata" / steam_user
        if not user_dir.is_dir():
            raise SteamNotFoundError(f"No Steam user {steam_user} ({user_dir} does not exist)")
        return user_dir / "config" / "shortcuts.vdf"

    def _lock_path(self, steam_user: str, path: Path) -> Path:
        """``<lock_dir>/shortcuts-<user>.lock`` (out of Steam's folder), else beside the file."""
        if self._lock_dir is None:
            return Path(f"{path}.lock")
        return self._lock_dir / f"shortcuts-{steam_user}.lock"

    def read(self, steam_user: str) -> list[dict[str, object]]:
        """Every shortcut in file order, keys lower-cased; ``[]`` when the file is missing.

        ``appid`` is unsigned; ``tags`` is the list of tag names. Raises
        ``SteamNotFoundError``, ``CorruptFileError`` or ``StateError`` (unreadable).
        """
        return self._read(steam_user, verify=True)

    def _read(self, steam_user: str, *, verify: bool) -> list[dict[str, object]]:
        path = self.path(steam_user)
        data = _read_bytes(path)
        if data is None:
            return []
        document = _parse(path, data, verify=verify)
        return [_lower_view(entry) for entry in document.root[document.shortcuts_key].values()]

    def appids(self, steam_user: str) -> set[int]:
        """The unsigned appids of every shortcut in the file, ours and foreign."""
        appids: set[int] = set()
        for entry in self.read(steam_user):
            appid = entry.get("appid")
            if isinstance(appid, int):
                appids.add(appid)
        return appids

    def own_shortcuts(self, steam_user: str) -> list[FoundShortcut]:
        """RomDeck's shortcuts in the file, in file order (the rule: :func:`own_rom_id`).

        Shortcuts without an int ``appid`` or with non-text ``Exe``/``LaunchOptions``
        are foreign. ``[]`` when the file is missing. Raises as :meth:`read`.
        """
        return _found(self._read(steam_user, verify=False))  # read-only: no re-encoding check

    def apply(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry],
        removals: Sequence[int],
    ) -> bool:
        """Upsert these shortcuts by ``appid``, then remove the ``removals`` appids.

        An upsert of an existing appid updates the owned keys in place (same casing);
        a new one is appended with Steam's full key set. When shortcuts are added or
        removed, entries are renumbered ``"0"..`` in order. Returns False and writes
        nothing when the bytes would not change. Raises ``SteamNotFoundError``,
        ``CorruptFileError``, ``InvalidInputError`` (a value Steam cannot store),
        ``BusyError`` (lock held), ``DiskFullError`` or ``StateError``.
        """
        new_entries = {entry.appid: _new_entry(entry) for entry in upserts}
        path = self.path(steam_user)
        _make_dir(path.parent)
        with write_lock(path, self._lock_path(steam_user, path), self._lock_timeout_s):
            original = _read_bytes(path)
            scanned = self._parsed.pop(path, None)
            if original is None:
                document = _empty_document()
            elif scanned is not None and scanned[0] == original:
                document = _verified(path, original, scanned[1])  # the file is as scanned
            else:
                document = _parse(path, original)
            shortcuts: VdfMap = document.root[document.shortcuts_key]
            entries = list(shortcuts.values())
            _update_in_place(entries, {e.appid: e for e in upserts})
            removed = set(removals)
            known = {_entry_appid(entry) for entry in entries} | removed
            added = [entry for appid, entry in new_entries.items() if appid not in known]
            kept = [entry for entry in entries if _entry_appid(entry) not in removed]
            if added or len(kept) != len(entries):
                renumbered = {str(index): entry for index, entry in enumerate(kept + added)}
                document.root[document.shortcuts_key] = renumbered
            encoded = vdf.binary_dumps(document.root)
            if encoded == document.canonical:
                return False
            if original is not None:
                _rotate_backups(path, original)
            _write_atomic(path, encoded + document.trailing)
            return True


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _found(views: Sequence[dict[str, object]]) -> list[FoundShortcut]:
    """Our shortcuts among lower-cased shortcut views (:func:`_lower_view`), in order.

    Shortcuts without an int ``appid`` or with non-text ``Exe``/``LaunchOptions`` are foreign.
    """
    found: list[FoundShortcut] = []
    for entry in views:
        appid, exe, options = entry.get("appid"), entry.get("exe"), entry.get("launchoptions")
        if type(appid) is not int or not isinstance(exe, str) or not isinstance(options, str):
            continue
        rom_id = own_rom_id(exe, options)
        if rom_id is None:
            continue
        tags = entry.get("tags")
        found.append(
            FoundShortcut(
                appid=appid,
                rom_id=rom_id,
                app_name=_text(entry.get("appname")),
                exe=exe,
                start_dir=_text(entry.get("startdir")),
                launch_options=options,
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            )
        )
    return found


def _new_entry(entry: RegistryEntry) -> VdfMap:
    """A shortcut with Steam's usual keys, in Steam's order."""
    spec = entry.spec
    for text in (spec.app_name, spec.exe, spec.start_dir, spec.launch_options, *spec.tags):
        if "\x00" in text:
            raise InvalidInputError(f"Shortcut text for ROM {spec.rom_id} contains a NUL byte")
    try:
        appid = to_signed_int32(entry.appid)
    except ValueError as err:
        raise InvalidInputError(f"Shortcut id {entry.appid} is not a 32-bit number") from err
    return {
        "appid": appid,
        "AppName": spec.app_name,
        "Exe": spec.exe,
        "StartDir": spec.start_dir,
        "icon": "",
        "ShortcutPath": "",
        "LaunchOptions": spec.launch_options,
        "IsHidden": 0,
        "AllowDesktopConfig": 1,
        "AllowOverlay": 1,
        "OpenVR": 0,
        "Devkit": 0,
        "DevkitGameID": "",
        "DevkitOverrideAppID": 0,
        "LastPlayTime": 0,
        "FlatpakAppID": "",
        "tags": _tags_map(spec.tags),
    }


def _update_in_place(entries: list[VdfMap], upserts: dict[int, RegistryEntry]) -> None:
    """Set the owned keys of existing shortcuts, under the casing each entry uses."""
    for entry in entries:
        appid = _entry_appid(entry)
        wanted = upserts.get(appid) if appid is not None else None
        if wanted is None:
            continue
        spec = wanted.spec
        _set_key(entry, "AppName", spec.app_name)
        _set_key(entry, "Exe", spec.exe)
        _set_key(entry, "StartDir", spec.start_dir)
        _set_key(entry, "LaunchOptions", spec.launch_options)
        _set_key(entry, "tags", _tags_map(spec.tags))


def _set_key(entry: VdfMap, key: str, value: object) -> None:
    existing = next((k for k in entry if k.lower() == key.lower()), key)
    entry[existing] = value


def _tags_map(tags: Sequence[str]) -> VdfMap:
    return {str(index): tag for index, tag in enumerate(tags)}


def _entry_appid(entry: VdfMap) -> int | None:
    """The unsigned appid of a shortcut, or None when it has no int ``appid``."""
    value = next((v for k, v in entry.items() if k.lower() == "appid"), None)
    if type(value) is not int:
        return None
    return to_unsigned_int32(value)


def _lower_view(entry: VdfMap) -> dict[str, object]:
    view: dict[str, object] = {key.lower(): value for key, value in entry.items()}
    appid = _entry_appid(entry)
    if appid is not None:
        view["appid"] = appid
    tags = view.get("tags")
    if isinstance(tags, dict):
        view["tags"] = [str(tag) for tag in tags.values()]
    return view


def _parse(path: Path, data: bytes, *, verify: bool = True) -> _Document:
    """Parse and (``verify``) check that the bytes re-encode exactly.

    Raises ``CorruptFileError``. Without ``verify``, ``canonical`` is empty: only for reading.
    """
    stream = io.BytesIO(data)
    try:
        root = vdf.binary_load(stream, mapper=dict, raise_on_remaining=False)
    except _PARSE_ERRORS as err:
        raise CorruptFileError(
            f"{path} is not a valid shortcuts file ({err}); left untouched"
        ) from err
    end = stream.tell()
    key = next(
        (k for k, v in root.items() if k.lower() == "shortcuts" and isinstance(v, dict)), None
    )
    if key is None:
        raise CorruptFileError(f"{path} has no 'shortcuts' section; left untouched")
    if not all(isinstance(entry, dict) for entry in root[key].values()):
        raise CorruptFileError(f"{path} has a shortcut that is not a key list; left untouched")
    document = _Document(root=root, shortcuts_key=key, trailing=data[end:], canonical=b"")
    return _verified(path, data, document) if verify else document


def _verified(path: Path, data: bytes, document: _Document) -> _Document:
    """``document`` (parsed from ``data``, unmodified) with ``canonical`` set, after checking
    that it re-encodes to the very bytes read. Raises ``CorruptFileError``."""
    canonical = vdf.binary_dumps(document.root)
    if canonical + document.trailing != data:
        raise CorruptFileError(
            f"{path} holds data RomDeck cannot rewrite without changing it "
            "(invalid UTF-8 or duplicate keys); left untouched"
        )
    document.canonical = canonical
    return document


def _empty_document() -> _Document:
    root: VdfMap = {"shortcuts": {}}
    canonical = vdf.binary_dumps(root)  # nothing to write unless a shortcut is added
    return _Document(root=root, shortcuts_key="shortcuts", trailing=b"", canonical=canonical)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StateError(f"Cannot read {path}: {err.strerror}") from err


def _rotate_backups(path: Path, original: bytes) -> None:
    """Shift ``.romdeck-backup.N`` up by one (the oldest drops off); save ``original`` as ``.1``."""
    backups = [
        path.with_name(f"{path.name}.romdeck-backup.{n}") for n in range(1, BACKUP_COUNT + 1)
    ]
    try:
        for older, newer in zip(reversed(backups[1:]), reversed(backups[:-1]), strict=True):
            if newer.exists():
                os.replace(newer, older)
    except OSError as err:
        raise _write_error(path, err) from err
    _write_atomic(backups[0], original)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a temp file beside ``path``, fsync it, and rename it over ``path``.

    Keeps the mode (and, when run as root, the owner) of the file it replaces, or of
    its folder for a new file. Raises ``DiskFullError`` or ``StateError``; on failure
    ``path`` is as it was.
    """
    try:
        write_bytes_atomic(path, data)
    except OSError as err:
        raise _write_error(path, err) from err


def _make_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _write_error(folder, err) from err


def _write_error(path: Path, err: OSError) -> RomDeckError:
    return write_error(err, path, other=StateError)
