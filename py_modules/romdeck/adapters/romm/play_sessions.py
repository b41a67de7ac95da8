"""RomM's play sessions over HTTP (``/api/play-sessions``, API-NOTES §13): the
``PlaySessionServer`` port.

``POST`` answers 201 with per-item results out of input order (matched by ``index``);
a 422 refuses the whole batch (one ``end_time`` not after its ``start_time``) and comes
back as :class:`BatchRefused`, not an error, so the caller can split the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from romdeck.adapters.romm.http import RetryPolicy, RommHttp, decode_json, describe
from romdeck.domain.play_sessions import BatchRefused, IngestReply, IngestResult, ServerSession
from romdeck.domain.settings import Connection
from romdeck.errors import BadResponseError, NotConfiguredError

TOKEN_REJECTED = (
    "The RomM server rejected RomDeck's API token (it was revoked or has expired). Sign in again."
)
PAGE = 100
"""Sessions asked for per ``GET /api/play-sessions`` page."""
MAX_PAGES = 100


def _result(item: object, where: str) -> IngestResult:
    if not isinstance(item, dict):
        raise BadResponseError(f"RomM sent a play-session result that is not an object ({where}).")
    try:
        server_id = item.get("id")
        return IngestResult(
            index=int(item["index"]),
            status=str(item["status"]),
            id=None if server_id is None else int(server_id),
            detail=str(item.get("detail") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponseError(
            f"RomM sent a play-session result without {exc} ({where})."
        ) from None


def _session(item: object, where: str) -> ServerSession:
    if not isinstance(item, dict):
        raise BadResponseError(f"RomM sent a play session that is not an object ({where}).")
    try:
        rom_id, device_id = item.get("rom_id"), item.get("device_id")
        return ServerSession(
            id=int(item["id"]),
            rom_id=None if rom_id is None else int(rom_id),
            device_id=None if device_id is None else str(device_id),
            start_time=str(item["start_time"]),
            end_time=str(item["end_time"]),
            duration_ms=int(item.get("duration_ms") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponseError(f"RomM sent a play session without {exc} ({where}).") from None


class AiohttpRommPlaySessions:
    """Play sessions of one RomM server on the caller's ``aiohttp.ClientSession``.

    ``connection`` gives the address, ``rmm_`` token, TLS and timeouts. Every method
    raises ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError``,
    ``MissingScopeError``, ``NotFoundError`` (an unknown device) or ``BadResponseError``;
    an empty token raises ``NotConfiguredError``.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        connection: Connection,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = RommHttp.for_connection(session, connection, retry)
        self._token = connection.token

    async def ingest(
        self, device_id: str, sessions: Sequence[dict[str, object]]
    ) -> IngestReply | BatchRefused:
        """``POST /api/play-sessions`` ``{"device_id", "sessions": [...]}`` (1 to 100 items,
        shaped by ``domain.play_sessions.wire``) → one result per item, sorted by index,
        and the reply's ``Date`` (the server's clock).

        A 422 returns :class:`BatchRefused`. A reply missing an item's result leaves
        that item out (the caller keeps it queued).
        """
        reply = await self._http.send(
            "POST", self._http.url("/api/play-sessions"),
            json_body={"device_id": device_id, "sessions": list(sessions)},
            bearer=self._bearer(), scope="roms.user.write", on_401=TOKEN_REJECTED,
            accept=(422,),
        )  # fmt: skip
        if reply.status == 422:
            return BatchRefused(describe(reply))
        data = await decode_json(reply, "POST /api/play-sessions")
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise BadResponseError("RomM's play-session answer has no results list.")
        parsed = [_result(item, f"results[{i}]") for i, item in enumerate(results)]
        kept = sorted((r for r in parsed if 0 <= r.index < len(sessions)), key=lambda r: r.index)
        return IngestReply(tuple(kept), reply.date)

    async def list_sessions(self, rom_id: int | None = None) -> list[ServerSession]:
        """``GET /api/play-sessions?rom_id=&limit=&offset=``, every page: the user's
        sessions (of one ROM when given), from every device and client."""
        found: list[ServerSession] = []
        for page in range(MAX_PAGES):
            params = [("limit", str(PAGE)), ("offset", str(page * PAGE))]
            if rom_id is not None:
                params.append(("rom_id", str(rom_id)))
            data = await self._http.json(
                "GET", "/api/play-sessions", params=params, bearer=self._bearer(),
                scope="roms.user.read", on_401=TOKEN_REJECTED,
            )  # fmt: skip
            if not isinstance(data, list):
                raise BadResponseError("RomM's play-session list is not a list.")
            found.extend(_session(item, f"play-sessions[{i}]") for i, item in enumerate(data))
            if len(data) < PAGE:
                break
        return found

    def _bearer(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token
