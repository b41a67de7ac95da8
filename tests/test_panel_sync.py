"""PanelSync's chunk protocol: one plan per sync, leased chunks, incremental commits.

Real SQLite registry and run log in a temp folder; the refresher is a stand-in port
that serves a fixed set of wanted shortcuts (or fails), and the clock is driven by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.registry import SqliteRegistry
from romdeck.adapters.store.sync_runs import SqliteSyncRunLog
from romdeck.domain.models import CatalogRefresh, Selection, ShortcutSpec
from romdeck.services.panel_sync import PANEL_USER, ChunkResult, PanelSync
from romdeck.services.protocols import ProgressSink, RommCatalogApi

LEASE = 120.0


def spec(rom_id: int, name: str = "") -> ShortcutSpec:
    return ShortcutSpec(
        rom_id=rom_id,
        app_name=name or f"Game {rom_id}",
        exe='"/plugin/bin/romdeck-launch"',
        start_dir='"/plugin/bin"',
        launch_options=f"romdeck:{rom_id}",
        tags=("RomM: SNES",),
    )


class HandClock:
    """Monotonic time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def now_iso(self) -> str:
        return "2026-12-01T00:00:00+00:00"

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class StubRefresher:
    """Serves ``desired`` as the refresh's outcome, or raises ``fail``."""

    desired: dict[int, ShortcutSpec] = field(default_factory=dict)
    fail: BaseException | None = None

    async def refresh(
        self,
        api: RommCatalogApi,
        selection: Selection,
        *,
        progress: ProgressSink = lambda _: None,
        cancel: asyncio.Event | None = None,
        unchanged_since: str | None = None,
        stamped: bool = False,
    ) -> CatalogRefresh:
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return CatalogRefresh({}, (), dict(self.desired), len(self.desired), 0)


@dataclass
class Env:
    tmp: Path
    clock: HandClock
    refresher: StubRefresher
    db: SqliteDatabase
    registry: SqliteRegistry
    runs: SqliteSyncRunLog

    def sync(self) -> PanelSync:
        return PanelSync(
            refresher=self.refresher,
            registry=self.registry,
            runs=self.runs,
            clock=self.clock,
            connect=lambda: object(),  # type: ignore[return-value]  # never called by the stub
            lease_seconds=LEASE,
        )

    def reopen(self) -> None:
        """A backend restart: a new database connection over the same file."""
        self.db.close()
        self.db = SqliteDatabase(self.tmp / "state.db")
        self.registry = SqliteRegistry(self.db)
        self.runs = SqliteSyncRunLog(self.db)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = SqliteDatabase(tmp_path / "state.db")
    desired = {i: spec(i) for i in range(1, 21)}
    e = Env(tmp_path, HandClock(), StubRefresher(desired), db, SqliteRegistry(db),
            SqliteSyncRunLog(db))  # fmt: skip
    yield e
    e.db.close()


async def started(sync: PanelSync) -> None:
    await sync.start(Selection(frozenset({1})))
    for _ in range(100):
        if not sync.state.running or sync.state.progress.step == "apply":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the refresh never finished")


def added(chunk_adds: tuple[ShortcutSpec, ...], base: int = 3_000_000_000) -> list[ChunkResult]:
    return [ChunkResult(rom_id=s.rom_id, appid=base + s.rom_id) for s in chunk_adds]


async def test_two_callers_never_get_the_same_adds_and_everything_lands_once(env: Env) -> None:
    sync = env.sync()
    await started(sync)
    first, second = sync.next_chunk(8), sync.next_chunk(8)
    ids_a = {s.rom_id for s in first.plan.add}
    ids_b = {s.rom_id for s in second.plan.add}
    assert len(ids_a) == len(ids_b) == 8 and not ids_a & ids_b
    assert first.lease_id and second.lease_id and first.lease_id != second.lease_id
    assert first.lease_seconds == LEASE
    # both report at once
    committed = await asyncio.gather(
        sync.report_chunk(second.lease_id, added(second.plan.add)),
        sync.report_chunk(first.lease_id, added(first.plan.add)),
    )
    assert [report.committed for report in committed] == [8, 8]
    last = sync.next_chunk(50)
    assert {s.rom_id for s in last.plan.add} == set(range(1, 21)) - ids_a - ids_b
    assert last.lease_id is not None
    await sync.report_chunk(last.lease_id, added(last.plan.add))
    entries = await env.registry.entries(PANEL_USER)
    assert sorted(entries) == list(range(1, 21))
    assert sync.state.running is False and sync.state.remaining == 0
    assert sync.state.summary is not None and sync.state.summary.added == 20
    run = await env.runs.last()
    assert run is not None and run["status"] == "ok"


