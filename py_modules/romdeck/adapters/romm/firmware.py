"""RomM's firmware (BIOS) files over HTTP: the list per platform and streamed downloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
from yarl import URL

from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.romm import parse
from romdeck.adapters.romm.catalog import TOKEN_REJECTED
from romdeck.adapters.romm.http import USER_AGENT, RetryPolicy, RommHttp
from romdeck.domain.downloads import DownloadProgress
from romdeck.domain.firmware import ServerFirmware
from romdeck.domain.models import Platform
from romdeck.domain.settings import Connection
from romdeck.errors import NotConfiguredError


class AiohttpRommFirmware:
    """The ``FirmwareServer`` port: ``GET /api/platforms``, ``GET /api/firmware?platform_id=``
    and ``GET /api/firmware/{id}/content/{file_name}`` (API-NOTES §7) with the client token.

    Downloads go through :class:`AiohttpDownloader` (``.part`` file, resume, retries,
    verified against the server's sha1/md5 and size, then renamed into place).
    Raises ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError``,
    ``MissingScopeError`` (``firmware.read``), ``NotFoundError``, ``BadResponseError``,
    ``HashMismatchError`` and ``DiskFullError``; an empty token ``NotConfiguredError``.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        connection: Connection,
        downloader: AiohttpDownloader,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = RommHttp.for_connection(session, connection, retry)
        self._token = connection.token
        self._downloader = downloader

    async def list_platforms(self) -> list[Platform]:
        """``GET /api/platforms``: every platform of the server."""
        return parse.parse_platforms(await self._get("/api/platforms", (), "platforms.read"))

    async def list_firmware(self, platform_id: int) -> list[ServerFirmware]:
        """``GET /api/firmware?platform_id=<id>``: the platform's firmware files."""
        params = (("platform_id", str(platform_id)),)
        return parse.parse_firmware_list(await self._get("/api/firmware", params, "firmware.read"))

    def content_url(self, firmware: ServerFirmware) -> str:
        """``/api/firmware/{id}/content/{file_name}`` (the name URL-encoded)."""
        name = quote(firmware.file_name, safe="")
        return str(
            URL(f"{self._http.base}/api/firmware/{firmware.id}/content/{name}", encoded=True)
        )

    async def download_firmware(
        self,
        firmware: ServerFirmware,
        target: str,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """Download ``firmware`` to the file ``target`` (bytes; verified, atomic rename).

        ``on_progress(bytes_done, bytes_total)`` is called on the loop at most every 0.25 s.
        """

        def progress(p: DownloadProgress) -> None:
            if on_progress is not None:
                on_progress(p.bytes_done, p.bytes_total)

        await self._downloader.download(
            self.content_url(firmware),
            Path(target),
            headers={"Authorization": f"Bearer {self._require_token()}", "User-Agent": USER_AGENT},
            ssl=self._http.ssl,
            expected_size=firmware.size_bytes or None,
            expected_md5=firmware.md5 or None,
            expected_sha1=firmware.sha1 or None,
            on_progress=progress,
        )

    async def _get(self, path: str, params: tuple[tuple[str, str], ...], scope: str) -> object:
        return await self._http.json(
            "GET", path, params=params, bearer=self._require_token(), scope=scope,
            on_401=TOKEN_REJECTED,
        )  # fmt: skip

    def _require_token(self) -> str:
        if not self._token:
            raise NotConfiguredError("RomDeck is not signed in to a RomM server yet.")
        return self._token
