"""Measure bin/romdeck-launch's start-to-exec time with the backend up and down.

Runs 20 launches each way against a real UnixSocketLaunchServer on its own event-loop
thread (up) or a real state.db (down); the stand-in emulator writes ``time.monotonic_ns()``
as its first act. Prints the median milliseconds from spawning the launcher to the
emulator running, next to spawning the emulator directly (the floor), and the launcher's
whole run. Prints; asserts nothing. Noisy on a loaded machine: compare runs side by side.

    .venv/bin/python scripts/bench_launcher.py [runs]
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "py_modules"))

from romdeck.adapters.launch_socket import UnixSocketLaunchServer  # noqa: E402
from romdeck.domain.launch_protocol import installed_reply  # noqa: E402

LAUNCHER = ROOT / "bin" / "romdeck-launch"
EMU_CODE = "import sys, time; open(sys.argv[1], 'w').write(str(time.monotonic_ns()))"


def timed_run(argv: list[str], stamp: Path, env: dict[str, str]) -> tuple[float, float]:
    """(ms from spawn to the emulator's first act, ms for the whole run)."""
    stamp.unlink(missing_ok=True)
    t0 = time.monotonic_ns()
    status = subprocess.run(argv, env=env, check=False).returncode
    t_end = time.monotonic_ns()
    if status != 0:
        raise SystemExit(f"{argv} exited with {status}")
    return (int(stamp.read_text()) - t0) / 1e6, (t_end - t0) / 1e6


def series(runs: int, argv: list[str], stamp: Path, env: dict[str, str]) -> tuple[float, float]:
    results = [timed_run(argv, stamp, env) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


class BackgroundBackend:
    """A UnixSocketLaunchServer on its own event loop thread, like the Decky process."""

    def __init__(self, sock_path: Path, emu_argv: list[str]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

        async def handler(request: dict[str, Any]) -> dict[str, Any]:
            return dict(installed_reply(emu_argv)) if request["op"] == "resolve" else {"ok": True}

        self._server = UnixSocketLaunchServer(handler)
        self._sock_path = sock_path

    def __enter__(self) -> BackgroundBackend:
        self._thread.start()
        self._call(self._server.start(self._sock_path))
        return self

    def __exit__(self, *_exc: object) -> None:
        self._call(self._server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)


def write_install(data_dir: Path, emu_argv: list[str], rom: Path) -> None:
    with sqlite3.connect(data_dir / "state.db") as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE installs (rom_id INTEGER PRIMARY KEY, platform_slug TEXT, system TEXT,"
            " root TEXT, launch_path TEXT, size_bytes INTEGER, launch_argv TEXT, installed_at TEXT)"
        )
        conn.execute(
            "INSERT INTO installs VALUES (1, 'snes', 'snes', ?, ?, 0, ?, '2025-01-01T00:00:00Z')",
            (str(rom), str(rom), json.dumps(emu_argv)),
        )
    conn.close()


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="rdbench") as tmp:
        data_dir = Path(tmp)
        stamp, rom = data_dir / "stamp", data_dir / "game.sfc"
        rom.write_bytes(b"rom")
        emu_argv = [sys.executable, "-S", "-c", EMU_CODE, str(stamp)]
        env = {**os.environ, "ROMDECK_DATA_DIR": str(data_dir)}
        launch = [sys.executable, str(LAUNCHER), "romdeck:1"]
        direct = series(runs, emu_argv, stamp, env)
        with BackgroundBackend(data_dir / "launch.sock", emu_argv):
            up = series(runs, launch, stamp, env)
        write_install(data_dir, emu_argv, rom)
        down = series(runs, launch, stamp, env)

    print(f"{runs} runs each, median ms      spawn→emulator   whole run")
    for label, (to_exec, whole) in (
        ("emulator alone", direct),
        ("launcher, backend up", up),
        ("launcher, backend down", down),
    ):
        print(f"  {label:<24} {to_exec:>12.1f}   {whole:>9.1f}")
    up_extra, down_extra = up[0] - direct[0], down[0] - direct[0]
    print(f"launcher overhead to exec: up {up_extra:.1f} ms, down {down_extra:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
