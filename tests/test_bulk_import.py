"""Bulk import end to end: the real Plugin starts the real detached helper (``python -m
romdeck bulk-import``), which talks to the fake RomM server and writes a temp Steam tree
holding other launchers' shortcuts and Steam's own collections; "Steam" is a process
folder in a temp process table that the test removes when Steam "exits"."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import signal
import sys
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import vdf

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.store.bulk_jobs import JsonBulkJobFile
from romdeck.domain.bulk_import import BulkState
from romdeck.domain.models import Selection
from romdeck.services.panel_sync import PANEL_USER
from steam_tree import (
    FOREIGN,
    FOREIGN_MODIFIED,
    FOREIGN_NAMESPACE,
    cloud_dir,
    make_cloud_storage,
    make_steam_tree,
    shortcuts_path,
)

USER = "12345678"
N_ROMS = 3000


@pytest.fixture
def fake_library() -> FakeLibrary:
    return FakeLibrary.generated(n_roms=N_ROMS, n_platforms=6, n_covers=60)


class FakeProcTable:
    """A temp ``/proc`` where a process named ``steam`` runs until ``exit_steam``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.steam = root / "4242"
        self.steam.mkdir(parents=True)
        (self.steam / "comm").write_text("steam\n")
        (self.steam / "stat").write_text("4242 (steam) S 1 4242 4242 0 -1 0\n")

    def exit_steam(self) -> None:
        for child in self.steam.iterdir():
            child.unlink()
        self.steam.rmdir()


def _decky(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    decky = types.ModuleType("decky")
    decky.logger = logging.getLogger("decky-test")  # type: ignore[attr-defined]

    async def emit(event: str, *args: Any) -> None:
        return None

    decky.emit = emit  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "decky", decky)
    return decky


