"""The play-session outbox in ``state.db`` (table ``play_sessions``, migration 5).

One row per session, keyed by (``rom_id``, ``start_time``): recording the same session
again (the launcher's report and its pending_sessions.jsonl copy, an ingestion run
twice) leaves one row. States: ``queued`` → ``delivered`` (RomM said created or
duplicate) or ``refused`` (RomM's per-item error, kept with its reason, never resent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.play_sessions import NewSession, OutboxSession, SessionState

_COLS = (
    "id, rom_id, start_time, end_time, duration_ms, state, device_id, refusal, attempts, "
    "server_id, recorded_at, offset_s"
)


def _row(row: Sequence[Any]) -> OutboxSession:
    return OutboxSession(
        id=int(row[0]), rom_id=int(row[1]), start_time=str(row[2]), end_time=str(row[3]),
        duration_ms=int(row[4]), state=SessionState(row[5]), device_id=str(row[6] or ""),
        refusal=str(row[7] or ""), attempts=int(row[8] or 0),
        server_id=None if row[9] is None else int(row[9]), recorded_at=str(row[10] or ""),
        offset_s=int(row[11] or 0),
    )  # fmt: skip


class SqlitePlaySessionOutbox:
    """The outbox's rows. Every method runs its SQL in a thread; errors are ``StateError``."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def record(self, sessions: Sequence[NewSession], recorded_at: str) -> int:
        """Insert sessions as ``queued`` in one transaction; a known (rom_id, start_time)
        is left as it is. Returns how many rows are new."""

        def run() -> int:
            with self._db.transaction() as tx:
                before = tx.total_changes
                tx.executemany(
                    "INSERT OR IGNORE INTO play_sessions "
                    "(rom_id, start_time, end_time, duration_ms, state, recorded_at) "
                    "VALUES (?, ?, ?, ?, 'queued', ?)",
                    [(s.rom_id, s.start_time, s.end_time, s.duration_ms, recorded_at)
                     for s in sessions],
                )  # fmt: skip
                return tx.total_changes - before

        return await asyncio.to_thread(run)

    async def queued(self) -> list[OutboxSession]:
        """Every session still to deliver, oldest first."""
        return await self._select("WHERE state = 'queued' ORDER BY start_time, id", ())

    async def sessions(self, rom_id: int | None = None) -> list[OutboxSession]:
        """Every recorded session (of one ROM when ``rom_id`` is given), oldest first."""
        if rom_id is None:
            return await self._select("ORDER BY start_time, id", ())
        return await self._select("WHERE rom_id = ? ORDER BY start_time, id", (rom_id,))

    async def note_attempt(self, ids: Iterable[int], device_id: str) -> None:
        """Count one send of these queued rows, with the device they go out with."""
        await self._many(
            "UPDATE play_sessions SET attempts = attempts + 1, device_id = ? "
            "WHERE id = ? AND state = 'queued'",
            [(device_id, i) for i in ids],
        )

    async def mark_delivered(self, delivered: Iterable[tuple[int, int | None]]) -> None:
        """``(row id, RomM id or None)`` pairs RomM accepted (created or duplicate)."""
        await self._many(
            "UPDATE play_sessions SET state = 'delivered', refusal = '', "
            "server_id = COALESCE(?, server_id) WHERE id = ?",
            [(server_id, row_id) for row_id, server_id in delivered],
        )

    async def mark_refused(self, refused: Iterable[tuple[int, str]]) -> None:
        """``(row id, reason)`` pairs RomM (or our own check) refused: set aside for good."""
        await self._many(
            "UPDATE play_sessions SET state = 'refused', refusal = ? "
            "WHERE id = ? AND state = 'queued'",
            [(reason, row_id) for row_id, reason in refused],
        )

    async def set_offset(self, shifted: Iterable[tuple[int, int]]) -> None:
        """``(row id, seconds)``: shift these queued rows by that much when sent (RomM's
        clock is behind ours); the rows keep their own times and key."""
        await self._many(
            "UPDATE play_sessions SET offset_s = ? WHERE id = ? AND state = 'queued'",
            [(offset, row_id) for row_id, offset in shifted],
        )

    async def _select(self, where: str, args: Sequence[Any]) -> list[OutboxSession]:
        def run() -> list[OutboxSession]:
            with self._db.read() as conn:
                rows = conn.execute(f"SELECT {_COLS} FROM play_sessions {where}", tuple(args))
                return [_row(r) for r in rows.fetchall()]

        return await asyncio.to_thread(run)

    async def _many(self, sql: str, args: list[tuple[Any, ...]]) -> None:
        def run() -> None:
            with self._db.transaction() as tx:
                tx.executemany(sql, args)

        if args:
            await asyncio.to_thread(run)
