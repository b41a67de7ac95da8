"""Benchmark: the Decky backend through a full library sync driven as the panel drives it.

For each library size a fresh backend process builds the real ``Plugin`` from main.py
(real bootstrap and adapters, real SQLite and settings.json in a temp folder; only the
``decky`` module is a stub, as in tests/test_plugin_contract.py). The fake RomM server
runs in its own process (``scripts/bench_sync.py --serve``, with the real server's
per-ROM cost), so the backend's CPU time and RSS are the backend's alone.

The driver signs in, selects every platform, calls ``start_sync``, polls
``get_sync_progress`` every second as the panel does, then plays the panel's chunked
apply: ``next_sync_chunk(size)`` -> pretend to be Steam (an appid per added shortcut) ->
``report_sync_chunk`` until nothing remains. ``report_sync_chunk(lease_id, results)``
(contracts.md section 1) and the older ``report_sync_chunk(results)`` are both driven:
the signature is read with ``inspect``. Throughout, a loop-lag sampler sleeps 5 ms and
records how late it wakes, and a second poller calls ``get_sync_progress`` every 20 ms
(``--tight-poll``) to gather enough samples for a p99. While a poll recomputes the plan
(before issue 6) those extra polls add backend CPU: ``--tight-poll 0`` measures the CPU
with the panel's own 1 s poll only.

Figures: backend CPU seconds (``time.process_time``) for the refresh and for the apply,
wall seconds, the worst loop stall, poll latency p50/p99 (from the instant the poll was
due to its answer, so it includes waiting for the loop), peak RSS (``ru_maxrss``).
Targets: 20k apply CPU <= 3 s; no stall > 50 ms; poll p99 <= 5 ms; peak RSS <= 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import inspect
import io
import json
import logging
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO), str(REPO / "tests")]

TARGETS = {"apply_cpu_s": 3.0, "max_stall_ms": 50.0, "poll_p99_ms": 5.0, "peak_rss_mb": 100.0}


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class LoopLag:
    """Sleeps ``interval`` s in a loop and records how late each wake-up is (seconds)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self.last_tick = time.perf_counter()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            self.last_tick = before
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - before - self.interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


_OUR_TOP_FILES = ("main.py", "bootstrap.py")


class StallSampler:
    """Where the loop is while it stalls: a thread samples every thread's stack when the
    loop has not ticked for ``threshold`` s (the :class:`LoopLag` task ticks every 5 ms).

    Each sample counts, per thread (the loop's and the workers'), its innermost frames in
    our code (``py_modules``, ``main.py``, ``bootstrap.py``), so a stall caused by a worker
    holding the GIL shows the worker's frames beside the loop's idle ``select``.
    """

    def __init__(self, lag: LoopLag, threshold: float = 0.004, depth: int = 4) -> None:
        self.lag, self.threshold, self.depth = lag, threshold, depth
        self.samples: dict[str, int] = {}
        self.stalled = 0
        self._stop = False
        self._thread: Any = None
        self._loop_thread = 0

    def start(self) -> None:
        import threading

        self._loop_thread = threading.get_ident()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import traceback

        while not self._stop:
            time.sleep(0.001)
            if time.perf_counter() - self.lag.last_tick < self.lag.interval + self.threshold:
                continue
            self.stalled += 1
            for ident, frame in sys._current_frames().items():  # a profiler's job
                if ident == threading_ident():
                    continue
                who = "loop" if ident == self._loop_thread else "worker"
                ours = [
                    f"{Path(f.filename).name}:{f.lineno} {f.name}"
                    for f in traceback.extract_stack(frame)
                    if "py_modules" in f.filename or f.filename.endswith(_OUR_TOP_FILES)
                ]
                top = traceback.extract_stack(frame)[-1]
                key = f"{who}: {' < '.join(reversed(ours[-self.depth :])) or '-'} @ {top.name}"
                self.samples[key] = self.samples.get(key, 0) + 1

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=1)

    def top(self, n: int) -> list[tuple[str, int]]:
        return sorted(self.samples.items(), key=lambda kv: -kv[1])[:n]


def threading_ident() -> int:
    import threading

    return threading.get_ident()


class Poller:
    """Calls ``get_sync_progress`` on a fixed schedule; records due-to-answer latency (s)."""

    def __init__(self, plugin: Any, every: float) -> None:
        self.plugin, self.every = plugin, every
        self.latencies: list[float] = []
        self.last: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        due = time.perf_counter()
        while True:
            due += self.every
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            answer = await self.plugin.get_sync_progress()
            self.latencies.append(time.perf_counter() - due)
            if answer["ok"]:
                self.last = answer["data"]
            due = max(due, time.perf_counter() - self.every)  # don't burst after a stall

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def stub_decky() -> types.ModuleType:
    """The ``decky`` module Decky Loader provides, reduced to a logger and ``emit``."""
    decky = types.ModuleType("decky")
    decky.logger = logging.getLogger("decky-bench")  # type: ignore[attr-defined]

    async def emit(_event: str, *_args: Any) -> None:
        return None

    decky.emit = emit  # type: ignore[attr-defined]
    return decky


