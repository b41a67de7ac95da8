"""Installed ROMs and the download queue (``installs``, ``downloads`` tables in state.db).

The stdlib-only launcher reads ``installs(rom_id, launch_argv)`` read-only when the
backend is down: ``launch_argv`` is a JSON list of strings, the full command.
"""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from romdeck.adapters.clock import SystemClock
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import Install
from romdeck.errors import StateError

_T = TypeVar("_T")

_INSTALL_COLUMNS = (
    "rom_id, platform_slug, system, root, launch_path, size_bytes, launch_argv, installed_at"
)
_DOWNLOAD_COLUMNS = "rom_id, state, bytes_done, bytes_total, error, position, updated_at"
_SET_DOWNLOAD = """
INSERT INTO downloads (rom_id, state, bytes_done, bytes_total, error, position, updated_at)
VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM downloads), ?)
ON CONFLICT (rom_id) DO UPDATE SET
    state = excluded.state,
    bytes_done = excluded.bytes_done,
    bytes_total = excluded.bytes_total,
    error = excluded.error,
    updated_at = excluded.updated_at
"""


@dataclass(frozen=True, slots=True)
class DownloadRecord:
    """One row of the download queue.

    ``state`` is the download service's state name; ``bytes_done``/``bytes_total`` in
    bytes (``bytes_total`` 0: unknown); ``error`` is ``""`` unless it failed;
    ``position`` orders the queue (assigned when first queued, kept on updates);
    ``updated_at`` ISO-8601 UTC.
    """

    rom_id: int
    state: str
    bytes_done: int
    bytes_total: int
    error: str
    position: int
    updated_at: str


def _install(row: Sequence[Any]) -> Install:
    rom_id, slug, system, root, launch_path, size, argv, installed_at = row
    try:
        argv_list = json.loads(argv) if argv else []
    except ValueError as err:
        raise StateError(f"Install of ROM {rom_id} has an unreadable launch command") from err
    if not isinstance(argv_list, list):
        raise StateError(f"Install of ROM {rom_id} has an unreadable launch command")
    return Install(
        rom_id=int(rom_id),
        platform_slug=str(slug or ""),
        system=str(system or ""),
        root=str(root or ""),
        launch_path=str(launch_path or ""),
        size_bytes=int(size or 0),
        launch_argv=tuple(str(a) for a in argv_list),
        installed_at=str(installed_at or ""),
    )


def _download(row: Sequence[Any]) -> DownloadRecord:
    rom_id, state, done, total, error, position, updated_at = row
    return DownloadRecord(
        rom_id=int(rom_id),
        state=str(state),
        bytes_done=int(done or 0),
        bytes_total=int(total or 0),
        error=str(error or ""),
        position=int(position or 0),
        updated_at=str(updated_at or ""),
    )


class SqliteInstallStore:
    """Installed ROMs and the download queue, over :class:`SqliteDatabase`.

    Every ``async`` method runs its SQL on this store's one worker thread, never on the
    event loop: calls run in the order they were made (a later progress update never
    lands before an earlier one), and a write once called is applied even when the
    awaiting task is cancelled. :meth:`get_blocking` is for code already in a thread.
    ``now`` gives ISO-8601 UTC strings for ``updated_at`` (default: the system clock).
    Every method raises ``StateError`` when the database fails.
    """

    def __init__(self, db: SqliteDatabase, *, now: Callable[[], str] | None = None) -> None:
        self._db = db
        self._now = now or SystemClock().now_iso
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="romdeck-installs")

    def _submit(self, work: Callable[[], _T]) -> asyncio.Future[_T]:
        loop = asyncio.get_running_loop()
        try:
            return loop.run_in_executor(self._worker, work)
        except RuntimeError as err:  # the worker was shut down by close()
            raise StateError(f"The install store of {self._db.path} is closed") from err

    async def _read(self, work: Callable[[], _T]) -> _T:
        return await self._submit(work)

    async def _write(self, work: Callable[[], _T]) -> _T:
        # Submitted now (so in call order); shielded so a cancelled caller keeps the write.
        return await asyncio.shield(self._submit(work))

    async def record(self, install: Install) -> None:
        """Record (or replace) the install of ``install.rom_id``."""
        row = (
            install.rom_id,
            install.platform_slug,
            install.system,
            install.root,
            install.launch_path,
            install.size_bytes,
            json.dumps(list(install.launch_argv), ensure_ascii=False),
            install.installed_at,
        )
        await self._write(lambda: self._record_sync(row))

    def _record_sync(self, row: tuple[object, ...]) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO installs ({_INSTALL_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    async def get(self, rom_id: int) -> Install | None:
        """The install of a ROM, or None when it is not installed."""
        return await self._read(lambda: self.get_blocking(rom_id))

    def get_blocking(self, rom_id: int) -> Install | None:
        """:meth:`get` for a caller already off the event loop (it blocks on SQLite)."""
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_INSTALL_COLUMNS} FROM installs WHERE rom_id = ?", (rom_id,)
            ).fetchone()
        return None if row is None else _install(row)

    async def remove(self, rom_id: int) -> bool:
        """Forget a ROM's install (files are not touched); returns whether it was known."""
        return await self._write(lambda: self._delete_sync("installs", rom_id))

    def _delete_sync(self, table: str, rom_id: int) -> bool:
        with self._db.transaction() as conn:
            cursor = conn.execute(f"DELETE FROM {table} WHERE rom_id = ?", (rom_id,))
            return cursor.rowcount > 0

    async def list(self) -> builtins.list[Install]:
        """Every install, by ROM id."""
        return await self._read(self._list_sync)

    def _list_sync(self) -> builtins.list[Install]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_INSTALL_COLUMNS} FROM installs ORDER BY rom_id"
            ).fetchall()
        return [_install(row) for row in rows]

    async def set_download(
        self,
        rom_id: int,
        state: str,
        bytes_done: int = 0,
        bytes_total: int = 0,
        error: str = "",
    ) -> None:
        """Queue a ROM's download or update its progress (sizes in bytes).

        A newly queued ROM goes to the end of the queue; an update keeps its place.
        """
        row = (rom_id, state, bytes_done, bytes_total, error, self._now())
        await self._write(lambda: self._set_download_sync(row))

    def _set_download_sync(self, row: tuple[object, ...]) -> None:
        with self._db.transaction() as conn:
            conn.execute(_SET_DOWNLOAD, row)

    async def downloads(self) -> builtins.list[DownloadRecord]:
        """The download queue in queue order."""
        return await self._read(self._downloads_sync)

    def _downloads_sync(self) -> builtins.list[DownloadRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_DOWNLOAD_COLUMNS} FROM downloads ORDER BY position, rom_id"
            ).fetchall()
        return [_download(row) for row in rows]

    async def remove_download(self, rom_id: int) -> bool:
        """Take a ROM off the download queue; returns whether it was queued."""
        return await self._write(lambda: self._delete_sync("downloads", rom_id))

    async def close(self) -> None:
        """Wait for the calls already made (a cancelled caller's write too), then let the
        worker thread end; later calls raise ``StateError``. Call before closing the
        database. Idempotent."""
        try:
            await self._submit(lambda: None)  # runs after every earlier call
        except StateError:
            return  # already closed
        finally:
            self._worker.shutdown(wait=False)
