"""Benchmark: ROM download, archive extraction and launcher start, side by side.

1. A ``--size-mib`` file (1 GiB) served by aiohttp's ``FileResponse`` (sendfile, Range) from
   a separate process on 127.0.0.1, fetched by ``AiohttpDownloader`` in a subprocess (with
   and without sha1 verification; peak RSS growth read from ``ru_maxrss`` after imports) and
   by ``curl -o``. Our downloader fsyncs before installing and curl does not, so a
   "curl + fsync" row shows the like-for-like cost.
2. A zip of the same size (a few members, deflate level 1 of semi-random data) unpacked by
   ``SafeExtractor`` (fsyncs every member) and by ``unzip -q -o`` (plus an "+ fsync" row).
3. ``scripts/bench_launcher.py`` run as is; its medians are checked against the targets.

Each measurement is the median of ``--runs``; dirty pages are flushed (``os.sync``) before
every timed run. All big files live in one temporary folder removed at the end.

Targets: download >= 0.9x curl's throughput (sha1 verified), peak RSS growth <= 30 MB,
extraction >= 0.8x unzip's speed, launcher spawn→emulator <= 150 ms (backend up) and
<= 80 ms (backend down). Prints a table and OK/MISSED per target; asserts nothing.

    scripts/bench_download [--size-mib 1024] [--runs 5] [--launcher-runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO)]

_T = TypeVar("_T")
MIB = 1024 * 1024
BLOCK = 64 * 1024
PAYLOAD = "payload.bin"
MEMBERS = 4  # the zip holds MEMBERS equal .bin tracks and a small .cue


# --- test data -----------------------------------------------------------------------------


def semi_random_blocks(size: int, seed: int = 1) -> Iterator[bytes]:
    """``size`` bytes as 64 KiB blocks: 60% random-looking (a pool of random blocks, each
    copy stamped with its offset), 25% low-entropy (16 symbols), 15% zero padding.
    Deflate level 1 shrinks it ~1.3x, like disc images; a repeat is 64 KiB away, beyond
    deflate's 32 KiB window, so the random part stays incompressible."""
    rng = random.Random(seed)
    pool = [rng.randbytes(BLOCK) for _ in range(64)]
    nibbles = bytes((b & 0x0F) * 17 for b in range(256))
    low = [block.translate(nibbles) for block in pool]
    zero = bytes(BLOCK)
    for offset in range(0, size, BLOCK):
        kind = rng.random()
        if kind < 0.15:
            block = zero
        else:
            source = low if kind < 0.40 else pool
            block = offset.to_bytes(8, "little") + source[rng.randrange(64)][8:]
        yield block[: size - offset]


def write_payload(path: Path, size: int) -> str:
    """Write the download payload; return its sha1 (lowercase hex)."""
    digest = hashlib.sha1()
    with path.open("wb") as file:
        for block in semi_random_blocks(size):
            digest.update(block)
            file.write(block)
    return digest.hexdigest()


def write_zip(path: Path, source: Path) -> tuple[int, int]:
    """Zip ``source`` split into MEMBERS tracks plus a .cue; return (unpacked, zip bytes)."""
    size = source.stat().st_size
    share = -(-size // MEMBERS)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        source.open("rb") as data,
    ):
        cue = "".join(f'FILE "Game (Track {i + 1}).bin" BINARY\n' for i in range(MEMBERS))
        archive.writestr("Game.cue", cue)
        for index in range(MEMBERS):
            left = min(share, size - index * share)
            with archive.open(f"Game (Track {index + 1}).bin", "w") as member:
                while left > 0:
                    chunk = data.read(min(MIB, left))
                    member.write(chunk)
                    left -= len(chunk)
        unpacked = size + len(cue)
    return unpacked, path.stat().st_size


# --- child processes -------------------------------------------------------------------------


