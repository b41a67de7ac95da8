"""Benchmark: how long the Decky loop stalls while downloads run and the panel polls them.

A fresh backend process builds the real ``Plugin`` from main.py (real bootstrap and
adapters, real SQLite and settings.json in a temp folder; only ``decky`` is a stub, as
in tests/test_plugin_contract.py). The fake RomM server runs in its own process with
``--downloads`` ROMs of ``--size-mib`` each behind a slow link (``chunk_delay``), so the
backend's figures are the backend's alone. Before the downloads start, ``--installs``
install rows are written straight into state.db (a Deck with a big installed library).

The driver signs in, queues every download ROM (two run at once), and until all are
installed polls ``get_downloads`` and ``list_installed`` every ``--poll-ms`` as a panel
that shows the queue and the installed list would. A loop-lag sampler sleeps 5 ms and
records how late it wakes. The scenario ``sync`` adds what a library sync does at the
same time: a 20,000-ROM catalog upsert (the real ``SqliteCatalog``, which works in a
thread and holds the database for the whole transaction) every second.

Figures per scenario: worst loop stall, stalls over 50 ms, poll latency p50/p99/max per
callable (due → answer, so waiting for the loop counts), wall seconds of the downloads.
Stalls in wall time also count the time the OS gives the CPU to others (a loaded
machine inflates them), so the bench also counts what does not depend on the load:
every state.db read or write (``SqliteDatabase.read``/``transaction``) and every
emulation config read (``RetroDeckPaths.read``/``EmuDeckPaths.read``) by thread, with
the time the loop thread spent inside them. Target (issue 6): no loop stall over 50 ms,
no database or config work on the loop. Prints a table; asserts nothing.

    scripts/bench_play_loop [--downloads 6] [--size-mib 4] [--installs 2000] [--poll-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO), str(REPO / "tests")]

from bench_panel_sync import LoopLag, ok, percentile, stub_decky  # noqa: E402

MIB = 1024 * 1024
TARGET_STALL_MS = 50.0
SCENARIOS = ("quiet", "sync")


# --- the server process ---------------------------------------------------------------------


async def serve(downloads: int, size: int, chunk_delay: float) -> None:
    """Fake RomM with ``downloads`` ROMs of ``size`` bytes on a new platform; prints the URL
    and the ROM ids as one JSON line, then serves until ``quit`` arrives on stdin."""
    from fakeromm.library import FakeLibrary
    from fakeromm.server import FakeRommServer

    library = FakeLibrary.from_captures()
    platform = library.add_platform("gba", "Game Boy Advance")
    rng = random.Random(6)
    ids = [
        library.add_rom(
            platform, name=f"Bench {n:02d}", files=[(f"Bench {n:02d}.gba", rng.randbytes(size))]
        )
        for n in range(downloads)
    ]
    server = FakeRommServer(library)
    url = await server.start()
    server.chunk_delay = chunk_delay
    print(json.dumps({"url": url, "rom_ids": ids}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await server.stop()


# --- the backend process --------------------------------------------------------------------


class Poller:
    """Calls one callable every ``every`` s; records due → answer latency (s)."""

    def __init__(self, call: Any, every: float) -> None:
        self.call, self.every = call, every
        self.latencies: list[float] = []
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        due = time.perf_counter()
        while True:
            due += self.every
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            answer = await self.call()
            self.latencies.append(time.perf_counter() - due)
            self.failures += 0 if answer["ok"] else 1
            due = max(due, time.perf_counter() - self.every)  # don't burst after a stall

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class ThreadCount:
    """Wraps blocking calls, counting them by thread and timing those on the loop thread."""

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.on_loop: dict[str, list[float]] = {}
        self.off_loop: dict[str, int] = {}

    def note(self, what: str, seconds: float) -> None:
        if threading.get_ident() == self.loop_thread:
            self.on_loop.setdefault(what, []).append(seconds)
        else:
            self.off_loop[what] = self.off_loop.get(what, 0) + 1

    def wrap_context(self, cls: Any, name: str) -> None:
        original = getattr(cls, name)
        count = self

        @contextlib.contextmanager
        def wrapped(db: Any) -> Any:
            start = time.perf_counter()
            try:
                with original(db) as conn:
                    yield conn
            finally:
                count.note(f"db.{name}", time.perf_counter() - start)

        setattr(cls, name, wrapped)

    def wrap_call(self, cls: Any, name: str, label: str) -> None:
        original = getattr(cls, name)
        count = self

        def wrapped(obj: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(obj, *args, **kwargs)
            finally:
                count.note(label, time.perf_counter() - start)

        setattr(cls, name, wrapped)

    def figures(self) -> dict[str, Any]:
        return {
            "on_loop": {
                k: {"calls": len(v), "total_ms": sum(v) * 1000, "max_ms": max(v) * 1000}
                for k, v in sorted(self.on_loop.items())
            },
            "off_loop": dict(sorted(self.off_loop.items())),
        }


class CallbackCpu:
    """Times every loop callback in loop-thread CPU seconds (``time.thread_time``), which
    the OS giving the CPU to other processes does not inflate; keeps the worst few."""

    def __init__(self) -> None:
        self.worst: list[tuple[float, str]] = []
        self.over_20ms = 0
        self.enabled = False
        self._original = asyncio.events.Handle._run
        cpu = self

        def timed(handle: asyncio.Handle) -> None:
            if not cpu.enabled:
                return cpu._original(handle)
            start = time.thread_time()
            try:
                return cpu._original(handle)
            finally:
                cpu.note(time.thread_time() - start, handle)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]

    def note(self, seconds: float, handle: asyncio.Handle) -> None:
        self.over_20ms += seconds > 0.02
        if len(self.worst) < 5 or seconds > self.worst[-1][0]:
            callback = getattr(handle, "_callback", None)
            task = getattr(callback, "__self__", None)
            coro = task.get_coro() if isinstance(task, asyncio.Task) else None
            where = getattr(coro, "__qualname__", "") or repr(callback)[:80]
            self.worst = sorted([*self.worst, (seconds, where)], reverse=True)[:5]


def instrument() -> ThreadCount:
    """Count database and config-file work by thread (call before the Plugin is built)."""
    from romdeck.adapters.emulation.emudeck import EmuDeckPaths
    from romdeck.adapters.emulation.retrodeck import RetroDeckPaths
    from romdeck.adapters.store.database import SqliteDatabase

    count = ThreadCount()
    count.wrap_context(SqliteDatabase, "read")
    count.wrap_context(SqliteDatabase, "transaction")
    count.wrap_call(RetroDeckPaths, "read", "retrodeck config")
    count.wrap_call(EmuDeckPaths, "read", "emudeck config")
    return count


def seed_installs(app: Any, count: int, home: Path) -> None:
    """``count`` install rows written with SQL (the table the launcher reads too)."""
    rows = [
        (
            100_000 + n,
            "snes",
            "snes",
            str(home / "retrodeck" / "roms" / "snes" / f"Seeded {n}.sfc"),
            str(home / "retrodeck" / "roms" / "snes" / f"Seeded {n}.sfc"),
            1_048_576,
            json.dumps(["flatpak", "run", "net.retrodeck.retrodeck", f"Seeded {n}.sfc"]),
            "2026-01-01T00:00:00+00:00",
        )
        for n in range(count)
    ]
    with app.db.transaction() as conn:
        conn.executemany("INSERT INTO installs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def restamp(roms: list[Any], stamp: str) -> list[Any]:
    return [replace(r, updated_at=stamp) for r in roms]


async def catalog_writer(app: Any, stop: asyncio.Event, counter: list[int]) -> None:
    """What a library sync does meanwhile: upsert 20,000 changed ROMs, once a second
    (the ROM list is built in a thread: only the database work contends)."""
    from romdeck.domain.models import RomSummary

    base = [
        RomSummary(n, 1, "snes", f"Rom {n}", f"Rom {n}.sfc", f"Rom {n}", "", "", 1024)
        for n in range(1, 20_001)
    ]
    while not stop.is_set():
        stamp = f"2026-01-01T00:00:{counter[0] % 60:02d}"
        changed = await asyncio.to_thread(restamp, base, stamp)
        await app.catalog.upsert_roms(changed)
        counter[0] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def drive(server: dict[str, Any], scenario: str, args: argparse.Namespace) -> dict[str, Any]:
    sys.modules["decky"] = stub_decky()
    count = instrument()
    cpu = CallbackCpu()
    main = __import__("main")
    plugin = main.Plugin()
    await plugin._main()
    app = plugin._app()
    seed_installs(app, args.installs, Path(os.environ["HOME"]))
    lag = LoopLag()
    every = args.poll_ms / 1000
    polls = {
        "get_downloads": Poller(plugin.get_downloads, every),
        "list_installed": Poller(plugin.list_installed, every),
    }
    stop, upserts = asyncio.Event(), [0]
    writer: asyncio.Task[None] | None = None
    try:
        await ok(plugin.login_password(server["url"], "admin", "hunter2", True))
        if scenario == "sync":
            writer = asyncio.get_running_loop().create_task(catalog_writer(app, stop, upserts))
            await asyncio.sleep(0.5)
        lag.start()
        for poll in polls.values():
            poll.start()
        count.on_loop.clear()
        count.off_loop.clear()
        cpu.enabled = True
        wall0 = time.perf_counter()
        await ok(plugin.queue_downloads(server["rom_ids"]))
        while True:
            await asyncio.sleep(0.05)
            states = [d["state"] for d in await ok(plugin.get_downloads())]
            if all(s in ("installed", "failed", "cancelled") for s in states):
                break
        wall = time.perf_counter() - wall0
        work = count.figures()
        cpu.enabled = False
    finally:
        stop.set()
        if writer is not None:
            await writer
        for poll in polls.values():
            await poll.stop()
        await lag.stop()
        await plugin._unload()
    figures: dict[str, Any] = {
        "scenario": scenario,
        "states": states,
        "wall_s": wall,
        "catalog_upserts": upserts[0],
        "max_stall_ms": max(lag.lags, default=0.0) * 1000,
        "stalls_over_50ms": sum(1 for x in lag.lags if x > 0.05),
        "lag_p99_ms": percentile(lag.lags, 0.99) * 1000,
        **work,
        "callback_cpu_max_ms": cpu.worst[0][0] * 1000 if cpu.worst else 0.0,
        "callbacks_over_20ms_cpu": cpu.over_20ms,
        "worst_callbacks": [[round(t * 1000, 1), where] for t, where in cpu.worst],
    }
    for name, poll in polls.items():
        figures[name] = {
            "samples": len(poll.latencies),
            "failures": poll.failures,
            "p50_ms": percentile(poll.latencies, 0.5) * 1000,
            "p99_ms": percentile(poll.latencies, 0.99) * 1000,
            "max_ms": max(poll.latencies, default=0.0) * 1000,
        }
    return figures


def backend(args: argparse.Namespace) -> int:
    """One measured backend process: start the server process, drive, print JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3]), "PYTHONUNBUFFERED": "1"}
    chunk_delay = args.seconds_per_download / (args.size_mib * MIB / 16384)
    server_proc = subprocess.Popen(
        [
            *(sys.executable, __file__, "--serve", "--downloads", str(args.downloads)),
            *("--size-mib", str(args.size_mib), "--chunk-delay", str(chunk_delay)),
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server_proc.stdin and server_proc.stdout
    server = json.loads(server_proc.stdout.readline())
    try:
        with tempfile.TemporaryDirectory(prefix="romdeck-bench-play-") as tmp:
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
            figures = asyncio.run(drive(server, args.scenario, args))
    finally:
        server_proc.stdin.write("quit\n")
        server_proc.stdin.flush()
        server_proc.wait(timeout=30)
    print(json.dumps(figures), flush=True)
    return 0


def report(f: dict[str, Any], args: argparse.Namespace) -> None:
    verdict = "OK" if f["max_stall_ms"] <= TARGET_STALL_MS else "MISSED"
    installed = sum(1 for s in f["states"] if s == "installed")
    print(
        f"{f['scenario']:<6} {installed}/{len(f['states'])} installed in {f['wall_s']:.1f} s "
        f"({args.size_mib} MiB each, {args.installs} installs recorded"
        + (f", {f['catalog_upserts']} catalog upserts of 20k" if f["scenario"] == "sync" else "")
        + ")"
    )
    print(
        f"  max loop stall {f['max_stall_ms']:.1f} ms, {f['stalls_over_50ms']} over 50 ms, "
        f"lag p99 {f['lag_p99_ms']:.1f} ms (target none > 50 ms)  {verdict}"
    )
    for name in ("get_downloads", "list_installed"):
        p = f[name]
        print(
            f"  {name:<15} p50 {p['p50_ms']:6.2f} ms  p99 {p['p99_ms']:6.2f} ms  "
            f"max {p['max_ms']:7.1f} ms  ({p['samples']} polls, {p['failures']} failed)"
        )
    print(
        f"  loop-thread CPU per callback: worst {f['callback_cpu_max_ms']:.1f} ms, "
        f"{f['callbacks_over_20ms_cpu']} over 20 ms; worst: "
        + ", ".join(f"{where} {ms} ms" for ms, where in f["worst_callbacks"][:3])
    )
    on_loop = f["on_loop"]
    verdict = "OK" if not on_loop else "MISSED"
    print(f"  on the loop thread (target none)  {verdict}")
    for what, c in on_loop.items():
        print(
            f"    {what:<17} {c['calls']:5d} calls  {c['total_ms']:8.1f} ms in all  "
            f"worst {c['max_ms']:6.1f} ms"
        )
    off = ", ".join(f"{what} {n}" for what, n in f["off_loop"].items()) or "none"
    print(f"  off the loop (calls): {off}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Loop stalls while downloads run.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--downloads", type=int, default=6, help="ROMs downloaded")
    parser.add_argument("--size-mib", type=int, default=4, help="size of each ROM")
    parser.add_argument("--seconds-per-download", type=float, default=2.0, help="the slow link")
    parser.add_argument("--installs", type=int, default=2000, help="install rows recorded first")
    parser.add_argument("--poll-ms", type=float, default=50.0, help="ms between polls")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.downloads, args.size_mib * MIB, args.chunk_delay))
        return 0
    if args.backend:
        args.scenario = args.scenario[0]
        return backend(args)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3]), "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for scenario in args.scenario or SCENARIOS:
        argv = [sys.executable, __file__, "--backend", "--scenario", scenario]
        argv += ["--downloads", str(args.downloads), "--size-mib", str(args.size_mib)]
        argv += ["--seconds-per-download", str(args.seconds_per_download)]
        argv += ["--installs", str(args.installs), "--poll-ms", str(args.poll_ms)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"backend ({scenario}) failed:\n{done.stdout}\n{done.stderr[-4000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if args.json:
            print(json.dumps(figures), flush=True)
        else:
            report(figures, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
