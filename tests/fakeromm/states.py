"""``/api/states`` of the fake RomM server (API-NOTES §12): no slots, devices or conflicts.

An upload of a name the ROM already has replaces its bytes in place (same id, new
``updated_at``); rows are rendered as ``state_upload_response.json`` (no ``content_hash``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakeromm.records import JSON

if TYPE_CHECKING:
    from fakeromm.saves import FakeSaves, SaveRow


@dataclass
class FakeStates:
    """State rows of one fake server (``SaveRow`` with ``slot`` None)."""

    saves: FakeSaves
    rows: dict[int, SaveRow] = field(default_factory=dict)
    _next_id: int = 1

    def routes(self) -> list[tuple[str, str, str, Any]]:
        """(method, path, scope, handler) rows for ``FakeSaves.install``."""
        return [
            ("GET", "/api/states", "assets.read", self.list_states),
            ("POST", "/api/states", "assets.write", self.upload),
            ("GET", "/api/states/{id}/content", "assets.read", self.content),
        ]

    def put(self, rom_id: int, file_name: str, content: bytes) -> SaveRow:
        """Store (or replace) a state as another RomM client would."""
        from fakeromm.saves import SaveRow

        now = self.saves.now()
        for row in self.rows.values():
            if row.rom_id == rom_id and row.file_name == file_name:
                row.content, row.updated_at = content, now
                return row
        row = SaveRow(self._next_id, rom_id, file_name, None, "snes9x", content, now, now, None)
        self._next_id += 1
        self.rows[row.id] = row
        return row

    def render(self, row: SaveRow) -> JSON:
        stem, _, ext = row.file_name.partition(".")
        path = f"users/61646d696e/states/snes/{row.rom_id}/{row.emulator}"
        return {
            "id": row.id, "rom_id": row.rom_id, "user_id": 1, "file_name": row.file_name,
            "file_name_no_tags": stem.split(" (")[0], "file_name_no_ext": stem,
            "file_extension": ext, "file_path": path, "file_size_bytes": len(row.content),
            "full_path": f"{path}/{row.file_name}",
            "download_path": f"/api/states/{row.id}/content?timestamp={row.updated_at}",
            "missing_from_fs": False, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(), "emulator": row.emulator,
            "is_public": False, "screenshot": None,
        }  # fmt: skip

    async def list_states(self, request: web.Request) -> web.StreamResponse:
        rom_id = request.query.get("rom_id")
        rows = [r for r in self.rows.values() if rom_id is None or str(r.rom_id) == rom_id]
        return web.json_response([self.render(r) for r in sorted(rows, key=lambda r: -r.id)])

    async def upload(self, request: web.Request) -> web.StreamResponse:
        raw_rom = request.query.get("rom_id", "")
        if not raw_rom.isdigit() or int(raw_rom) not in self.saves.server.library.roms:
            return web.json_response({"detail": f"Rom with id '{raw_rom}' not found"}, status=404)
        form = await request.post()
        part = form.get("stateFile")
        if not isinstance(part, web.FileField):
            return web.json_response({"detail": [{"type": "missing",
                                      "loc": ["body", "stateFile"], "msg": "Field required",
                                      "input": None}]}, status=422)  # fmt: skip
        row = self.put(int(raw_rom), part.filename, part.file.read())
        row.emulator = request.query.get("emulator", row.emulator)
        return web.json_response(self.render(row))

    async def content(self, request: web.Request) -> web.StreamResponse:
        try:
            row = self.rows[int(request.match_info["id"])]
        except (KeyError, ValueError):
            return web.json_response(
                {"detail": f"State with ID {request.match_info['id']} not found"}, status=404
            )
        return web.Response(body=row.content, content_type="application/octet-stream")
