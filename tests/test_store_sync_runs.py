"""SqliteSyncRunLog: sync runs in the state database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.sync_runs import SqliteSyncRunLog
from romdeck.errors import InvalidInputError, NotFoundError


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[SqliteSyncRunLog]:
    db = SqliteDatabase(tmp_path / "state.db")
    yield SqliteSyncRunLog(db)
    db.close()


async def test_there_is_no_last_run_before_the_first(runs: SqliteSyncRunLog) -> None:
    assert await runs.last() is None


async def test_a_started_run_is_the_last_one_and_is_running(runs: SqliteSyncRunLog) -> None:
    first = await runs.start("2024-05-01T12:00:00+00:00")
    second = await runs.start("2024-05-01T13:00:00+00:00")
    assert second > first
    assert await runs.last() == {
        "id": second,
        "started_at": "2024-05-01T13:00:00+00:00",
        "finished_at": None,
        "status": "running",
        "summary": {},
    }


async def test_a_finished_run_keeps_its_status_and_summary(runs: SqliteSyncRunLog) -> None:
    run_id = await runs.start("2024-05-01T12:00:00+00:00")
    summary = {"added": 3, "failures": ("cover 7",), "seconds": 1.5}
    await runs.finish(run_id, finished_at="2024-05-01T12:01:00+00:00", status="ok", summary=summary)
    last = await runs.last()
    assert last is not None
    assert last["status"] == "ok"
    assert last["finished_at"] == "2024-05-01T12:01:00+00:00"
    assert last["summary"] == {"added": 3, "failures": ["cover 7"], "seconds": 1.5}


async def test_finishing_an_unknown_run_raises_not_found(runs: SqliteSyncRunLog) -> None:
    with pytest.raises(NotFoundError):
        await runs.finish(41, finished_at="x", status="ok", summary={})


async def test_a_summary_that_is_not_json_is_refused(runs: SqliteSyncRunLog) -> None:
    run_id = await runs.start("2024-05-01T12:00:00+00:00")
    with pytest.raises(InvalidInputError):
        await runs.finish(run_id, finished_at="x", status="ok", summary={"bad": object()})
