"""Sync runs recorded in the state database (``sync_runs`` table)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.errors import InvalidInputError, NotFoundError, StateError

RUNNING = "running"
"""Status of a run that has started and not finished (or was interrupted)."""


class SqliteSyncRunLog:
    """``SyncRunLog`` over :class:`SqliteDatabase`.

    Times are ISO-8601 strings from the caller's clock; ``summary`` is stored as JSON
    (a ``Mapping`` of JSON-serialisable values). Raises ``StateError`` when the
    database fails.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def start(self, started_at: str) -> int:
        """Record a started run (status ``"running"``); returns its id."""
        return await asyncio.to_thread(self._start_sync, started_at)

    def _start_sync(self, started_at: str) -> int:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sync_runs (started_at, status, summary) VALUES (?, ?, '{}')",
                (started_at, RUNNING),
            )
            run_id = cursor.lastrowid
        if run_id is None:
            raise StateError("The state database did not return the new sync run's id")
        return run_id

    async def finish(
        self, run_id: int, *, finished_at: str, status: str, summary: Mapping[str, object]
    ) -> None:
        """Record how run ``run_id`` ended.

        Raises ``NotFoundError`` for an unknown run and ``InvalidInputError`` when
        ``summary`` is not JSON-serialisable.
        """
        return await asyncio.to_thread(
            self._finish_sync, run_id, finished_at=finished_at, status=status, summary=summary
        )

    def _finish_sync(
        self, run_id: int, *, finished_at: str, status: str, summary: Mapping[str, object]
    ) -> None:
        try:
            text = json.dumps(dict(summary), ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise InvalidInputError(f"Sync summary is not JSON-serialisable: {err}") from err
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE sync_runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (finished_at, status, text, run_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"No sync run {run_id} is recorded")

    async def last(self) -> Mapping[str, object] | None:
        """The newest run as ``{id, started_at, finished_at, status, summary}``, or None.

        ``finished_at`` is None while the run has not finished; ``summary`` is a dict.
        """
        return await asyncio.to_thread(self._last_sync)

    def _last_sync(self) -> Mapping[str, object] | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT id, started_at, finished_at, status, summary "
                "FROM sync_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        run_id, started_at, finished_at, status, summary = row
        try:
            parsed = json.loads(summary) if summary else {}
        except ValueError as err:
            raise StateError(f"Sync run {run_id} has an unreadable summary") from err
        return {
            "id": int(run_id),
            "started_at": started_at,
            "finished_at": finished_at,
            "status": status,
            "summary": parsed,
        }
