"""DeviceService over real parts: the fake RomM server's /api/devices and real SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.saves import SqliteSaveStore
from romdeck.domain.settings import Connection
from romdeck.services.devices import DeviceConfig, DeviceService


async def test_one_installation_registers_once_and_again_only_when_romm_lost_it(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> None:
    token = fake_library.auth.create_client_token("admin", "d", list(ALL_SCOPES), None).raw_token
    async with aiohttp.ClientSession() as session:
        api = AiohttpRommSaves(session, Connection(url=fake_romm.url, token=token))
        store = SqliteSaveStore(SqliteDatabase(tmp_path / "a.db"))
        config = DeviceConfig(hostname="steamdeck", name="Deck")
        devices = DeviceService(connect=lambda: api, store=store, config=config)
        ids = await asyncio.gather(*(devices.device_id() for _ in range(5)))
        assert len(set(ids)) == 1 and await store.device_id() == ids[0]
        posts = [r for r in fake_romm.requests if r[:2] == ("POST", "/api/devices")]
        assert len(posts) == 1
        assert await devices.replace_lost(ids[0]) == ids[0]  # RomM still has it
        fake_saves(fake_romm).devices.pop(ids[0])
        new = await devices.replace_lost(ids[0])
        assert new != ids[0] and await devices.device_id() == new

        other_store = SqliteSaveStore(SqliteDatabase(tmp_path / "b.db"))
        other = DeviceService(connect=lambda: api, store=other_store, config=config)
        assert await other.device_id() != new  # a second installation, same hostname
