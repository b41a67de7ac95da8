"""Benchmark BIOS status and download against the fake RomM server on loopback.

A library of ``--platforms`` platforms (slugs that need firmware, cycled), each with
``--files`` firmware files of ``--size`` KiB; half of them already in the bios folder.
Prints seconds for ``status(None)`` (every platform: list + md5 of each local file) and
for downloading everything missing. Usage: python scripts/bench_firmware.py [--platforms N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO), str(REPO / "tests")]

import aiohttp  # noqa: E402

from fakeromm.auth_state import ALL_SCOPES  # noqa: E402
from fakeromm.library import FakeLibrary  # noqa: E402
from fakeromm.server import FakeRommServer  # noqa: E402
from romdeck.adapters.clock import SystemClock  # noqa: E402
from romdeck.adapters.emulation.core_info import CoreInfoFolders  # noqa: E402
from romdeck.adapters.files.bios_folder import LocalBiosFolder  # noqa: E402
from romdeck.adapters.files.download import AiohttpDownloader  # noqa: E402
from romdeck.adapters.files.hashing import FileHasher  # noqa: E402
from romdeck.adapters.romm.firmware import AiohttpRommFirmware  # noqa: E402
from romdeck.adapters.store.database import SqliteDatabase  # noqa: E402
from romdeck.adapters.store.firmware_files import SqliteFirmwarePlacements  # noqa: E402
from romdeck.domain.emulation import EmulationPaths  # noqa: E402
from romdeck.domain.firmware import requirements_for_system  # noqa: E402
from romdeck.domain.layout import PlayTarget  # noqa: E402
from romdeck.domain.settings import Connection  # noqa: E402
from romdeck.services.firmware import FirmwareDeps, FirmwareService  # noqa: E402

SLUGS = ["psx", "saturn", "dc", "segacd", "gba", "gb", "gbc", "nds", "3do", "neo-geo-cd"]


async def bench(n_platforms: int, n_files: int, size_kib: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="romdeck-bench-bios-"))
    bios = tmp / "bios"
    lib = FakeLibrary()
    for i in range(n_platforms):
        slug = SLUGS[i % len(SLUGS)]
        pid = lib.add_platform(slug if i < len(SLUGS) else f"{slug}-{i}", slug, fs_slug=slug)
        system = {"dc": "dreamcast", "neo-geo-cd": "neogeocd"}.get(slug, slug)
        names = [r.file_name for r in requirements_for_system(system)][:n_files]
        for j, name in enumerate(names):
            lib.add_firmware(pid, name, os.urandom(size_kib * 1024))
            if j % 2 == 0 and i < len(SLUGS):
                path = bios / next(
                    r.path for r in requirements_for_system(system) if r.file_name == name
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(os.urandom(size_kib * 1024))
    server = FakeRommServer(lib)
    await server.start()
    token = lib.auth.create_client_token("admin", "bench", list(ALL_SCOPES), None).raw_token
    db = SqliteDatabase(tmp / "state.db")
    target = PlayTarget(
        paths=EmulationPaths(roms=str(tmp / "roms"), saves="", states="", bios=str(bios))
    )

    async def read_target() -> PlayTarget:
        return target

    async with aiohttp.ClientSession() as session:
        api = AiohttpRommFirmware(
            session, Connection(url=server.url, token=token), AiohttpDownloader(session)
        )
        service = FirmwareService(FirmwareDeps(
            connect=lambda: api, folder=LocalBiosFolder(FileHasher(), tmp / "backups"),
            placements=SqliteFirmwarePlacements(db), cores=CoreInfoFolders(tmp / "home"),
            target=read_target, clock=SystemClock(),
        ))  # fmt: skip
        start = time.perf_counter()
        platforms = await service.status(None)
        listed = time.perf_counter() - start
        files = sum(len(p.files) for p in platforms)
        start = time.perf_counter()
        results = await service.download(None, [])
        fetched = time.perf_counter() - start
        done = sum(r.outcome == "downloaded" for r in results)
        print(f"status: {len(platforms)} platforms, {files} files in {listed:.3f} s")
        print(f"download: {done} files of {size_kib} KiB in {fetched:.3f} s")
    db.close()
    await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--platforms", type=int, default=40)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--size", type=int, default=512, help="KiB per firmware file")
    args = parser.parse_args()
    asyncio.run(bench(args.platforms, args.files, args.size))


if __name__ == "__main__":
    main()
