"""Contract: the BIOS callables over the real bootstrap, in the shapes of contracts §3."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from fakeromm.server import FakeRommServer
from test_firmware_service import write_retrodeck_json
from test_plugin_contract import ok, plugin, sign_in

__all__ = ["plugin"]

FILE_KEYS = {
    "file_name", "path", "required", "status", "on_server", "firmware_id", "md5", "size_bytes",
}  # fmt: skip


async def test_list_download_and_delete_firmware(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    bios = tmp_path / "bios"
    write_retrodeck_json(tmp_path / "home", bios)
    await sign_in(plugin, fake_romm)
    platforms = await ok(plugin.list_firmware(None))
    assert {p["platform_slug"] for p in platforms} == {"gb", "gba", "n64", "psx", "snes"}
    psx = next(p for p in platforms if p["platform_slug"] == "psx")
    assert psx["needs_firmware"] is True and psx["platform_name"]
    assert psx["ready"] is False and "scph5501.bin" in psx["any_of"]
    row = next(f for f in psx["files"] if f["file_name"] == "scph5501.bin")
    assert row.keys() >= FILE_KEYS
    assert (row["status"], row["on_server"], row["md5"]) == ("optional_missing", True, None)
    assert row["size_bytes"] > 0 and isinstance(row["firmware_id"], int)
    json.dumps(platforms)

    done = await ok(plugin.download_firmware("psx", ["scph5501.bin"]))
    assert [r["outcome"] for r in done["results"]] == ["downloaded"]
    assert (bios / "scph5501.bin").is_file()
    await asyncio.sleep(0)
    decky: Any = sys.modules["decky"]
    events = [args[0] for name, args in decky.emitted if name == "firmware_progress"]
    assert events and events[-1]["path"] == "scph5501.bin"
    assert events[-1]["bytes_done"] == events[-1]["bytes_total"] > 0
    [psx] = await ok(plugin.list_firmware("psx"))
    row = next(f for f in psx["files"] if f["file_name"] == "scph5501.bin")
    assert row["md5"] and row["placed"] is True
    # The fake's bytes are no known PS1 BIOS: present, wrong_hash, and not counted as ready.
    assert row["status"] == "wrong_hash" and psx["ready"] is False

    refused = await plugin.delete_firmware("../x.bin", False)
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_input"
    deleted = await ok(plugin.delete_firmware("scph5501.bin", False))
    assert deleted == {"path": "scph5501.bin", "backup_path": None}
    assert not (bios / "scph5501.bin").exists()


async def test_a_custom_target_downloads_into_the_bios_folder_its_settings_name(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    await sign_in(plugin, fake_romm)
    refused = await plugin.list_firmware("psx")
    custom = {"target": "custom", "roms_root": str(tmp_path / "roms")}
    await ok(plugin.set_settings({"emulation": custom}))
    unmanaged = await plugin.list_firmware("psx")
    assert unmanaged["ok"] is False and unmanaged["error"]["code"] == "not_configured"
    bios = tmp_path / "my-bios"
    settings = await ok(plugin.set_settings({"emulation": {"bios_root": str(bios)}}))
    assert settings["emulation"]["bios_root"] == str(bios)
    done = await ok(plugin.download_firmware("psx", ["scph5501.bin"]))
    assert [r["outcome"] for r in done["results"]] == ["downloaded"]
    assert (bios / "scph5501.bin").is_file()
    assert refused["ok"] is True  # the default target (RetroDECK's folders) needed no setting
    relative = await plugin.set_settings({"emulation": {"bios_root": "bios"}})
    assert relative["ok"] is False and relative["error"]["code"] == "invalid_input"
