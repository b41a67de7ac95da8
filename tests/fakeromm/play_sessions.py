"""Play sessions of the fake RomM server, with RomM's rules as recorded (API-NOTES §13).

- ``POST /api/play-sessions`` (``roms.user.write``): ``{"device_id"?, "sessions": [...]}``;
  an empty list gives 400 (``error_400_play_sessions_empty.json``); more than 100 items,
  a missing field or a negative ``duration_ms`` a FastAPI 422; one ``end_time`` not after
  its ``start_time`` (microseconds dropped first) refuses the WHOLE batch with 422
  (``error_422_play_session_end_before_start.json``). Per item: an ``end_time`` more than
  5 minutes after the server's clock is an ``error``; the same (user, device, rom_id,
  start_time) again is a ``duplicate``; an unknown ``rom_id`` is stored as ``null``. Results
  come errors first, then the rest by index (``play_sessions_ingest.json``), 201.
- ``GET /api/play-sessions?rom_id=&device_id=&limit=50&offset=0`` (``roms.user.read``): the
  caller's sessions, newest start first, times as ``...Z`` (``play_sessions_list.json``).

Not recorded, assumed: a ``device_id`` RomM does not know gives 404 (as ``/api/saves``
does). ``skew`` shifts the server's clock (seconds; the ingest reply's ``Date`` shows
it); ``refuse_starts`` (ISO start times,
whole seconds UTC) plays a validation rule RomDeck does not know: a batch holding one of
them is refused whole with 422.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakeromm.records import JSON

if TYPE_CHECKING:
    from fakeromm.server import FakeRommServer, Identity

_BY_SERVER: weakref.WeakKeyDictionary[FakeRommServer, FakePlaySessions] = (
    weakref.WeakKeyDictionary()
)
MAX_ITEMS = 100
FUTURE_LIMIT = timedelta(minutes=5)


def fake_play_sessions(server: FakeRommServer) -> FakePlaySessions:
    """The play-session state of a running fake server (for assertions)."""
    return _BY_SERVER[server]


def _detail(status: int, message: Any) -> web.Response:
    return web.json_response({"detail": message}, status=status)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


@dataclass
class SessionRow:
    """One stored play session."""

    id: int
    username: str
    device_id: str | None
    rom_id: int | None
    save_slot: str | None
    start_time: datetime
    end_time: datetime
    duration_ms: int
    created_at: datetime

    def render(self) -> JSON:
        return {
            "id": self.id, "user_id": 1, "device_id": self.device_id, "rom_id": self.rom_id,
            "sync_session_id": None, "save_slot": self.save_slot,
            "start_time": _z(self.start_time), "end_time": _z(self.end_time),
            "duration_ms": self.duration_ms, "created_at": _z(self.created_at),
            "updated_at": _z(self.created_at),
        }  # fmt: skip


@dataclass
class FakePlaySessions:
    """Stored sessions of one fake server, and every ingest request's item count."""

    server: FakeRommServer
    rows: dict[int, SessionRow] = field(default_factory=dict)
    batch_sizes: list[int] = field(default_factory=list)
    skew: float = 0.0
    refuse_starts: set[str] = field(default_factory=set)
    _next_id: int = 1

    @classmethod
    def install(cls, server: FakeRommServer, router: web.UrlDispatcher) -> FakePlaySessions:
        """Create the state for ``server`` and add its routes (the one-line hook in server.py)."""
        sessions = cls(server)
        _BY_SERVER[server] = sessions
        protect = server._protect  # pyright: ignore[reportPrivateUsage]
        router.add_route("POST", "/api/play-sessions", protect("roms.user.write", sessions.ingest))
        router.add_route("GET", "/api/play-sessions", protect("roms.user.read", sessions.list))
        return sessions

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skew)

    def _known_device(self, device_id: str) -> bool:
        from fakeromm.saves import fake_saves

        return device_id in fake_saves(self.server).devices

    async def ingest(self, request: web.Request) -> web.StreamResponse:
        identity: Identity = request["identity"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        items = body.get("sessions") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return _validation(["body", "sessions"], "missing", "Field required", body)
        if not items:
            return _detail(400, "Payload must contain at least one session")
        if len(items) > MAX_ITEMS:
            too_long = "List should have at most 100 items after validation"
            return _validation(["body", "sessions"], "too_long", too_long, None)
        assert isinstance(body, dict)
        device_id = body.get("device_id")
        if device_id is not None and not self._known_device(str(device_id)):
            return _detail(404, f"Device with ID {device_id} not found")
        parsed: list[tuple[int | None, str | None, datetime, datetime, int]] = []
        for index, item in enumerate(items):
            entry = _entry(index, item)
            if isinstance(entry, web.Response):
                return entry
            parsed.append(entry)
            if entry[2].isoformat() in self.refuse_starts:
                self.batch_sizes.append(len(items))
                return _validation(["body", "sessions", index], "value_error",
                                   "Value error, refused by the fake's knob", item)  # fmt: skip
        self.batch_sizes.append(len(items))
        errors: list[JSON] = []
        others: list[JSON] = []
        limit = self.now() + FUTURE_LIMIT
        for index, (rom_id, slot, start, end, duration) in enumerate(parsed):
            if end > limit:
                errors.append(_res(index, "error", None, "end_time is too far in the future"))
                continue
            if rom_id is not None and rom_id not in self.server.library.roms:
                rom_id = None
            if any(
                r.username == identity.username and r.device_id == device_id
                and r.rom_id == rom_id and r.start_time == start
                for r in self.rows.values()
            ):  # fmt: skip
                others.append(_res(index, "duplicate", None, None))
                continue
            row = SessionRow(self._next_id, identity.username, device_id, rom_id, slot,
                             start, end, duration, self.now())  # fmt: skip
            self.rows[row.id] = row
            self._next_id += 1
            others.append(_res(index, "created", row.id, None))
        created = sum(r["status"] == "created" for r in others)
        return web.json_response(
            {"results": errors + others, "created_count": created,
             "skipped_count": len(parsed) - created},
            status=201, headers={"Date": format_datetime(self.now(), usegmt=True)},
        )  # fmt: skip

    async def list(self, request: web.Request) -> web.StreamResponse:
        identity: Identity = request["identity"]
        query = request.query
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
            rom_id = int(query["rom_id"]) if "rom_id" in query else None
        except ValueError:
            return _validation(["query", "limit"], "int_parsing",
                               "Input should be a valid integer", None)  # fmt: skip
        device_id = query.get("device_id")
        rows = [
            r for r in self.rows.values()
            if r.username == identity.username
            and (rom_id is None or r.rom_id == rom_id)
            and (device_id is None or r.device_id == device_id)
        ]  # fmt: skip
        rows.sort(key=lambda r: r.start_time, reverse=True)
        return web.json_response([r.render() for r in rows[offset : offset + limit]])


def _res(index: int, status: str, row_id: int | None, detail: str | None) -> JSON:
    return {"index": index, "status": status, "id": row_id, "detail": detail}


def _validation(loc: list[Any], kind: str, msg: str, value: Any) -> web.Response:
    return _detail(422, [{"type": kind, "loc": loc, "msg": msg, "input": value}])


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _entry(
    index: int, item: object
) -> tuple[int | None, str | None, datetime, datetime, int] | web.Response:
    loc = ["body", "sessions", index]
    if not isinstance(item, dict):
        return _validation(loc, "model_attributes_type", "Input should be a valid dictionary", item)
    start, end = _time(item.get("start_time")), _time(item.get("end_time"))
    duration = item.get("duration_ms")
    if start is None or end is None:
        return _validation(loc, "datetime_parsing", "Input should be a valid datetime", item)
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        return _validation(loc, "greater_than_equal", "Input should be >= 0", item)
    if end <= start:
        return web.json_response(
            {"detail": [{"type": "value_error", "loc": loc,
                         "msg": "Value error, end_time must be after start_time",
                         "input": item, "ctx": {"error": {}}}]},
            status=422,
        )  # fmt: skip
    rom_id, slot = item.get("rom_id"), item.get("save_slot")
    return (
        rom_id if isinstance(rom_id, int) else None,
        slot if isinstance(slot, str) else None,
        start,
        end,
        duration,
    )