async def test_when_everything_left_is_leased_a_caller_gets_an_empty_chunk(env: Env) -> None:
    sync = env.sync()
    await started(sync)
    taken = sync.next_chunk(100)
    assert len(taken.plan.add) == 20
    empty = sync.next_chunk(10)
    assert empty.lease_id is None and empty.plan.is_empty
    assert empty.remaining == 20  # leased, not done
    env.clock.now += LEASE - 1
    assert sync.next_chunk(10).lease_id is None  # not expired yet


async def test_an_expired_lease_is_handed_out_again_and_a_late_report_adds_no_duplicate(
    env: Env,
) -> None:
    sync = env.sync()
    await started(sync)
    stale = sync.next_chunk(5)  # the panel closes with this chunk in hand
    env.clock.now += LEASE + 1
    again = sync.next_chunk(5)
    assert [s.rom_id for s in again.plan.add] == [s.rom_id for s in stale.plan.add]
    assert again.lease_id is not None and stale.lease_id is not None
    report = await sync.report_chunk(again.lease_id, added(again.plan.add, base=3_100_000_000))
    assert report.committed == 5
    # the first caller comes back and reports what it did long ago
    late = await sync.report_chunk(stale.lease_id, added(stale.plan.add, base=3_200_000_000))
    assert late.committed == 0
    assert late.orphans == tuple(3_200_000_000 + s.rom_id for s in stale.plan.add)
    assert late.kept == ()
    entries = await env.registry.entries(PANEL_USER)
    assert len(entries) == 5
    assert {e.appid for e in entries.values()} == {3_100_000_000 + s.rom_id for s in again.plan.add}
    assert sync.state.remaining == 15
    assert sync.state.summary is None  # still running
    assert sync.state.progress.done == 5 and sync.state.progress.total == 20


async def test_a_late_report_before_the_rehand_commits_and_the_second_report_is_ignored(
    env: Env,
) -> None:
    sync = env.sync()
    await started(sync)
    stale = sync.next_chunk(3)
    env.clock.now += LEASE + 1
    again = sync.next_chunk(3)
    assert stale.lease_id and again.lease_id
    first = await sync.report_chunk(stale.lease_id, added(stale.plan.add, base=3_200_000_000))
    assert first.committed == 3 and first.orphans == ()
    second = await sync.report_chunk(again.lease_id, added(again.plan.add, base=3_100_000_000))
    assert second.committed == 0
    assert second.orphans == tuple(3_100_000_000 + s.rom_id for s in again.plan.add)
    entries = await env.registry.entries(PANEL_USER)
    assert {e.appid for e in entries.values()} == {3_200_000_000 + s.rom_id for s in stale.plan.add}


async def test_a_restart_mid_sync_plans_only_what_is_left(env: Env) -> None:
    sync = env.sync()
    await started(sync)
    done = sync.next_chunk(7)
    assert done.lease_id
    await sync.report_chunk(done.lease_id, added(done.plan.add))
    in_flight = sync.next_chunk(4)  # leased when the backend goes away
    await sync.close()
    env.reopen()
    restarted = env.sync()
    await started(restarted)
    assert restarted.state.remaining == 13
    rest = restarted.next_chunk(100)
    ids = {s.rom_id for s in rest.plan.add}
    assert ids == set(range(1, 21)) - {s.rom_id for s in done.plan.add}
    assert {s.rom_id for s in in_flight.plan.add} <= ids
    assert rest.lease_id
    await restarted.report_chunk(rest.lease_id, added(rest.plan.add))
    assert len(await env.registry.entries(PANEL_USER)) == 20
    assert restarted.state.running is False


