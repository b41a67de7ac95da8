"""Benchmark: a first sync and a no-change resync of a 10,000- and a 20,000-ROM library.

The fake RomM server runs in its own process with a per-ROM service cost like the real
server's (PERFORMANCE.md: ~0.8 ms per ROM listed without files). The sync runs as the
real CLI in a subprocess, measured for wall time and peak RSS (``wait4``). The baseline
replays the exact GET requests the first sync made (pages one at a time, covers 8 at a
time) with a bare aiohttp client: the time merely to fetch the same bytes.

Targets: first sync <= 1.3x the bare fetch; peak RSS <= 100 MB; resync <= 5% of the first.
``--roms N`` (repeatable) picks the sizes; ``--profile-resync K`` runs one more resync under
cProfile and prints its top K functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO), str(REPO / "tests")]


async def serve(n_roms: int, n_platforms: int, n_covers: int, cost: float) -> None:
    """Server process: print the URL, then answer 'log' lines on stdin with the request log."""
    import warnings

    from fakeromm.library import FakeLibrary
    from fakeromm.server import FakeRommServer

    warnings.filterwarnings("ignore", message="Synchronous compression")

    library = FakeLibrary.generated(n_roms, n_platforms, n_covers)
    server = FakeRommServer(library)
    url = await server.start()
    server.per_rom_cost = cost
    print(url, flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "quit":
            break
        print(json.dumps([[m, p, s] for m, p, s in server.requests]), flush=True)
        server.reset_log()
    await server.stop()


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; returns (wall seconds, peak RSS in MB, its last unindented stdout line:
    the sync's summary, not the notes indented below it)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out}\n{err}")
    summary = [line for line in out.splitlines() if line.strip() and not line[0].isspace()]
    return wall, usage.ru_maxrss / 1024, summary[-1] if summary else ""


async def bare_fetch(url: str, token: str, log: list[list[object]]) -> float:
    """GET the same API pages (one at a time) and covers (8 at a time) as the sync did."""
    import aiohttp

    api = [p for m, p, _s in log if m == "GET" and str(p).startswith("/api/")]
    covers = [p for m, p, _s in log if m == "GET" and str(p).startswith("/assets/")]
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        for path in api:
            async with session.get(url + str(path), headers=headers) as response:
                await response.read()
        limiter = asyncio.Semaphore(8)

        async def one(path: object) -> None:
            async with limiter, session.get(url + str(path)) as response:
                await response.read()

        await asyncio.gather(*(one(p) for p in covers))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark a first sync and a resync.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--roms", type=int, action="append", help="default: 10000 and 20000")
    parser.add_argument("--platforms", type=int, default=20)
    parser.add_argument("--covers", type=int, default=500)
    parser.add_argument("--cost", type=float, default=0.0008, help="server s per ROM listed")
    parser.add_argument("--resyncs", type=int, default=5, help="resyncs to take the median of")
    parser.add_argument("--profile-resync", type=int, default=0, help="top K of a resync")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.roms[0], args.platforms, args.covers, args.cost))
        return 0
    for n_roms in args.roms or [10_000, 20_000]:
        bench(args, n_roms)
    return 0


def profile_resync(sync: list[str], env: dict[str, str], top: int, out: Path) -> None:
    """Run one more resync under cProfile; print its top ``top`` functions by own time."""
    import pstats

    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), *sync[1:]],
        env=env,
        check=True,
        capture_output=True,
    )
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def bench(args: argparse.Namespace, n_roms: int) -> None:
    """Serve ``n_roms`` ROMs, run a first sync and resyncs, print the figures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3]), "PYTHONUNBUFFERED": "1"}
    # Measure as a Deck runs it: Python caches compiled modules (.pyc). Some sandboxes set
    # PYTHONDONTWRITEBYTECODE, which makes every run recompile our modules from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--roms",
            str(n_roms),
            "--platforms",
            str(args.platforms),
            "--covers",
            str(args.covers),
            "--cost",
            str(args.cost),
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin and server.stdout
    url = server.stdout.readline().strip()

    def request_log() -> list[list[object]]:
        assert server.stdin and server.stdout
        server.stdin.write("log\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    try:
        with tempfile.TemporaryDirectory(prefix="romdeck-bench-") as tmp:
            root = Path(tmp)
            steam = root / "Steam"
            (steam / "userdata" / "12345678" / "config").mkdir(parents=True)
            cli_env = {
                **env,
                "ROMDECK_DATA_DIR": str(root / "data"),
                "HOME": str(root),
                "ROMDECK_PASSWORD": "hunter2",
            }
            cli = [sys.executable, "-m", "romdeck"]
            run_measured([*cli, "login", "--url", url, "--username", "admin"], cli_env)
            slugs = [f"bench{i:02d}" for i in range(args.platforms)]
            platforms_out = subprocess.run(
                [*cli, "platforms"], env=cli_env, check=True, capture_output=True, text=True
            ).stdout
            slugs = [line.split()[0] for line in platforms_out.splitlines()[1:] if line.strip()]
            run_measured([*cli, "select", *slugs], cli_env)
            request_log()
            sync = [*cli, "sync", "--steam-dir", str(steam)]
            first_s, first_rss, first_line = run_measured(sync, cli_env)
            first_log = request_log()
            # A resync is short, so machine noise matters: take the median of a few.
            resyncs = [run_measured(sync, cli_env) for _ in range(args.resyncs)]
            again_requests = len(request_log()) // len(resyncs)
            again_s = statistics.median(r[0] for r in resyncs)
            again_rss = max(r[1] for r in resyncs)
            again_line = resyncs[-1][2]
            if args.profile_resync:
                profile_resync(sync, cli_env, args.profile_resync, root / "resync.prof")
            token = json.loads((root / "data" / "settings.json").read_text())["connection"]["token"]
            bare_s = asyncio.run(bare_fetch(url, token, first_log))
            request_log()
    finally:
        server.stdin.write("quit\n")
        server.stdin.flush()
        server.wait(timeout=30)

    ratio = first_s / bare_s
    share = again_s / first_s
    print(
        f"library: {n_roms} ROMs, {args.platforms} platforms, {args.covers} covers, "
        f"server cost {args.cost * 1000:.2f} ms/ROM"
    )
    print(
        f"first sync : {first_s:6.2f} s  peak RSS {first_rss:5.1f} MB  "
        f"{len(first_log):4d} requests   [{first_line}]"
    )
    print(
        f"resync     : {again_s:6.2f} s  peak RSS {again_rss:5.1f} MB  "
        f"{again_requests:4d} requests   [{again_line}] (median of {len(resyncs)})"
    )
    print(f"bare GET of the same pages and covers: {bare_s:6.2f} s")
    print(
        f"first sync / bare fetch = {ratio:.2f} (target <= 1.30)  "
        f"{'OK' if ratio <= 1.3 else 'MISSED'}"
    )
    print(
        f"peak RSS = {max(first_rss, again_rss):.1f} MB (target <= 100)  "
        f"{'OK' if max(first_rss, again_rss) <= 100 else 'MISSED'}"
    )
    print(
        f"resync / first sync = {share * 100:.1f}% (target <= 5%)  "
        f"{'OK' if share <= 0.05 else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())