async def _plugin(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Any:
    """A Plugin over its own Decky folders (env the helper process inherits)."""
    decky = _decky(monkeypatch)
    monkeypatch.setenv("HOME", str(folder / "home"))
    monkeypatch.setenv("DECKY_USER_HOME", str(folder / "home"))
    monkeypatch.setenv("DECKY_PLUGIN_RUNTIME_DIR", str(folder / "runtime"))
    monkeypatch.setenv("DECKY_PLUGIN_SETTINGS_DIR", str(folder / "settings"))
    monkeypatch.delenv("ROMDECK_DATA_DIR", raising=False)
    main = importlib.import_module("main")
    monkeypatch.setattr(main, "decky", decky)
    plugin = main.Plugin()
    await plugin._main()
    return plugin


async def ok(call: Any) -> Any:
    reply = await call
    assert reply["ok"], reply
    return reply["data"]


async def _signed_in_at_apply(plugin: Any, server: FakeRommServer) -> None:
    await ok(plugin.login_password(server.url, "admin", "hunter2", True))
    ids = [p["id"] for p in await ok(plugin.list_platforms())]
    await ok(plugin.save_selection(ids, []))
    await ok(plugin.start_sync())
    for _ in range(1000):
        progress = await ok(plugin.get_sync_progress())
        if progress["step"] == "apply" or not progress["running"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the sync never reached the apply step")


async def _apply_like_the_panel(plugin: Any) -> None:
    """The chunked path: the panel 'creates' each shortcut and sets its art."""
    while True:
        chunk = await ok(plugin.next_sync_chunk(250))
        if chunk["lease_id"] is None:
            return
        results = [
            {"rom_id": s["rom_id"], "appid": 3_000_000_000 + s["rom_id"], "artwork": s["artwork"]}
            for s in chunk["add"]
        ]
        await ok(plugin.report_sync_chunk(chunk["lease_id"], results))


async def _wait_for(plugin: Any, states: set[str], within: float = 60) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    bulk: dict[str, Any] = {}
    while loop.time() < deadline:
        bulk = await ok(plugin.get_bulk_import())
        if bulk["state"] in states:
            return bulk
        await asyncio.sleep(0.1)
    log = Path(os.environ["DECKY_PLUGIN_RUNTIME_DIR"]) / "bulk-import.log"
    tail = log.read_text()[-3000:] if log.exists() else "(no log)"
    raise AssertionError(f"bulk import never reached {states}: {bulk}\n{tail}")


async def _entries(plugin: Any) -> dict[int, Any]:
    return await plugin._app().registry.entries(PANEL_USER)


@pytest.fixture
def steam(tmp_path: Path) -> Iterator[tuple[Path, FakeProcTable]]:
    root = make_steam_tree(tmp_path / "bulk", users=(USER,))
    make_cloud_storage(root, USER)
    yield root, FakeProcTable(tmp_path / "proc")


@pytest.fixture
async def bulk_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_romm: FakeRommServer
) -> AsyncIterator[Any]:
    monkeypatch.setenv("ROMDECK_HELPER_MODE", "subprocess")
    plugin = await _plugin(monkeypatch, tmp_path / "bulk")
    yield plugin
    await plugin._unload()


async def _start(plugin: Any, steam_root: Path, proc: FakeProcTable, wait: float = 60) -> Any:
    app = plugin._app()
    selection: Selection = app.settings.load().selection
    return await app.bulk_import.start(
        USER, selection, steam_dir=str(steam_root), proc_root=str(proc.root), wait_seconds=wait
    )


async def test_3000_games_imported_while_steam_restarts_match_the_chunked_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_romm: FakeRommServer, steam
):
    steam_root, proc = steam
    # The chunked path, on the same server data, for reference.
    chunked = await _plugin(monkeypatch, tmp_path / "chunked")
    try:
        await _signed_in_at_apply(chunked, fake_romm)
        await _apply_like_the_panel(chunked)
        reference = await _entries(chunked)
    finally:
        await chunked._unload()
    assert len(reference) == N_ROMS

    monkeypatch.setenv("ROMDECK_HELPER_MODE", "subprocess")
    plugin = await _plugin(monkeypatch, tmp_path / "bulk")
    try:
        vdf_before = shortcuts_path(steam_root, USER).read_bytes()
        await _signed_in_at_apply(plugin, fake_romm)
        assert (await ok(plugin.get_bulk_import()))["pending_adds"] == N_ROMS

        job = await _start(plugin, steam_root, proc)
        assert job.count == N_ROMS
        assert not (await ok(plugin.get_sync_progress()))["running"], "chunked apply stopped"
        waiting = await _wait_for(plugin, {"waiting_for_steam_exit", "failed"})
        assert waiting["state"] == "waiting_for_steam_exit", waiting
        assert waiting["count"] == N_ROMS
        assert shortcuts_path(steam_root, USER).read_bytes() == vdf_before, "Steam still runs"

        proc.exit_steam()
        done = await _wait_for(plugin, {"done", "failed", "timed_out"}, within=120)
        assert done["state"] == "done", done
        assert done["counts"]["added"] == N_ROMS and done["counts"]["failed"] == 0
        assert done["counts"]["covers"] == 60 and done["finished_at"]

        # Every foreign shortcut byte-for-byte in place, ours appended.
        data = shortcuts_path(steam_root, USER).read_bytes()
        assert data.startswith(vdf_before[:-2])
        shortcuts = vdf.binary_loads(data)["shortcuts"]
        assert len(shortcuts) == len(FOREIGN) + N_ROMS

        # Steam's own collections untouched, ours added and marked for upload.
        folder = cloud_dir(steam_root, USER)
        text = (folder / "cloud-storage-namespace-1.json").read_text(encoding="utf-8")
        assert text.startswith(FOREIGN_NAMESPACE[:-1] + ",")
        ours = [k for k, _ in json.loads(text) if k.startswith("user-collections.romdeck-")]
        assert len(ours) == 6
        modified = json.loads((folder / "cloud-storage-namespace-1.modified.json").read_text())
        assert modified[: len(json.loads(FOREIGN_MODIFIED))] == json.loads(FOREIGN_MODIFIED)

        # The registry is the chunked path's, but for the ids (Steam's vs ours).
        bulk = await _entries(plugin)
        assert {k: (e.spec, e.cover_key) for k, e in bulk.items()} == {
            k: (e.spec, e.cover_key) for k, e in reference.items()
        }
        written = {s["appid"] & 0xFFFFFFFF for s in shortcuts.values()}
        assert {e.appid for e in bulk.values()} <= written
        grid = steam_root / "userdata" / USER / "config" / "grid"
        assert len(list(grid.glob("*p.png"))) == 60

        # The panel's next sync has nothing left to create.
        await ok(plugin.start_sync())
        progress: dict[str, Any] = {}
        for _ in range(500):
            progress = await ok(plugin.get_sync_progress())
            if not progress["running"]:
                break
            await asyncio.sleep(0.02)
        assert progress["remaining"] == 0 and progress["summary"]["added"] == 0, progress
        assert not (tmp_path / "bulk" / "runtime" / "bulk-covers").exists(), "cache cleared"
    finally:
        await plugin._unload()


