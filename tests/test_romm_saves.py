"""The saves adapter against the fake RomM server: devices, slots, 409s, dedup, content."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.saves import AiohttpRommSaves, install_mac
from romdeck.domain.save_sync import ServerSave, SlotConflict, newest_in_slot
from romdeck.domain.settings import Connection

ROM = 1


@pytest_asyncio.fixture
async def saves(
    fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[AiohttpRommSaves]:
    token = fake_library.auth.create_client_token("admin", "deck", list(ALL_SCOPES), None).raw_token
    async with aiohttp.ClientSession() as session:
        yield AiohttpRommSaves(session, Connection(url=fake_romm.url, token=token))


def test_install_mac_is_a_locally_administered_unicast_address() -> None:
    mac = install_mac("0123456789abcdef0123456789abcdef")
    first = int(mac[:2], 16)
    assert len(mac.split(":")) == 6 and first & 0x02 and not first & 0x01
    assert install_mac("ffffffffffff") != install_mac("eeeeeeeeeeee")


async def test_two_installations_on_decks_with_the_same_hostname_are_two_devices(
    saves: AiohttpRommSaves,
) -> None:
    one = await saves.register_device(install_id="a" * 32, hostname="steamdeck", name="Deck")
    two = await saves.register_device(install_id="b" * 32, hostname="steamdeck", name="Deck")
    again = await saves.register_device(install_id="a" * 32, hostname="steamdeck", name="Deck")
    assert one != two and again == one
    assert await saves.device_exists(one)
    assert not await saves.device_exists("00000000-0000-0000-0000-000000000000")


async def test_slotted_uploads_keep_history_dedup_identical_bytes_and_refuse_unseen_newer(
    saves: AiohttpRommSaves, fake_romm: FakeRommServer
) -> None:
    deck = await saves.register_device(install_id="a" * 32, hostname="steamdeck", name="Deck")
    other = await saves.register_device(install_id="b" * 32, hostname="steamdeck", name="Deck")
    first = await saves.upload_save(
        rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v1", device_id=deck
    )
    assert isinstance(first, ServerSave)
    assert first.file_name.startswith("Game [") and first.file_name.endswith("].srm")
    assert first.content_hash == hashlib.md5(b"v1").hexdigest()
    same = await saves.upload_save(
        rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v1", device_id=deck
    )
    assert isinstance(same, ServerSave) and same.id == first.id
    refused = await saves.upload_save(
        rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v2", device_id=other
    )
    assert isinstance(refused, SlotConflict)
    assert await saves.download_save(first.id, device_id=other) == b"v1"
    still = await saves.upload_save(  # a download alone does not count as synced
        rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v2", device_id=other
    )
    assert isinstance(still, SlotConflict)
    await saves.confirm_downloaded(first.id, device_id=other)
    newer = await saves.upload_save(
        rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v2", device_id=other
    )
    assert isinstance(newer, ServerSave) and newer.id != first.id
    listed = await saves.list_saves(ROM, device_id=deck)
    assert {s.id for s in listed} == {first.id, newer.id}
    assert newest_in_slot(listed, "Game.srm") == newer
    assert newest_in_slot(listed, "Game.rtc") is None
    assert len(fake_saves(fake_romm).rows) == 2


async def test_an_unknown_device_cannot_list_saves(saves: AiohttpRommSaves) -> None:
    from romdeck.errors import NotFoundError

    with pytest.raises(NotFoundError):
        await saves.list_saves(ROM, device_id="00000000-0000-0000-0000-000000000000")


async def test_an_uploaded_save_keeps_its_real_name_with_spaces_apostrophes_and_unicode(
    saves: AiohttpRommSaves,
) -> None:
    deck = await saves.register_device(install_id="c" * 32, hostname="steamdeck", name="Deck")
    name = 'Pokémon - Kirby\'s "Dream" Land (USA, Europe).srm'
    uploaded = await saves.upload_save(
        rom_id=ROM, emulator="mgba", file_name=name, data=b"x", device_id=deck
    )
    assert isinstance(uploaded, ServerSave)
    assert uploaded.file_name.startswith('Pokémon - Kirby\'s "Dream" Land (USA, Europe) [')
    assert newest_in_slot(await saves.list_saves(ROM, device_id=deck), name) == uploaded
