"""Which Steam shortcut RomDeck made for which RomM ROM (``registry`` table in state.db)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import RegistryEntry, ShortcutSpec
from romdeck.errors import InvalidInputError, NotFoundError, StateError

_UPSERT = """
INSERT INTO registry (
    steam_user, rom_id, appid, app_name, exe, start_dir, launch_options, tags,
    cover_path, cover_key
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (steam_user, rom_id) DO UPDATE SET
    appid = excluded.appid,
    app_name = excluded.app_name,
    exe = excluded.exe,
    start_dir = excluded.start_dir,
    launch_options = excluded.launch_options,
    tags = excluded.tags,
    cover_path = excluded.cover_path,
    cover_key = excluded.cover_key
"""
_SELECT = """
SELECT rom_id, appid, app_name, exe, start_dir, launch_options, tags, cover_path, cover_key
FROM registry WHERE steam_user = ?
"""
_APPID_LIMIT = 1 << 32


def _row(steam_user: str, entry: RegistryEntry) -> tuple[object, ...]:
    spec = entry.spec
    if not 0 <= entry.appid < _APPID_LIMIT:
        raise InvalidInputError(f"Shortcut id {entry.appid} of ROM {spec.rom_id} is not 32-bit")
    return (
        steam_user,
        spec.rom_id,
        entry.appid,
        spec.app_name,
        spec.exe,
        spec.start_dir,
        spec.launch_options,
        json.dumps(list(spec.tags), ensure_ascii=False),
        spec.cover_path,
        entry.cover_key,
    )


@functools.lru_cache(maxsize=4096)
def _decode_tags(tags: str) -> tuple[str, ...] | None:
    """Tags column → tuple; ``None`` when unreadable. Cached: most ROMs share a few tag lists."""
    try:
        tag_list = json.loads(tags) if tags else []
    except ValueError:
        return None
    if not isinstance(tag_list, list):
        return None
    return tuple(str(t) for t in tag_list)


def _entry(row: Sequence[Any]) -> RegistryEntry:
    rom_id, appid, app_name, exe, start_dir, options, tags, cover_path, cover_key = row
    tag_tuple = _decode_tags(tags or "")
    if tag_tuple is None:
        raise StateError(f"Registry entry of ROM {rom_id} has unreadable tags")
    spec = ShortcutSpec(
        rom_id=int(rom_id),
        app_name=str(app_name or ""),
        exe=str(exe or ""),
        start_dir=str(start_dir or ""),
        launch_options=str(options or ""),
        tags=tag_tuple,
        cover_path=str(cover_path or ""),
    )
    return RegistryEntry(spec=spec, appid=int(appid), cover_key=str(cover_key or ""))


class SqliteRegistry:
    """``ShortcutRegistry`` over :class:`SqliteDatabase`, keyed by (Steam user, ROM id).

    ``steam_user`` is the ``userdata/<id>`` folder name; ``appid`` the unsigned 32-bit
    shortcut id. Raises ``StateError`` when the database fails.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def entries(self, steam_user: str) -> dict[int, RegistryEntry]:
        """Every entry of a Steam user, by ROM id."""
        return await asyncio.to_thread(self._entries_sync, steam_user)

    def _entries_sync(self, steam_user: str) -> dict[int, RegistryEntry]:
        with self._db.read() as conn:
            rows = conn.execute(_SELECT, (steam_user,)).fetchall()
        entries: dict[int, RegistryEntry] = {}
        for index, entry in enumerate(map(_entry, rows), 1):
            entries[entry.rom_id] = entry
            if index % 500 == 0:
                time.sleep(0)  # 10,000 entries take ~0.1 s: let the event loop take the GIL
        return entries

    async def counts(self) -> dict[str, int]:
        """How many shortcuts RomDeck registered per Steam user."""
        return await asyncio.to_thread(self._counts_sync)

    def _counts_sync(self) -> dict[str, int]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT steam_user, COUNT(*) FROM registry GROUP BY steam_user"
            ).fetchall()
        return {str(user): int(count) for user, count in rows}

    async def commit(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry] = (),
        removed_rom_ids: Sequence[int] = (),
    ) -> None:
        """Apply removals, then upserts, in one transaction (all or nothing).

        Raises ``InvalidInputError`` (before writing) for an appid outside 32 bits.
        """
        return await asyncio.to_thread(
            self._commit_sync, steam_user, upserts=upserts, removed_rom_ids=removed_rom_ids
        )

    def _commit_sync(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry] = (),
        removed_rom_ids: Sequence[int] = (),
    ) -> None:
        rows = [_row(steam_user, entry) for entry in upserts]
        with self._db.transaction() as conn:
            conn.executemany(
                "DELETE FROM registry WHERE steam_user = ? AND rom_id = ?",
                ((steam_user, rom_id) for rom_id in removed_rom_ids),
            )
            conn.executemany(_UPSERT, rows)

    async def set_cover_key(self, steam_user: str, rom_id: int, cover_key: str) -> None:
        """Record that the cover ``cover_key`` was written for a ROM's shortcut.

        Raises ``NotFoundError`` when the user has no entry for ``rom_id``.
        """
        return await asyncio.to_thread(self._set_cover_key_sync, steam_user, rom_id, cover_key)

    def _set_cover_key_sync(self, steam_user: str, rom_id: int, cover_key: str) -> None:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE registry SET cover_key = ? WHERE steam_user = ? AND rom_id = ?",
                (cover_key, steam_user, rom_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"No shortcut of ROM {rom_id} is registered for this user")

    async def digest(self, steam_user: str) -> str:
        """A hex digest of every registry row of a Steam user (any change changes it).

        Reads the raw rows (no entries are built): about 40 ms at 10,000 shortcuts.
        """
        return await asyncio.to_thread(self._digest_sync, steam_user)

    def _digest_sync(self, steam_user: str) -> str:
        digest = hashlib.sha256()
        with self._db.read() as conn:
            for row in conn.execute(f"{_SELECT} ORDER BY rom_id", (steam_user,)):
                digest.update(repr(row).encode("utf-8", "surrogatepass"))  # row by row: no big text
        return digest.hexdigest()