async def test_steam_that_does_not_exit_in_time_gets_nothing_written(
    bulk_plugin: Any, fake_romm: FakeRommServer, steam
):
    steam_root, proc = steam
    before = {p: p.read_bytes() for p in (steam_root / "userdata").rglob("*") if p.is_file()}
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    await _start(bulk_plugin, steam_root, proc, wait=1.0)

    ended = await _wait_for(bulk_plugin, {"done", "failed", "timed_out"})

    assert ended["state"] == "timed_out", ended
    assert "did not close within 1 seconds" in ended["message"]
    assert "nothing was written" in ended["message"]
    after = {p: p.read_bytes() for p in (steam_root / "userdata").rglob("*") if p.is_file()}
    assert after == before
    assert await _entries(bulk_plugin) == {}


async def test_a_second_import_while_one_runs_is_refused(
    bulk_plugin: Any, fake_romm: FakeRommServer, steam
):
    steam_root, proc = steam
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    await _start(bulk_plugin, steam_root, proc, wait=2.0)
    again = await bulk_plugin.start_bulk_import(USER)
    assert again["ok"] is False and again["error"]["code"] == "busy"
    assert (await _wait_for(bulk_plugin, {"timed_out", "failed"}))["state"] == "timed_out"


async def test_a_helper_killed_midway_is_reported_as_failed(
    bulk_plugin: Any, fake_romm: FakeRommServer, steam
):
    steam_root, proc = steam
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    await _start(bulk_plugin, steam_root, proc)
    await _wait_for(bulk_plugin, {"waiting_for_steam_exit"})
    job = await JsonBulkJobFile(
        Path(os.environ["DECKY_PLUGIN_RUNTIME_DIR"]) / "bulk-import.json"
    ).load()
    assert job is not None and job.pid > 0
    os.kill(job.pid, signal.SIGKILL)  # the helper this test started

    ended = await _wait_for(bulk_plugin, {"failed", "done", "timed_out"}, within=10)

    assert ended["state"] == "failed" and "helper stopped" in ended["message"]
    assert ended["finished_at"]


async def test_start_bulk_import_says_when_there_is_no_such_steam_user(
    bulk_plugin: Any, fake_romm: FakeRommServer
):
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    reply = await bulk_plugin.start_bulk_import("999")
    assert reply["ok"] is False and reply["error"]["code"] == "steam_not_found"
    assert (await ok(bulk_plugin.get_bulk_import()))["state"] == "idle"


async def test_a_damaged_job_record_reads_as_a_failed_job_not_as_none(tmp_path: Path):
    record = tmp_path / "bulk-import.json"
    record.write_text('{"job_id": "1", "state": "writ')
    job = await JsonBulkJobFile(record).load()
    assert job is not None and job.state is BulkState.FAILED and "damaged" in job.message
    assert record.read_text() == '{"job_id": "1", "state": "writ', "left in place"