async def ok(call: Any) -> Any:
    answer = await call
    if not answer["ok"]:
        raise SystemExit(f"callable failed: {answer['error']}")
    return answer["data"]


def steam_results(chunk: dict[str, Any]) -> list[dict[str, Any]]:
    """What the panel reports after applying a chunk: Steam's appid for each added shortcut."""
    results = [{"rom_id": s["rom_id"], "appid": 3_000_000_000 + s["rom_id"]} for s in chunk["add"]]
    results += [{"rom_id": s["rom_id"], "appid": s["appid"]} for s in chunk["update"]]
    results += [{"rom_id": s["rom_id"], "removed": True} for s in chunk["remove"]]
    return results


async def drive(
    url: str, size: int, tight_every: float, profile: cProfile.Profile | None, stalls: int = 0
) -> dict[str, Any]:
    """Backend side: build the Plugin, sync everything through chunks; returns the figures."""
    decky = stub_decky()
    sys.modules["decky"] = decky
    main = importlib.import_module("main")
    plugin = main.Plugin()
    await plugin._main()
    lag = LoopLag()
    lag.start()
    sampler = StallSampler(lag) if stalls else None
    if sampler is not None:
        sampler.start()
    panel_poll = Poller(plugin, 1.0)
    tight_poll = Poller(plugin, tight_every or 0.05)
    try:
        await ok(plugin.login_password(url, "admin", "hunter2", True))
        ids = [p["id"] for p in await ok(plugin.list_platforms())]
        await ok(plugin.save_selection(ids, []))
        lease = "lease_id" in inspect.signature(plugin.report_sync_chunk).parameters
        panel_poll.start()
        if tight_every:
            tight_poll.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await ok(plugin.start_sync())
        while True:  # the refresh: wait as the panel does, on its 1 s poll
            await asyncio.sleep(0.05)
            state = tight_poll.last if tight_every else panel_poll.last
            if state and (not state["running"] or state["step"] == "apply"):
                break
        cpu1, wall1 = time.process_time(), time.perf_counter()
        refresh_lag = max(lag.lags, default=0.0)
        if profile is not None:
            profile.enable()
        chunks = committed = 0
        while True:
            chunk = await ok(plugin.next_sync_chunk(size))
            if not (chunk["add"] or chunk["update"] or chunk["remove"]):
                break
            results = steam_results(chunk)
            await asyncio.sleep(0)  # the bridge round trip to the panel and Steam
            if lease:
                report = await ok(plugin.report_sync_chunk(chunk.get("lease_id"), results))
            else:
                report = await ok(plugin.report_sync_chunk(results))
            committed += int(report["committed"])
            chunks += 1
        if profile is not None:
            profile.disable()
        cpu2, wall2 = time.process_time(), time.perf_counter()
        final = await ok(plugin.get_sync_progress())
    finally:
        await panel_poll.stop()
        await tight_poll.stop()
        await lag.stop()
        if sampler is not None:
            sampler.stop()
        await plugin._unload()
    polls = panel_poll.latencies + tight_poll.latencies
    return {
        "protocol": f"report_sync_chunk({'lease_id, ' if lease else ''}results)",
        "chunk": size,
        "tight_poll_ms": tight_every * 1000,
        "chunks": chunks,
        "committed": committed,
        "final_remaining": final["remaining"],
        "final_summary": final["summary"],
        "refresh_cpu_s": cpu1 - cpu0,
        "refresh_wall_s": wall1 - wall0,
        "refresh_max_stall_ms": refresh_lag * 1000,
        "apply_cpu_s": cpu2 - cpu1,
        "apply_wall_s": wall2 - wall1,
        "total_cpu_s": cpu2 - cpu0,
        "total_wall_s": wall2 - wall0,
        "max_stall_ms": max(lag.lags, default=0.0) * 1000,
        "stalls_over_50ms": sum(1 for x in lag.lags if x > 0.05),
        "poll_samples": len(polls),
        "poll_p50_ms": percentile(polls, 0.5) * 1000,
        "poll_p99_ms": percentile(polls, 0.99) * 1000,
        "poll_max_ms": max(polls, default=0.0) * 1000,
        "panel_poll_p99_ms": percentile(panel_poll.latencies, 0.99) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stall_samples": sampler.stalled if sampler else 0,
        "stall_stacks": sampler.top(stalls) if sampler else [],
    }


