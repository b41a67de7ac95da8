"""The launcher ↔ backend protocol over the unix socket ``<data dir>/launch.sock``.

Wire format: one JSON object per line (UTF-8, ``\\n``-terminated), one request and one
reply per connection. ``bin/romdeck-launch`` is the client (stdlib only, so it mirrors
these shapes by hand); ``adapters/launch_socket.py`` is the server.

Requests:
    ``{"op": "resolve", "rom_id": N}``
    ``{"op": "started", "rom_id": N, "pid": P, "at": ISO}``
    ``{"op": "exited", "rom_id": N, "code": C, "at": ISO, "seconds": S}``
Replies: :class:`InstalledReply`, :class:`QueuedReply` (resolve), :class:`AckReply`
(started, exited) or :class:`ErrorReply` (any).

``at`` is an ISO-8601 time with an offset (the launcher sends UTC); ``seconds`` is the
session's wall-clock length; ``code`` is the emulator's exit status (128 + signal when
it was killed). When the backend is down, the launcher appends each finished session
to ``<data dir>/pending_sessions.jsonl``: one ``exited`` request per line, which
:func:`parse_request` accepts as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypedDict

from romdeck.errors import InvalidInputError

LAUNCH_OPTION_PREFIX = "romdeck:"
"""Steam launch options of a RomDeck shortcut: ``romdeck:<rom id>``."""

MAX_REQUEST_BYTES = 64 * 1024
"""Largest request line the server reads, newline included."""

_MAX_ID = 2**63 - 1


class Op(StrEnum):
    """The request kinds."""

    RESOLVE = "resolve"
    STARTED = "started"
    EXITED = "exited"


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    """Asks how to launch ``rom_id``; the backend may sync saves before it answers."""

    rom_id: int


@dataclass(frozen=True, slots=True)
class StartedRequest:
    """The emulator of ``rom_id`` started as process ``pid`` at ``at`` (ISO, with offset)."""

    rom_id: int
    pid: int
    at: str


@dataclass(frozen=True, slots=True)
class ExitedRequest:
    """The emulator of ``rom_id`` exited with ``code`` at ``at`` after ``seconds`` (>= 0)."""

    rom_id: int
    code: int
    at: str
    seconds: float


Request = ResolveRequest | StartedRequest | ExitedRequest


class ErrorBody(TypedDict):
    """``code`` is an :class:`romdeck.errors.ErrorCode` value; ``message`` is for the user."""

    code: str
    message: str


class ErrorReply(TypedDict):
    ok: Literal[False]
    error: ErrorBody


class AckReply(TypedDict):
    ok: Literal[True]


class InstalledReply(TypedDict):
    """Run ``argv`` (no shell) in ``cwd`` (``None``: inherit) with ``env`` added."""

    ok: Literal[True]
    installed: Literal[True]
    argv: list[str]
    cwd: str | None
    env: dict[str, str]


class QueuedReply(TypedDict):
    """Not installed: a download was queued; the launcher shows ``message`` and exits 3."""

    ok: Literal[True]
    installed: Literal[False]
    queued: Literal[True]
    message: str


Reply = ErrorReply | AckReply | InstalledReply | QueuedReply


def parse_request(obj: object) -> Request:
    """Validate a decoded JSON request. Unknown extra keys are ignored.

    Raises:
        InvalidInputError: not an object, unknown ``op``, a missing field or one of the
            wrong type (``rom_id``/``pid`` positive ints, ``code`` int, ``at`` ISO time
            with an offset, ``seconds`` finite and >= 0; booleans are not numbers).
    """
    if not isinstance(obj, dict):
        raise InvalidInputError("A launch request must be a JSON object.")
    op = obj.get("op")
    rom_id = _positive_int(obj, "rom_id")
    if op == Op.RESOLVE:
        return ResolveRequest(rom_id=rom_id)
    if op == Op.STARTED:
        return StartedRequest(rom_id=rom_id, pid=_positive_int(obj, "pid"), at=_iso_time(obj))
    if op == Op.EXITED:
        code = obj.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise InvalidInputError("'code' must be an integer.")
        return ExitedRequest(rom_id=rom_id, code=code, at=_iso_time(obj), seconds=_seconds(obj))
    raise InvalidInputError(f"Unknown launch request op {op!r}.")


def parse_launch_option(text: str) -> int:
    """``"romdeck:123"`` → ``123``.

    Raises:
        InvalidInputError: no ``romdeck:`` prefix, or the id is not a positive decimal.
    """
    if not text.startswith(LAUNCH_OPTION_PREFIX):
        raise InvalidInputError(f"{text!r} is not a RomDeck launch option (romdeck:<id>).")
    digits = text[len(LAUNCH_OPTION_PREFIX) :]
    if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= _MAX_ID:
        raise InvalidInputError(f"{text!r} does not hold a valid ROM id.")
    return int(digits)


def launch_option(rom_id: int) -> str:
    """The launch options a shortcut for ``rom_id`` carries: ``romdeck:<id>``."""
    return f"{LAUNCH_OPTION_PREFIX}{rom_id}"


def installed_reply(
    argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None
) -> InstalledReply:
    """Reply to ``resolve`` for an installed ROM.

    Raises:
        InvalidInputError: ``argv`` is empty or holds an empty string or a NUL.
    """
    if not argv or not argv[0] or any("\0" in arg for arg in argv):
        raise InvalidInputError("A launch command needs a program and no NUL characters.")
    return {"ok": True, "installed": True, "argv": list(argv), "cwd": cwd, "env": dict(env or {})}


def queued_reply(name: str) -> QueuedReply:
    """Reply to ``resolve`` when ROM ``name`` is not installed and its download was queued."""
    return {
        "ok": True,
        "installed": False,
        "queued": True,
        "message": f"Downloading {name} — press Play again when it finishes",
    }


def ack_reply() -> AckReply:
    """Reply to ``started`` and ``exited``."""
    return {"ok": True}


def error_reply(code: str, message: str) -> ErrorReply:
    """The one failure shape: ``{"ok": false, "error": {"code", "message"}}``."""
    return {"ok": False, "error": {"code": str(code), "message": message}}


def _positive_int(obj: dict[object, object], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
        raise InvalidInputError(f"{key!r} must be a positive integer.")
    return value


def _iso_time(obj: dict[object, object]) -> str:
    value = obj.get("at")
    problem = InvalidInputError("'at' must be an ISO-8601 time with an offset.")
    if not isinstance(value, str):
        raise problem
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise problem from None
    if parsed.tzinfo is None:
        raise problem
    return value


def _seconds(obj: dict[object, object]) -> float:
    value = obj.get("seconds")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInputError("'seconds' must be a number.")
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError("'seconds' must be finite and not negative.")
    return float(value)
