"""RomM's devices and saves over HTTP (``/api/devices``, ``/api/saves``): the ``SaveServer`` port.

Uploads go into a slot with our ``device_id`` and never ``overwrite=true``, so RomM's
own check refuses (409) an upload over a save this device has not seen; that refusal
comes back as :class:`SlotConflict`, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from romdeck import __version__
from romdeck.adapters.romm.http import RetryPolicy, RommHttp, decode_json, tls_context
from romdeck.domain.save_sync import AUTOSAVE_SLOT, ServerSave, SlotConflict
from romdeck.domain.settings import Connection
from romdeck.errors import BadResponseError, NotConfiguredError, NotFoundError

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
        https = connection.url.startswith("https:")
        ssl_setting = tls_context(connection.verify_tls, connection.ca_file, https=https)
        self._http = RommHttp(
            session, connection, ssl_setting=ssl_setting, retry=retry or RetryPolicy()
        )
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
        slot: str = AUTOSAVE_SLOT,
    ) -> ServerSave | SlotConflict:  # fmt: skip
        """``POST /api/saves?rom_id=&emulator=&slot=&device_id=&overwrite=false``, multipart
        ``saveFile`` named ``file_name``. A 409 (the slot has a save this device has not
        synced) returns :class:`SlotConflict`; identical content returns the existing save."""
        form = aiohttp.FormData(quote_fields=False)  # RomM stores the name as sent: no %20
        form.add_field(
            "saveFile", data, filename=file_name, content_type="application/octet-stream"
        )
        params: Sequence[tuple[str, str]] = [
            ("rom_id", str(rom_id)), ("emulator", emulator), ("slot", slot),
            ("device_id", device_id), ("overwrite", "false"),
        ]  # fmt: skip
        reply = await self._http.send(
            "POST", self._http.url("/api/saves"), params=params, multipart=form,
            bearer=self._bearer(), scope="assets.write", on_401=TOKEN_REJECTED, accept=(409,),
        )  # fmt: skip
        if reply.status == 409:
            return SlotConflict(reply.body.decode("utf-8", "replace")[:300])
        return _save(await decode_json(reply, "POST /api/saves"), "upload")

    async def download_save(self, save_id: int, *, device_id: str) -> bytes:
        """``GET /api/saves/{id}/content?device_id=``: the file's bytes (RomM records the
        sync for this device). Over ``MAX_SAVE_BYTES`` raises ``BadResponseError``."""
        reply = await self._http.send(
            "GET", self._http.url(f"/api/saves/{save_id}/content"),
            params=[("device_id", device_id)], bearer=self._bearer(), scope="assets.read",
            on_401=TOKEN_REJECTED, max_bytes=MAX_SAVE_BYTES,
        )  # fmt: skip
        return reply.body

    def _bearer(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token