async def test_a_renamed_rom_is_an_update_keeping_its_appid(env: Env) -> None:
    sync = env.sync()
    await started(sync)
    chunk = sync.next_chunk(100)
    assert chunk.lease_id
    await sync.report_chunk(chunk.lease_id, added(chunk.plan.add))
    env.refresher.desired[3] = spec(3, "Renamed")
    del env.refresher.desired[4]
    await started(sync)
    chunk = sync.next_chunk(100)
    assert [e.rom_id for e in chunk.plan.remove] == [4]
    [(old, new)] = chunk.plan.update
    assert old.appid == 3_000_000_003 and new.app_name == "Renamed"
    assert chunk.lease_id
    results = [ChunkResult(rom_id=4, removed=True), ChunkResult(rom_id=3)]
    assert (await sync.report_chunk(chunk.lease_id, results)).committed == 2
    entries = await env.registry.entries(PANEL_USER)
    assert 4 not in entries and entries[3].appid == 3_000_000_003
    assert entries[3].spec.app_name == "Renamed"


async def test_failed_results_end_the_run_as_partial_and_are_not_handed_out_again(
    env: Env,
) -> None:
    sync = env.sync()
    await started(sync)
    chunk = sync.next_chunk(100)
    assert chunk.lease_id
    results = [ChunkResult(rom_id=s.rom_id, error="Steam said no") for s in chunk.plan.add]
    assert (await sync.report_chunk(chunk.lease_id, results)).committed == 0
    assert sync.next_chunk(100).lease_id is None
    assert sync.state.running is False
    assert sync.state.summary is not None and len(sync.state.summary.failures) == 20
    run = await env.runs.last()
    assert run is not None and run["status"] == "partial"


async def test_an_unexpected_exception_in_the_refresh_ends_the_run_as_failed_internal(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.refresher.fail = RuntimeError("boom")
    sync = env.sync()
    with caplog.at_level(logging.ERROR):
        await started(sync)
    state = sync.state
    assert state.running is False
    assert state.error is not None and state.error.code.value == "internal"
    assert "RuntimeError" in state.error.message
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    run = await env.runs.last()
    assert run is not None and run["status"] == "failed"
    # the panel can start again
    env.refresher.fail = None
    await started(sync)
    assert sync.state.running and sync.state.remaining == 20


async def test_a_broken_registry_during_planning_ends_the_run_as_failed(env: Env) -> None:
    sync = env.sync()
    registry = env.registry

    async def broken(_user: str) -> dict[int, object]:
        raise KeyError("not ours")

    registry.entries = broken  # type: ignore[method-assign]
    await started(sync)
    assert sync.state.running is False
    assert sync.state.error is not None and sync.state.error.code.value == "internal"
    run = await env.runs.last()
    assert run is not None and run["status"] == "failed"


async def test_a_report_reaching_a_restarted_backend_before_it_plans_keeps_the_shortcuts(
    env: Env,
) -> None:
    sync = env.sync()
    await started(sync)
    in_flight = sync.next_chunk(4)
    await sync.close()
    env.reopen()
    restarted = env.sync()  # nothing planned yet: it cannot tell what the shortcuts are for
    assert in_flight.lease_id
    early = await restarted.report_chunk(in_flight.lease_id, added(in_flight.plan.add))
    assert early.committed == 0 and early.orphans == ()
    assert early.kept == tuple(s.rom_id for s in in_flight.plan.add)
    assert await env.registry.entries(PANEL_USER) == {}


async def test_a_shortcut_for_a_rom_no_longer_wanted_is_an_orphan_and_a_repeat_is_not(
    env: Env,
) -> None:
    sync = env.sync()
    await started(sync)
    chunk = sync.next_chunk(3)
    assert chunk.lease_id
    assert (await sync.report_chunk(chunk.lease_id, added(chunk.plan.add))).committed == 3
    repeat = await sync.report_chunk(chunk.lease_id, added(chunk.plan.add))
    assert repeat.committed == 0 and repeat.orphans == () and repeat.kept == ()
    unwanted = [ChunkResult(rom_id=999, appid=3_000_000_999)]
    assert (await sync.report_chunk("", unwanted)).orphans == (3_000_000_999,)
    failed = [ChunkResult(rom_id=998, appid=3_000_000_998, error="Steam said no")]
    assert (await sync.report_chunk("", failed)).orphans == ()
