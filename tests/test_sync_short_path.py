"""A headless resync that finds nothing changed skips planning; any change still arrives.

Real app (bootstrap), real SQLite, the fake RomM server on loopback and a temp Steam tree.
Whether a run planned is seen through the catalog mirror: planning reads its ROMs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import vdf

from bootstrap import App, Paths, build_app
from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.domain.models import SyncSummary
from steam_tree import make_steam_tree, shortcuts_path

USER = "12345678"


@dataclass
class Rig:
    app: App
    steam: Path
    library: FakeLibrary
    plans: list[int]
    """One item per catalog read of the ROMs (each full plan reads them once)."""

    async def sync(self, app: App | None = None) -> SyncSummary:
        app = app or self.app
        client = app.connect()
        return await app.file_sync(self.steam).run(
            client, app.covers(client), app.settings.load().selection, steam_users=[USER]
        )

    def ours(self) -> dict[str, dict]:
        root = vdf.binary_loads(shortcuts_path(self.steam, USER).read_bytes())
        return {
            s["LaunchOptions"]: s
            for s in root["shortcuts"].values()
            if str(s["LaunchOptions"]).startswith("romdeck:")
        }

    def platform(self, slug: str) -> int:
        return next(pid for pid, p in self.library.platforms.items() if p["slug"] == slug)


def count_plans(app: App, plans: list[int]) -> None:
    """Record every read of the mirrored ROMs (what planning needs)."""
    roms = app.catalog.roms

    async def counted(**kwargs: object) -> object:
        plans.append(1)
        return await roms(**kwargs)  # type: ignore[arg-type]

    app.catalog.roms = counted  # type: ignore[method-assign]


@pytest.fixture
async def rig(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[Rig]:
    steam = make_steam_tree(tmp_path, users=(USER,))
    app = build_app(Paths(tmp_path / "data", tmp_path / "data"), home=tmp_path)
    await app.account.login_password(fake_romm.url, "admin", "hunter2")
    plans: list[int] = []
    count_plans(app, plans)
    r = Rig(app, steam, fake_library, plans)
    await app.selection.save([r.platform("snes"), r.platform("gba")], [])
    first = await r.sync()
    assert first.added > 0 and not first.failures
    yield r
    await app.close()


async def test_a_resync_with_nothing_changed_skips_planning_and_reports_the_same(rig: Rig):
    before = shortcuts_path(rig.steam, USER).read_bytes()
    planned = len(rig.plans)
    again = await rig.sync()
    assert len(rig.plans) == planned, "nothing changed: no plan was computed"
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == len(rig.ours())
    assert shortcuts_path(rig.steam, USER).read_bytes() == before


async def test_a_rom_renamed_on_the_server_is_planned_and_reaches_steam(rig: Rig):
    rom = min(r.id for r in rig.library.roms.values() if r.platform_id == rig.platform("snes"))
    rig.library.rename_rom(rom, "Renamed While Away")
    planned = len(rig.plans)
    summary = await rig.sync()
    assert len(rig.plans) == planned + 1
    assert summary.updated == 1
    assert rig.ours()[f"romdeck:{rom}"]["AppName"] == "Renamed While Away"
    await rig.sync()
    assert len(rig.plans) == planned + 1, "and the run after it is short again"


async def test_a_changed_selection_is_planned(rig: Rig):
    gba = rig.platform("gba")
    gone = {f"romdeck:{r.id}" for r in rig.library.roms.values() if r.platform_id == gba}
    await rig.app.selection.save([rig.platform("snes")], [])
    summary = await rig.sync()
    assert summary.removed == len(gone) > 0
    assert not gone & rig.ours().keys()


async def test_a_moved_launcher_is_planned_and_every_exe_follows(rig: Rig, tmp_path: Path):
    moved = tmp_path / "elsewhere" / "bin" / "romdeck-launch"
    app = build_app(Paths(tmp_path / "data", tmp_path / "data", launcher=moved), home=tmp_path)
    try:
        summary = await rig.sync(app)
    finally:
        await app.close()
    assert summary.updated == len(rig.ours()) > 0
    assert {s["Exe"] for s in rig.ours().values()} == {f'"{moved}"'}


async def test_a_deleted_cover_or_a_changed_registry_makes_the_next_run_plan(rig: Rig):
    grid = rig.steam / "userdata" / USER / "config" / "grid"
    portrait = next(grid.glob("*p.png"))
    portrait.unlink()
    planned = len(rig.plans)
    summary = await rig.sync()
    assert len(rig.plans) == planned + 1
    assert summary.covers_written == 1 and portrait.is_file()
    entries = await rig.app.registry.entries(USER)
    some = next(iter(entries.values()))
    await rig.app.registry.commit(USER, removed_rom_ids=[some.rom_id])
    summary = await rig.sync()
    assert len(rig.plans) == planned + 2
    assert summary.added == 0, "the shortcut in the file is adopted, not added again"
    assert len(await rig.app.registry.entries(USER)) == len(entries) == len(rig.ours())
