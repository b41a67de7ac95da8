"""SqliteDatabase: opening, pragmas, migrations, transactions and concurrency on real files."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from romdeck.adapters.store.database import MIGRATIONS, SqliteDatabase, split_statements
from romdeck.errors import StateError


def _tables(db: SqliteDatabase) -> set[str]:
    with db.read() as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def test_an_empty_folder_gets_a_database_at_the_newest_schema(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "sub" / "state.db")
    assert db.schema_version == len(MIGRATIONS) == 3
    assert {"catalog_roms", "catalog_watermarks", "registry", "sync_runs"} <= _tables(db)
    assert {"installs", "downloads"} <= _tables(db)
    db.close()


def test_the_connection_uses_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    with db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()


def test_a_version_1_file_is_migrated_to_version_2_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    old = SqliteDatabase(path, migrations=MIGRATIONS[:1])
    assert old.schema_version == 1
    assert "installs" not in _tables(old)
    with old.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (7, '2024-01-01T00:00:00+00:00')")
    old.close()

    new = SqliteDatabase(path)
    assert new.schema_version == 3
    assert "installs" in _tables(new)
    with new.read() as conn:
        assert conn.execute("SELECT platform_id FROM catalog_watermarks").fetchall() == [(7,)]
    new.close()


def test_reopening_an_up_to_date_database_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteDatabase(path).close()
    db = SqliteDatabase(path)
    assert db.schema_version == 3
    db.close()


def test_a_database_from_a_newer_romdeck_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StateError, match="newer"):
        SqliteDatabase(path)


def test_a_file_that_is_not_a_database_raises_state_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not an sqlite file\n" * 200)
    with pytest.raises(StateError) as caught:
        SqliteDatabase(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes().startswith(b"this is not")


def test_a_folder_that_cannot_be_created_raises_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError):
        SqliteDatabase(blocker / "state.db")


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    broken = (*MIGRATIONS, "CREATE TABLE extra (x INTEGER); SELECT * FROM no_such_table;")
    with pytest.raises(StateError):
        SqliteDatabase(path, migrations=broken)
    db = SqliteDatabase(path)
    assert db.schema_version == 3
    assert "extra" not in _tables(db)
    db.close()


def test_a_transaction_that_raises_is_rolled_back(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (1, 'x')")
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM catalog_watermarks").fetchone()[0] == 0
    db.close()


def test_sql_errors_inside_a_transaction_become_state_errors(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    with pytest.raises(StateError), db.transaction() as conn:
        conn.execute("INSERT INTO nowhere VALUES (1)")
    db.close()


def test_using_a_closed_database_raises_state_error(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    db.close()
    db.close()
    with pytest.raises(StateError, match="closed"), db.read():
        pass


def test_a_reader_sees_the_last_commit_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer, reader = SqliteDatabase(path), SqliteDatabase(path)
    with writer.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (1, 'a')")
        with reader.read() as other:
            assert other.execute("SELECT COUNT(*) FROM catalog_watermarks").fetchone()[0] == 0
    with reader.read() as other:
        assert other.execute("SELECT COUNT(*) FROM catalog_watermarks").fetchone()[0] == 1
    writer.close()
    reader.close()


def test_a_second_writer_waits_for_the_first_and_then_commits(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    started = threading.Event()
    errors: list[BaseException] = []

    def increment() -> None:
        started.set()
        try:
            with second.transaction() as conn:
                conn.execute("UPDATE catalog_watermarks SET updated_at = updated_at || 'b'")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    with first.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (1, 'a')")
        thread = threading.Thread(target=increment)
        thread.start()
        started.wait()
    thread.join()
    assert errors == []
    with first.read() as conn:
        assert conn.execute("SELECT updated_at FROM catalog_watermarks").fetchone()[0] == "ab"
    first.close()
    second.close()


def test_a_writer_blocked_past_busy_timeout_gets_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = SqliteDatabase(path)
    second = SqliteDatabase(path, busy_timeout_ms=20)
    with first.transaction(), pytest.raises(StateError, match="locked"), second.transaction():
        pass
    with second.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (1, 'a')")
    first.close()
    second.close()


def test_one_database_object_is_safe_to_share_between_threads(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    with db.transaction() as conn:
        conn.execute("INSERT INTO catalog_watermarks VALUES (1, '')")

    def append(_: int) -> None:
        with db.transaction() as conn:
            conn.execute("UPDATE catalog_watermarks SET updated_at = updated_at || 'x'")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(200)))
    with db.read() as conn:
        assert (
            conn.execute("SELECT length(updated_at) FROM catalog_watermarks").fetchone()[0] == 200
        )
    db.close()


def test_split_statements_keeps_semicolons_inside_literals_and_triggers() -> None:
    script = """
    CREATE TABLE t (x TEXT);
    INSERT INTO t VALUES ('a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = x; END;
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert "'a;b'" in statements[1]
    assert statements[2].endswith("END;")
