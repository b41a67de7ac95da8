"""Playtime over the real bootstrap: fake RomM on loopback, real SQLite, the real pending file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from bootstrap import App, Paths, build_app
from fakeromm.play_sessions import FakePlaySessions, fake_play_sessions
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.files.pending_sessions import JsonlPendingSessions
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.play_sessions import SqlitePlaySessionOutbox
from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest
from romdeck.domain.models import Install
from romdeck.domain.play_sessions import NewSession, PendingBatch, SessionState
from romdeck.errors import StateError
from romdeck.services.launch import LaunchService
from romdeck.services.playtime import PlaytimeDeps, PlaytimeService, PlaytimeSessionListener

ROM = 1


@pytest_asyncio.fixture
async def deck(tmp_path: Path, fake_romm: FakeRommServer) -> AsyncIterator[App]:
    app = build_app(
        Paths(tmp_path / "data", tmp_path / "data"), session=aiohttp.ClientSession(), home=tmp_path
    )
    await app.account.login_password(fake_romm.url, "admin", "hunter2")
    try:
        yield app
    finally:
        await app.close()


def server(fake: FakeRommServer) -> FakePlaySessions:
    return fake_play_sessions(fake)


def posts(fake: FakeRommServer) -> int:
    return sum(1 for m, path, _ in fake.requests if m == "POST" and "play-sessions" in path)


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="milliseconds")


async def exit_report(app: App, rom_id: int, at: str, seconds: float) -> None:
    reply = await app.launch.handle(
        {"op": "exited", "rom_id": rom_id, "code": 0, "at": at, "seconds": seconds}
    )
    assert reply == {"ok": True}


def session(hours_ago: float, minutes: float, rom_id: int = ROM) -> NewSession:
    end = (datetime.now(UTC) - timedelta(hours=hours_ago)).replace(microsecond=0)
    start = end - timedelta(minutes=minutes)
    return NewSession(rom_id, start.isoformat(), end.isoformat(), int(minutes * 60_000))


async def states(app: App) -> list[tuple[SessionState, str]]:
    return [(s.state, s.refusal) for s in await app.playtime._deps.outbox.sessions()]  # pyright: ignore[reportPrivateUsage]


async def test_sessions_queued_offline_are_delivered_exactly_once(
    deck: App, fake_romm: FakeRommServer
) -> None:
    fake_romm.down = True
    await exit_report(deck, ROM, ago(2), 1800.5)
    await exit_report(deck, 2, ago(1), 600.0)
    report = await deck.playtime.settled()
    assert report is not None and report.error and report.queued == 2
    assert await states(deck) == [(SessionState.QUEUED, "")] * 2

    fake_romm.down = False
    delivered = await deck.playtime.deliver()
    assert (delivered.delivered, delivered.queued, delivered.error) == (2, 0, "")
    assert len(server(fake_romm).rows) == 2
    sent = posts(fake_romm)
    assert (await deck.playtime.deliver()).batches == 0
    assert posts(fake_romm) == sent  # nothing is sent again

    # RomM stored a batch but its answer was lost (process killed before we committed it):
    with deck.db.transaction() as tx:
        tx.execute("UPDATE play_sessions SET state = 'queued'")
    again = await deck.playtime.deliver()
    assert (again.delivered, again.refused) == (2, 0)  # 'duplicate' counts as delivered
    assert len(server(fake_romm).rows) == 2
    assert await states(deck) == [(SessionState.DELIVERED, "")] * 2


async def test_a_refused_item_is_set_aside_with_its_reason_and_never_resent(
    deck: App, fake_romm: FakeRommServer
) -> None:
    await deck.playtime.record(session(2, 30))
    await deck.playtime.record(session(-1, 10))  # ends an hour from now: RomM refuses it
    report = await deck.playtime.deliver()
    assert (report.delivered, report.refused, report.queued) == (1, 1, 0)
    assert await states(deck) == [
        (SessionState.DELIVERED, ""),
        (SessionState.REFUSED, "end_time is too far in the future"),
    ]
    sent = posts(fake_romm)
    assert (await deck.playtime.deliver()).batches == 0
    assert posts(fake_romm) == sent
    [total] = await deck.playtime.totals(ROM)
    assert (total.refused, total.queued, total.local_seconds) == (1, 0, 40 * 60)


async def test_a_sub_second_session_goes_with_its_batch_and_a_damaged_row_is_never_sent(
    deck: App, fake_romm: FakeRommServer
) -> None:
    at = datetime.now(UTC).replace(microsecond=900_000).isoformat()
    await exit_report(deck, ROM, at, 0.3)  # same second after truncation
    await exit_report(deck, ROM, ago(3), 120.0)
    await deck.playtime.settled()
    with deck.db.transaction() as tx:  # a row RomM would refuse whole (end not after start)
        tx.execute(
            "INSERT INTO play_sessions (rom_id, start_time, end_time, duration_ms, state) "
            "VALUES (3, '2026-11-28T10:00:00+00:00', '2026-11-28T10:00:00+00:00', 0, 'queued')"
        )
    await deck.playtime.record(session(5, 2))  # goes in the same batch as the damaged row
    sent = posts(fake_romm)
    report = await deck.playtime.deliver()
    assert posts(fake_romm) == sent + 1  # one request, and it was not refused whole
    assert report.error == "" and report.queued == 0
    rows = server(fake_romm).rows.values()
    assert sorted(r.duration_ms for r in rows) == [300, 120_000, 120_000]
    assert all(r.end_time > r.start_time for r in rows)
    assert 3 not in {r.rom_id for r in rows}
    assert (SessionState.REFUSED, "end_time must be after start_time") in await states(deck)


async def test_a_batch_refused_whole_is_split_until_only_the_bad_item_is_left(
    deck: App, fake_romm: FakeRommServer
) -> None:
    for hours in range(7):
        await deck.playtime.record(session(hours + 1, 5))
    bad = session(4, 5)
    server(fake_romm).refuse_starts.add(bad.start_time)
    report = await deck.playtime.deliver()
    assert (report.delivered, report.refused, report.queued) == (6, 1, 0)
    assert len(server(fake_romm).rows) == 6
    refused = [s for s in await deck.playtime._deps.outbox.sessions() if s.refusal]  # pyright: ignore[reportPrivateUsage]
    assert [s.start_time for s in refused] == [bad.start_time]
    assert "refused by the fake's knob" in refused[0].refusal
    assert max(server(fake_romm).batch_sizes) == 7


async def test_250_sessions_are_sent_as_100_100_and_50(
    deck: App, fake_romm: FakeRommServer
) -> None:
    for n in range(250):
        await deck.playtime.record(session(n + 1, 1))
    report = await deck.playtime.deliver()
    assert (report.delivered, report.batches) == (250, 3)
    assert server(fake_romm).batch_sizes == [100, 100, 50]
    assert len(server(fake_romm).rows) == 250


def pending_line(rom_id: int, at: str, seconds: float) -> str:
    return json.dumps({"op": "exited", "rom_id": rom_id, "code": 0, "at": at, "seconds": seconds})


class KilledBeforeTruncate(JsonlPendingSessions):
    """Commits happen, then the process 'dies': the claimed file is never removed."""

    async def done(self, batch: PendingBatch, rejected: list[tuple[str, str]]) -> None:
        del batch, rejected


async def test_the_pending_file_is_ingested_once_even_twice_or_killed_between_commit_and_truncate(
    deck: App, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    lines = [
        pending_line(ROM, ago(5), 60),
        pending_line(2, ago(4), 61),
        pending_line(ROM, ago(3), 62),
    ]
    torn = pending_line(ROM, ago(2), 63)[:25]
    (data / "pending_sessions.jsonl").write_text("\n".join([*lines, lines[0]]) + "\n" + torn)
    outbox = SqlitePlaySessionOutbox(deck.db)
    killed = PlaytimeService(PlaytimeDeps(
        outbox=outbox, pending=KilledBeforeTruncate(data), connect=deck.playtime._deps.connect,  # pyright: ignore[reportPrivateUsage]
        devices=deck.devices, names=deck.catalog, clock=deck.clock,
    ))  # fmt: skip
    first = await killed.ingest_pending()
    assert (first.read, first.new, first.rejected) == (5, 3, 1)
    assert len(await outbox.sessions()) == 3
    assert list(data.glob("pending_sessions.jsonl.*.claimed"))  # left behind by the 'kill'

    (data / "pending_sessions.jsonl").write_text(pending_line(ROM, ago(1), 64) + "\n")
    again = await deck.playtime.ingest_pending()
    assert (again.new, again.rejected) == (1, 1)
    assert again.read == 6  # the old claim and the new file
    assert sorted(s.duration_ms for s in await outbox.sessions()) == [60000, 61000, 62000, 64000]
    assert not list(data.glob("pending_sessions.jsonl*"))
    rejected = (data / "pending_sessions.rejected.jsonl").read_text().splitlines()
    assert json.loads(rejected[-1])["line"] == torn  # kept with its reason, not lost
    assert (await deck.playtime.ingest_pending()).read == 0


class BlockingSaves:
    """A save listener that hangs in its upload (the launcher gets killed meanwhile)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def session_started(self, request: StartedRequest, install: Install | None) -> None:
        del request, install

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None:
        del request, install
        self.entered.set()
        await asyncio.Event().wait()


