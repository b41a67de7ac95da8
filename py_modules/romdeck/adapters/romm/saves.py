"""RomM's devices and saves over HTTP (``/api/devices``, ``/api/saves``): the ``SaveServer`` port.

Uploads go into a slot with our ``device_id`` and never ``overwrite=true``, so RomM's
own check refuses (409) an upload over a save this device has not seen; that refusal
comes back as :class:`SlotConflict`, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp

from romdeck import __version__
from romdeck.adapters.romm.http import Reply, RetryPolicy, RommHttp, decode_json
from romdeck.domain.save_negotiate import (
    NegotiateSave,
    Negotiation,
    NoNegotiation,
    SyncOperation,
)
from romdeck.domain.save_sync import AUTOSAVE_SLOT, ServerSave, SlotConflict
from romdeck.domain.settings import Connection
from romdeck.errors import BadResponseError, InvalidInputError, NotConfiguredError, NotFoundError

TOKEN_REJECTED = (
    "The RomM server rejected RomDeck's API token (it was revoked or has expired). Sign in again."
)
MAX_SAVE_BYTES = 512 * 1024 * 1024
"""RomM's upload limit (``MAX_ASSET_UPLOAD_SIZE_BYTES``); also our download limit."""


def install_mac(install_id: str) -> str:
    """A locally administered MAC address derived from an installation's id (hex uuid).

    RomM fingerprints a device by ``mac_address`` (else hostname + platform); every Deck
    is called ``steamdeck``, so each installation sends its own address and two
    installations never collapse into one device, while one installation registering
    again gets its own device back.
    """
    digits = "".join(ch for ch in install_id.lower() if ch in "0123456789abcdef")
    digits = (digits + "0" * 12)[:12]
    first = (int(digits[:2], 16) | 0x02) & 0xFE  # locally administered, unicast
    octets = [f"{first:02x}", *(digits[i : i + 2] for i in range(2, 12, 2))]
    return ":".join(octets)


