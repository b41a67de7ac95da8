"""RomM's save states over HTTP (``/api/states``): the ``StateServer`` port.

States have no slots, devices or 409s on RomM (API-NOTES §12): an upload of a name the
ROM already has replaces it in place, so the caller's own check is the only guard.
"""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp

from romdeck.adapters.romm.http import RetryPolicy, RommHttp, decode_json
from romdeck.adapters.romm.saves import MAX_SAVE_BYTES, TOKEN_REJECTED
from romdeck.domain.save_sync import ServerSave
from romdeck.domain.settings import Connection
from romdeck.errors import BadResponseError, NotConfiguredError


def _state(item: object, where: str) -> ServerSave:
    """A state row as a ``ServerSave`` (``slot`` None; ``content_hash`` ``""``: RomM sends none)."""
    if not isinstance(item, dict):
        raise BadResponseError(f"RomM sent a state that is not an object ({where}).")
    try:
        return ServerSave(
            id=int(item["id"]), rom_id=int(item["rom_id"]), file_name=str(item["file_name"]),
            slot=None, emulator=str(item.get("emulator") or ""), content_hash="",
            updated_at=str(item["updated_at"]), size_bytes=int(item.get("file_size_bytes") or 0),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponseError(f"RomM sent a state without a usable {exc} ({where}).") from None


class AiohttpRommStates:
    """Save states of one RomM server on the caller's ``aiohttp.ClientSession``.

    Errors as :class:`romdeck.adapters.romm.saves.AiohttpRommSaves` (unreachable, auth,
    scope, not found, bad response; ``NotConfiguredError`` without a token).
    """

    def __init__(
        self, session: aiohttp.ClientSession, connection: Connection, *,
        retry: RetryPolicy | None = None,
    ) -> None:  # fmt: skip
        self._http = RommHttp.for_connection(session, connection, retry)
        self._token = connection.token

    async def list_states(self, rom_id: int) -> list[ServerSave]:
        """``GET /api/states?rom_id=``: every state of the ROM (any order)."""
        data = await self._http.json(
            "GET", "/api/states", params=[("rom_id", str(rom_id))], bearer=self._bearer(),
            scope="assets.read", on_401=TOKEN_REJECTED,
        )  # fmt: skip
        if not isinstance(data, list):
            raise BadResponseError("RomM's state list is not a list.")
        return [_state(item, f"states[{index}]") for index, item in enumerate(data)]

    async def upload_state(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes
    ) -> ServerSave:
        """``POST /api/states?rom_id=&emulator=``, multipart ``stateFile`` named ``file_name``
        (no screenshot). Returns the stored state (same id when the name existed)."""
        form = aiohttp.FormData(quote_fields=False)  # the name as is, as RomM stores it
        form.add_field(
            "stateFile", data, filename=file_name, content_type="application/octet-stream"
        )
        reply = await self._http.send(
            "POST", self._http.url("/api/states"),
            params=[("rom_id", str(rom_id)), ("emulator", emulator)], multipart=form,
            bearer=self._bearer(), scope="assets.write", on_401=TOKEN_REJECTED,
        )  # fmt: skip
        return _state(await decode_json(reply, "POST /api/states"), "upload")

    async def download_state(self, state_id: int) -> tuple[bytes, str]:
        """``GET /api/states/{id}/content``: the state's bytes (at most ``MAX_SAVE_BYTES``)
        and their md5 hex (hashed in a thread: RomM sends no hash for states)."""
        reply = await self._http.send(
            "GET", self._http.url(f"/api/states/{state_id}/content"), bearer=self._bearer(),
            scope="assets.read", on_401=TOKEN_REJECTED, max_bytes=MAX_SAVE_BYTES,
        )  # fmt: skip
        digest = await asyncio.to_thread(lambda: hashlib.md5(reply.body).hexdigest())
        return reply.body, digest

    def _bearer(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token