async def test_a_launcher_killed_during_the_post_exit_sync_loses_no_session(
    deck: App, tmp_path: Path
) -> None:
    assert isinstance(deck.launch._listeners[0], PlaytimeSessionListener)  # pyright: ignore[reportPrivateUsage]
    saves = BlockingSaves()
    launch = LaunchService(
        installs=deck.installs, downloads=deck.downloads, probe=deck.downloads,  # pyright: ignore[reportArgumentType]
        target=deck.play_target, listeners=[PlaytimeSessionListener(deck.playtime), saves],
    )  # fmt: skip
    request = {"op": "exited", "rom_id": ROM, "code": 0, "at": ago(0), "seconds": 95.0}
    reply = asyncio.ensure_future(launch.handle(request))
    await asyncio.wait_for(saves.entered.wait(), 5)
    other = SqliteDatabase(tmp_path / "data" / "state.db")  # what another process sees
    try:
        with other.read() as conn:
            rows = conn.execute("SELECT rom_id, duration_ms, state FROM play_sessions").fetchall()
    finally:
        other.close()
    assert rows == [(ROM, 95_000, "queued")]
    reply.cancel()


async def test_a_device_romm_lost_is_registered_again_and_the_sessions_still_go(
    deck: App, fake_romm: FakeRommServer
) -> None:
    await deck.playtime.record(session(3, 10))
    assert (await deck.playtime.deliver()).delivered == 1
    first = await deck.devices.device_id()
    assert fake_saves(fake_romm).devices.pop(first)
    await deck.playtime.record(session(2, 10))
    report = await deck.playtime.deliver()
    assert (report.delivered, report.error) == (1, "")
    second = await deck.devices.device_id()
    assert second != first
    assert {r.device_id for r in server(fake_romm).rows.values()} == {first, second}
    assert len(fake_saves(fake_romm).devices) == 1


