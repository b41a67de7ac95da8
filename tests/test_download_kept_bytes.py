"""Bytes received are kept when a transfer fails, and progress counts bytes received.

Against the fake RomM server (tests/fakeromm) with the downloader's real 4 MiB batches: a
1 MB ROM whose connection is cut after ~700 KB (the issue's real-server reproduction).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.library import ALL_SCOPES, FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.domain.downloads import DownloadProgress
from romdeck.errors import DownloadFailedError

ROM = bytes((i * 7) % 251 for i in range(1_048_903))
CUT = 700 * 1024


async def _no_sleep(_: float) -> None:
    return None


class TenthClock:
    """A clock that moves 0.1 s per reading (the progress throttle sees a slow link)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.1
        return self.now


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def rom_url(server: FakeRommServer, library: FakeLibrary) -> tuple[str, dict[str, str]]:
    platform = library.roms[20].platform_id
    rom_id = library.add_rom(platform, name="Cut", files=[("Cut (USA).sfc", ROM)])
    token = library.auth.create_client_token("admin", "dl", list(ALL_SCOPES), None).raw_token
    url = f"{server.url}/api/roms/{rom_id}/content/Cut%20(USA).sfc"
    return url, {"Authorization": f"Bearer {token}"}


async def test_a_cut_transfer_keeps_every_byte_received_and_resumes_to_the_right_bytes(
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    url, headers = rom_url(fake_romm, fake_library)
    target = tmp_path / "snes" / "Cut (USA).sfc"
    part = target.with_name(target.name + ".part")
    md5 = hashlib.md5(ROM).hexdigest()
    events: list[DownloadProgress] = []

    async def server_goes_down(_: float) -> None:  # the retry after the cut finds no server
        fake_romm.down = True

    failing = AiohttpDownloader(session, attempts=1, sleep=server_goes_down, clock=TenthClock())
    fake_romm.fail_after(0, drop_after_bytes=CUT)
    with pytest.raises(DownloadFailedError, match="partial download is kept"):
        await failing.download(
            url, target, headers=headers, expected_md5=md5, on_progress=events.append
        )
    kept = part.read_bytes()
    received = max(event.bytes_done for event in events)
    assert len(kept) >= CUT // 2  # the cut came after ~700 KB: most of it arrived
    assert kept == ROM[: len(kept)]
    assert received == len(kept)  # every byte reported as received is on disk
    assert any(0 < event.bytes_done < len(ROM) for event in events)  # progress rose early

    fake_romm.clear_failures()
    fake_romm.reset_log()
    result = await AiohttpDownloader(session, sleep=_no_sleep).download(
        url, target, headers=headers, expected_md5=md5
    )
    assert target.read_bytes() == ROM
    assert result.size_bytes == len(ROM)
    assert not part.exists()
    assert [status for _, path, status in fake_romm.requests if "/content/" in path] == [206]


async def test_progress_is_reported_several_times_a_second_on_a_slow_link(
    fake_romm: FakeRommServer,
    fake_library: FakeLibrary,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    url, headers = rom_url(fake_romm, fake_library)
    fake_romm.chunk_delay = 0.02  # 16 KiB per 20 ms: a 1 MB ROM takes ~1.3 s
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, int]] = []
    await AiohttpDownloader(session, sleep=_no_sleep).download(
        url,
        tmp_path / "rom.sfc",
        headers=headers,
        on_progress=lambda p: seen.append((loop.time(), p.bytes_done)),
    )
    start, end = seen[0][0], seen[-1][0]
    middle = [done for _, done in seen if 0 < done < len(ROM)]
    assert len(middle) >= 3 * (end - start) - 1  # at least ~3 reports a second
    assert middle == sorted(middle)
