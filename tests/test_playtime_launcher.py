"""Playtime with the real bin/romdeck-launch: the session row exists before any save upload,
and a session the launcher kept while the backend was down reaches RomM once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from bootstrap import Paths, build_app
from fakeromm.play_sessions import fake_play_sessions
from fakeromm.server import FakeRommServer
from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.adapters.launch_socket import UnixSocketLaunchServer
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.domain.models import Install
from romdeck.services.launch import LaunchService
from romdeck.services.playtime import PlaytimeSessionListener
from test_launcher import launch, make_emulator, make_rom, pending_sessions, start_launcher
from test_playtime_service import BlockingSaves

ROM = 1


def committed_rows(database: Path) -> list[tuple[int, str]]:
    """What another process reads from state.db."""
    other = SqliteDatabase(database)
    try:
        with other.read() as conn:
            return [tuple(r) for r in conn.execute("SELECT rom_id, state FROM play_sessions")]
    finally:
        other.close()


async def test_killing_the_launcher_while_saves_upload_after_exit_loses_no_session(
    tmp_path: Path, fake_romm: FakeRommServer
) -> None:
    data = tmp_path / "data"
    app = build_app(Paths(data, data), session=aiohttp.ClientSession(), home=tmp_path)
    saves = BlockingSaves()
    server = None
    try:
        await app.account.login_password(fake_romm.url, "admin", "hunter2")
        rom = make_rom(tmp_path)
        argv = make_emulator(tmp_path).argv_for(rom)
        await app.installs.record(
            Install(ROM, "snes", "snes", str(rom), str(rom), 4, tuple(argv), "2026-01-01")
        )
        launch_service = LaunchService(
            installs=app.installs, downloads=app.downloads, probe=LocalInstallTree(),
            target=app.play_target, listeners=[PlaytimeSessionListener(app.playtime), saves],
        )  # fmt: skip
        server = UnixSocketLaunchServer(launch_service.handle)
        await server.start(data / "launch.sock")
        launcher = await start_launcher(f"romdeck:{ROM}", data_dir=data)
        await asyncio.wait_for(saves.entered.wait(), 30)  # the emulator exited; saves "upload"
        launcher.send_signal(signal.SIGKILL)
        await launcher.wait()
        assert [rom_id for rom_id, _ in committed_rows(data / "state.db")] == [ROM]
        assert pending_sessions(data) == []  # the launcher had nothing left to keep
        report = await asyncio.wait_for(app.playtime.settled(), 30)
        assert report is not None and report.delivered == 1
        assert [r.rom_id for r in fake_play_sessions(fake_romm).rows.values()] == [ROM]
    finally:
        if server is not None:
            await server.stop()
        await app.close()


async def test_a_session_the_launcher_kept_while_the_backend_was_down_reaches_romm_once(
    tmp_path: Path, fake_romm: FakeRommServer
) -> None:
    data = tmp_path / "data"
    app = build_app(Paths(data, data), session=aiohttp.ClientSession(), home=tmp_path)
    try:
        await app.account.login_password(fake_romm.url, "admin", "hunter2")
        rom = make_rom(tmp_path)
        argv = make_emulator(tmp_path).argv_for(rom)
        for rom_id in (1, 2):  # two games: two sessions even when both start in one second
            await app.installs.record(
                Install(rom_id, "snes", "snes", str(rom), str(rom), 4, tuple(argv), "2026-01-01")
            )
        for rom_id in (1, 2):  # no socket: the backend is down
            assert (await launch(f"romdeck:{rom_id}", data_dir=data)).status == 0
        # Each launcher kept its session, then its headless after-exit run delivered it
        # (or, where that run could not reach RomM, left it for the backend).
        app.playtime.deliver_soon()  # what _main does at backend start
        app.playtime.deliver_soon()
        report = await app.playtime.settled()
        assert report is not None and report.queued == 0
        assert pending_sessions(data) == []
        assert (await app.playtime.deliver()).batches == 0
        assert len(fake_play_sessions(fake_romm).rows) == 2
    finally:
        await app.close()
