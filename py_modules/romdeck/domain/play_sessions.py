"""Play sessions: from the launcher's exit report to what RomM's ``/api/play-sessions`` takes.

RomM (API-NOTES §13) drops microseconds, refuses a WHOLE batch with 422 when one
``end_time`` is not after its ``start_time``, takes 1 to 100 sessions per request,
and dedups on (user, device, rom_id, start_time). So a session is kept at whole-second
precision from the start: ``start_time`` is the exit time minus the measured seconds,
truncated to the second (the outbox key with ``rom_id``, equal to RomM's dedup key),
and ``end_time`` is the exit time truncated to the second but at least one second
after the start. A sub-second session is therefore sent with ``end_time = start + 1 s``
and its measured ``duration_ms`` (< 1000): RomM accepts it and it never sinks a batch.

RomM refuses an ``end_time`` more than 5 minutes past ITS clock. When it does so for a
session that has ended by our clock, this device's clock is ahead of the server's: the
row gets ``offset_s`` (the server's time minus ours, from the reply's ``Date``) and is
sent again, shifted. The row keeps its own times, so it stays one row whatever
re-ingestion happens; a session refused even when shifted is set aside.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from romdeck.errors import InvalidInputError

MAX_BATCH = 100
"""RomM takes at most this many sessions per ``POST /api/play-sessions``."""

FUTURE_REFUSAL = "too far in the future"
"""What RomM's per-item ``detail`` says of an ``end_time`` past its clock + 5 minutes."""

MIN_CLOCK_OFFSET_S = 60
"""A server clock this many seconds behind ours is worth shifting sessions for."""

SAVE_SLOT = "autosave"
"""The slot our saves use (domain/save_sync.AUTOSAVE_SLOT); sent as ``save_slot``."""


