"""FileSync records every run in the run log, also when something not ours breaks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.registry import SqliteRegistry
from romdeck.adapters.store.sync_runs import SqliteSyncRunLog
from romdeck.domain.models import Selection
from romdeck.domain.plan import ShortcutScan
from romdeck.errors import NotFoundError
from romdeck.services.file_sync import FileSync, FileSyncDeps
from test_panel_sync import HandClock, StubRefresher, spec


class NoShortcutsYet:
    """A user whose shortcuts.vdf holds nothing of ours (what a dry run reads)."""

    async def scan(self, steam_user: str) -> ShortcutScan:
        return ShortcutScan(frozenset(), ())


def build(tmp_path: Path, refresher: StubRefresher) -> tuple[FileSync, SqliteSyncRunLog]:
    db = SqliteDatabase(tmp_path / "state.db")
    runs = SqliteSyncRunLog(db)
    deps = FileSyncDeps(
        refresher=refresher,
        registry=SqliteRegistry(db),
        shortcuts=NoShortcutsYet(),  # type: ignore[arg-type]  # a dry run only reads
        grid=None,  # type: ignore[arg-type]
        steam=None,  # type: ignore[arg-type]
        clock=HandClock(),
        runs=runs,
    )
    return FileSync(deps), runs


async def run(sync: FileSync) -> object:
    return await sync.run(
        None,  # type: ignore[arg-type]  # the stub refresher never calls the server
        None,  # type: ignore[arg-type]
        Selection(frozenset({1})),
        steam_users=["12345678"],
        dry_run=True,
    )


async def test_a_dry_run_is_recorded(tmp_path: Path) -> None:
    sync, runs = build(tmp_path, StubRefresher({1: spec(1)}))
    await run(sync)
    last = await runs.last()
    assert last is not None and last["status"] == "dry-run"
    assert isinstance(last["summary"], dict) and last["summary"]["added"] == 1


async def test_an_unexpected_exception_is_logged_and_recorded_as_failed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sync, runs = build(tmp_path, StubRefresher(fail=ZeroDivisionError("boom")))
    with caplog.at_level(logging.ERROR), pytest.raises(ZeroDivisionError):
        await run(sync)
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    last = await runs.last()
    assert last is not None and last["status"] == "failed"
    assert last["summary"] == {"error": "Unexpected error: ZeroDivisionError"}


async def test_our_errors_are_recorded_with_their_message(tmp_path: Path) -> None:
    sync, runs = build(tmp_path, StubRefresher(fail=NotFoundError("No such platform.")))
    with pytest.raises(NotFoundError):
        await run(sync)
    last = await runs.last()
    assert last is not None and last["summary"] == {"error": "No such platform."}