async def test_inside_decky_the_helper_is_spawned_detached_and_runs_the_same_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_romm: FakeRommServer, steam
):
    """Decky's Python is a frozen binary (no ``python -m``): the helper is spawned through
    ``multiprocessing`` from a middle process that leaves, in a session of its own, and
    runs ``romdeck.cli.main``."""
    steam_root, proc = steam
    monkeypatch.setenv("ROMDECK_HELPER_MODE", "spawn")
    plugin = await _plugin(monkeypatch, tmp_path / "forked")
    try:
        await _signed_in_at_apply(plugin, fake_romm)
        await _start(plugin, steam_root, proc)
        await _wait_for(plugin, {"waiting_for_steam_exit"})
        runtime = Path(os.environ["DECKY_PLUGIN_RUNTIME_DIR"])
        job = await JsonBulkJobFile(runtime / "bulk-import.json").load()
        assert job is not None and job.pid not in (0, os.getpid())
        assert os.getsid(job.pid) != os.getsid(0), "a session of its own"
        stat = await asyncio.to_thread(Path(f"/proc/{job.pid}/stat").read_text)
        assert stat.rpartition(")")[2].split()[1] != str(os.getpid()), "not our child"

        proc.exit_steam()
        done = await _wait_for(plugin, {"done", "failed", "timed_out"}, within=120)

        assert done["state"] == "done", done
        assert done["counts"]["added"] == N_ROMS
        assert len(await _entries(plugin)) == N_ROMS
    finally:
        await plugin._unload()


class _GoneOnce:
    """A Steam check that reports Steam gone: the wait ends, while the process table the
    write checks still shows Steam (it started again in between)."""

    async def running(self) -> bool:
        return False


async def test_steam_back_before_the_write_gets_nothing_written_and_says_so(
    bulk_plugin: Any, fake_romm: FakeRommServer, steam
):
    from dataclasses import replace

    from romdeck.domain.bulk_import import BulkJob
    from romdeck.services.bulk_import import BulkImport

    steam_root, proc = steam
    before = {p: p.read_bytes() for p in (steam_root / "userdata").rglob("*") if p.is_file()}
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    app = bulk_plugin._app()
    deps = app.bulk_import._deps  # the real wiring, but for the wait's view of Steam
    bulk = BulkImport(replace(deps, steam=lambda job: _GoneOnce()))
    selection = app.settings.load().selection
    await deps.jobs.save(
        BulkJob(
            job_id="j1",
            state=BulkState.PREPARING,
            steam_user=USER,
            platform_ids=tuple(sorted(selection.platform_ids)),
            steam_dir=str(steam_root),
            proc_root=str(proc.root),
        )
    )

    job = await bulk.run_job("j1", os.getpid())

    assert job.state is BulkState.FAILED
    assert "Steam started again" in job.message and "nothing was written" in job.message
    after = {p: p.read_bytes() for p in (steam_root / "userdata").rglob("*") if p.is_file()}
    assert after == before
    assert await _entries(bulk_plugin) == {}
    assert (await ok(bulk_plugin.get_bulk_import()))["state"] == "failed"


def test_the_helper_command_refuses_a_job_that_is_not_waiting(tmp_path: Path):
    import io

    from romdeck.cli import main

    err = io.StringIO()
    code = main(["--data-dir", str(tmp_path), "bulk-import", "no-such-job"], io.StringIO(), err)
    assert code == 1
    assert "No bulk import 'no-such-job' is waiting to run." in err.getvalue()


async def test_a_job_whose_helper_never_ran_does_not_block_the_next_one(
    bulk_plugin: Any, fake_romm: FakeRommServer, steam
):
    from romdeck.domain.bulk_import import BulkJob

    steam_root, proc = steam
    runtime = Path(os.environ["DECKY_PLUGIN_RUNTIME_DIR"])
    await JsonBulkJobFile(runtime / "bulk-import.json").save(
        BulkJob(job_id="old", state=BulkState.PREPARING, steam_user=USER)
    )  # left by a plugin that stopped before its helper ran

    stale = await ok(bulk_plugin.get_bulk_import())

    assert stale["state"] == "failed" and "never started" in stale["message"]
    await _signed_in_at_apply(bulk_plugin, fake_romm)
    job = await _start(bulk_plugin, steam_root, proc, wait=1.0)
    assert job.job_id != "old"
    assert (await _wait_for(bulk_plugin, {"timed_out", "failed"}))["state"] == "timed_out"
