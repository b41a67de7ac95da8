"""Download endpoints of the fake RomM server, as production (nginx) serves them.

- one file: raw bytes, Content-Length, Accept-Ranges, ETag ``"<mtime hex>-<size hex>"``,
  Last-Modified, Content-Disposition with ``filename*`` and a percent-encoded ``filename``;
  ``Range`` gives 206 or 416 (``captures/prodmode_headers/single_*.txt``).
- several files: without ``Range`` a chunked ZIP_STORED stream with no Content-Length
  (mod_zip); with ``Range`` a cached, stable ZIP_STORED served 206 with ETag and length;
  HEAD gives ``Content-Length: 0`` until that cache exists (``prodmode_headers/multi_*.txt``).
- covers under ``/assets/romm/resources``: static, no auth, ETag, immutable when ``?ts=``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from fakeromm.library import FakeLibrary
from fakeromm.records import FakeFile, FakeRom

if TYPE_CHECKING:
    from fakeromm.server import FakeRommServer

CHUNK = 16 * 1024
_NGINX_404 = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def disposition(name: str) -> str:
    """RomM's Content-Disposition: ``filename*`` and a *percent-encoded* ``filename``."""
    encoded = quote(name, safe="")
    return f"attachment; filename*=UTF-8''{encoded}; filename=\"{encoded}\""


def http_date(when: datetime) -> str:
    """An RFC 7231 date (``Sat, 28 Nov 2026 20:23:04 GMT``)."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


def nginx_etag(when: datetime, size: int) -> str:
    """nginx's static ETag: ``"<mtime seconds hex>-<size hex>"``."""
    return f'"{int(when.timestamp()):x}-{size:x}"'


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, or None when unsatisfiable/invalid."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec or "-" not in spec:
        return None
    first_s, _, last_s = spec.strip().partition("-")
    try:
        if not first_s:
            count = int(last_s)
            return (max(size - count, 0), size - 1) if count > 0 and size else None
        first = int(first_s)
        last = min(int(last_s), size - 1) if last_s else size - 1
    except ValueError:
        return None
    return (first, last) if first <= last and first < size else None


def build_zip(entries: list[tuple[str, bytes]], *, seekable: bool) -> bytes:
    """A ZIP_STORED archive of ``entries``; unseekable output uses data descriptors
    (so the bytes differ, as mod_zip's stream differs from the cached file)."""
    buf = io.BytesIO()
    target: Any = buf if seekable else _WriteOnly(buf)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 28, 20, 23, 4))
            archive.writestr(info, data)
    return buf.getvalue()


class _WriteOnly:
    def __init__(self, buf: io.BytesIO) -> None:
        self._buf = buf

    def write(self, data: bytes) -> int:
        return self._buf.write(data)

    def flush(self) -> None:
        pass


def zip_entries(rom: FakeRom, files: list[FakeFile], hidden: bool) -> list[tuple[str, bytes]]:
    """Zip members: files by folder-relative path, plus ``<fs_name>.m3u`` unless one exists
    (listing the .cue files if any, else every file)."""
    prefix = ".hidden/" if hidden else ""
    entries = [(prefix + f.rel_path, f.content) for f in files]
    if not any(f.file_name.lower().endswith(".m3u") for f in files):
        cues = [prefix + f.rel_path for f in files if f.file_name.lower().endswith(".cue")]
        listed = cues or [name for name, _ in entries]
        entries.append((f"{rom.fs_name}.m3u", "\n".join(listed).encode()))
    return entries


