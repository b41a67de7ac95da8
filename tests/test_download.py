"""AiohttpDownloader against a real loopback aiohttp server that serves files like RomM."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from romdeck.adapters.files import download as download_module
from romdeck.adapters.files.diskspace import StatvfsDiskSpace
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.domain.downloads import DownloadProgress, PartState
from romdeck.errors import (
    AuthRejectedError,
    CancelledError,
    DiskFullError,
    DownloadFailedError,
    HashMismatchError,
    NotFoundError,
)

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes, every byte position distinct-ish
OTHER = bytes(reversed(PAYLOAD))
CHUNK = 64 * 1024


@dataclass
class FileServer:
    """What the fake content endpoint serves, and the request headers it saw."""

    payloads: list[tuple[bytes, str]] = field(default_factory=lambda: [(PAYLOAD, '"v1"')])
    cuts: list[int] = field(default_factory=list)
    holds: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    ignore_range: bool = False
    honour_if_range: bool = True
    misplaced_ranges: int = 0  # this many 206 answers start at byte 0, not where asked
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def current(self) -> tuple[bytes, str]:
        return self.payloads[0] if len(self.payloads) == 1 else self.payloads.pop(0)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.headers))
        if self.statuses:
            return web.Response(status=self.statuses.pop(0), text='{"detail":"no"}')
        data, etag = self.current()
        start = self._range_start(request, etag)
        if start is not None and self.misplaced_ranges > 0:
            self.misplaced_ranges -= 1
            start = 0
        if start is not None and start >= len(data):
            return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Last-Modified": "Sat, 28 Nov 2026"}
        response = web.StreamResponse(status=200 if start is None else 206, headers=headers)
        if start is not None:
            response.headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start or 0 :]
        response.content_length = len(body)
        await response.prepare(request)
        if self.cuts or self.holds:
            return await self._misbehave(request, response, body)
        await response.write(body)
        return response

    def _range_start(self, request: web.Request, etag: str) -> int | None:
        value = request.headers.get("Range")
        if value is None or self.ignore_range:
            return None
        if_range = request.headers.get("If-Range")
        if self.honour_if_range and if_range is not None and if_range != etag:
            return None
        return int(value.removeprefix("bytes=").split("-")[0])

    async def _misbehave(
        self, request: web.Request, response: web.StreamResponse, body: bytes
    ) -> web.StreamResponse:
        if self.cuts:
            await response.write(body[: self.cuts.pop(0)])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(body[: self.holds.pop(0)])
        await asyncio.Event().wait()  # hang until the client gives up
        return response


@pytest.fixture
async def server() -> AsyncIterator[FileServer]:
    state = FileServer()
    app = web.Application()
    app.router.add_get("/api/roms/{rom_id}/content/{name}", state.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    state.url = str(test_server.make_url("/api/roms/20/content/Super%20Metroid.sfc"))
    yield state
    await test_server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class StepClock:
    """A clock that moves one second per reading, so every progress report is emitted."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


async def no_sleep(_seconds: float) -> None:
    return None


def make_downloader(session: aiohttp.ClientSession, **kwargs: object) -> AiohttpDownloader:
    options: dict[str, object] = {"chunk_size": CHUNK, "sleep": no_sleep, "clock": StepClock()}
    options.update(kwargs)
    return AiohttpDownloader(session, **options)  # type: ignore[arg-type]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir())