async def test_totals_are_ours_plus_the_other_devices_and_ours_only_when_offline(
    deck: App, fake_romm: FakeRommServer
) -> None:
    await deck.playtime.record(session(5, 30))
    await deck.playtime.record(session(4, 15))
    await deck.playtime.deliver()
    auth = aiohttp.BasicAuth("admin", "hunter2")
    other = {"rom_id": ROM, "start_time": "2026-11-27T20:38:08Z",
             "end_time": "2026-11-27T21:23:08Z", "duration_ms": 2_700_000}  # fmt: skip
    url = f"{fake_romm.url}/api/play-sessions"
    async with (
        aiohttp.ClientSession(auth=auth) as http,
        http.post(url, json={"sessions": [other]}) as answer,
    ):
        assert answer.status == 201
    [total] = await deck.playtime.totals(ROM)
    assert (total.local_seconds, total.server_seconds, total.total_seconds) == (2700, 2700, 5400)
    assert total.sessions == 3 and total.offline is False and total.name
    assert total.last_played_at is not None and total.last_played_at > "2026-11-28"
    fake_romm.down = True
    [offline] = await deck.playtime.totals(ROM)
    assert (offline.total_seconds, offline.offline, offline.sessions) == (2700, True, 2)
    assert [t.rom_id for t in await deck.playtime.totals()] == [ROM]


class BrokenOutbox(SqlitePlaySessionOutbox):
    async def record(self, sessions: Any, recorded_at: str) -> int:
        raise StateError("disk trouble")


