"""get_status names the signed-in RomM user (sign-in, a pasted token, a restart)."""

from __future__ import annotations

import importlib
from typing import Any

from fakeromm.server import FakeRommServer
from test_plugin_contract import ok, plugin, sign_in

__all__ = ["plugin"]  # the fixture, shared with the contract suite


async def test_get_status_names_the_user_who_signed_in_with_a_password(
    plugin: Any, fake_romm: FakeRommServer
):
    assert (await ok(plugin.get_status()))["username"] is None
    await sign_in(plugin, fake_romm)
    assert (await ok(plugin.get_status()))["username"] == "admin"


async def test_after_a_restart_the_username_comes_from_users_me(
    plugin: Any, fake_romm: FakeRommServer
):
    await sign_in(plugin, fake_romm)
    await plugin._unload()
    restarted = importlib.import_module("main").Plugin()
    await restarted._main()
    try:
        status = await ok(restarted.get_status())
        assert status["username"] == "admin"
    finally:
        await restarted._unload()


async def test_signing_out_forgets_the_username(plugin: Any, fake_romm: FakeRommServer):
    await sign_in(plugin, fake_romm)
    await ok(plugin.logout())
    assert (await ok(plugin.get_status()))["username"] is None