class RomContentRoutes:
    """aiohttp handlers for ROM, RomFile and firmware downloads and for cover assets."""

    def __init__(self, library: FakeLibrary, server: FakeRommServer) -> None:
        self.library = library
        self.server = server
        self.zip_cache: dict[tuple[Any, ...], tuple[bytes, datetime]] = {}

    # ---- shared byte serving ----------------------------------------------------------------
    async def _serve(
        self, request: web.Request, data: bytes, headers: dict[str, str], etag: str,
        last_modified: str, *, accept_ranges: bool = True, droppable: bool = True,
    ) -> web.StreamResponse:  # fmt: skip
        """200 / 206 / 416 for ``data``; honours ``Range`` and ``If-Range``; may drop."""
        headers = {**headers, "ETag": etag, "Last-Modified": last_modified}
        status, body = 200, data
        if_range = request.headers.get("If-Range")
        wanted = request.headers.get("Range")
        if wanted and if_range not in (None, etag, last_modified):
            wanted = None
        if wanted:
            span = parse_range(wanted, len(data))
            if span is None:
                return web.Response(
                    status=416, content_type="text/plain",
                    headers={"Content-Range": f"bytes */{len(data)}"},
                )  # fmt: skip
            status, body = 206, data[span[0] : span[1] + 1]
            headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{len(data)}"
        elif accept_ranges:
            headers["Accept-Ranges"] = "bytes"
        return await self._send(request, status, body, headers, chunked=False, droppable=droppable)

    async def _send(
        self, request: web.Request, status: int, body: bytes, headers: dict[str, str],
        *, chunked: bool, droppable: bool = True,
    ) -> web.StreamResponse:  # fmt: skip
        """Write ``body``; with chunked, no Content-Length; cut short when the server says."""
        response = web.StreamResponse(status=status, headers=headers)
        if chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        if request.method == "HEAD":
            await response.write_eof()
            return response
        cut = self.server.take_drop() if droppable else None
        end = len(body) if cut is None else min(cut, len(body))
        for start in range(0, end, CHUNK):
            await response.write(body[start : min(start + CHUNK, end)])
            if self.server.chunk_delay and droppable:
                await asyncio.sleep(self.server.chunk_delay)  # a slow link
        if cut is not None:
            request["dropped"] = True
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        return response

    def _rom_or_error(self, request: web.Request) -> FakeRom | web.Response:
        raw = request.match_info["id"]
        if not raw.isdigit():
            return _int_422(raw)
        rom = self.library.roms.get(int(raw))
        if rom is None:
            return web.json_response({"detail": f"Rom with id '{raw}' not found"}, status=404)
        return rom

    async def _file(self, request: web.Request, f: FakeFile) -> web.StreamResponse:
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Disposition": disposition(f.file_name)}  # fmt: skip
        etag = nginx_etag(f.last_modified, len(f.content))
        return await self._serve(request, f.content, headers, etag, http_date(f.last_modified))

    # ---- handlers ---------------------------------------------------------------------------
    async def rom_content(self, request: web.Request) -> web.StreamResponse:
        """GET|HEAD /api/roms/{id}/content/{file_name}[?file_ids=1,2&hidden_folder=true]."""
        rom = self._rom_or_error(request)
        if isinstance(rom, web.Response):
            return rom
        files = rom.files
        ids_raw = request.query.get("file_ids", "")
        if ids_raw:
            wanted = {int(v) for v in ids_raw.split(",") if v.strip().isdigit()}
            files = [f for f in rom.files if f.id in wanted] or rom.files
        if len(files) == 1:
            return await self._file(request, files[0])
        hidden = request.query.get("hidden_folder", "").lower() == "true"
        key = (rom.id, tuple(f.id for f in files), hidden, rom.updated_at)
        headers = {"Content-Disposition": disposition(f"{request.match_info['name']}.zip")}
        cached = self.zip_cache.get(key)
        if request.method == "HEAD":
            headers["Content-Type"] = "application/zip"
            if cached is None:
                return await self._send(request, 200, b"", headers, chunked=False)
            headers["Accept-Ranges"] = "bytes"
            return await self._send(request, 200, cached[0], headers, chunked=False)
        if "Range" not in request.headers:
            data = build_zip(zip_entries(rom, files, hidden), seekable=False)
            headers["Content-Type"] = "application/zip"
            return await self._send(request, 200, data, headers, chunked=True)
        if cached is None:
            cached = (build_zip(zip_entries(rom, files, hidden), seekable=True), datetime.now(UTC))
            self.zip_cache[key] = cached
        data, made = cached
        headers["Content-Type"] = "application/octet-stream"
        etag = nginx_etag(made, len(data))
        return await self._serve(request, data, headers, etag, http_date(made), accept_ranges=False)

    async def romfile_content(self, request: web.Request) -> web.StreamResponse:
        """GET|HEAD /api/roms/{romfile_id}/files/content/{any_name} (a RomFile id!)."""
        raw = request.match_info["id"]
        if not raw.isdigit():
            return _int_422(raw)
        f = self.library.files.get(int(raw))
        if f is None:
            return web.json_response({"detail": f"File with id '{raw}' not found"}, status=404)
        return await self._file(request, f)

    async def firmware_content(self, request: web.Request) -> web.StreamResponse:
        """GET|HEAD /api/firmware/{id}/content/{any_name}; ETag = md5 hex (FastAPI)."""
        raw = request.match_info["id"]
        if not raw.isdigit():
            return _int_422(raw)
        fw = self.library.firmware.get(int(raw))
        if fw is None:
            return web.json_response({"detail": f"Firmware with ID {raw} not found"}, status=404)
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Disposition": f'attachment; filename="{fw.file_name}"'}  # fmt: skip
        etag = f'"{hashlib.md5(fw.content).hexdigest()}"'
        return await self._serve(request, fw.content, headers, etag, http_date(fw.last_modified))

    async def cover(self, request: web.Request) -> web.StreamResponse:
        """GET /assets/romm/resources/roms/{platform_id}/{rom_id}/cover/{big|small}.<ext>."""
        info = request.match_info
        rom = self.library.roms.get(int(info["rid"])) if info["rid"].isdigit() else None
        paths = self.library.cover_paths(rom) if rom is not None else ("", "")
        names = {p.split("?", 1)[0].rsplit("/", 1)[-1] for p in paths if p}
        if (
            rom is None
            or rom.cover is None
            or str(rom.platform_id) != info["pid"]
            or (info["name"] not in names)
        ):
            return web.Response(status=404, text=_NGINX_404, content_type="text/html")
        cover = rom.cover
        etag = nginx_etag(cover.ts, len(cover.content))
        cache = ("public, max-age=31536000, immutable" if "ts" in request.query
                 else "public, max-age=3600, must-revalidate")  # fmt: skip
        headers = {"Content-Type": cover.content_type, "Cache-Control": cache}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag, "Cache-Control": cache})
        return await self._serve(
            request, cover.content, headers, etag, http_date(cover.ts), droppable=False
        )


def _int_422(raw: str) -> web.Response:
    item = {"type": "int_parsing", "loc": ["path", "id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw}  # fmt: skip
    return web.json_response({"detail": [item]}, status=422)
