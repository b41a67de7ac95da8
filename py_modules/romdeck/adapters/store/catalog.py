"""The local mirror of RomM's ROM list (``catalog_roms``, ``catalog_watermarks`` in state.db)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import RomSummary

_COLUMNS = (
    "rom_id",
    "platform_id",
    "platform_slug",
    "name",
    "fs_name",
    "fs_name_no_tags",
    "cover_path",
    "updated_at",
    "fs_size_bytes",
    "missing_from_fs",
)
# Read back in RomSummary's field order with SQL doing the NULL handling, so a row maps
# straight onto the dataclass (10,000 rows are read on every sync).
_SELECT = (
    "SELECT rom_id, platform_id, COALESCE(platform_slug, ''), COALESCE(name, ''), "
    "COALESCE(fs_name, ''), COALESCE(fs_name_no_tags, ''), COALESCE(cover_path, ''), "
    "COALESCE(updated_at, ''), COALESCE(fs_size_bytes, 0), missing_from_fs != 0 "
    "FROM catalog_roms"
)
_UPSERT = (
    f"INSERT INTO catalog_roms ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (rom_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    + " WHERE "
    + " OR ".join(f"{c} IS NOT excluded.{c}" for c in _COLUMNS[1:])
)
_CHUNK = 500
"""Ids per ``IN (...)`` query: well under SQLite's oldest bound-variable limit (999)."""


def _row(rom: RomSummary) -> tuple[object, ...]:
    return (
        rom.id,
        rom.platform_id,
        rom.platform_slug,
        rom.name,
        rom.fs_name,
        rom.fs_name_no_tags,
        rom.cover_path,
        rom.updated_at,
        rom.fs_size_bytes,
        int(rom.missing_from_fs),
    )


def _rom(row: Sequence[Any]) -> RomSummary:
    *fields, missing = row
    return RomSummary(*fields, missing_from_fs=bool(missing))


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted({int(i) for i in ids})
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


class SqliteCatalog:
    """``CatalogStore`` over :class:`SqliteDatabase`: the ROMs of the synced platforms.

    Rows are keyed by RomM ROM id; ``updated_at`` strings are kept exactly as RomM
    served them. Every method raises ``StateError`` when the database fails.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def upsert_roms(self, roms: Iterable[RomSummary]) -> int:
        """Insert new ROMs and update changed ones in one transaction.

        Returns how many rows were inserted or actually changed (an identical row
        counts 0, so a repeated upsert of the same ROMs returns 0).
        """
        return await asyncio.to_thread(self._upsert_roms_sync, roms)

    def _upsert_roms_sync(self, roms: Iterable[RomSummary]) -> int:
        with self._db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(_UPSERT, (_row(rom) for rom in roms))
            return conn.total_changes - before

    async def delete_roms(self, rom_ids: Iterable[int]) -> int:
        """Forget these ROMs; returns how many of them were mirrored."""
        return await asyncio.to_thread(self._delete_roms_sync, rom_ids)

    def _delete_roms_sync(self, rom_ids: Iterable[int]) -> int:
        with self._db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "DELETE FROM catalog_roms WHERE rom_id = ?", ((i,) for i in set(rom_ids))
            )
            return conn.total_changes - before

    async def rom_ids(self, platform_id: int) -> set[int]:
        """Ids of the mirrored ROMs of one platform."""
        return await asyncio.to_thread(self._rom_ids_sync, platform_id)

    def _rom_ids_sync(self, platform_id: int) -> set[int]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT rom_id FROM catalog_roms WHERE platform_id = ?", (platform_id,)
            ).fetchall()
        return {int(r[0]) for r in rows}

    async def counts(self) -> dict[int, int]:
        """Mirrored ROM count per platform id (platforms with none are absent)."""
        return await asyncio.to_thread(self._counts_sync)

    def _counts_sync(self) -> dict[int, int]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT platform_id, COUNT(*) FROM catalog_roms GROUP BY platform_id"
            ).fetchall()
        return {int(p): int(n) for p, n in rows}

    async def roms(
        self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()
    ) -> list[RomSummary]:
        """Mirrored ROMs on ``platform_ids`` plus ``rom_ids`` wherever they are, by ROM id."""
        return await asyncio.to_thread(self._roms_sync, platform_ids=platform_ids, rom_ids=rom_ids)

    def _roms_sync(
        self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()
    ) -> list[RomSummary]:
        found: dict[int, RomSummary] = {}
        with self._db.read() as conn:
            for column, ids in (("platform_id", platform_ids), ("rom_id", rom_ids)):
                for chunk in _chunks(ids):
                    marks = ", ".join("?" * len(chunk))
                    query = f"{_SELECT} WHERE {column} IN ({marks})"
                    for row in conn.execute(query, chunk):
                        rom = _rom(row)
                        found[rom.id] = rom
                    time.sleep(0)  # every 500 rows: let the event loop take the GIL
        return [found[i] for i in sorted(found)]

    async def digest(self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()) -> str:
        """A hex digest of the mirrored rows :meth:`roms` would return (no objects built)."""
        return await asyncio.to_thread(self._digest_sync, platform_ids, rom_ids)

    def _digest_sync(self, platform_ids: Iterable[int], rom_ids: Iterable[int]) -> str:
        rows: dict[int, tuple[Any, ...]] = {}
        with self._db.read() as conn:
            for column, ids in (("platform_id", platform_ids), ("rom_id", rom_ids)):
                for chunk in _chunks(ids):
                    query = f"{_SELECT} WHERE {column} IN ({', '.join('?' * len(chunk))})"
                    rows.update((row[0], row) for row in conn.execute(query, chunk))
        digest = hashlib.sha256()
        for rom_id in sorted(rows):  # row by row: no big text
            digest.update(repr(rows[rom_id]).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    async def watermark(self, platform_id: int) -> str | None:
        """The newest ``updated_at`` of a platform whose full fetch completed, or None."""
        return await asyncio.to_thread(self._watermark_sync, platform_id)

    def _watermark_sync(self, platform_id: int) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT updated_at FROM catalog_watermarks WHERE platform_id = ?", (platform_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    async def watermarks(self) -> dict[int, str]:
        """Every watermark by key (platform id; ``-collection id`` for a collection)."""
        return await asyncio.to_thread(self._watermarks_sync)

    def _watermarks_sync(self) -> dict[int, str]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT platform_id, updated_at FROM catalog_watermarks").fetchall()
        return {int(key): str(mark) for key, mark in rows}

    async def set_watermark(self, platform_id: int, updated_at: str) -> None:
        """Record a completed fetch of a platform up to ``updated_at`` (replaces the old one)."""
        return await asyncio.to_thread(self._set_watermark_sync, platform_id, updated_at)

    def _set_watermark_sync(self, platform_id: int, updated_at: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO catalog_watermarks (platform_id, updated_at) VALUES (?, ?) "
                "ON CONFLICT (platform_id) DO UPDATE SET updated_at = excluded.updated_at",
                (platform_id, updated_at),
            )

    async def clear_watermark(self, platform_id: int) -> None:
        """Forget a platform's watermark, so the next sync fetches it whole."""
        return await asyncio.to_thread(self._clear_watermark_sync, platform_id)

    def _clear_watermark_sync(self, platform_id: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM catalog_watermarks WHERE platform_id = ?", (platform_id,))