async def serve(directory: Path) -> None:
    """Server process: serve ``directory/payload.bin``, print the port, stop on stdin EOF."""
    from aiohttp import web

    async def send(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(directory / PAYLOAD)

    app = web.Application()
    app.router.add_get(f"/files/{PAYLOAD}", send)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await runner.cleanup()


async def fetch(url: str, target: Path, size: int, sha1: str | None) -> None:
    """Download process: one ``AiohttpDownloader.download``; print seconds and ru_maxrss."""
    import resource

    import aiohttp

    from romdeck.adapters.files.download import AiohttpDownloader

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as session:
        downloader = AiohttpDownloader(session)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        await downloader.download(url, target, expected_size=size, expected_sha1=sha1)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_growth_kib": after - before}))


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Row:
    """One method's timed runs; ``extra`` holds peak RSS growth in MB when measured."""

    label: str
    seconds: list[float] = field(default_factory=list)
    extra: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def fsync_all(paths: list[Path]) -> float:
    """fsync each file; return the seconds it took."""
    started = time.perf_counter()
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return time.perf_counter() - started


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def clean(path: Path) -> None:
    """Remove a file or folder tree if present, then flush dirty pages (not timed)."""
    if path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        path.rmdir()
    else:
        path.unlink(missing_ok=True)
    os.sync()


def sha1_seconds(path: Path) -> float:
    """Seconds to sha1 a (cached) file on one core: the floor for any verified download."""
    started = time.perf_counter()
    with path.open("rb") as file:
        hashlib.file_digest(file, "sha1")
    return time.perf_counter() - started


def bench_download(work: Path, url: str, source: Path, sha1: str, runs: int) -> list[Row]:
    curl, curl_sync = Row("curl -o"), Row("curl -o + fsync")
    ours, bare = Row("RomDeck, sha1 verified"), Row("RomDeck, no hash")
    floor, size = Row("sha1 alone, no network"), source.stat().st_size
    out = work / "curl.bin"
    target = work / "ours" / PAYLOAD
    fetch_argv = [sys.executable, __file__, "--fetch", url, str(target), str(size)]
    for _ in range(runs):
        clean(out)
        took = float(run(["curl", "-sS", "-o", str(out), "-w", "%{time_total}", url]))
        curl.seconds.append(took)
        curl_sync.seconds.append(took + fsync_all([out]))
        floor.seconds.append(sha1_seconds(source))
        for row, extra in ((ours, [sha1]), (bare, [])):
            clean(target)
            result = json.loads(run([*fetch_argv, *extra]).strip().splitlines()[-1])
            row.seconds.append(result["seconds"])
            row.extra.append(result["rss_growth_kib"] / 1024)
    clean(out)
    clean(target)
    return [curl, curl_sync, ours, bare, floor]


def bench_extract(work: Path, archive: Path, runs: int) -> list[Row]:
    from romdeck.adapters.files.extract import SafeExtractor
    from romdeck.domain.downloads import ExtractionLimits

    unzip, unzip_sync, ours = Row("unzip -q -o"), Row("unzip -q -o + fsync"), Row("SafeExtractor")
    limits = ExtractionLimits(max_total_bytes=max(ExtractionLimits().max_total_bytes, 2 << 40))
    extractor = SafeExtractor(limits)
    theirs, mine = work / "unzip-out", work / "ours-out"
    for _ in range(runs):
        clean(theirs)
        started = time.perf_counter()
        run(["unzip", "-q", "-o", str(archive), "-d", str(theirs)])
        took = time.perf_counter() - started
        unzip.seconds.append(took)
        unzip_sync.seconds.append(took + fsync_all([p for p in theirs.rglob("*") if p.is_file()]))
        clean(mine)
        started = time.perf_counter()
        extractor.extract(archive, mine)
        ours.seconds.append(time.perf_counter() - started)
    clean(theirs)
    clean(mine)
    return [unzip, unzip_sync, ours]


class Launcher(NamedTuple):
    """bench_launcher.py's output and medians (ms): spawn→emulator, and over the emulator alone."""

    output: str
    up: float
    down: float
    up_overhead: float
    down_overhead: float


def bench_launcher(runs: int) -> Launcher:
    """Run scripts/bench_launcher.py as is and read its medians."""
    output = run([sys.executable, str(REPO / "scripts" / "bench_launcher.py"), str(runs)])

    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        if found is None:
            raise SystemExit(f"bench_launcher.py output changed; no {pattern!r} in:\n{output}")
        return float(found.group(1))

    up, down = number(r"backend up\s+([\d.]+)"), number(r"backend down\s+([\d.]+)")
    overheads = number(r"overhead to exec: up ([\d.-]+)"), number(r"ms, down ([\d.-]+)")
    return Launcher(output, up, down, *overheads)


# --- report ----------------------------------------------------------------------------------


def table(rows: list[Row], size: int, baseline: Row, extra_label: str) -> None:
    print(
        f"  {'method':<24} {'median s':>9} {'MiB/s':>8} {'speed vs ' + baseline.label:>20}"
        f"  {extra_label}"
    )
    for row in rows:
        extra = f"{max(row.extra):.1f}" if row.extra else "-"
        print(
            f"  {row.label:<24} {row.median:>9.2f} {size / MIB / row.median:>8.0f} "
            f"{baseline.median / row.median:>19.2f}x  {extra:>6}"
        )


def verdict(text: str, ok: bool) -> bool:
    print(f"  {text:<66} {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark download, extraction, launch.")
    parser.add_argument("--size-mib", type=int, default=1024, help="payload size (1024)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per method (5)")
    parser.add_argument("--launcher-runs", type=int, default=20, help="launches each way (20)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fetch", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return 0
    if args.fetch is not None:
        url, target, size, *sha1 = args.fetch
        asyncio.run(fetch(url, Path(target), int(size), sha1[0] if sha1 else None))
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="romdeck-bench-download-") as tmp:
        ok = measure(Path(tmp), args.size_mib * MIB, args.runs, args.launcher_runs, started)
    print(f"total {time.perf_counter() - started:.0f} s; all targets {'met' if ok else 'NOT met'}")
    return 0


def timed(label: str, action: Callable[[], _T]) -> _T:
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


def measure(work: Path, size: int, runs: int, launcher_runs: int, started: float) -> bool:
    source, archive = work / "served" / PAYLOAD, work / "game.zip"
    source.parent.mkdir()
    sha1 = timed("generate payload", lambda: write_payload(source, size))
    unpacked, packed = timed("generate zip", lambda: write_zip(archive, source))
    os.sync()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(source.parent)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/files/{PAYLOAD}"
        download = bench_download(work, url, source, sha1, runs)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    extraction = bench_extract(work, archive, runs)
    launcher = bench_launcher(launcher_runs)
    print(
        f"\nRomDeck download benchmark: {size / MIB:.0f} MiB, median of {runs} runs, "
        f"{os.cpu_count()} CPUs, setup+runs {time.perf_counter() - started:.0f} s"
    )
    print("\n1. Download from 127.0.0.1 (aiohttp FileResponse/sendfile in its own process)")
    table(download, size, download[0], "peak RSS growth MB")
    print(
        f"\n2. Extraction of a {MEMBERS}-track zip, deflate level 1, "
        f"{unpacked / MIB:.0f} MiB unpacked, ratio {unpacked / packed:.2f}"
    )
    table(extraction, unpacked, extraction[0], "")
    print(f"\n3. Launcher ({launcher_runs} runs each; scripts/bench_launcher.py)")
    print("".join(f"  {line}\n" for line in launcher.output.splitlines()), end="")
    return report(download, extraction, launcher)


def report(download: list[Row], extraction: list[Row], launcher: Launcher) -> bool:
    curl, curl_sync, ours, bare, floor = download
    unzip, unzip_sync, extractor = extraction
    up, down = launcher.up, launcher.down
    rss = max(ours.extra + bare.extra)
    print("\nTargets")
    results = [
        verdict(
            f"download sha1 verified: {curl.median / ours.median:.2f}x curl's throughput (>= 0.90)",
            curl.median / ours.median >= 0.9,
        ),
        verdict(f"download peak RSS growth: {rss:.1f} MB (<= 30)", rss <= 30),
        verdict(
            f"extraction: {unzip.median / extractor.median:.2f}x unzip's speed (>= 0.80)",
            unzip.median / extractor.median >= 0.8,
        ),
        verdict(f"launcher spawn→emulator, backend up: {up:.1f} ms (<= 150)", up <= 150),
        verdict(f"launcher spawn→emulator, backend down: {down:.1f} ms (<= 80)", down <= 80),
    ]
    print("Context (not targets)")
    print(
        f"  download with no hash: {curl.median / bare.median:.2f}x curl; sha1 verified vs "
        f"curl + fsync: {curl_sync.median / ours.median:.2f}x"
    )
    print(
        f"  sha1 alone (hashlib, one core) runs at {curl.median / floor.median:.2f}x curl's "
        "speed: no sha1-verified download can go faster"
    )
    print(f"  extraction vs unzip + fsync: {unzip_sync.median / extractor.median:.2f}x")
    print(
        f"  launcher overhead over the emulator alone: up {launcher.up_overhead:.1f} ms, "
        f"down {launcher.down_overhead:.1f} ms"
    )
    return all(results)


if __name__ == "__main__":
    sys.exit(main())
