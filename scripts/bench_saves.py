"""Benchmark save sync (SaveService over the real adapters) against the fake RomM server
running in its own process.

Phase 1, ``--games`` installed SNES games with one battery save each: the first sync
(every save uploaded), a resync with nothing changed, a resync with one save changed.
Phase 2, one game with 3 save files: the pre-launch check with nothing changed and the
post-exit upload of one changed file, ``--runs`` times each (p50/p95). For every step:
wall time, requests the server saw (by method and route) and the event loop's worst
stall, from a sampler sleeping 5 ms (as in scripts/bench_panel_sync.py). Prints JSON.
Target: pre-launch check p50 <= 100 ms when nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from bench_panel_sync import LoopLag, percentile  # noqa: E402

TARGET_CHECK_P50_MS = 100.0
_IDS = re.compile(r"/\d+")


async def serve(n_roms: int) -> None:
    """Server process: print ``{"url", "token", "rom_ids"}``, then answer ``log`` lines on
    stdin with the request log since the last one; ``quit`` stops it."""
    from fakeromm.auth_state import ALL_SCOPES
    from fakeromm.library import FakeLibrary
    from fakeromm.server import FakeRommServer

    library = FakeLibrary.generated(n_roms, 5, 0)
    server = FakeRommServer(library)
    url = await server.start()
    token = library.auth.create_client_token("admin", "bench", list(ALL_SCOPES), None).raw_token
    print(json.dumps({"url": url, "token": token, "rom_ids": sorted(library.roms)}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "quit":
            break
        print(json.dumps([[m, p, s] for m, p, s in server.requests]), flush=True)
        server.reset_log()
    await server.stop()


class Server:
    """The server process and its request log."""

    def __init__(self, n_roms: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--games", str(n_roms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.info: dict[str, Any] = json.loads(self.proc.stdout.readline())

    def requests(self) -> dict[str, int]:
        """Requests since the last call, counted by ``METHOD /route`` (ids replaced by ``{}``)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("log\n")
        self.proc.stdin.flush()
        log = json.loads(self.proc.stdout.readline())
        routes = Counter(m + " " + _IDS.sub("/{}", p.split("?")[0]) for m, p, _ in log)
        return dict(sorted(routes.items()))

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


class FixedLocator:
    """A ``SaveLocator`` for phase 2: one ROM with the given save paths."""

    def __init__(self, rom_id: int, paths: tuple[str, ...]) -> None:
        from romdeck.domain.save_records import SaveTarget

        self.target = SaveTarget(rom_id, "snes9x", paths)

    async def locate(self, rom_id: int) -> Any:
        return self.target if rom_id == self.target.rom_id else None


async def measure(server: Server, step: Any) -> dict[str, Any]:
    """Run ``step()`` once with the loop-lag sampler on; wall s, stall ms, requests."""
    lag = LoopLag()
    lag.start()
    started = time.perf_counter()
    await step()
    wall = time.perf_counter() - started
    await lag.stop()
    return {
        "wall_s": round(wall, 3),
        "max_stall_ms": round(max(lag.lags, default=0.0) * 1000, 1),
        "requests": server.requests(),
    }


async def drive(server: Server, root: Path, runs: int) -> dict[str, Any]:
    import aiohttp

    from romdeck.adapters.clock import SystemClock
    from romdeck.adapters.emulation.retroarch_cfg import RetroArchSaveConfigReader
    from romdeck.adapters.emulation.save_locator import RetroArchSaveLocator
    from romdeck.adapters.files.save_files import LocalSaveFiles
    from romdeck.adapters.romm.saves import AiohttpRommSaves
    from romdeck.adapters.store.database import SqliteDatabase
    from romdeck.adapters.store.saves import SqliteSaveStore
    from romdeck.domain.models import Install
    from romdeck.domain.settings import Connection
    from romdeck.services.saves import SaveService

    rom_ids: list[int] = server.info["rom_ids"]
    games, special = rom_ids[:-1], rom_ids[-1]
    roms = root / "retrodeck" / "roms" / "snes"
    saves = root / "retrodeck" / "saves" / "snes"
    roms.mkdir(parents=True)
    saves.mkdir(parents=True)
    installs: dict[int, Install] = {}
    for rom_id in games:
        rom = roms / f"Game {rom_id}.sfc"
        rom.write_bytes(b"rom")
        (saves / f"Game {rom_id}.srm").write_bytes(rom_id.to_bytes(4, "big") * 2048)  # 8 KiB
        installs[rom_id] = Install(rom_id, "snes", "snes", str(rom), str(rom), 3, ("flatpak",), "")
    reader = RetroArchSaveConfigReader(root / "none.cfg", home=root, saves_path=str(saves.parent))
    store = SqliteSaveStore(SqliteDatabase(root / "state.db"))
    connection = Connection(url=server.info["url"], token=server.info["token"])
    figures: dict[str, Any] = {"games": len(games)}
    async with aiohttp.ClientSession() as session:
        api = AiohttpRommSaves(session, connection)

        def service(locator: Any) -> SaveService:
            return SaveService(server=api, locator=locator, files=LocalSaveFiles(root / "data"),
                               store=store, clock=SystemClock())  # fmt: skip

        many = service(RetroArchSaveLocator(installs.get, reader))

        actions: Counter[str] = Counter()

        async def sync_all() -> None:
            for rom_id in games:
                report = await many.sync_rom(rom_id)
                if report.pending:
                    raise RuntimeError(f"the sync of ROM {rom_id} failed: {report.pending}")
                actions.update(report.actions.values())

        figures["first_sync_up"] = await measure(server, sync_all)
        figures["resync_no_change"] = await measure(server, sync_all)
        (saves / f"Game {games[0]}.srm").write_bytes(b"changed" * 1000)
        figures["resync_one_changed"] = await measure(server, sync_all)

        paths = tuple(str(saves / f"Special{ext}") for ext in (".srm", ".rtc", ".sav"))
        for index, path in enumerate(paths):
            _put(path, bytes([index]) * 32768)
        one = service(FixedLocator(special, paths))
        await one.after_exit(special)
        server.requests()
        checks: list[float] = []
        uploads: list[float] = []
        for run in range(runs):
            started = time.perf_counter()
            report = await one.before_launch(special)
            checks.append(time.perf_counter() - started)
            assert set(report.actions.values()) == {"skip"}, report
            _put(paths[0], (run + 1000).to_bytes(4, "big") * 8192)
            started = time.perf_counter()
            report = await one.after_exit(special)
            uploads.append(time.perf_counter() - started)
            assert report.actions[Path(paths[0]).name] == "upload", report
        log = server.requests()
        figures["three_saves"] = {
            "runs": runs,
            "check_no_change_ms": _ms(checks),
            "after_exit_upload_ms": _ms(uploads),
            "requests_per_check_and_upload": {k: v / runs for k, v in log.items()},
        }
    figures["check_p50_target_ms"] = TARGET_CHECK_P50_MS
    figures["check_p50_met"] = figures["three_saves"]["check_no_change_ms"]["p50"] <= (
        TARGET_CHECK_P50_MS
    )
    return figures


def _put(path: str, data: bytes) -> None:
    """Write a save as the emulator would (outside any measured step)."""
    Path(path).write_bytes(data)


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5) * 1000, 1),
        "p95": round(percentile(values, 0.95) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--games", type=int, default=200, help="installed games with a save")
    parser.add_argument("--runs", type=int, default=50, help="runs of the 3-save check")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.games))
        return 0
    server = Server(args.games + 1)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-saves-") as tmp:
            figures = asyncio.run(drive(server, Path(tmp), args.runs))
    finally:
        server.stop()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
