"""Save-sync state in ``state.db`` (tables ``save_*``, migration 3): the ``SaveStateStore`` port."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.save_records import Backup, Baseline, Conflict

_CONFLICT_COLS = (
    "id, rom_id, file_name, local_path, local_hash, server_hash, server_save_id, server_copy, "
    "created_at, resolution"
)
_BACKUP_COLS = (
    "id, rom_id, file_name, original_path, backup_path, content_hash, size_bytes, "
    "created_at, reason"
)


class SqliteSaveStore:
    """Device id, installation id, baselines, pending ROMs, conflicts and backups.

    Every method runs its SQL in a thread (``asyncio.to_thread``); errors are ``StateError``.
    The installation id is a random uuid made on first use and kept for good.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def _write(self, sql: str, args: Sequence[Any] = ()) -> int:
        def run() -> int:
            with self._db.transaction() as tx:
                return int(tx.execute(sql, tuple(args)).lastrowid or 0)

        return await asyncio.to_thread(run)

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            with self._db.read() as conn:
                return [tuple(row) for row in conn.execute(sql, tuple(args)).fetchall()]

        return await asyncio.to_thread(run)

    async def _meta(self, key: str, make: Callable[[], str] | None = None) -> str | None:
        def run() -> str | None:
            with self._db.transaction() as tx:
                row = tx.execute("SELECT value FROM save_meta WHERE key = ?", (key,)).fetchone()
                if row is not None or make is None:
                    return None if row is None else str(row[0])
                value = make()
                tx.execute("INSERT INTO save_meta (key, value) VALUES (?, ?)", (key, value))
                return value

        return await asyncio.to_thread(run)

    async def install_id(self) -> str:
        """This installation's own id (hex uuid), made once."""
        return await self._meta("install_id", lambda: uuid.uuid4().hex) or ""

    async def device_id(self) -> str | None:
        """The RomM device id registered for this installation, if any."""
        return await self._meta("device_id")

    async def set_device_id(self, device_id: str) -> None:
        """Remember the RomM device id."""
        await self._write(
            "INSERT INTO save_meta (key, value) VALUES ('device_id', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (device_id,),
        )

    async def baseline(self, rom_id: int, file_name: str) -> Baseline | None:
        """The hash both sides had at the last sync of one file."""
        rows = await self._rows(
            "SELECT rom_id, file_name, content_hash, server_save_id, synced_at FROM save_baselines "
            "WHERE rom_id = ? AND file_name = ?",
            (rom_id, file_name),
        )
        return Baseline(*rows[0]) if rows else None

    async def set_baseline(self, baseline: Baseline) -> None:
        """Record a completed sync of one file."""
        await self._write(
            "INSERT OR REPLACE INTO save_baselines VALUES (?, ?, ?, ?, ?)",
            (baseline.rom_id, baseline.file_name, baseline.content_hash,
             baseline.server_save_id, baseline.synced_at),
        )  # fmt: skip

    async def mark_pending(self, rom_id: int, reason: str, at: str) -> None:
        """Mark a ROM's sync as still to do (the first ``since`` is kept)."""
        await self._write(
            "INSERT INTO save_pending VALUES (?, ?, ?) "
            "ON CONFLICT (rom_id) DO UPDATE SET reason = excluded.reason",
            (rom_id, reason, at),
        )

    async def clear_pending(self, rom_id: int) -> None:
        """The ROM's sync is done."""
        await self._write("DELETE FROM save_pending WHERE rom_id = ?", (rom_id,))

    async def pending(self) -> dict[int, str]:
        """``{rom_id: reason}`` of every ROM whose sync is still to do."""
        return {
            int(r[0]): str(r[1])
            for r in await self._rows("SELECT rom_id, reason FROM save_pending")
        }

    async def add_conflict(self, conflict: Conflict) -> Conflict:
        """Record an open conflict; an open one for the same ROM and file is replaced."""

        def run() -> int:
            with self._db.transaction() as tx:
                tx.execute(
                    "UPDATE save_conflicts SET resolution = 'superseded' "
                    "WHERE rom_id = ? AND file_name = ? AND resolution = ''",
                    (conflict.rom_id, conflict.file_name),
                )
                return int(tx.execute(
                    f"INSERT INTO save_conflicts ({_CONFLICT_COLS}) "
                    "VALUES (NULL,?,?,?,?,?,?,?,?,'')",
                    (conflict.rom_id, conflict.file_name, conflict.local_path, conflict.local_hash,
                     conflict.server_hash, conflict.server_save_id, conflict.server_copy,
                     conflict.created_at),
                ).lastrowid or 0)  # fmt: skip

        new_id = await asyncio.to_thread(run)
        return Conflict(**{**_as_dict(conflict), "id": new_id})

    async def conflicts(self, rom_id: int | None = None) -> list[Conflict]:
        """Open conflicts, oldest first (of one ROM when ``rom_id`` is given)."""
        where = "resolution = ''" + ("" if rom_id is None else " AND rom_id = ?")
        rows = await self._rows(
            f"SELECT {_CONFLICT_COLS} FROM save_conflicts WHERE {where} ORDER BY id",
            () if rom_id is None else (rom_id,),
        )
        return [Conflict(*row) for row in rows]

    async def resolve_conflict(self, conflict_id: int, resolution: str) -> None:
        """Close a conflict with the user's choice (``local``/``server``)."""
        await self._write(
            "UPDATE save_conflicts SET resolution = ? WHERE id = ?", (resolution, conflict_id)
        )

    async def add_backup(self, backup: Backup) -> Backup:
        """Record a kept copy; returns it with its id."""
        new_id = await self._write(
            f"INSERT INTO save_backups ({_BACKUP_COLS}) VALUES (NULL,?,?,?,?,?,?,?,?)",
            (backup.rom_id, backup.file_name, backup.original_path, backup.backup_path,
             backup.content_hash, backup.size_bytes, backup.created_at, backup.reason),
        )  # fmt: skip
        return Backup(**{**_as_dict(backup), "id": new_id})

    async def backups(self, rom_id: int | None = None) -> list[Backup]:
        """Backups, newest first."""
        where = "" if rom_id is None else "WHERE rom_id = ?"
        rows = await self._rows(
            f"SELECT {_BACKUP_COLS} FROM save_backups {where} ORDER BY id DESC",
            () if rom_id is None else (rom_id,),
        )
        return [Backup(*row) for row in rows]

    async def backup(self, backup_id: int) -> Backup | None:
        """One backup by id."""
        rows = await self._rows(
            f"SELECT {_BACKUP_COLS} FROM save_backups WHERE id = ?", (backup_id,)
        )
        return Backup(*rows[0]) if rows else None

    async def negotiate_missing_on(self) -> str | None:
        """The RomM version on which ``/api/sync/negotiate`` was missing, if any
        (``save_meta`` key ``negotiate_missing_on``)."""
        return await self._meta("negotiate_missing_on")

    async def set_negotiate_missing_on(self, version: str | None) -> None:
        """Remember (or with ``None`` forget) the RomM version without negotiate."""
        if version is None:
            await self._write("DELETE FROM save_meta WHERE key = 'negotiate_missing_on'")
            return
        await self._write(
            "INSERT INTO save_meta (key, value) VALUES ('negotiate_missing_on', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (version,),
        )

    async def state_token(self, rom_id: int, file_name: str) -> str | None:
        """A state's server version at its last sync (``save_meta`` ``state:<rom>:<name>``)."""
        return await self._meta(f"state:{rom_id}:{file_name}")

    async def set_state_token(self, rom_id: int, file_name: str, token: str | None) -> None:
        """Remember (``None``: forget) a state's server version."""
        key = f"state:{rom_id}:{file_name}"
        if token is None:
            await self._write("DELETE FROM save_meta WHERE key = ?", (key,))
            return
        await self._write(
            "INSERT INTO save_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, token),
        )

    async def drop_backups(self, ids: Sequence[int]) -> None:
        """Forget backups (their files are removed by the caller)."""
        for backup_id in ids:
            await self._write("DELETE FROM save_backups WHERE id = ?", (backup_id,))


def _as_dict(item: Conflict | Backup) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}  # pyright: ignore[reportAttributeAccessIssue]