async def test_a_session_the_outbox_cannot_take_is_kept_in_the_pending_file(
    deck: App, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    broken = PlaytimeService(PlaytimeDeps(
        outbox=BrokenOutbox(deck.db), pending=JsonlPendingSessions(data),
        connect=deck.playtime._deps.connect, devices=deck.devices, names=deck.catalog,  # pyright: ignore[reportPrivateUsage]
        clock=deck.clock,
    ))  # fmt: skip
    launch = LaunchService(
        installs=deck.installs, downloads=deck.downloads, probe=deck.downloads,  # pyright: ignore[reportArgumentType]
        target=deck.play_target, listeners=[PlaytimeSessionListener(broken)],
    )  # fmt: skip
    at = ago(1)
    await launch.handle({"op": "exited", "rom_id": ROM, "code": 0, "at": at, "seconds": 42.0})
    kept = (data / "pending_sessions.jsonl").read_text().splitlines()
    assert [json.loads(line)["at"] for line in kept] == [at]
    assert (await deck.playtime.ingest_pending()).new == 1


async def test_a_pending_file_the_outbox_cannot_take_stays_until_a_later_run_takes_it(
    deck: App, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "pending_sessions.jsonl").write_text(pending_line(ROM, ago(2), 30) + "\n")
    broken = PlaytimeService(PlaytimeDeps(
        outbox=BrokenOutbox(deck.db), pending=JsonlPendingSessions(data),
        connect=deck.playtime._deps.connect, devices=deck.devices, names=deck.catalog,  # pyright: ignore[reportPrivateUsage]
        clock=deck.clock,
    ))  # fmt: skip
    try:
        await broken.ingest_pending()
    except StateError:
        pass
    else:
        raise AssertionError("the broken outbox did not fail")
    assert list(data.glob("pending_sessions.jsonl*"))  # nothing removed before the commit
    assert (await deck.playtime.ingest_pending()).new == 1


def append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


async def test_a_line_the_launcher_adds_to_a_claimed_file_is_read_next_time(tmp_path: Path) -> None:
    pending = JsonlPendingSessions(tmp_path)
    pending.path.write_text(pending_line(ROM, ago(2), 30) + "\n")
    batch = await pending.take()
    assert len(batch.lines) == 1
    [(claim, _)] = batch.claims
    late = pending_line(ROM, ago(1), 31) + "\n"  # from a launcher that opened it before the rename
    await asyncio.to_thread(append, Path(claim), late)
    await pending.done(batch, [])
    again = await pending.take()
    assert len(again.lines) == 2
    await pending.done(again, [])
    assert not await asyncio.to_thread(lambda: list(tmp_path.iterdir()))


async def test_with_this_devices_clock_an_hour_ahead_of_romms_sessions_still_arrive_once(
    deck: App, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    server(fake_romm).skew = -3600  # RomM's clock an hour behind ours
    await exit_report(deck, ROM, ago(0.2), 300.0)  # ended 12 min ago by our clock
    await deck.playtime.record(session(-1, 5))  # ends an hour from now even by our clock
    await deck.playtime.settled()
    report = await deck.playtime.deliver()
    assert (report.queued, report.error) == (0, "")
    [row] = server(fake_romm).rows.values()
    [ours, future] = await deck.playtime._deps.outbox.sessions()  # pyright: ignore[reportPrivateUsage]
    assert ours.state is SessionState.DELIVERED and -3601 <= ours.offset_s <= -3599
    start = datetime.fromisoformat(ours.start_time) + timedelta(seconds=ours.offset_s)
    assert row.start_time == start and row.duration_ms == 300_000
    assert future.state is SessionState.REFUSED and "future" in future.refusal

    with deck.db.transaction() as tx:  # sent again (an answer lost): still one session
        tx.execute("UPDATE play_sessions SET state = 'queued' WHERE id = ?", (ours.id,))
    assert (await deck.playtime.deliver()).delivered == 1
    (tmp_path / "data" / "pending_sessions.jsonl").write_text(  # the launcher's copy too
        pending_line(ROM, datetime.fromisoformat(ours.end_time).isoformat(), 300.0) + "\n"
    )
    assert (await deck.playtime.ingest_pending()).new == 0
    assert len(server(fake_romm).rows) == 1
    [total] = await deck.playtime.totals(ROM)
    assert (total.local_seconds, total.server_seconds) == (300 + 300, 0)
