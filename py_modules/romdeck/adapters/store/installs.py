"""Installed ROMs and the download queue (``installs``, ``downloads`` tables in state.db).

The stdlib-only launcher reads ``installs(rom_id, launch_argv)`` read-only when the
backend is down: ``launch_argv`` is a JSON list of strings, the full command.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from romdeck.adapters.clock import SystemClock
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import Install
from romdeck.errors import StateError

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

    ``now`` gives ISO-8601 UTC strings for ``updated_at`` (default: the system clock).
    Every method raises ``StateError`` when the database fails.
    """

    def __init__(self, db: SqliteDatabase, *, now: Callable[[], str] | None = None) -> None:
        self._db = db
        self._now = now or SystemClock().now_iso

    def record(self, install: Install) -> None:
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
        with self._db.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO installs ({_INSTALL_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def get(self, rom_id: int) -> Install | None:
        """The install of a ROM, or None when it is not installed."""
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_INSTALL_COLUMNS} FROM installs WHERE rom_id = ?", (rom_id,)
            ).fetchone()
        return None if row is None else _install(row)

    def remove(self, rom_id: int) -> bool:
        """Forget a ROM's install (files are not touched); returns whether it was known."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM installs WHERE rom_id = ?", (rom_id,))
            return cursor.rowcount > 0

    def list(self) -> builtins.list[Install]:
        """Every install, by ROM id."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_INSTALL_COLUMNS} FROM installs ORDER BY rom_id"
            ).fetchall()
        return [_install(row) for row in rows]

    def set_download(
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
        with self._db.transaction() as conn:
            conn.execute(
                _SET_DOWNLOAD, (rom_id, state, bytes_done, bytes_total, error, self._now())
            )

    def downloads(self) -> builtins.list[DownloadRecord]:
        """The download queue in queue order."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_DOWNLOAD_COLUMNS} FROM downloads ORDER BY position, rom_id"
            ).fetchall()
        return [_download(row) for row in rows]

    def remove_download(self, rom_id: int) -> bool:
        """Take a ROM off the download queue; returns whether it was queued."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM downloads WHERE rom_id = ?", (rom_id,))
            return cursor.rowcount > 0
