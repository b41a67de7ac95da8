"""Contract: the real Decky ``Plugin`` over the real bootstrap, driven as the panel drives it.

Only ``decky`` itself is faked; the RomM server is the fake on loopback, state is real
SQLite and settings.json in a temp folder.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer


@pytest.fixture
async def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    decky = types.ModuleType("decky")
    decky.logger = logging.getLogger("decky-test")  # type: ignore[attr-defined]
    emitted: list[tuple[str, tuple[Any, ...]]] = []

    async def emit(event: str, *args: Any) -> None:
        emitted.append((event, args))

    decky.emit = emit  # type: ignore[attr-defined]
    decky.emitted = emitted  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "decky", decky)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DECKY_USER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DECKY_PLUGIN_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("DECKY_PLUGIN_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("ROMDECK_DATA_DIR", raising=False)
    main = importlib.import_module("main")
    monkeypatch.setattr(main, "decky", decky)
    instance = main.Plugin()
    await instance._main()
    yield instance
    await instance._unload()


async def ok(result: Any) -> Any:
    data = await result
    assert data["ok"], data
    return data["data"]


async def sign_in(plugin: Any, server: FakeRommServer) -> None:
    await ok(plugin.login_password(server.url, "admin", "hunter2", True))


async def sign_in_and_select_everything(plugin: Any, server: FakeRommServer) -> None:
    await sign_in(plugin, server)
    ids = [p["id"] for p in await ok(plugin.list_platforms())]
    await ok(plugin.save_selection(ids, []))


async def wait_for_apply(plugin: Any) -> dict[str, Any]:
    for _ in range(200):
        progress = await ok(plugin.get_sync_progress())
        if not progress["running"] or progress["step"] == "apply":
            return progress
        await asyncio.sleep(0.02)
    raise AssertionError("the sync never reached the apply step")


async def apply_chunks(plugin: Any, size: int, limit: int | None = None) -> list[int]:
    """Play the panel: take chunks, 'create' shortcuts with made-up appids, report them."""
    applied: list[int] = []
    while limit is None or len(applied) < limit:
        chunk = await ok(plugin.next_sync_chunk(size))
        if not (chunk["add"] or chunk["update"] or chunk["remove"]):
            break
        results = [
            {"rom_id": s["rom_id"], "appid": 3_000_000_000 + s["rom_id"]} for s in chunk["add"]
        ]
        results += [{"rom_id": s["rom_id"], "appid": s["appid"]} for s in chunk["update"]]
        results += [{"rom_id": s["rom_id"], "removed": True} for s in chunk["remove"]]
        await ok(plugin.report_sync_chunk(chunk["lease_id"], results))
        applied += [r["rom_id"] for r in results]
    return applied


async def test_a_wrong_password_comes_back_as_a_result_not_an_exception(plugin, fake_romm):
    result = await plugin.login_password(fake_romm.url, "admin", "wrong", True)
    assert result["ok"] is False
    assert result["error"]["code"] == "auth_rejected"
    assert "password" in result["error"]["message"].lower()


async def test_callables_before_sign_in_say_so(plugin):
    result = await plugin.list_platforms()
    assert result == {
        "ok": False,
        "error": {"code": "not_configured", "message": result["error"]["message"]},
    }


async def test_an_unreachable_server_is_reported_with_its_code(plugin):
    result = await plugin.login_token("http://127.0.0.1:9", "rmm_" + "0" * 64, True)
    assert result["ok"] is False and result["error"]["code"] == "server_unreachable"


async def test_the_panel_lists_platforms_with_counts_and_saves_a_selection(plugin, fake_romm):
    await sign_in(plugin, fake_romm)
    platforms = await ok(plugin.list_platforms())
    assert {p["slug"] for p in platforms} >= {"snes", "gba", "psx"}
    snes = next(p for p in platforms if p["slug"] == "snes")
    await ok(plugin.save_selection([snes["id"]], []))
    again = await ok(plugin.list_platforms())
    assert next(p for p in again if p["slug"] == "snes")["selected"] is True
    status = await ok(plugin.get_status())
    assert status["configured"] is True and status["url"] == fake_romm.url
    assert status["server_version"] == fake_romm.version == "development"


async def test_get_status_reports_the_server_version_after_a_restart_and_a_new_release(
    plugin, fake_romm: FakeRommServer
):
    await sign_in(plugin, fake_romm)
    fake_romm.version = "4.4.1"
    await plugin._unload()
    main = importlib.import_module("main")
    restarted = main.Plugin()
    await restarted._main()
    try:
        status = await ok(restarted.get_status())
        assert status["server_version"] == "4.4.1"
        assert (await ok(restarted.test_connection()))["server_version"] == "4.4.1"
    finally:
        await restarted._unload()


async def test_a_chunked_sync_commits_each_chunk_and_resumes_after_an_interruption(
    plugin, fake_romm: FakeRommServer, fake_library: FakeLibrary, tmp_path, monkeypatch
):
    await sign_in_and_select_everything(plugin, fake_romm)
    await ok(plugin.start_sync())
    progress = await wait_for_apply(plugin)
    total = progress["remaining"]
    assert total == sum(1 for r in fake_library.roms.values() if not r.missing)
    first = await apply_chunks(plugin, size=3, limit=6)
    assert len(first) == 6
    # the backend restarts mid-sync (Decky reload): a new Plugin over the same state
    await plugin._unload()
    main = importlib.import_module("main")
    restarted = main.Plugin()
    await restarted._main()
    try:
        await ok(restarted.start_sync())
        progress = await wait_for_apply(restarted)
        assert progress["remaining"] == total - 6
        rest = await apply_chunks(restarted, size=5)
        assert not set(rest) & set(first)
        done = await ok(restarted.get_sync_progress())
        assert done["running"] is False and done["remaining"] == 0
        assert done["summary"]["added"] == total - 6
        # a second sync with no server change plans nothing
        await ok(restarted.start_sync())
        idle = await wait_for_apply(restarted)
        assert idle["remaining"] == 0
        chunk = await ok(restarted.next_sync_chunk(10))
        assert chunk["add"] == [] and chunk["update"] == [] and chunk["remove"] == []
    finally:
        await restarted._unload()


async def test_a_rename_on_the_server_reaches_the_panel_as_an_update_with_the_same_appid(
    plugin, fake_romm: FakeRommServer, fake_library: FakeLibrary
):
    await sign_in_and_select_everything(plugin, fake_romm)
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    await apply_chunks(plugin, size=50)
    rom_id = sorted(fake_library.roms)[0]
    fake_library.rename_rom(rom_id, "Renamed Game")
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    chunk = await ok(plugin.next_sync_chunk(10))
    assert chunk["add"] == [] and chunk["remove"] == []
    [update] = chunk["update"]
    assert update["rom_id"] == rom_id and update["app_name"] == "Renamed Game"
    assert update["appid"] == 3_000_000_000 + rom_id


async def test_artwork_comes_back_as_png_base64(plugin, fake_romm, fake_library: FakeLibrary):
    await sign_in_and_select_everything(plugin, fake_romm)
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    with_cover = next(r.id for r in fake_library.roms.values() if r.cover is not None)
    art = await ok(plugin.get_artwork(with_cover))
    import base64

    assert base64.b64decode(art["png_base64"])[:4] == b"\x89PNG"
    without = next(r.id for r in fake_library.roms.values() if r.cover is None)
    assert (await ok(plugin.get_artwork(without)))["png_base64"] is None


async def test_cancel_ends_a_running_sync(plugin, fake_romm: FakeRommServer):
    await sign_in_and_select_everything(plugin, fake_romm)
    fake_romm.latency = 0.2
    await ok(plugin.start_sync())
    await ok(plugin.cancel_sync())
    progress = await ok(plugin.get_sync_progress())
    assert progress["running"] is False
    busy_free = await plugin.start_sync()
    assert busy_free["ok"] is True


async def test_the_panel_queues_a_download_sees_progress_events_and_uninstalls(
    plugin, fake_romm: FakeRommServer, tmp_path: Path
):
    await sign_in(plugin, fake_romm)
    [queued] = await ok(plugin.queue_downloads([20]))
    assert queued["rom_id"] == 20 and queued["state"] in ("queued", "downloading")
    app = plugin._app()
    await app.downloads.wait_idle()
    [done] = await ok(plugin.get_downloads())
    assert done["state"] == "installed" and done["bytes_done"] == done["bytes_total"]
    events = [args[0] for name, args in sys.modules["decky"].emitted if name == "download_progress"]
    assert events and events[-1]["state"] == "installed"
    listing = await ok(plugin.list_installed())
    [install] = listing["installs"]
    rom = tmp_path / "home" / "retrodeck" / "roms" / "snes" / "Super Metroid (USA, Europe).sfc"
    assert install["launch_path"] == str(rom) and rom.is_file()
    assert listing["bytes_by_platform"] == {"snes": rom.stat().st_size}
    assert (await ok(plugin.get_free_space()))["free_bytes"] > 0
    freed = await ok(plugin.uninstall(20))
    assert freed["freed_bytes"] == rom.stat().st_size if rom.exists() else freed["freed_bytes"] > 0
    assert not rom.exists()


async def test_the_launcher_socket_answers_while_the_plugin_runs(
    plugin, fake_romm: FakeRommServer, tmp_path: Path
):
    await sign_in(plugin, fake_romm)
    await ok(plugin.queue_downloads([20]))
    await plugin._app().downloads.wait_idle()
    reader, writer = await asyncio.open_unix_connection(str(tmp_path / "runtime" / "launch.sock"))
    writer.write(b'{"op": "resolve", "rom_id": 20}\n')
    await writer.drain()
    reply = json.loads(await reader.readline())
    writer.close()
    assert reply["ok"] is True and reply["installed"] is True
    assert reply["argv"][:3] == ["flatpak", "run", "net.retrodeck.retrodeck"]


async def test_a_download_error_is_a_result_object(plugin, fake_romm: FakeRommServer):
    await sign_in(plugin, fake_romm)
    result = await plugin.queue_downloads([999999])
    assert result["ok"] is False and result["error"]["code"] == "not_found"


async def test_chunks_say_which_shortcuts_need_art_and_reported_art_is_not_asked_again(
    plugin, fake_romm: FakeRommServer, fake_library: FakeLibrary
):
    await sign_in_and_select_everything(plugin, fake_romm)
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    chunk = await ok(plugin.next_sync_chunk(100))
    with_cover = {r.id for r in fake_library.roms.values() if r.cover is not None}
    assert with_cover
    assert {s["rom_id"] for s in chunk["add"] if s["artwork"]} == with_cover
    results = [
        {"rom_id": s["rom_id"], "appid": 3_000_000_000 + s["rom_id"], "artwork": s["artwork"]}
        for s in chunk["add"]
    ]
    await ok(plugin.report_sync_chunk(chunk["lease_id"], results))
    # the same cover again: nothing to do; a new cover on the server: an update asking for art
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    assert (await ok(plugin.next_sync_chunk(100)))["update"] == []
    changed = min(with_cover)
    fake_library.set_cover(changed, b"\x89PNG\r\n\x1a\n" + b"new cover")
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    [update] = (await ok(plugin.next_sync_chunk(100)))["update"]
    assert update["rom_id"] == changed and update["artwork"] is True


async def test_a_bad_selection_is_refused_and_the_saved_one_kept(plugin, fake_romm):
    await sign_in(plugin, fake_romm)
    await ok(plugin.save_selection([1, 2], [3]))
    refused = await plugin.save_selection([1, "snes"], [])
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_input"
    assert "snes" in refused["error"]["message"]
    selected = {p["id"] for p in await ok(plugin.list_platforms()) if p["selected"]}
    assert selected == {1, 2} & {p["id"] for p in await ok(plugin.list_platforms())}
