"""``scripts/romdeck demo``: see a library sync run with no RomM server and no Steam of yours.

Starts the fake RomM server of the tests (``tests/fakeromm``: the recorded lab library of
``scripts/demo_data``, every ROM with a cover) on 127.0.0.1, signs in with a password,
selects every platform and runs the real headless sync into a throwaway Steam tree
(``<dir>/steam/userdata/<id>/config``), then prints where to look and stops the server.
Nothing outside ``<dir>`` is read or written: state and settings go to ``<dir>/data``.
Runs from a clone of the repository (the fake server is test code, not shipped in the plugin).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
DEMO_SHARED = ROOT / "scripts" / "demo_data"
"""A copy of the few captures the fake server reads (``../shared`` is not in a clone)."""
DEMO_USER = "10000001"
USERNAME, PASSWORD = "demo", "demo"

os.environ["ROMDECK_SHARED"] = str(DEMO_SHARED)  # read by tests/shared_files.py on import
for _path in (ROOT / "tests", ROOT, ROOT / "py_modules"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import vdf  # noqa: E402

from bootstrap import Paths, build_app  # noqa: E402
from fakeromm.library import FakeLibrary, cover_image  # noqa: E402
from fakeromm.server import FakeRommServer  # noqa: E402
from romdeck.cli.progress import ProgressBar  # noqa: E402
from romdeck.domain.models import Selection, SyncSummary  # noqa: E402
from romdeck.errors import RomDeckError  # noqa: E402


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Where the demo wrote, and what: ``shortcuts`` counts RomDeck's shortcuts in the file."""

    shortcuts_file: Path
    grid: Path
    shortcuts: int
    covers: int
    summary: SyncSummary


def demo_library() -> FakeLibrary:
    """The recorded lab library, every ROM given a cover (a plain colour per ROM)."""
    library = FakeLibrary.from_captures()
    for rom_id, rom in library.roms.items():
        if rom.cover is None:
            shade = (rom_id * 47) % 200
            library.set_cover(rom_id, cover_image(color=(40 + shade // 2, 60, 90 + shade // 2)))
    return library


def _steam_tree(where: Path) -> Path:
    steam = where / "steam"
    (steam / "userdata" / DEMO_USER / "config").mkdir(parents=True)
    return steam


def _count_ours(shortcuts_file: Path) -> int:
    shortcuts = vdf.binary_loads(shortcuts_file.read_bytes())["shortcuts"].values()
    return sum(str(s.get("LaunchOptions", "")).startswith("romdeck:") for s in shortcuts)


async def run_demo(where: Path, err: TextIO) -> DemoResult:
    """Serve the demo library, sign in, sync into ``where``; the server is stopped after.

    ``where`` must be an empty or missing folder. Raises our errors as the CLI would.
    """
    steam = _steam_tree(where)
    (where / "home").mkdir()
    (where / "proc").mkdir()  # no processes: Steam of yours, if running, is not this tree's
    async with FakeRommServer(demo_library(), username=USERNAME, password=PASSWORD) as server:
        app = build_app(Paths(where / "data", where / "data"), home=where / "home")
        try:
            await app.account.login_password(server.url, USERNAME, PASSWORD)
            client = app.connect()
            selection = Selection(frozenset(p.id for p in await client.list_platforms()))
            app.settings.save(replace(app.settings.load(), selection=selection))
            sync = app.file_sync(steam, home=where / "home", proc_root=where / "proc")
            bar = ProgressBar(err)
            summary = await sync.run(client, app.covers(client), selection, progress=bar)
            bar.close()
        finally:
            await app.close()
    config = steam / "userdata" / DEMO_USER / "config"
    grid = config / "grid"
    covers = len(list(grid.glob("*p.png"))) if grid.is_dir() else 0
    shortcuts_file = config / "shortcuts.vdf"
    return DemoResult(shortcuts_file, grid, _count_ours(shortcuts_file), covers, summary)


def _report(result: DemoResult, where: Path, out: TextIO) -> None:
    s = result.summary
    out.write(
        f"Demo sync done: added {s.added}, covers written {s.covers_written}"
        f"{f', {len(s.failures)} failures' if s.failures else ''} (the demo server is stopped).\n"
        f"  shortcuts.vdf: {result.shortcuts_file} ({result.shortcuts} RomDeck shortcuts)\n"
        f"  grid folder:   {result.grid} ({result.covers} portrait covers)\n"
        f"  state, settings: {where / 'data'}\n"
        f"Delete {where} when done. Sync your own server: scripts/romdeck login --url ...\n"
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the demo; returns the exit code (0 done, 1 failed, 2 usage)."""
    parser = argparse.ArgumentParser(prog="romdeck demo", description="Sync a demo library.")
    parser.add_argument("--dir", type=Path, help="an empty folder to write into (default: new)")
    args = parser.parse_args(argv)
    where: Path = args.dir or Path(tempfile.mkdtemp(prefix="romdeck-demo-"))
    if where.exists() and any(where.iterdir()):
        err.write(f"romdeck demo: {where} is not empty; give an empty or new folder.\n")
        return 2
    where.mkdir(parents=True, exist_ok=True)
    try:
        result = asyncio.run(run_demo(where.resolve(), err))
    except RomDeckError as error:
        err.write(f"romdeck demo: {error.message}\n")
        return 1
    _report(result, where.resolve(), out)
    return 1 if result.summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