async def test_a_full_download_installs_the_exact_bytes_and_leaves_no_part(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "snes" / "Super Metroid.sfc"
    result = await make_downloader(session).download(
        server.url, target, headers={"Authorization": "Bearer rmm_x"}, expected_md5=md5(PAYLOAD)
    )
    assert target.read_bytes() == PAYLOAD
    assert (result.path, result.size_bytes, result.etag) == (target, len(PAYLOAD), '"v1"')
    assert leftovers(target) == ["Super Metroid.sfc"]
    assert server.requests[0]["Authorization"] == "Bearer rmm_x"
    assert "Range" not in server.requests[0]


async def test_progress_reports_grow_monotonically_up_to_the_total(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    events: list[DownloadProgress] = []
    await make_downloader(session).download(server.url, tmp_path / "rom", on_progress=events.append)
    done = [event.bytes_done for event in events]
    assert len(events) > 5
    assert done == sorted(done)
    assert events[-1].bytes_done == len(PAYLOAD)
    assert {event.bytes_total for event in events} == {len(PAYLOAD)}
    assert events[-1].eta_seconds == 0
    assert events[-1].rate_bytes_per_s > 0


async def test_progress_reports_are_throttled_by_the_clock(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    events: list[DownloadProgress] = []
    frozen = make_downloader(session, clock=lambda: 5.0)
    await frozen.download(server.url, tmp_path / "rom", on_progress=events.append)
    assert [event.bytes_done for event in events] == [0, len(PAYLOAD)]


async def test_a_cut_connection_resumes_with_range_and_if_range(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.cuts = [300_000]
    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(server.url, target, expected_md5=md5(PAYLOAD))
    assert target.read_bytes() == PAYLOAD
    assert len(server.requests) == 2
    resumed_at = int(server.requests[1]["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 300_000
    assert server.requests[1]["If-Range"] == '"v1"'
    assert leftovers(target) == ["rom.sfc"]


async def test_a_server_that_ignores_range_makes_the_download_restart_from_zero(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.cuts = [300_000]
    server.ignore_range = True
    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(
        server.url, target, expected_crc=f"{zlib.crc32(PAYLOAD):08x}"
    )
    assert target.read_bytes() == PAYLOAD
    assert "Range" in server.requests[1]


async def test_a_changed_etag_restarts_the_download_with_the_new_file(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.payloads = [(PAYLOAD, '"v1"'), (OTHER, '"v2"'), (OTHER, '"v2"')]
    server.cuts = [300_000]
    target = tmp_path / "rom.sfc"
    result = await make_downloader(session).download(server.url, target, expected_md5=md5(OTHER))
    assert target.read_bytes() == OTHER
    assert result.etag == '"v2"'


async def test_a_206_for_another_etag_is_not_appended_but_restarted(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.payloads = [(PAYLOAD, '"v1"'), (OTHER, '"v2"'), (OTHER, '"v2"')]
    server.cuts = [300_000]
    server.honour_if_range = False
    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(server.url, target, expected_md5=md5(OTHER))
    assert target.read_bytes() == OTHER
    assert "Range" not in server.requests[2]


async def test_a_hash_mismatch_installs_nothing_and_deletes_the_part(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.sfc"
    with pytest.raises(HashMismatchError):
        await make_downloader(session).download(server.url, target, expected_md5=md5(b"other"))
    assert leftovers(target) == []


async def test_a_wrong_size_is_refused_like_a_wrong_hash(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.sfc"
    with pytest.raises(HashMismatchError):
        await make_downloader(session).download(server.url, target, expected_size=len(PAYLOAD) + 1)
    assert leftovers(target) == []


@pytest.mark.parametrize("keep_partial", [False, True])
async def test_cancel_stops_a_stalled_download_and_keeps_the_part_only_on_request(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path, keep_partial: bool
) -> None:
    server.holds = [200_000]
    cancel = asyncio.Event()
    target = tmp_path / "rom.sfc"

    def on_progress(progress: DownloadProgress) -> None:
        if progress.bytes_done > 0:
            cancel.set()

    with pytest.raises(CancelledError):
        await make_downloader(session).download(
            server.url, target, cancel=cancel, on_progress=on_progress, keep_partial=keep_partial
        )
    expected = ["rom.sfc.part", "rom.sfc.part.json"] if keep_partial else []
    assert leftovers(target) == expected


async def test_a_kept_part_resumes_in_a_later_call_and_still_verifies_the_hash(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.holds = [200_000]
    cancel = asyncio.Event()
    target = tmp_path / "rom.sfc"
    downloader = make_downloader(session)
    with pytest.raises(CancelledError):
        await downloader.download(
            server.url,
            target,
            cancel=cancel,
            keep_partial=True,
            on_progress=lambda p: cancel.set() if p.bytes_done else None,
        )
    kept = (tmp_path / "rom.sfc.part").stat().st_size
    await downloader.download(server.url, target, expected_md5=md5(PAYLOAD))
    assert target.read_bytes() == PAYLOAD
    assert server.requests[-1]["Range"] == f"bytes={kept}-"
    assert server.requests[-1]["If-Range"] == '"v1"'


async def test_a_206_that_does_not_start_where_the_part_ends_is_not_appended(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.cuts = [300_000]
    server.misplaced_ranges = 1
    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(server.url, target)  # no hash: bytes must be right
    assert target.read_bytes() == PAYLOAD
    assert "Range" in server.requests[1]
    assert "Range" not in server.requests[2]  # restarted from zero instead


async def test_a_resumed_part_with_damaged_bytes_fails_verification_and_installs_nothing(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.sfc"
    kept = bytearray(PAYLOAD[:500_000])
    kept[1234] ^= 0xFF  # one flipped bit in the bytes kept from a previous run
    (tmp_path / "rom.sfc.part").write_bytes(kept)
    state = PartState(server.url, etag='"v1"', total=len(PAYLOAD))
    (tmp_path / "rom.sfc.part.json").write_text(state.to_json())
    with pytest.raises(HashMismatchError):
        await make_downloader(session).download(server.url, target, expected_md5=md5(PAYLOAD))
    assert server.requests[0]["Range"] == "bytes=500000-"
    assert leftovers(target) == []


async def test_a_complete_part_answered_416_is_verified_and_installed(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.sfc"
    (tmp_path / "rom.sfc.part").write_bytes(PAYLOAD)
    state = PartState(server.url, etag='"v1"', total=len(PAYLOAD))
    (tmp_path / "rom.sfc.part.json").write_text(state.to_json())
    await make_downloader(session).download(server.url, target, expected_md5=md5(PAYLOAD))
    assert target.read_bytes() == PAYLOAD
    assert server.requests[0]["Range"] == f"bytes={len(PAYLOAD)}-"
    assert leftovers(target) == ["rom.sfc"]


async def test_a_part_from_another_url_is_discarded(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.sfc"
    (tmp_path / "rom.sfc.part").write_bytes(b"x" * 1000)
    (tmp_path / "rom.sfc.part.json").write_text(
        PartState("http://elsewhere/", etag='"v1"').to_json()
    )
    await make_downloader(session).download(server.url, target, expected_md5=md5(PAYLOAD))
    assert target.read_bytes() == PAYLOAD
    assert "Range" not in server.requests[0]


async def test_a_full_disk_raises_disk_full_and_leaves_nothing(
    server: FileServer,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = 0

    def filling_write(file: BinaryIO, data: bytes) -> None:
        nonlocal written
        if written + len(data) > 200_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written += len(data)
        file.write(data)

    monkeypatch.setattr(download_module, "_write_block", filling_write)
    target = tmp_path / "rom.sfc"
    with pytest.raises(DiskFullError):
        await make_downloader(session).download(server.url, target)
    assert leftovers(target) == []


async def test_force_range_asks_for_bytes_zero_onwards_on_a_fresh_start(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "game.zip"
    await make_downloader(session).download(server.url, target, force_range=True)
    assert server.requests[0]["Range"] == "bytes=0-"
    assert target.read_bytes() == PAYLOAD


async def test_an_empty_file_answered_416_to_a_forced_range_is_installed_empty(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.payloads = [(b"", '"empty"')]
    target = tmp_path / "empty.m3u"
    result = await make_downloader(session).download(server.url, target, force_range=True)
    assert target.read_bytes() == b""
    assert result.size_bytes == 0
    assert leftovers(target) == ["empty.m3u"]


async def test_pause_drops_the_connection_and_resume_continues_with_range(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    pause = asyncio.Event()
    pause.set()
    paused_at: list[int] = []

    def on_progress(progress: DownloadProgress) -> None:
        if progress.bytes_done and not paused_at:
            paused_at.append(progress.bytes_done)
            pause.clear()
            asyncio.get_running_loop().call_soon(pause.set)

    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(
        server.url, target, pause=pause, on_progress=on_progress
    )
    assert target.read_bytes() == PAYLOAD
    assert server.requests[1]["Range"] == f"bytes={paused_at[0]}-"


@pytest.mark.parametrize(("status", "error"), [(401, AuthRejectedError), (404, NotFoundError)])
async def test_auth_and_missing_rom_statuses_map_to_our_errors(
    server: FileServer,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    status: int,
    error: type[Exception],
) -> None:
    server.statuses = [status]
    with pytest.raises(error):
        await make_downloader(session).download(server.url, tmp_path / "rom.sfc")
    assert len(server.requests) == 1


async def test_a_passing_server_error_is_retried(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.statuses = [503, 502]
    target = tmp_path / "rom.sfc"
    await make_downloader(session).download(server.url, target)
    assert target.read_bytes() == PAYLOAD
    assert len(server.requests) == 3


async def test_a_persistent_server_error_fails_after_the_allowed_attempts(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.statuses = [500] * 10
    with pytest.raises(DownloadFailedError, match="HTTP 500"):
        await make_downloader(session, attempts=3).download(server.url, tmp_path / "rom.sfc")
    assert len(server.requests) == 3


async def test_an_unexpected_status_fails_with_a_readable_message(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server.statuses = [410]
    with pytest.raises(DownloadFailedError, match="HTTP 410"):
        await make_downloader(session).download(server.url, tmp_path / "rom.sfc")


def test_free_space_is_read_from_the_nearest_existing_parent(tmp_path: Path) -> None:
    space = StatvfsDiskSpace()
    missing = tmp_path / "not" / "yet" / "there"
    stats = os.statvfs(tmp_path)
    assert space.free_bytes(missing) > 0
    assert abs(space.free_bytes(missing) - stats.f_bavail * stats.f_frsize) < 256 * 1024 * 1024
    assert not missing.parent.exists()


async def test_free_space_for_the_event_loop_is_read_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    real_statvfs = os.statvfs

    def statvfs(path: object) -> os.statvfs_result:
        threads.append(threading.get_ident())
        return real_statvfs(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "statvfs", statvfs)
    free = await StatvfsDiskSpace().free_bytes_async(tmp_path / "roms" / "snes")
    assert free == StatvfsDiskSpace().free_bytes(tmp_path)
    assert threads and threads[0] != threading.get_ident()


async def test_cancelling_while_a_multi_gb_kept_part_is_hashed_returns_within_seconds(
    server: FileServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    target = tmp_path / "rom.iso"
    part = tmp_path / "rom.iso.part"
    with part.open("wb") as file:  # sparse: 8 GiB on paper, nothing on disk
        file.truncate(8 * 1024**3)
    state = PartState(server.url, etag='"v1"', total=16 * 1024**3)
    (tmp_path / "rom.iso.part.json").write_text(state.to_json())
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    work = asyncio.ensure_future(
        make_downloader(session).download(
            server.url, target, expected_sha1="0" * 40, cancel=cancel, keep_partial=True
        )
    )
    await asyncio.sleep(0.3)  # the resume is re-hashing the kept 8 GiB
    assert not work.done()
    started = loop.time()
    cancel.set()
    with pytest.raises(CancelledError):
        await work
    assert loop.time() - started < 5
    assert part.stat().st_size == 8 * 1024**3  # kept for next time
    assert server.requests == []  # stopped before any request
