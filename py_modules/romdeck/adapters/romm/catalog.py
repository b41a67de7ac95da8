"""Reads a RomM library over HTTP with a client API token (the ``RommCatalogApi`` port)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

import aiohttp
from yarl import URL

from romdeck.adapters.romm import parse
from romdeck.adapters.romm.http import (
    USER_AGENT,
    RetryPolicy,
    RommHttp,
    SslSetting,
    decode_json,
    server_path_url,
)
from romdeck.domain.models import Collection, Platform, RomDetail, RomPage, ServerInfo
from romdeck.domain.settings import Connection
from romdeck.errors import InvalidInputError, NotConfiguredError

TOKEN_REJECTED = (
    "The RomM server rejected RomDeck's API token (it was revoked or has expired). Sign in again."
)
MAX_COVER_BYTES = 32 * 1024 * 1024
_CHEAP_LIST = (
    ("order_by", "id"),
    ("order_dir", "asc"),
    ("with_char_index", "false"),
    ("with_filter_values", "false"),
    ("with_files", "false"),
)


class AiohttpRommClient:
    """An authenticated RomM client on the caller's ``aiohttp.ClientSession``.

    ``connection`` gives the server address, the ``rmm_`` token, TLS settings and
    timeouts (seconds). Building it reads the CA file (blocking; done once, in
    bootstrap). Every method raises ``ServerUnreachableError``/``TlsError``,
    ``AuthRejectedError`` (token rejected), ``MissingScopeError``, ``NotFoundError``
    or ``BadResponseError``; an empty token raises ``NotConfiguredError``.
    ``ssl``, ``timeout``, :meth:`auth_headers` and :meth:`content_url` let the
    download adapter stream ROM content on the same session.
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

    @property
    def ssl(self) -> SslSetting:
        """aiohttp's ``ssl`` argument: a verifying ``SSLContext``, or ``False`` (no verifying)."""
        return self._http.ssl

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The connect/read socket timeouts from the connection settings."""
        return self._http.timeout

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>`` and our ``User-Agent``, for streamed downloads."""
        return {"Authorization": f"Bearer {self._require_token()}", "User-Agent": USER_AGENT}

    def content_url(self, rom: RomDetail) -> str:
        """Absolute URL of ``GET /api/roms/{id}/content/<fs_name>`` (``fs_name`` URL-encoded)."""
        name = quote(rom.summary.fs_name, safe="")
        return str(URL(f"{self._http.base}/api/roms/{rom.summary.id}/content/{name}", encoded=True))

    async def heartbeat(self) -> ServerInfo:
        """``GET /api/heartbeat`` (no auth) -> the server's version."""
        return parse.parse_server_info(await self._http.json("GET", "/api/heartbeat"))

    async def list_platforms(self) -> list[Platform]:
        """``GET /api/platforms``: every platform with its ``rom_count``."""
        data = await self._get("/api/platforms", scope="platforms.read")
        return parse.parse_platforms(data)

    async def list_collections(self) -> list[Collection]:
        """``GET /api/collections``: the user's collections with their ``rom_ids``."""
        data = await self._get("/api/collections", scope="collections.read")
        return parse.parse_collections(data)

    async def list_roms(
        self,
        *,
        platform_ids: Sequence[int] = (),
        collection_id: int | None = None,
        updated_after: str | None = None,
        offset: int = 0,
        limit: int = 500,
    ) -> RomPage:
        """One page of ``GET /api/roms`` ordered by id, without files or index extras.

        ``platform_ids`` match any; ``updated_after`` is ISO-8601 with an offset.
        ``limit`` is 1..10000 (else ``InvalidInputError``); ``total`` is filled.
        """
        if not 1 <= limit <= 10000 or offset < 0:
            raise InvalidInputError(
                f"A ROM page needs 1 <= limit <= 10000 and offset >= 0, got {limit}, {offset}."
            )
        params = [
            ("limit", str(limit)),
            ("offset", str(offset)),
            *_CHEAP_LIST,
            ("with_rom_id_index", "false"),
            ("with_total", "true"),
            *(("platform_ids", str(platform_id)) for platform_id in platform_ids),
        ]
        if collection_id is not None:
            params.append(("collection_id", str(collection_id)))
        if updated_after:
            params.append(("updated_after", updated_after))
        reply = await self._http.send(
            "GET", self._http.url("/api/roms"), params=params, bearer=self._require_token(),
            scope="roms.read", on_401=TOKEN_REJECTED,
        )  # fmt: skip
        data = await decode_json(reply, "GET /api/roms")
        # up to 10,000 items, in a worker that lets the loop run every 100 items
        page = await asyncio.to_thread(parse.parse_rom_page, data, pause=_release_gil)
        return replace(page, served_at=parse.http_date(reply.date))

    async def platform_rom_ids(self, platform_id: int) -> list[int]:
        """Every ROM id of one platform: a 1-item page of ``GET /api/roms`` whose
        ``rom_id_index`` lists all ids of the filtered query."""
        params = [
            ("limit", "1"),
            ("offset", "0"),
            *_CHEAP_LIST,
            ("with_rom_id_index", "true"),
            ("with_total", "false"),
            ("platform_ids", str(platform_id)),
        ]
        data = await self._get("/api/roms", params=params, scope="roms.read")
        return parse.parse_rom_id_index(data)

    async def get_rom(self, rom_id: int) -> RomDetail:
        """``GET /api/roms/{rom_id}`` -> the ROM with its ``files``; ``NotFoundError`` if gone."""
        return parse.parse_rom_detail(await self._get(f"/api/roms/{rom_id}", scope="roms.read"))

    async def fetch_cover(self, path: str) -> tuple[bytes, str]:
        """GET a server-relative asset path as served (raw spaces and '+' allowed).

        Returns ``(body, media type)``. ``/assets/...`` paths are static files and get no
        ``Authorization``; other paths get the token. Bodies over ``MAX_COVER_BYTES``
        raise ``BadResponseError``; a missing asset raises ``NotFoundError``.
        """
        url = server_path_url(self._http.base, path)
        is_static = path.startswith("/assets/")
        reply = await self._http.send(
            "GET",
            url,
            bearer="" if is_static else self._require_token(),
            scope="assets.read",
            on_401=TOKEN_REJECTED,
            max_bytes=MAX_COVER_BYTES,
        )
        return reply.body, reply.content_type

    async def _get(
        self, path: str, *, scope: str, params: Sequence[tuple[str, str]] = ()
    ) -> object:
        return await self._http.json(
            "GET", path, params=params, bearer=self._require_token(), scope=scope,
            on_401=TOKEN_REJECTED,
        )  # fmt: skip

    def _require_token(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token


def _release_gil() -> None:
    time.sleep(0)  # a worker thread's pause: the event loop takes the GIL if it waits
