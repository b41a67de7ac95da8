"""Devices and saves of the fake RomM server, with RomM's rules as recorded (API-NOTES §9–10).

- ``POST /api/devices``: fingerprint = ``mac_address``, else ``hostname`` + ``platform``; a
  known one gives 200 with the existing id (``allow_existing``, the default) or 409 with an
  object ``detail``; a new one 201. ``GET``/``DELETE /api/devices/{id}`` (404 when unknown).
- ``POST /api/saves``: multipart ``saveFile``; with a ``slot`` the stored name gets
  `` [YYYY-MM-DD_HH-MM-SS]`` and every upload adds a row, identical content in the slot
  returns the existing row, and with a ``device_id`` (no ``overwrite``) an upload over a
  slot whose newest save this device has not synced is refused with 409. Without a slot
  the row is updated in place.
- ``GET /api/saves?rom_id=&device_id=``: a plain array in no stable order (newest first
  here), 404 for an unknown device; ``GET /api/saves/{id}/content`` records the sync
  (unless ``optimistic=false``), as does ``POST /api/saves/{id}/downloaded``.

``skew`` shifts the server's clock (seconds) to play a device whose clock is off.
``stall_upload_at`` / ``stall_download_at`` (bytes): the next upload body / save download
stops at that byte and hangs (nothing stored); ``stalled`` is set when it got there, so a
test can kill the client at a chosen byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakeromm.records import JSON
from fakeromm.states import FakeStates
from fakeromm.sync import FakeSync

if TYPE_CHECKING:
    from fakeromm.server import FakeRommServer

_BY_SERVER: weakref.WeakKeyDictionary[FakeRommServer, FakeSaves] = weakref.WeakKeyDictionary()


def fake_saves(server: FakeRommServer) -> FakeSaves:
    """The save state of a running fake server (for assertions and second-device tricks)."""
    return _BY_SERVER[server]


def _detail(status: int, message: Any) -> web.Response:
    return web.json_response({"detail": message}, status=status)


@dataclass
class SaveRow:
    """One stored save; ``content`` its bytes."""

    id: int
    rom_id: int
    file_name: str
    slot: str | None
    emulator: str
    content: bytes
    created_at: datetime
    updated_at: datetime
    origin_device_id: str | None

    @property
    def content_hash(self) -> str:
        return hashlib.md5(self.content).hexdigest()


@dataclass
class FakeSaves:
    """Devices, save rows and per-device sync times of one fake server."""

    server: FakeRommServer
    devices: dict[str, JSON] = field(default_factory=dict)
    rows: dict[int, SaveRow] = field(default_factory=dict)
    synced: dict[tuple[int, str], datetime] = field(default_factory=dict)
    skew: float = 0.0
    stall_upload_at: int | None = None
    stall_download_at: int | None = None
    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    sync: FakeSync = field(init=False)
    states: FakeStates = field(init=False)
    _next_id: int = 1
    _last: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def install(cls, server: FakeRommServer, router: web.UrlDispatcher) -> FakeSaves:
        """Create the state for ``server`` and add its routes (the one-line hook in server.py)."""
        saves = cls(server)
        saves.sync = FakeSync(saves)
        saves.states = FakeStates(saves)
        _BY_SERVER[server] = saves
        protect = server._protect  # pyright: ignore[reportPrivateUsage]
        for method, path, scope, handler in [
            ("POST", "/api/devices", "devices.write", saves.register_device),
            ("GET", "/api/devices/{id}", "devices.read", saves.get_device),
            ("DELETE", "/api/devices/{id}", "devices.write", saves.delete_device),
            ("GET", "/api/saves", "assets.read", saves.list_saves),
            ("POST", "/api/saves", "assets.write", saves.upload),
            ("GET", "/api/saves/{id}/content", "assets.read", saves.content),
            ("POST", "/api/saves/{id}/downloaded", "devices.write", saves.downloaded),
            *saves.sync.routes(),
            *saves.states.routes(),
        ]:
            router.add_route(method, path, protect(scope, handler))
        return saves

    def now(self) -> datetime:
        """The server's clock (``skew`` applied), strictly increasing."""
        now = datetime.now(UTC) + timedelta(seconds=self.skew)
        self._last = max(now, self._last + timedelta(microseconds=1))
        return self._last

    def render(self, row: SaveRow, device_id: str | None = None) -> JSON:
        stem, dot, ext = row.file_name.rpartition(".")
        syncs = []
        if device_id is not None:
            for (save_id, dev), when in self.synced.items():
                if save_id == row.id:
                    syncs.append({
                        "device_id": dev, "device_name": self.devices.get(dev, {}).get("name"),
                        "last_synced_at": when.isoformat(), "is_untracked": False,
                        "is_current": when >= row.updated_at,
                    })  # fmt: skip
            syncs.sort(key=lambda s: s["device_id"] != device_id)
        path = f"users/61646d696e/saves/snes/{row.rom_id}/{row.emulator}"
        return {
            "id": row.id, "rom_id": row.rom_id, "user_id": 1, "file_name": row.file_name,
            "file_name_no_tags": stem.split(" (")[0],
            "file_name_no_ext": stem if dot else row.file_name,
            "file_extension": ext if dot else "", "file_path": path,
            "file_size_bytes": len(row.content), "full_path": f"{path}/{row.file_name}",
            "download_path": f"/api/saves/{row.id}/content?timestamp={row.updated_at}",
            "missing_from_fs": False, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(), "emulator": row.emulator,
            "slot": row.slot, "content_hash": row.content_hash, "is_public": False,
            "screenshot": None, "origin_device_id": row.origin_device_id, "device_syncs": syncs,
        }  # fmt: skip

    # ---- devices ----------------------------------------------------------------------------
    async def register_device(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        mac, host, platform = body.get("mac_address"), body.get("hostname"), body.get("platform")
        for device in self.devices.values():
            same = (
                device["mac_address"] == mac
                if mac
                else (bool(host) and device["hostname"] == host and device["platform"] == platform)
            )
            if same and not body.get("allow_duplicate", False):
                if body.get("allow_existing", True):
                    return web.json_response(self._created(device), status=200)
                return _detail(409, {
                    "error": "device_exists", "message": "Device already exists",
                    "device_id": device["id"],
                })  # fmt: skip
        device_id = str(uuid.uuid4())
        self.devices[device_id] = {
            "id": device_id, "user_id": 1, "name": body.get("name"), "platform": platform,
            "client": body.get("client"), "client_version": body.get("client_version"),
            "ip_address": body.get("ip_address"), "mac_address": mac, "hostname": host,
            "client_device_identifier": None, "sync_mode": body.get("sync_mode") or "api",
            "sync_enabled": True, "sync_config": body.get("sync_config"),
            "last_seen": None, "created_at": self.now().isoformat(),
            "updated_at": self.now().isoformat(),
        }  # fmt: skip
        return web.json_response(self._created(self.devices[device_id]), status=201)

    @staticmethod
    def _created(device: JSON) -> JSON:
        return {
            "device_id": device["id"],
            "name": device["name"],
            "created_at": device["created_at"],
        }

    async def get_device(self, request: web.Request) -> web.StreamResponse:
        device = self.devices.get(request.match_info["id"])
        if device is None:
            return _detail(404, f"Device with ID {request.match_info['id']} not found")
        return web.json_response(device)

    async def delete_device(self, request: web.Request) -> web.StreamResponse:
        if self.devices.pop(request.match_info["id"], None) is None:
            return _detail(404, f"Device with ID {request.match_info['id']} not found")
        return web.Response(status=204)

    # ---- saves ------------------------------------------------------------------------------
    def _device(self, request: web.Request) -> str | web.Response | None:
        device_id = request.query.get("device_id")
        if device_id is not None and device_id not in self.devices:
            return _detail(404, f"Device with ID {device_id} not found")
        return device_id

    async def list_saves(self, request: web.Request) -> web.StreamResponse:
        device_id = self._device(request)
        if isinstance(device_id, web.Response):
            return device_id
        rom_id = request.query.get("rom_id")
        rows = [r for r in self.rows.values() if rom_id is None or str(r.rom_id) == rom_id]
        rows.sort(key=lambda r: -r.id)  # no promised order: newest first here
        return web.json_response([self.render(r, device_id) for r in rows])

    async def upload(self, request: web.Request) -> web.StreamResponse:
        device_id = self._device(request)
        if isinstance(device_id, web.Response):
            return device_id
        raw_rom = request.query.get("rom_id", "")
        if not raw_rom.isdigit():
            return _detail(
                422,
                [
                    {
                        "type": "missing",
                        "loc": ["query", "rom_id"],
                        "msg": "Field required",
                        "input": None,
                    }
                ],
            )
        rom_id = int(raw_rom)
        if rom_id not in self.server.library.roms:
            return _detail(404, f"Rom with id '{rom_id}' not found")
        if self.stall_upload_at is not None:
            await request.content.readexactly(self.stall_upload_at)
            await self._hang(request)
        form = await request.post()
        part = form.get("saveFile")
        if not isinstance(part, web.FileField):
            return _detail(
                422,
                [
                    {
                        "type": "missing",
                        "loc": ["body", "saveFile"],
                        "msg": "Field required",
                        "input": None,
                    }
                ],
            )
        content, name = part.file.read(), part.filename
        slot, overwrite = request.query.get("slot"), request.query.get("overwrite") == "true"
        emulator = request.query.get("emulator", "")
        if slot is None:
            return self._upload_unslotted(rom_id, name, emulator, content, device_id)
        in_slot = [r for r in self.rows.values() if r.rom_id == rom_id and r.slot == slot]
        digest = hashlib.md5(content).hexdigest()
        same = [r for r in in_slot if r.content_hash == digest]
        if same and not overwrite:
            return web.json_response(self.render(max(same, key=lambda r: r.id), device_id))
        newest = max(in_slot, key=lambda r: (r.updated_at, r.id), default=None)
        if device_id is not None and not overwrite and newest is not None:
            seen = self.synced.get((newest.id, device_id))
            if seen is None or seen < newest.updated_at:
                return _detail(409, "Slot has a newer save since your last sync")
        now = self.now()
        stem, dot, ext = name.rpartition(".")
        stamped = f"{stem if dot else name} [{now:%Y-%m-%d_%H-%M-%S}]" + (f".{ext}" if dot else "")
        row = self._add(rom_id, stamped, slot, emulator, content, device_id, now)
        self.sync.note(request, row.file_name)
        return web.json_response(self.render(row, device_id))

    def _upload_unslotted(
        self, rom_id: int, name: str, emulator: str, content: bytes, device_id: str | None
    ) -> web.Response:
        now = self.now()
        for row in self.rows.values():
            if row.rom_id == rom_id and row.slot is None and row.file_name == name:
                row.content, row.updated_at = content, now
                if device_id is not None:
                    self.synced[(row.id, device_id)] = now
                return web.json_response(self.render(row, device_id))
        row = self._add(rom_id, name, None, emulator, content, device_id, now)
        return web.json_response(self.render(row, device_id))

    def _add(
        self, rom_id: int, name: str, slot: str | None, emulator: str, content: bytes,
        device_id: str | None, now: datetime,
    ) -> SaveRow:  # fmt: skip
        row = SaveRow(self._next_id, rom_id, name, slot, emulator, content, now, now, device_id)
        self._next_id += 1
        self.rows[row.id] = row
        if device_id is not None:
            self.synced[(row.id, device_id)] = now
        return row

    def put(self, rom_id: int, file_name: str, content: bytes, *, device_id: str | None = None,
            slot: str = "autosave", emulator: str = "snes9x") -> SaveRow:  # fmt: skip
        """Store a slotted save directly, as another RomM client would (no checks)."""
        now = self.now()
        stem, _, ext = file_name.rpartition(".")
        return self._add(rom_id, f"{stem} [{now:%Y-%m-%d_%H-%M-%S}].{ext}", slot, emulator,
                         content, device_id, now)  # fmt: skip

    async def content(self, request: web.Request) -> web.StreamResponse:
        device_id = self._device(request)
        if isinstance(device_id, web.Response):
            return device_id
        try:
            row = self.rows[int(request.match_info["id"])]
        except (KeyError, ValueError):
            return _detail(404, f"Save with ID {request.match_info['id']} not found")
        if device_id is not None and request.query.get("optimistic", "true") == "true":
            self.synced[(row.id, device_id)] = self.now()
        self.sync.note(request, row.file_name)
        if self.stall_download_at is not None:
            response = web.StreamResponse(headers={"Content-Length": str(len(row.content))})
            response.content_type = "application/octet-stream"
            await response.prepare(request)
            await response.write(row.content[: self.stall_download_at])
            await self._hang(request)
        return web.Response(body=row.content, content_type="application/octet-stream")

    async def downloaded(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        device_id = body.get("device_id") if isinstance(body, dict) else None
        if device_id not in self.devices:
            return _detail(404, f"Device with ID {device_id} not found")
        try:
            row = self.rows[int(request.match_info["id"])]
        except (KeyError, ValueError):
            return _detail(404, f"Save with ID {request.match_info['id']} not found")
        self.synced[(row.id, str(device_id))] = self.now()
        return web.json_response(self.render(row, str(device_id)))

    async def _hang(self, request: web.Request) -> None:
        """Signal ``stalled`` and wait until the client goes away (its connection closed),
        at most 30 s, so a server stop never waits on a hung handler."""
        self.stalled.set()
        try:  # keep reading what the client sends (nothing is stored), so its going away is seen
            while await asyncio.wait_for(request.content.read(65536), 30):
                pass
        except (OSError, TimeoutError):
            pass
        for _ in range(600):
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            await asyncio.sleep(0.05)
        raise ConnectionResetError("stalled transfer given up")
