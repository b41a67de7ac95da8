"""Contract: the saves callables and the pre-launch sync over the real bootstrap.

The real ``Plugin`` (only ``decky`` faked) against the fake RomM; the ROM is installed
for a custom target without a RetroArch config, so its save sits next to the ROM.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bootstrap import PendingSaves
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.files.pending_saves import PendingSaveQueue
from test_plugin_contract import ok, plugin, sign_in

__all__ = ["plugin"]

ROM = 20
SRM = "Super Metroid (USA, Europe).srm"


async def installed(plugin: Any, server: FakeRommServer, tmp_path: Path) -> Path:
    await sign_in(plugin, server)
    roms = tmp_path / "roms"
    patch = {"emulation": {"target": "custom", "roms_root": str(roms),
                           "templates": {"*": f"{sys.executable} -c pass {{rom}}"}}}  # fmt: skip
    await ok(plugin.set_settings(patch))
    await ok(plugin.queue_downloads([ROM]))
    await plugin._app().downloads.wait_idle()
    save = roms / "snes" / SRM
    assert save.parent.is_dir()
    return save


def newest(server: FakeRommServer) -> bytes:
    rows = fake_saves(server).rows.values()
    return max(rows, key=lambda r: (r.updated_at, r.id)).content


async def test_the_panel_lists_syncs_restores_and_resolves(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    save = await installed(plugin, fake_romm, tmp_path)
    [game] = await ok(plugin.list_saves(None))
    assert game == {"rom_id": ROM, "name": "Super Metroid (USA, Europe)", "last_sync_at": None,
                    "pending": None, "offline": False, "files": []}  # fmt: skip
    save.write_bytes(b"one")
    [game] = await ok(plugin.sync_saves(None))
    [file] = game["files"]
    assert file["file_name"] == SRM and file["state"] == "synced" and game["last_sync_at"]
    assert file["local_updated_at"] and file["server_updated_at"] and newest(fake_romm) == b"one"

    fake_saves(fake_romm).put(ROM, SRM, b"two", device_id="other")
    [game] = await ok(plugin.list_saves(ROM))
    assert game["files"][0]["state"] == "download"
    [game] = await ok(plugin.sync_saves(ROM))
    assert game["files"][0]["state"] == "synced" and save.read_bytes() == b"two"
    [backup] = await ok(plugin.list_save_backups(ROM))
    assert backup.keys() == {"id", "rom_id", "file_name", "created_at", "size_bytes", "reason"}
    assert (backup["file_name"], backup["size_bytes"]) == (SRM, 3)
    game = await ok(plugin.restore_save_backup(backup["id"]))
    assert save.read_bytes() == b"one" and game["files"][0]["state"] == "upload"

    fake_saves(fake_romm).put(ROM, SRM, b"three", device_id="other")
    [game] = await ok(plugin.sync_saves(ROM))
    assert game["files"][0]["state"] == "conflict" and save.read_bytes() == b"one"
    game = await ok(plugin.resolve_save_conflict(ROM, SRM, "server"))
    assert game["files"][0]["state"] == "synced" and save.read_bytes() == b"three"
    gone = await plugin.resolve_save_conflict(ROM, SRM, "local")
    assert gone["ok"] is False and gone["error"]["code"] == "not_found"
    json.dumps(game)


async def test_sync_off_syncs_nothing_and_a_bad_choice_is_refused(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    save = await installed(plugin, fake_romm, tmp_path)
    save.write_bytes(b"kept here")
    await ok(plugin.set_settings({"saves": {"sync": False}}))
    refused = await plugin.sync_saves(None)
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_input"
    reply = await plugin._app().launch.handle({"op": "resolve", "rom_id": ROM})
    assert reply["installed"] is True
    assert fake_saves(fake_romm).rows == {}
    bad = await plugin.resolve_save_conflict(ROM, SRM, "both")
    assert bad["ok"] is False


async def test_a_save_from_a_second_device_lands_before_the_launcher_gets_its_command(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    save = await installed(plugin, fake_romm, tmp_path)
    save.write_bytes(b"old")
    await ok(plugin.sync_saves(ROM))
    fake_saves(fake_romm).put(ROM, SRM, b"played on the other deck", device_id="other")
    reply = await plugin._app().launch.handle({"op": "resolve", "rom_id": ROM})
    assert reply["installed"] is True and reply["argv"][-1] == str(save.with_suffix(".sfc"))
    assert save.read_bytes() == b"played on the other deck"
    [backup] = await ok(plugin.list_save_backups(ROM))
    assert backup["reason"] == "download"


async def test_the_launchers_queue_and_pending_roms_are_synced_at_backend_start(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    app = plugin._app()
    await app.pending_saves.wait()  # the retry _main started has ended, and says so
    assert app.pending_saves.result == []
    save = await installed(plugin, fake_romm, tmp_path)
    save.write_bytes(b"played while the backend was down")
    queue = app.paths.data_dir / "pending_saves.jsonl"
    queue.write_text(json.dumps({"rom_id": ROM, "at": "x", "reason": "launcher"}) + "\nnot json\n")
    retry = PendingSaves(app.saves, PendingSaveQueue(queue))
    retry.start()
    await retry.wait()
    assert isinstance(retry.result, list) and [r.rom_id for r in retry.result] == [ROM]
    assert retry.result[0].actions == {SRM: "upload"} and not queue.exists()
    assert newest(fake_romm) == b"played while the backend was down"


async def test_saves_and_play_sessions_go_to_rom_m_as_one_device(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    """One registration per installation: the saves and the play sessions of this Deck
    carry the same RomM device id (bootstrap hands both the one DeviceService)."""
    from datetime import UTC, datetime, timedelta

    from fakeromm.play_sessions import fake_play_sessions

    save = await installed(plugin, fake_romm, tmp_path)
    save.write_bytes(b"one")
    await ok(plugin.sync_saves(ROM))
    at = datetime.now(UTC) - timedelta(minutes=5)
    runtime = Path(plugin._app().paths.data_dir)
    line = {"op": "exited", "rom_id": ROM, "code": 0, "at": at.isoformat(), "seconds": 120.0}
    (runtime / "pending_sessions.jsonl").write_text(json.dumps(line) + "\n")
    delivered = await ok(plugin.sync_playtime())
    assert delivered["delivered"] == 1
    assert len(fake_saves(fake_romm).devices) == 1
    [device] = fake_saves(fake_romm).devices
    [session] = fake_play_sessions(fake_romm).rows.values()
    [row] = fake_saves(fake_romm).rows.values()
    assert session.device_id == device and row.origin_device_id == device
