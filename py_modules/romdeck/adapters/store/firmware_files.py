"""BIOS files RomDeck placed (``firmware_files`` table in state.db), so it deletes only those."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.firmware import Placement

_COLUMNS = "bios_root, path, md5, firmware_id, platform_slug, placed_at"


def _placement(row: Sequence[Any]) -> Placement:
    root, path, md5, firmware_id, slug, placed_at = row
    return Placement(root, path, md5, firmware_id, slug or "", placed_at or "")


class SqliteFirmwarePlacements:
    """The ``FirmwarePlacements`` port over :class:`SqliteDatabase`; work runs in a thread.

    One row per (bios folder, path relative to it). Raises ``StateError`` when the
    database fails.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def placed(self, bios_root: str) -> dict[str, Placement]:
        """Files we placed under ``bios_root``, by relative path."""
        return await asyncio.to_thread(self._placed, bios_root)

    async def record(self, placement: Placement) -> None:
        """Remember a file we placed (replacing an older record of the same path)."""
        await asyncio.to_thread(self._record, placement)

    async def forget(self, bios_root: str, path: str) -> None:
        """Forget a placement (after it was deleted)."""
        await asyncio.to_thread(self._forget, bios_root, path)

    def _placed(self, bios_root: str) -> dict[str, Placement]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM firmware_files WHERE bios_root = ?", (bios_root,)
            ).fetchall()
        return {row[1]: _placement(row) for row in rows}

    def _record(self, p: Placement) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO firmware_files ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (p.bios_root, p.path, p.md5, p.firmware_id, p.platform_slug, p.placed_at),
            )

    def _forget(self, bios_root: str, path: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM firmware_files WHERE bios_root = ? AND path = ?", (bios_root, path)
            )
