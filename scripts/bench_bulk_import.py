"""Benchmark: a bulk import of N ROMs, the window Steam must stay shut measured.

In-process fake RomM server (``FakeLibrary.generated``), a temp Steam tree holding other
launchers' shortcuts and Steam's cloud-storage collections, and a temp process table in
which "Steam" runs until the benchmark removes it. The real plugin wiring (bootstrap)
starts the real detached helper (``python -m romdeck bulk-import``). Measured:

* prepare: start -> ``waiting_for_steam_exit`` (refresh + covers fetched while Steam runs);
* window: the helper's ``write_seconds`` (Steam seen gone -> vdf, grid, collections and
  registry written), and the panel-observed time from Steam's exit to ``done``
  (includes the helper's 0.5 s poll and this script's 0.05 s poll).

Target: window (``write_seconds``) under 10 s at 10,000 ROMs, so a Steam restart of a few
seconds does not race the write. ``--roms N`` (repeatable), ``--covers N``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bootstrap import App
    from romdeck.domain.bulk_import import BulkJob, BulkState

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "py_modules"), str(REPO), str(REPO / "tests")]

TARGET_WINDOW_S = 10.0


async def one(n_roms: int, n_covers: int) -> dict[str, float]:
    from bootstrap import Paths, build_app
    from fakeromm.library import FakeLibrary
    from fakeromm.server import FakeRommServer
    from romdeck.domain.bulk_import import BulkState
    from steam_tree import make_cloud_storage, make_steam_tree

    warnings.filterwarnings("ignore", message="Synchronous compression")
    server = FakeRommServer(FakeLibrary.generated(n_roms, 10, n_covers))
    url = await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        steam = make_steam_tree(root, users=("12345678",))
        make_cloud_storage(steam, "12345678")
        proc = root / "proc" / "4242"
        proc.mkdir(parents=True)
        (proc / "comm").write_text("steam\n")
        (proc / "stat").write_text("4242 (steam) S 1 4242 4242 0 -1 0\n")
        os.environ["ROMDECK_HELPER_MODE"] = "subprocess"
        app = build_app(Paths.resolve(root / "data"), home=root / "home")
        try:
            await app.account.login_password(url, "admin", "hunter2")
            platforms = await app.connect().list_platforms()
            await app.selection.save([p.id for p in platforms], [])
            started = time.perf_counter()
            await app.bulk_import.start(
                "12345678",
                app.settings.load().selection,
                steam_dir=str(steam),
                proc_root=str(root / "proc"),
            )
            job = await wait(app, {BulkState.WAITING_FOR_STEAM_EXIT})
            prepared = time.perf_counter()
            for child in proc.iterdir():
                child.unlink()
            proc.rmdir()
            exited = time.perf_counter()
            job = await wait(app, {BulkState.DONE, BulkState.FAILED, BulkState.TIMED_OUT})
            finished = time.perf_counter()
            if job.state is not BulkState.DONE or job.counts.added != n_roms:
                raise SystemExit(f"bulk import did not complete: {job}")
        finally:
            await app.close()
            await server.stop()
    return {
        "prepare_s": prepared - started,
        "write_s": job.write_seconds,
        "observed_s": finished - exited,
    }


async def wait(app: App, states: set[BulkState]) -> BulkJob:
    while True:
        job = await app.bulk_import.status()
        if job.state in states or job.state.final:
            return job
        await asyncio.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark a bulk import.")
    parser.add_argument("--roms", type=int, action="append", default=[])
    parser.add_argument("--covers", type=int, default=500)
    args = parser.parse_args()
    failed = False
    for n in args.roms or [3000, 10_000]:
        result = asyncio.run(one(n, min(args.covers, n)))
        ok = result["write_s"] <= TARGET_WINDOW_S
        failed |= not ok
        print(
            f"{n:>6} ROMs, {min(args.covers, n)} covers: prepare {result['prepare_s']:.2f} s, "
            f"window {result['write_s']:.2f} s (observed {result['observed_s']:.2f} s) "
            f"{'ok' if ok else 'OVER'} (target <= {TARGET_WINDOW_S:g} s)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
