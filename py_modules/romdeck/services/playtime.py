"""Playtime: every play session recorded the moment its exit is known, delivered to RomM
exactly once, and totalled per game.

A session enters the outbox from the launcher's ``exited`` report
(:class:`PlaytimeSessionListener`, first among the launch listeners, so the row exists
before any save upload) or from the launcher's ``pending_sessions.jsonl`` when the
backend was down (:meth:`PlaytimeService.ingest_pending`; idempotent by rom_id +
start_time). :meth:`PlaytimeService.deliver` sends the queued rows in batches of at
most 100 with our device id: ``created``/``duplicate`` mark a row delivered, ``error``
sets it aside with RomM's reason (never resent), a 422 on a whole batch is split in
halves down to the one item RomM refuses, and a row RomM could never take (end not
after start) is refused locally without being sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest, parse_request
from romdeck.domain.models import Install
from romdeck.domain.play_sessions import (
    BatchRefused,
    DeliveryReport,
    GameTotal,
    NewSession,
    OutboxSession,
    ServerSession,
    batches,
    clock_offset,
    game_totals,
    sendable,
    session_from_exit,
    wire,
)
from romdeck.errors import InvalidInputError, NotFoundError, RomDeckError
from romdeck.services.playtime_protocols import (
    DeviceIds,
    PendingSessions,
    PlaySessionOutbox,
    PlaySessionServer,
    RomNames,
)
from romdeck.services.protocols import Clock

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlaytimeDeps:
    """What :class:`PlaytimeService` works with.

    ``connect`` gives the play-session API of the saved connection (raises
    ``NotConfiguredError``); ``devices`` our RomM device; ``names`` game names.
    """

    outbox: PlaySessionOutbox
    pending: PendingSessions
    connect: Callable[[], PlaySessionServer]
    devices: DeviceIds
    names: RomNames
    clock: Clock


@dataclass(frozen=True, slots=True)
class IngestReport:
    """One read of pending_sessions.jsonl: lines ``read``, rows ``new`` in the outbox,
    lines ``rejected`` (kept in pending_sessions.rejected.jsonl with the reason)."""

    read: int = 0
    new: int = 0
    rejected: int = 0


@dataclass
class _Run:
    delivered: int = 0
    refused: int = 0
    batches: int = 0


@dataclass
class _Background:
    task: asyncio.Task[None] | None = None
    again: bool = False
    last: DeliveryReport | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class PlaytimeService:
    """Records, delivers and totals play sessions (see the module docstring)."""

    def __init__(self, deps: PlaytimeDeps) -> None:
        self._deps = deps
        self._lock = asyncio.Lock()
        self._bg = _Background()

    @property
    def last_delivery(self) -> DeliveryReport | None:
        """The result of the last background delivery (``None`` before the first)."""
        return self._bg.last

    # ---- recording -----------------------------------------------------------------------
    async def record(self, session: NewSession) -> bool:
        """Put one finished session in the outbox; False when it was already there."""
        return await self._deps.outbox.record([session], self._deps.clock.now_iso()) > 0

    async def record_exit(self, request: ExitedRequest) -> bool:
        """Record the session an ``exited`` report describes. When the outbox cannot be
        written, the report goes to pending_sessions.jsonl instead (nothing is lost) and
        the outbox's error is raised."""
        session = session_from_exit(request.rom_id, request.at, request.seconds)
        try:
            return await self.record(session)
        except RomDeckError:
            await self._deps.pending.append(
                {"op": "exited", "rom_id": request.rom_id, "code": request.code,
                 "at": request.at, "seconds": request.seconds}
            )  # fmt: skip
            raise

    async def ingest_pending(self) -> IngestReport:
        """Move the launcher's pending_sessions.jsonl into the outbox (crash-safe: the file
        goes only after its rows are committed; a line read twice is one row)."""
        batch = await self._deps.pending.take()
        sessions: list[NewSession] = []
        rejected: list[tuple[str, str]] = []
        for line in batch.lines:
            try:
                sessions.append(_parse_line(line))
            except InvalidInputError as err:
                rejected.append((line, err.message))
        new = await self._deps.outbox.record(sessions, self._deps.clock.now_iso())
        await self._deps.pending.done(batch, rejected)
        if rejected:
            _log.warning("%d unusable line(s) in pending_sessions.jsonl set aside", len(rejected))
        return IngestReport(read=len(batch.lines), new=new, rejected=len(rejected))

    # ---- delivery ------------------------------------------------------------------------
    async def deliver(self) -> DeliveryReport:
        """Ingest the pending file, then send every queued session (see the module
        docstring). A server or state problem stops the run and is returned in
        ``error`` (the rows stay queued); it is never raised."""
        async with self._lock:
            run = _Run()
            try:
                await self.ingest_pending()
            except RomDeckError as err:  # the outbox's rows can still go
                _log.warning("pending_sessions.jsonl not read: %s", err.message)
            try:
                queued = await self._deps.outbox.queued()
                if queued:
                    await self._deliver(queued, run)
            except RomDeckError as err:
                left = await self._left()
                return DeliveryReport(
                    run.delivered, run.refused, left, run.batches, err.message, err.code.value
                )
            return DeliveryReport(run.delivered, run.refused, await self._left(), run.batches)

    async def _left(self) -> int:
        try:
            return len(await self._deps.outbox.queued())
        except RomDeckError:
            return -1

    async def _deliver(self, queued: Sequence[OutboxSession], run: _Run) -> None:
        bad = [(s.id, why) for s in queued if (why := sendable(s))]
        await self._deps.outbox.mark_refused(bad)
        run.refused += len(bad)
        ready = [s for s in queued if not sendable(s)]
        server = self._deps.connect()
        device = await self._deps.devices.device_id()
        for batch in batches(ready):
            device = await self._send(server, device, batch, run)

    async def _send(
        self, server: PlaySessionServer, device: str, batch: list[OutboxSession], run: _Run
    ) -> str:
        """Send one batch (split on a whole-batch 422); returns the device id in use."""
        await self._deps.outbox.note_attempt([s.id for s in batch], device)
        run.batches += 1
        try:
            answer = await server.ingest(device, [wire(s) for s in batch])
        except NotFoundError:
            replaced = await self._deps.devices.replace_lost(device)
            if replaced == device:
                raise
            device = replaced
            await self._deps.outbox.note_attempt([s.id for s in batch], device)
            answer = await server.ingest(device, [wire(s) for s in batch])
        if isinstance(answer, BatchRefused):
            if len(batch) == 1:
                await self._deps.outbox.mark_refused([(batch[0].id, answer.detail)])
                run.refused += 1
                return device
            middle = len(batch) // 2
            device = await self._send(server, device, batch[:middle], run)
            return await self._send(server, device, batch[middle:], run)
        delivered: list[tuple[int, int | None]] = []
        refused: list[tuple[int, str]] = []
        shifted: list[OutboxSession] = []
        now = self._deps.clock.now_iso()
        for result in answer.results:
            row = batch[result.index]
            if result.status in ("created", "duplicate"):
                delivered.append((row.id, result.id if result.status == "created" else None))
            elif offset := clock_offset(row, result, answer.server_date, now):
                shifted.append(replace(row, offset_s=offset))
            elif result.status == "error":
                refused.append((row.id, result.detail or "refused by RomM"))
        await self._deps.outbox.mark_delivered(delivered)
        await self._deps.outbox.mark_refused(refused)
        run.delivered += len(delivered)
        run.refused += len(refused)
        if shifted:  # our clock is ahead of RomM's: once more, at RomM's time
            await self._deps.outbox.set_offset([(s.id, s.offset_s) for s in shifted])
            _log.warning("this device's clock is %d s ahead of RomM's", -shifted[0].offset_s)
            device = await self._send(server, device, shifted, run)
        return device

    def deliver_soon(self) -> None:
        """Deliver in a background task (one at a time; asked again while one runs, it
        runs once more after). Its result is kept in :attr:`last_delivery` and logged."""
        if self._bg.task is not None and not self._bg.task.done():
            self._bg.again = True
            return
        task = asyncio.get_running_loop().create_task(self._background())
        self._bg.task = task
        self._bg.tasks.add(task)
        task.add_done_callback(self._bg.tasks.discard)

    async def _background(self) -> None:
        while True:
            self._bg.again = False
            report = await self.deliver()
            self._bg.last = report
            if report.error:
                _log.warning("play sessions: %d still queued: %s", report.queued, report.error)
            elif report.delivered or report.refused:
                _log.info(
                    "play sessions: %d delivered, %d refused, %d queued",
                    report.delivered, report.refused, report.queued,
                )  # fmt: skip
            if not self._bg.again:
                return

    async def settled(self) -> DeliveryReport | None:
        """Wait for the background delivery in progress (if any); its result."""
        while self._bg.task is not None and not self._bg.task.done():
            await asyncio.wait({self._bg.task})
        return self._bg.last

    async def close(self) -> None:
        """Cancel a background delivery (rows it had not finished stay queued)."""
        for task in list(self._bg.tasks):
            task.cancel()
        if self._bg.tasks:
            await asyncio.gather(*self._bg.tasks, return_exceptions=True)

    # ---- totals --------------------------------------------------------------------------
    async def totals(self, rom_id: int | None = None) -> list[GameTotal]:
        """Playtime per game (one game, or every game with a session), most recent first:
        our outbox plus RomM's sessions that are not ours. RomM unreachable (or not
        signed in): ours only, each total flagged ``offline``."""
        local = await self._deps.outbox.sessions(rom_id)
        server: list[ServerSession] = []
        offline = False
        try:
            server = await self._deps.connect().list_sessions(rom_id)
        except RomDeckError as err:
            _log.info("playtime without RomM's sessions: %s", err.message)
            offline = True
        ids = {s.rom_id for s in local} | {s.rom_id for s in server if s.rom_id is not None}
        if rom_id is not None:
            ids = {rom_id}
        names = {r.id: r.name for r in await self._deps.names.roms(platform_ids=(), rom_ids=ids)}
        totals = [
            game_totals(
                game,
                names.get(game) or f"ROM {game}",
                [s for s in local if s.rom_id == game],
                [s for s in server if s.rom_id == game],
                offline=offline,
            )
            for game in ids
        ]
        totals.sort(key=lambda t: (t.last_played_at or "", t.rom_id), reverse=True)
        return totals


def _parse_line(line: str) -> NewSession:
    """A pending_sessions.jsonl line (an ``exited`` request) as a session."""
    try:
        obj = json.loads(line)
    except ValueError:
        raise InvalidInputError("not JSON (a torn or damaged line)") from None
    request = parse_request(obj)
    if not isinstance(request, ExitedRequest):
        raise InvalidInputError("not an exited report")
    if not math.isfinite(request.seconds):
        raise InvalidInputError("'seconds' must be finite")
    return session_from_exit(request.rom_id, request.at, request.seconds)


class PlaytimeSessionListener:
    """The launcher's ``SessionListener`` for playtime: on exit, record the session
    (before any save upload: bootstrap puts this listener first), then deliver in the
    background."""

    def __init__(self, playtime: PlaytimeService) -> None:
        self._playtime = playtime

    async def session_started(self, request: StartedRequest, install: Install | None) -> None:
        """Nothing to record until the exit."""
        del request, install

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None:
        """Record the session, then start a delivery."""
        del install
        await self._playtime.record_exit(request)
        self._playtime.deliver_soon()
