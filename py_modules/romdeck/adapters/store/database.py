"""RomDeck's one SQLite state database (``state.db``): connection, pragmas, migrations.

The schema is versioned in ``PRAGMA user_version``: version ``n`` means the first ``n``
scripts of :data:`MIGRATIONS` have been applied. The stdlib-only launcher opens this
file read-only (``file:...?mode=ro``) and reads ``installs(rom_id, launch_argv)``, so
that table's columns must stay stable.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from romdeck.errors import StateError

MIGRATION_1 = """
CREATE TABLE catalog_roms (
    rom_id INTEGER PRIMARY KEY,
    platform_id INTEGER NOT NULL,
    platform_slug TEXT,
    name TEXT,
    fs_name TEXT,
    fs_name_no_tags TEXT,
    cover_path TEXT,
    updated_at TEXT,
    fs_size_bytes INTEGER,
    missing_from_fs INTEGER
);
CREATE INDEX catalog_roms_platform ON catalog_roms (platform_id);
CREATE TABLE catalog_watermarks (
    platform_id INTEGER PRIMARY KEY,
    updated_at TEXT NOT NULL
);
CREATE TABLE registry (
    steam_user TEXT,
    rom_id INTEGER,
    appid INTEGER NOT NULL,
    app_name TEXT,
    exe TEXT,
    start_dir TEXT,
    launch_options TEXT,
    tags TEXT,
    cover_path TEXT,
    cover_key TEXT,
    PRIMARY KEY (steam_user, rom_id)
);
CREATE INDEX registry_user_appid ON registry (steam_user, appid);
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT,
    finished_at TEXT,
    status TEXT,
    summary TEXT
);
"""

MIGRATION_2 = """
CREATE TABLE installs (
    rom_id INTEGER PRIMARY KEY,
    platform_slug TEXT,
    system TEXT,
    root TEXT,
    launch_path TEXT,
    size_bytes INTEGER,
    launch_argv TEXT,
    installed_at TEXT
);
CREATE TABLE downloads (
    rom_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    bytes_done INTEGER,
    bytes_total INTEGER,
    error TEXT,
    position INTEGER,
    updated_at TEXT
);
"""

MIGRATION_3 = """
CREATE TABLE firmware_files (
    bios_root TEXT NOT NULL,
    path TEXT NOT NULL,
    md5 TEXT NOT NULL,
    firmware_id INTEGER,
    platform_slug TEXT,
    placed_at TEXT,
    PRIMARY KEY (bios_root, path)
);
"""

MIGRATION_4 = """
CREATE TABLE save_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE save_baselines (
    rom_id INTEGER,
    file_name TEXT,
    content_hash TEXT NOT NULL,
    server_save_id INTEGER,
    synced_at TEXT,
    PRIMARY KEY (rom_id, file_name)
);
CREATE TABLE save_pending (
    rom_id INTEGER PRIMARY KEY,
    reason TEXT,
    since TEXT
);
CREATE TABLE save_conflicts (
    id INTEGER PRIMARY KEY,
    rom_id INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    local_path TEXT,
    local_hash TEXT,
    server_hash TEXT,
    server_save_id INTEGER,
    server_copy TEXT,
    created_at TEXT,
    resolution TEXT NOT NULL DEFAULT ''
);
CREATE TABLE save_backups (
    id INTEGER PRIMARY KEY,
    rom_id INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    original_path TEXT,
    backup_path TEXT,
    content_hash TEXT,
    size_bytes INTEGER,
    created_at TEXT,
    reason TEXT
);
"""

MIGRATION_5 = """
CREATE TABLE play_sessions (
    id INTEGER PRIMARY KEY,
    rom_id INTEGER NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    device_id TEXT NOT NULL DEFAULT '',
    refusal TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    server_id INTEGER,
    recorded_at TEXT,
    offset_s INTEGER NOT NULL DEFAULT 0,
    UNIQUE (rom_id, start_time)
);
CREATE INDEX play_sessions_state ON play_sessions (state);
"""

MIGRATIONS: tuple[str, ...] = (MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5)
"""Schema scripts in order; never edit a released one, append a new one."""

BUSY_TIMEOUT_MS = 5000


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (``;`` inside literals or triggers kept)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\r\n;"):
        statements.append(pending.strip())
    return statements


class SqliteDatabase:
    """One connection to ``state.db`` shared by the store adapters, safe across threads.

    Opening creates the file (and its folder, mode 0700) when missing, turns on WAL,
    ``busy_timeout`` (milliseconds) and foreign keys, then applies the pending
    ``migrations`` in order, each inside ``BEGIN IMMEDIATE``. Every use holds one lock,
    so services may call the adapters from ``asyncio.to_thread``.

    Raises:
        StateError: the file cannot be opened, is not an SQLite database, or has a
            schema newer than ``migrations`` (message names the path).
    """

    def __init__(
        self,
        path: Path,
        *,
        migrations: Sequence[str] = MIGRATIONS,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as err:
            raise StateError(f"Cannot create the folder of {self.path}: {err.strerror}") from err
        conn = self._connect(busy_timeout_ms)
        self._conn = conn
        try:
            self._migrate(migrations)
        except BaseException:
            self.close()
            raise

    @property
    def schema_version(self) -> int:
        """The applied schema version (``PRAGMA user_version``)."""
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a write transaction (``BEGIN IMMEDIATE``) for the block.

        Commits when the block ends, rolls back when it raises. SQLite errors become
        ``StateError``; other exceptions propagate after the rollback.
        """
        with self._lock, self._translate():
            conn = self._open_conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a read transaction (one consistent snapshot) for the block."""
        with self._lock, self._translate():
            conn = self._open_conn()
            conn.execute("BEGIN DEFERRED")
            try:
                yield conn
            finally:
                conn.rollback()

    def close(self) -> None:
        """Close the connection; later use raises ``StateError``. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as err:
            raise StateError(f"Cannot open the state database {self.path}: {err}") from err
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA foreign_keys = ON")
            check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if check != "ok":
                raise StateError(f"The state database {self.path} is corrupt: {check}")
            if str(mode).lower() != "wal":
                raise StateError(f"The state database {self.path} cannot use WAL (got {mode})")
        except sqlite3.Error as err:
            conn.close()
            raise StateError(
                f"The state database {self.path} is unreadable or corrupt: {err}"
            ) from err
        except StateError:
            conn.close()
            raise
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        return conn

    def _migrate(self, migrations: Sequence[str]) -> None:
        target = len(migrations)
        with self.read() as conn:
            self._checked_version(conn, target)
        for step, script in enumerate(migrations, start=1):
            with self.transaction() as tx:
                if self._checked_version(tx, target) >= step:
                    continue
                for statement in split_statements(script):
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {step}")

    def _checked_version(self, conn: sqlite3.Connection, target: int) -> int:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > target:
            raise StateError(
                f"The state database {self.path} has schema version {version}, "
                f"newer than this RomDeck knows ({target})"
            )
        return version

    def _open_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"The state database {self.path} is closed")
        return self._conn

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OverflowError) as err:
            raise StateError(f"State database {self.path}: {err}") from err