def backend(args: argparse.Namespace) -> int:
    """One measured backend process: start the server process, drive, print JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3]), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            *(sys.executable, str(REPO / "scripts" / "bench_sync.py"), "--serve"),
            *("--roms", str(args.roms), "--platforms", str(args.platforms)),
            *("--covers", str(args.covers), "--cost", str(args.cost)),
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin and server.stdout
    url = server.stdout.readline().strip()
    profile = cProfile.Profile() if args.profile else None
    try:
        with tempfile.TemporaryDirectory(prefix="romdeck-bench-panel-") as tmp:
            root = Path(tmp)
            os.environ.update(
                {
                    "HOME": str(root / "home"),
                    "DECKY_USER_HOME": str(root / "home"),
                    "DECKY_PLUGIN_RUNTIME_DIR": str(root / "runtime"),
                    "DECKY_PLUGIN_SETTINGS_DIR": str(root / "settings"),
                }
            )
            os.environ.pop("ROMDECK_DATA_DIR", None)
            figures = asyncio.run(
                drive(url, args.chunk, args.tight_poll / 1000, profile, args.stalls)
            )
    finally:
        server.stdin.write("quit\n")
        server.stdin.flush()
        server.wait(timeout=30)
    figures["roms"] = args.roms
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.profile)
        out.write("\n")
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.profile)
        figures["profile"] = out.getvalue()
    print(json.dumps(figures), flush=True)
    return 0


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "MISSED"


def report(f: dict[str, Any]) -> None:
    print(
        f"library: {f['roms']} ROMs, chunks of {f['chunk']}, {f['protocol']}; "
        f"{f['chunks']} chunks, {f['committed']} committed, {f['final_remaining']} left; "
        f"extra poll every {f['tight_poll_ms']:.0f} ms (0: only the panel's 1 s poll)"
    )
    print(
        f"  refresh : {f['refresh_cpu_s']:7.2f} s CPU  {f['refresh_wall_s']:7.2f} s wall  "
        f"max stall {f['refresh_max_stall_ms']:7.1f} ms"
    )
    print(f"  apply   : {f['apply_cpu_s']:7.2f} s CPU  {f['apply_wall_s']:7.2f} s wall")
    print(f"  total   : {f['total_cpu_s']:7.2f} s CPU  {f['total_wall_s']:7.2f} s wall")
    print(
        f"  apply CPU {f['apply_cpu_s']:.2f} s (target <= 3 s at 20k)  "
        f"{verdict(f['apply_cpu_s'], TARGETS['apply_cpu_s'])}"
    )
    print(
        f"  max loop stall {f['max_stall_ms']:.1f} ms, {f['stalls_over_50ms']} over 50 ms "
        f"(target none > 50 ms)  {verdict(f['max_stall_ms'], TARGETS['max_stall_ms'])}"
    )
    print(
        f"  poll p50 {f['poll_p50_ms']:.2f} ms  p99 {f['poll_p99_ms']:.2f} ms  "
        f"max {f['poll_max_ms']:.1f} ms  ({f['poll_samples']} polls; 1 s panel poll p99 "
        f"{f['panel_poll_p99_ms']:.2f} ms) (target p99 <= 5 ms)  "
        f"{verdict(f['poll_p99_ms'], TARGETS['poll_p99_ms'])}"
    )
    print(
        f"  peak RSS {f['peak_rss_mb']:.1f} MB (target <= 100 MB)  "
        f"{verdict(f['peak_rss_mb'], TARGETS['peak_rss_mb'])}"
    )
    if f.get("stall_stacks"):
        print(f"  where the loop stalled ({f['stall_samples']} samples while late > 4 ms):")
        for stack, count in f["stall_stacks"]:
            print(f"    {count:5d}  {stack}")
    if "profile" in f:
        print(f["profile"])


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the panel's chunked sync.")
    parser.add_argument("--backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--roms", type=int, action="append", help="default: 10000 and 20000")
    parser.add_argument("--chunk", type=int, default=50, help="shortcuts per chunk")
    parser.add_argument("--platforms", type=int, default=20)
    parser.add_argument("--covers", type=int, default=500)
    parser.add_argument("--cost", type=float, default=0.0008, help="server s per ROM listed")
    parser.add_argument("--profile", type=int, default=0, help="print the apply's top N functions")
    parser.add_argument(
        "--tight-poll",
        type=float,
        default=20.0,
        help="ms between extra progress polls for the p99 (0: only the panel's 1 s poll; "
        "today each poll recomputes the plan, so extra polls add backend CPU)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    parser.add_argument(
        "--stalls", type=int, default=0, help="sample stacks while the loop stalls; print top N"
    )
    args = parser.parse_args()
    if args.backend:
        args.roms = args.roms[0]
        return backend(args)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3]), "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with .pyc, as a Deck runs it
    for n in args.roms or [10_000, 20_000]:
        argv = [sys.executable, __file__, "--backend", "--roms", str(n), "--chunk", str(args.chunk)]
        argv += ["--platforms", str(args.platforms), "--covers", str(args.covers)]
        argv += ["--cost", str(args.cost), "--profile", str(args.profile)]
        argv += ["--tight-poll", str(args.tight_poll), "--stalls", str(args.stalls)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"backend for {n} ROMs failed:\n{done.stdout}\n{done.stderr[-4000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if args.json:
            print(json.dumps(figures), flush=True)
        else:
            report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