class SessionState(StrEnum):
    """Where an outbox row stands: waiting, accepted by RomM, or refused for good."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class NewSession:
    """A finished session to record: ``start_time``/``end_time`` ISO UTC at whole seconds
    (``2026-11-28T17:38:08+00:00``), ``duration_ms`` the measured length in milliseconds."""

    rom_id: int
    start_time: str
    end_time: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class OutboxSession:
    """One row of the play-session outbox (``play_sessions`` table).

    ``device_id``: the RomM device it was last sent with (``""`` never sent);
    ``refusal``: RomM's detail when ``state`` is refused; ``attempts``: sends tried;
    ``server_id``: RomM's id when it said ``created`` (``None`` for ``duplicate``);
    ``offset_s``: seconds added to both times when sent (RomM's clock is behind ours).
    """

    id: int
    rom_id: int
    start_time: str
    end_time: str
    duration_ms: int
    state: SessionState
    device_id: str = ""
    refusal: str = ""
    attempts: int = 0
    server_id: int | None = None
    recorded_at: str = ""
    offset_s: int = 0


@dataclass(frozen=True, slots=True)
class IngestResult:
    """RomM's answer for one sent session: ``index`` into the batch, ``status``
    ``created``/``duplicate``/``error``, its ``id`` when created, ``detail`` when refused."""

    index: int
    status: str
    id: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class IngestReply:
    """RomM's answer to one batch: the per-item ``results`` (by index) and its clock when
    it answered (``server_date``: the HTTP ``Date`` header, ``""`` when absent)."""

    results: tuple[IngestResult, ...]
    server_date: str = ""


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A claimed read of the launcher's pending_sessions.jsonl: its non-empty ``lines``
    (JSON text, unparsed) and each claim file's path and size in bytes when read."""

    lines: tuple[str, ...]
    claims: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class BatchRefused:
    """RomM refused a whole batch with 422 (``detail``: its explanation)."""

    detail: str


@dataclass(frozen=True, slots=True)
class ServerSession:
    """A play session as ``GET /api/play-sessions`` lists it (times ISO as RomM sends them)."""

    id: int
    rom_id: int | None
    device_id: str | None
    start_time: str
    end_time: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did: sessions ``delivered`` (created or duplicate),
    ``refused`` (set aside), ``queued`` (still waiting, -1 unknown), ``batches`` requests
    sent, ``error`` why it stopped (``""``: it did not) and that error's ``error_code``."""

    delivered: int = 0
    refused: int = 0
    queued: int = 0
    batches: int = 0
    error: str = ""
    error_code: str = ""


def _utc(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{text!r} is not an ISO-8601 time.") from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"{text!r} has no UTC offset.")
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def session_from_exit(rom_id: int, ended_at: str, seconds: float) -> NewSession:
    """The session the launcher's ``exited`` report describes (see the module docstring).

    ``ended_at``: ISO time with an offset; ``seconds``: measured length (>= 0, finite).
    The same report always gives the same session (the outbox key is stable).
    Raises ``InvalidInputError`` for a bad time, a negative or non-finite length.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInputError("A session's length must be finite and not negative.")
    end = _utc(ended_at)
    duration_ms = round(seconds * 1000)
    start = (end - timedelta(milliseconds=duration_ms)).replace(microsecond=0)
    end = max(end.replace(microsecond=0), start + timedelta(seconds=1))
    return NewSession(rom_id, _iso(start), _iso(end), duration_ms)


def sendable(session: OutboxSession) -> str:
    """``""`` when RomM can take the session, else why not (so it is never sent: one
    bad item must not get a whole batch refused with 422)."""
    try:
        start, end = _utc(session.start_time), _utc(session.end_time)
    except InvalidInputError as err:
        return err.message
    if end.replace(microsecond=0) <= start.replace(microsecond=0):
        return "end_time must be after start_time"
    if session.duration_ms < 0:
        return "duration_ms must not be negative"
    return ""


def _shifted(text: str, offset_s: int) -> str:
    if not offset_s:
        return text
    try:
        return _iso(_utc(text) + timedelta(seconds=offset_s))
    except InvalidInputError:
        return text


def sent_start(session: OutboxSession) -> str:
    """The ``start_time`` RomM gets (and keys its dedup on): ours plus ``offset_s``."""
    return _shifted(session.start_time, session.offset_s)


def wire(session: OutboxSession) -> dict[str, object]:
    """One item of the ``sessions`` array of ``POST /api/play-sessions``."""
    return {
        "rom_id": session.rom_id,
        "save_slot": SAVE_SLOT,
        "start_time": sent_start(session),
        "end_time": _shifted(session.end_time, session.offset_s),
        "duration_ms": session.duration_ms,
    }


def clock_offset(session: OutboxSession, result: IngestResult, server_date: str, now: str) -> int:
    """Seconds to shift ``session`` by so RomM takes it, or 0 when shifting cannot help.

    Non-zero only when RomM refused it as ending in the future, it has ended by our
    clock ``now``, it was not shifted yet, and the server's ``Date`` is at least
    :data:`MIN_CLOCK_OFFSET_S` behind ``now``.
    """
    if result.status != "error" or FUTURE_REFUSAL not in result.detail or session.offset_s:
        return 0
    try:
        server = parsedate_to_datetime(server_date).astimezone(UTC)
        ours, end = _utc(now), _utc(session.end_time)
    except (TypeError, ValueError, InvalidInputError):
        return 0
    offset = math.floor((server - ours).total_seconds())
    if end > ours + timedelta(minutes=5) or offset > -MIN_CLOCK_OFFSET_S:
        return 0
    return offset


def batches(
    sessions: Sequence[OutboxSession], size: int = MAX_BATCH
) -> Iterator[list[OutboxSession]]:
    """``sessions`` in order, in lists of at most ``size`` (1..100)."""
    size = max(1, min(size, MAX_BATCH))
    for first in range(0, len(sessions), size):
        yield list(sessions[first : first + size])


def same_start(a: str, b: str) -> bool:
    """Whether two ISO times name the same second (RomM's dedup precision)."""
    try:
        return _utc(a).replace(microsecond=0) == _utc(b).replace(microsecond=0)
    except InvalidInputError:
        return False


def start_key(text: str) -> str:
    """An ISO time as the canonical whole-second UTC string (``""`` when unreadable)."""
    try:
        return _iso(_utc(text))
    except InvalidInputError:
        return ""


@dataclass(frozen=True, slots=True)
class GameTotal:
    """Playtime of one game for the panel and CLI (seconds; times ISO UTC).

    ``local_seconds``: our recorded sessions (any state); ``server_seconds``: RomM's
    sessions of this game that are not ours (other devices and clients), so nothing
    counts twice; ``offline``: RomM could not be asked (server_seconds is 0 then).
    """

    rom_id: int
    name: str
    total_seconds: float
    local_seconds: float
    server_seconds: float
    sessions: int
    last_played_at: str | None
    queued: int
    refused: int
    offline: bool


def game_totals(
    rom_id: int,
    name: str,
    local: Sequence[OutboxSession],
    server: Sequence[ServerSession],
    *,
    offline: bool,
) -> GameTotal:
    """Sum one game's sessions: ours plus the server's that do not match one of ours
    (same RomM id, or same start second: RomM's dedup key)."""
    our_ids = {s.server_id for s in local if s.server_id is not None}
    our_starts = {start_key(sent_start(s)) for s in local}
    foreign = [
        s for s in server if s.id not in our_ids and start_key(s.start_time) not in our_starts
    ]
    local_ms = sum(s.duration_ms for s in local)
    server_ms = sum(max(0, s.duration_ms) for s in foreign)
    ends = [start_key(s.end_time) for s in local] + [start_key(s.end_time) for s in foreign]
    ends = [e for e in ends if e]
    return GameTotal(
        rom_id=rom_id,
        name=name,
        total_seconds=(local_ms + server_ms) / 1000,
        local_seconds=local_ms / 1000,
        server_seconds=server_ms / 1000,
        sessions=len(local) + len(foreign),
        last_played_at=max(ends) if ends else None,
        queued=sum(s.state is SessionState.QUEUED for s in local),
        refused=sum(s.state is SessionState.REFUSED for s in local),
        offline=offline,
    )
