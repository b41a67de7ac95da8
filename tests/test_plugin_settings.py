"""Contract: the panel's settings and sign-in warnings through the real Decky ``Plugin``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import test_plugin_contract as contract
from fakeromm.server import FakeRommServer
from test_plugin_contract import ok

plugin = contract.plugin  # the real Plugin over the real bootstrap, in a temp tree

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


async def test_the_panel_reads_defaults_then_the_settings_it_set(plugin: Any, tmp_path: Path):
    assert await ok(plugin.get_settings()) == {
        "emulation": {"target": "auto", "roms_root": None, "bios_root": None, "templates": {}},
        "tls": {"verify": True, "ca_file": None},
        "saves": {"sync": True, "states": False},
    }
    (tmp_path / "ca.pem").write_bytes(PEM)
    patch = {
        "emulation": {"target": "custom", "roms_root": "/run/media/deck/sd/roms",
                      "templates": {"*": "flatpak run org.libretro.RetroArch {rom}"}},
        "tls": {"ca_file": str(tmp_path / "ca.pem")},
    }  # fmt: skip
    expected = {
        "emulation": {**patch["emulation"], "bios_root": None},
        "tls": {"verify": True, "ca_file": str(tmp_path / "ca.pem")},
        "saves": {"sync": True, "states": False},
    }
    assert await ok(plugin.set_settings(patch)) == expected
    assert await ok(plugin.get_settings()) == expected
    saved = json.loads((tmp_path / "settings" / "settings.json").read_text())
    assert saved["emulation"]["target"] == "custom"


async def test_a_malformed_template_from_the_panel_is_an_invalid_input_result(
    plugin: Any, tmp_path: Path
):
    result = await plugin.set_settings({"emulation": {"templates": {"psx": "duckstation"}}})
    assert result["ok"] is False and result["error"]["code"] == "invalid_input"
    assert "psx" in result["error"]["message"] and "{rom}" in result["error"]["message"]
    assert not (tmp_path / "settings" / "settings.json").exists()
    assert (await ok(plugin.get_settings()))["emulation"]["templates"] == {}


async def test_a_missing_ca_file_and_a_non_object_patch_are_refused(plugin: Any, tmp_path: Path):
    missing = await plugin.set_settings({"tls": {"ca_file": str(tmp_path / "nope.pem")}})
    assert missing["ok"] is False and "does not exist" in missing["error"]["message"]
    wrong = await plugin.set_settings(["tls"])
    assert wrong["ok"] is False and wrong["error"]["code"] == "invalid_input"


async def test_a_password_sign_in_on_loopback_has_no_warning(
    plugin: Any, fake_romm: FakeRommServer
):
    signed_in = await ok(plugin.login_password(fake_romm.url, "admin", "hunter2", True))
    assert signed_in["warnings"] == []


async def test_save_sync_settings_round_trip_and_a_non_boolean_is_refused(
    plugin: Any, tmp_path: Path
):
    changed = await ok(plugin.set_settings({"saves": {"states": True}}))
    assert changed["saves"] == {"sync": True, "states": True}
    changed = await ok(plugin.set_settings({"saves": {"sync": False}}))
    assert changed["saves"] == {"sync": False, "states": True}
    saved = json.loads((tmp_path / "settings" / "settings.json").read_text())
    assert saved["saves"] == {"sync": False, "states": True}
    refused = await plugin.set_settings({"saves": {"sync": "yes"}})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_input"
    unknown = await plugin.set_settings({"saves": {"bogus": True}})
    assert unknown["ok"] is False
    assert (await ok(plugin.get_settings()))["saves"] == {"sync": False, "states": True}