def _save(item: object, where: str) -> ServerSave:
    if not isinstance(item, dict):
        raise BadResponseError(f"RomM sent a save that is not an object ({where}).")
    try:
        slot = item.get("slot")
        return ServerSave(
            id=int(item["id"]),
            rom_id=int(item["rom_id"]),
            file_name=str(item["file_name"]),
            slot=slot if isinstance(slot, str) else None,
            emulator=str(item.get("emulator") or ""),
            content_hash=str(item.get("content_hash") or "").lower(),
            updated_at=str(item["updated_at"]),
            size_bytes=int(item.get("file_size_bytes") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponseError(f"RomM sent a save without a usable {exc} ({where}).") from None


def _session(session_id: int | None) -> list[tuple[str, str]]:
    return [] if session_id is None else [("session_id", str(session_id))]


def _detail(reply: Reply) -> str:
    try:
        detail = json.loads(reply.body.decode("utf-8", "replace")).get("detail")
    except (ValueError, AttributeError):
        return reply.body.decode("utf-8", "replace")[:200]
    return detail if isinstance(detail, str) else str(detail)[:200]


def _negotiate_item(save: NegotiateSave) -> dict[str, object]:
    return {
        "rom_id": save.rom_id, "file_name": save.file_name, "slot": save.slot,
        "emulator": save.emulator, "content_hash": save.content_hash,
        "updated_at": save.updated_at, "file_size_bytes": save.size_bytes,
    }  # fmt: skip


def _negotiation(data: object) -> Negotiation:
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
        raise BadResponseError("RomM's negotiate reply has no operations list.")
    try:
        ops = tuple(_operation(op) for op in data["operations"])
        return Negotiation(int(data["session_id"]), ops)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponseError(f"RomM's negotiate reply lacks a usable {exc}.") from None


def _operation(op: dict[str, object]) -> SyncOperation:
    def text(key: str) -> str | None:
        value = op.get(key)
        return value if isinstance(value, str) else None

    save_id = op.get("save_id")
    return SyncOperation(
        action=str(op["action"]), rom_id=int(str(op["rom_id"])),
        save_id=int(str(save_id)) if save_id is not None else None,
        file_name=str(op["file_name"]), slot=text("slot"), emulator=text("emulator") or "",
        reason=text("reason") or "", server_content_hash=(text("server_content_hash") or "").lower()
        or None, server_updated_at=text("server_updated_at"),
    )  # fmt: skip


class AiohttpRommSaves:
    """Devices and saves of one RomM server on the caller's ``aiohttp.ClientSession``.

    ``connection`` gives the address, ``rmm_`` token, TLS and timeouts. Every method
    raises ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError``,
    ``MissingScopeError``, ``NotFoundError`` or ``BadResponseError``; an empty token
    raises ``NotConfiguredError``.
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

    async def register_device(self, *, install_id: str, hostname: str, name: str) -> str:
        """``POST /api/devices`` → the device id (uuid) RomM gives this installation.

        Sends ``mac_address`` :func:`install_mac` (``install_id``) with
        ``allow_existing: true``, so registering again returns the same device (200)
        and another installation gets its own (201).
        """
        body = {
            "name": name, "platform": "linux", "client": "RomDeck",
            "client_version": __version__, "hostname": hostname,
            "mac_address": install_mac(install_id), "sync_mode": "api",
            "allow_existing": True, "allow_duplicate": False,
        }  # fmt: skip
        data = await self._http.json(
            "POST", "/api/devices", json_body=body, bearer=self._bearer(),
            scope="devices.write", on_401=TOKEN_REJECTED,
        )  # fmt: skip
        device_id = data.get("device_id") if isinstance(data, dict) else None
        if not isinstance(device_id, str) or not device_id:
            raise BadResponseError("RomM registered the device but sent no device_id.")
        return device_id

    async def device_exists(self, device_id: str) -> bool:
        """``GET /api/devices/{id}``: False when RomM answers 404 (it lost the device)."""
        try:
            await self._http.json(
                "GET", f"/api/devices/{device_id}", bearer=self._bearer(),
                scope="devices.read", on_401=TOKEN_REJECTED,
            )  # fmt: skip
        except NotFoundError:
            return False
        return True

    async def list_saves(self, rom_id: int, *, device_id: str) -> list[ServerSave]:
        """``GET /api/saves?rom_id=&device_id=``: every save of the ROM (any order).

        ``NotFoundError`` when RomM does not know ``device_id`` (or the ROM).
        """
        data = await self._http.json(
            "GET", "/api/saves", params=[("rom_id", str(rom_id)), ("device_id", device_id)],
            bearer=self._bearer(), scope="assets.read", on_401=TOKEN_REJECTED,
        )  # fmt: skip
        if not isinstance(data, list):
            raise BadResponseError("RomM's save list is not a list.")
        return [_save(item, f"saves[{index}]") for index, item in enumerate(data)]

    async def upload_save(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes, device_id: str,
        slot: str = AUTOSAVE_SLOT, session_id: int | None = None,
    ) -> ServerSave | SlotConflict:  # fmt: skip
        """``POST /api/saves?rom_id=&emulator=&slot=&device_id=&overwrite=false[&session_id=]``,
        multipart ``saveFile`` named ``file_name``. A 409 (the slot has a save this device has
        not synced) returns :class:`SlotConflict`; identical content returns the existing save."""
        form = aiohttp.FormData(quote_fields=False)  # the name as is, as RomM stores it
        form.add_field(
            "saveFile", data, filename=file_name, content_type="application/octet-stream"
        )
        params: Sequence[tuple[str, str]] = [
            ("rom_id", str(rom_id)), ("emulator", emulator), ("slot", slot),
            ("device_id", device_id), ("overwrite", "false"),
            *_session(session_id),
        ]  # fmt: skip
        reply = await self._http.send(
            "POST", self._http.url("/api/saves"), params=params, multipart=form,
            bearer=self._bearer(), scope="assets.write", on_401=TOKEN_REJECTED, accept=(409,),
        )  # fmt: skip
        if reply.status == 409:
            return SlotConflict(reply.body.decode("utf-8", "replace")[:300])
        return _save(await decode_json(reply, "POST /api/saves"), "upload")

    async def download_save(
        self, save_id: int, *, device_id: str, session_id: int | None = None
    ) -> bytes:
        """``GET /api/saves/{id}/content?device_id=&optimistic=false[&session_id=]``: the
        file's bytes. RomM does not yet count the save as synced by this device (a download
        cut short must not), :meth:`confirm_downloaded` does that once the file is in place.
        Over ``MAX_SAVE_BYTES`` raises ``BadResponseError``."""
        params = [("device_id", device_id), ("optimistic", "false"), *_session(session_id)]
        reply = await self._http.send(
            "GET", self._http.url(f"/api/saves/{save_id}/content"),
            params=params, bearer=self._bearer(),
            scope="assets.read",
            on_401=TOKEN_REJECTED, max_bytes=MAX_SAVE_BYTES,
        )  # fmt: skip
        return reply.body

    async def confirm_downloaded(self, save_id: int, *, device_id: str) -> None:
        """``POST /api/saves/{id}/downloaded`` ``{"device_id"}``: this device now holds the
        save (so RomM's 409 lets our next upload over it through). ``NotFoundError``."""
        await self._http.json(
            "POST", f"/api/saves/{save_id}/downloaded", json_body={"device_id": device_id},
            bearer=self._bearer(), scope="devices.write", on_401=TOKEN_REJECTED,
        )  # fmt: skip

    async def server_version(self) -> str:
        """``GET /api/heartbeat`` → ``SYSTEM.VERSION`` (``""`` when the server sends none)."""
        data = await self._http.json("GET", "/api/heartbeat")
        system = data.get("SYSTEM") if isinstance(data, dict) else None
        version = system.get("VERSION") if isinstance(system, dict) else None
        return version if isinstance(version, str) else ""

    async def negotiate(
        self, device_id: str, saves: Sequence[NegotiateSave]
    ) -> Negotiation | NoNegotiation:
        """``POST /api/sync/negotiate`` with this device's ``saves``: an open session and its
        operations (API-NOTES §11). A server without the route (404 ``Not Found``, 405)
        gives ``NoNegotiation(route_missing=True)``; an unknown or sync-disabled device
        (400/404 with another detail) ``NoNegotiation(route_missing=False)``."""
        body = {"device_id": device_id, "saves": [_negotiate_item(s) for s in saves]}
        reply = await self._http.send(
            "POST", self._http.url("/api/sync/negotiate"), json_body=body,
            bearer=self._bearer(), scope="devices.read", on_401=TOKEN_REJECTED,
            accept=(400, 404, 405),
        )  # fmt: skip
        if reply.status in (400, 404, 405):
            detail = _detail(reply)
            missing = reply.status == 405 or (reply.status == 404 and detail == "Not Found")
            return NoNegotiation(detail, route_missing=missing)
        return _negotiation(await decode_json(reply, "POST /api/sync/negotiate"))

    async def complete_session(self, session_id: int, *, completed: int, failed: int) -> str:
        """``POST /api/sync/sessions/{id}/complete`` → the session's status (``COMPLETED``).

        A session already closed (400 ``Session is already COMPLETED``/cancelled by a later
        negotiate) raises ``InvalidInputError`` with RomM's detail."""
        reply = await self._http.send(
            "POST", self._http.url(f"/api/sync/sessions/{session_id}/complete"),
            json_body={"operations_completed": completed, "operations_failed": failed},
            bearer=self._bearer(), scope="devices.write", on_401=TOKEN_REJECTED, accept=(400,),
        )  # fmt: skip
        if reply.status == 400:
            raise InvalidInputError(f"RomM would not close sync session {session_id}: "
                                    f"{_detail(reply)}")  # fmt: skip
        data = await decode_json(reply, "POST /api/sync/sessions/complete")
        session = data.get("session") if isinstance(data, dict) else None
        status = session.get("status") if isinstance(session, dict) else None
        if not isinstance(status, str):
            raise BadResponseError("RomM closed the sync session but sent no status.")
        return status

    def _bearer(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token
