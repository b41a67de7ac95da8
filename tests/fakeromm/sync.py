"""``/api/sync`` of the fake RomM server: negotiate and sessions, as recorded (API-NOTES §11).

- ``POST /api/sync/negotiate``: pairs the client's saves with the newest server save on
  (rom_id, slot); equal hashes ``no_op``; with a sync history for the device, both sides
  changed ``conflict``, only the client ``upload``, only the server ``download``; without
  history the newer ``updated_at`` wins; a ``slot: null`` save is always ``upload``; server
  saves the client did not mention are ``download`` unless this device synced them since
  they changed. Each negotiate cancels the device's open sessions. No ``device_id`` → 400,
  unknown device → 404, ``sync_enabled: false`` → 400.
- ``POST /api/sync/sessions/{id}/complete``: ``COMPLETED``; a second call → 400
  ``Session is already COMPLETED`` (or ``CANCELLED``). ``GET /api/sync/sessions[/{id}]``.

``enabled = False`` plays an older RomM without these routes (404 ``Not Found``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakeromm.records import JSON

if TYPE_CHECKING:
    from fakeromm.saves import FakeSaves, SaveRow


_ONLY_CLIENT = "Save exists on client but not on server"


def _detail(status: int, message: Any) -> web.Response:
    return web.json_response({"detail": message}, status=status)


@dataclass
class FakeSync:
    """Sync sessions of one fake server; ``session_ops`` logs (session_id, method, save)."""

    saves: FakeSaves
    enabled: bool = True
    sessions: dict[int, JSON] = field(default_factory=dict)
    session_ops: list[tuple[int, str, str]] = field(default_factory=list)
    negotiations: list[JSON] = field(default_factory=list)

    def routes(self) -> list[tuple[str, str, str, Any]]:
        """(method, path, scope, handler) rows for ``FakeSaves.install``."""
        return [
            ("POST", "/api/sync/negotiate", "devices.read", self.negotiate),
            ("POST", "/api/sync/sessions/{id}/complete", "devices.write", self.complete),
            ("GET", "/api/sync/sessions", "devices.read", self.list_sessions),
            ("GET", "/api/sync/sessions/{id}", "devices.read", self.get_session),
        ]

    def note(self, request: web.Request, what: str) -> None:
        """Log an upload/download made with ``session_id``."""
        raw = request.query.get("session_id")
        if raw is not None and raw.isdigit():
            self.session_ops.append((int(raw), request.method, what))

    async def negotiate(self, request: web.Request) -> web.StreamResponse:
        if not self.enabled:
            return _detail(404, "Not Found")
        body = await request.json()
        device_id = body.get("device_id") or request["identity"].device_id
        if not device_id:
            return _detail(400, "device_id is required (either in the request payload or "
                                "implicit via a device-bound client token)")  # fmt: skip
        device = self.saves.devices.get(device_id)
        if device is None:
            return _detail(404, f"Device with ID {device_id} not found")
        if not device.get("sync_enabled", True):
            return _detail(400, f"Sync is disabled for device {device_id}")
        self.negotiations.append(body)
        ops = self._plan(device_id, body.get("saves") or [])
        now = self.saves.now().isoformat()
        for session in self.sessions.values():
            if session["device_id"] == device_id and session["status"] == "PENDING":
                session.update(status="CANCELLED", updated_at=now)
        session_id = len(self.sessions) + 1
        totals = {a: sum(1 for op in ops if op["action"] == a)
                  for a in ("upload", "download", "conflict", "no_op")}  # fmt: skip
        self.sessions[session_id] = {
            "id": session_id, "device_id": device_id, "user_id": 1, "status": "PENDING",
            "initiated_at": now, "completed_at": None,
            "operations_planned": totals["upload"] + totals["download"],
            "operations_completed": 0, "operations_failed": 0, "error_message": None,
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        return web.json_response({
            "session_id": session_id, "operations": ops,
            **{f"total_{a}": n for a, n in totals.items()},
        })  # fmt: skip

    def _plan(self, device_id: str, client: list[JSON]) -> list[JSON]:
        ops: list[JSON] = []
        paired: set[tuple[int, str | None]] = set()
        for save in client:
            rom_id, slot = int(save["rom_id"]), save.get("slot")
            newest = self._newest(rom_id, slot) if slot is not None else None
            paired.add((rom_id, slot))
            if newest is None:
                ops.append(self._op("upload", save, None, _ONLY_CLIENT))
                continue
            if newest.content_hash == save.get("content_hash"):
                ops.append(self._op("no_op", save, newest, "Content is identical"))
                continue
            ops.append(self._decide(device_id, save, newest))
        rows = sorted(self.saves.rows.values(), key=lambda r: r.id)
        for key in dict.fromkeys((r.rom_id, r.slot) for r in rows):
            if key in paired:
                continue
            newest = self._newest(*key)
            assert newest is not None
            seen = self.saves.synced.get((newest.id, device_id))
            if seen is None or seen < newest.updated_at:
                stub = {"rom_id": newest.rom_id, "slot": newest.slot, "emulator": newest.emulator}
                ops.append(self._op("download", stub, newest,
                                    "Save exists on server but not on client"))  # fmt: skip
        return ops

    def _decide(self, device_id: str, save: JSON, newest: SaveRow) -> JSON:
        in_slot = [r for r in self.saves.rows.values()
                   if r.rom_id == newest.rom_id and r.slot == newest.slot]  # fmt: skip
        history = [(when, r) for r in in_slot
                   if (when := self.saves.synced.get((r.id, device_id))) is not None]  # fmt: skip
        if history:
            last, last_row = max(history, key=lambda item: item[0])
            server_changed = newest.updated_at > last
            client_changed = save.get("content_hash") != last_row.content_hash
            if server_changed and client_changed:
                return self._op("conflict", save, newest, "Both client and server changed")
            if server_changed:
                return self._op("download", save, newest, "Server save is newer")
            return self._op("upload", save, newest, "Client save is newer")
        client_time = datetime.fromisoformat(str(save.get("updated_at")))
        if client_time > newest.updated_at:
            return self._op("upload", save, newest, "Client save is newer (no sync history)")
        return self._op("download", save, newest, "Server save is newer (no sync history)")

    def _newest(self, rom_id: int, slot: str | None) -> SaveRow | None:
        rows = [r for r in self.saves.rows.values() if r.rom_id == rom_id and r.slot == slot]
        return max(rows, key=lambda r: (r.updated_at, r.id), default=None)

    @staticmethod
    def _op(action: str, save: JSON, row: SaveRow | None, reason: str) -> JSON:
        upload = action == "upload"
        return {
            "action": action, "rom_id": int(save["rom_id"]),
            "save_id": None if row is None or upload else row.id,
            "file_name": save.get("file_name") if upload or row is None else row.file_name,
            "slot": save.get("slot"), "emulator": save.get("emulator"), "reason": reason,
            "server_updated_at": None if row is None else row.updated_at.isoformat(),
            "server_content_hash": None if row is None else row.content_hash,
        }  # fmt: skip

    async def complete(self, request: web.Request) -> web.StreamResponse:
        if not self.enabled:
            return _detail(404, "Not Found")
        session = self.sessions.get(int(request.match_info["id"]))
        if session is None:
            return _detail(404, f"Sync session {request.match_info['id']} not found")
        if session["status"] != "PENDING":
            return _detail(400, f"Session is already {session['status']}")
        body = await request.json()
        now = self.saves.now().isoformat()
        session.update(
            status="COMPLETED", completed_at=now, updated_at=now,
            operations_completed=int(body.get("operations_completed") or 0),
            operations_failed=int(body.get("operations_failed") or 0),
        )  # fmt: skip
        return web.json_response({"session": session, "play_session_ingest": None})

    async def list_sessions(self, request: web.Request) -> web.StreamResponse:
        device_id = request.query.get("device_id")
        found = [s for s in self.sessions.values() if device_id in (None, s["device_id"])]
        return web.json_response(found[: int(request.query.get("limit", "50"))])

    async def get_session(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(int(request.match_info["id"]))
        if session is None:
            return _detail(404, f"Sync session {request.match_info['id']} not found")
        return web.json_response(session)
