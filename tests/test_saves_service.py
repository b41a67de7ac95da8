"""The saves service over real parts: the fake RomM server, real SQLite, real files in tmp."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import FakeSaves, fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.emulation.retroarch_cfg import RetroArchSaveConfigReader
from romdeck.adapters.emulation.save_locator import RetroArchSaveLocator
from romdeck.adapters.files.save_files import LocalSaveFiles
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.saves import SqliteSaveStore
from romdeck.domain.models import Install
from romdeck.domain.settings import Connection
from romdeck.services.saves import SaveConfig, SaveService

ROM = 1


@dataclass
class Deck:
    service: SaveService
    store: SqliteSaveStore
    save: Path


async def make_deck(
    tmp: Path, session: aiohttp.ClientSession, server: FakeRommServer, lib: FakeLibrary
) -> Deck:
    token = lib.auth.create_client_token("admin", tmp.name, list(ALL_SCOPES), None).raw_token
    roms = tmp / "retrodeck" / "roms" / "snes"
    roms.mkdir(parents=True)
    rom = roms / "Game.sfc"
    rom.write_bytes(b"rom")
    install = Install(ROM, "snes", "snes", str(rom), str(rom), 3, ("flatpak",), "")
    saves_dir = tmp / "retrodeck" / "saves"
    reader = RetroArchSaveConfigReader(tmp / "none.cfg", home=tmp, saves_path=str(saves_dir))
    store = SqliteSaveStore(SqliteDatabase(tmp / "state.db"))
    service = SaveService(
        server=AiohttpRommSaves(session, Connection(url=server.url, token=token)),
        locator=RetroArchSaveLocator(lambda rom_id: install if rom_id == ROM else None, reader),
        files=LocalSaveFiles(tmp / "data"), store=store, clock=SystemClock(),
        config=SaveConfig(timeout=2.0),
    )  # fmt: skip
    return Deck(service, store, saves_dir / "snes" / "Game.srm")


@pytest_asyncio.fixture
async def decks(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[tuple[Deck, Deck]]:
    async with aiohttp.ClientSession() as session:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        yield (
            await make_deck(tmp_path / "a", session, fake_romm, fake_library),
            await make_deck(tmp_path / "b", session, fake_romm, fake_library),
        )


def content(path: str) -> bytes:
    """The bytes of a kept copy."""
    return Path(path).read_bytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def server_state(server: FakeRommServer) -> FakeSaves:
    return fake_saves(server)


async def test_first_sync_uploads_then_the_other_deck_downloads_before_launch(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    assert (await a.service.after_exit(ROM)).actions == {"Game.srm": "upload"}
    assert [r.content for r in server_state(fake_romm).rows.values()] == [b"one"]
    report = await b.service.before_launch(ROM)
    assert report.actions == {"Game.srm": "download"} and b.save.read_bytes() == b"one"
    assert (await a.service.sync_rom(ROM)).actions == {"Game.srm": "skip"}
    assert len(server_state(fake_romm).devices) == 2


async def test_a_save_changed_on_the_other_deck_is_downloaded_before_launch_and_ours_backed_up(
    decks: tuple[Deck, Deck],
) -> None:
    a, b = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    await a.service.after_exit(ROM)
    await b.service.before_launch(ROM)
    b.save.write_bytes(b"two")
    assert (await b.service.after_exit(ROM)).actions == {"Game.srm": "upload"}
    assert (await a.service.before_launch(ROM)).actions == {"Game.srm": "download"}
    assert a.save.read_bytes() == b"two"
    backups = await a.store.backups(ROM)
    assert [content(x.backup_path) for x in backups] == [b"one"]
    await a.service.restore(backups[0].id)
    assert a.save.read_bytes() == b"one"
    assert len(await a.store.backups(ROM)) == 2  # "two" kept before the restore


async def test_both_sides_changed_keeps_both_and_each_choice_settles_it(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"base")
    await a.service.after_exit(ROM)
    await b.service.before_launch(ROM)
    a.save.write_bytes(b"mine-a")
    b.save.write_bytes(b"mine-b")
    await b.service.after_exit(ROM)
    assert (await a.service.after_exit(ROM)).actions == {"Game.srm": "conflict"}
    assert a.save.read_bytes() == b"mine-a"  # nothing overwritten
    [conflict] = await a.store.conflicts(ROM)
    assert content(conflict.server_copy) == b"mine-b"
    assert {r.content for r in server_state(fake_romm).rows.values()} == {b"base", b"mine-b"}
    await a.service.resolve(conflict.id, "server")
    assert a.save.read_bytes() == b"mine-b"
    assert [content(x.backup_path) for x in await a.store.backups(ROM)] == [b"mine-a"]
    assert await a.store.conflicts() == []
    # now the other way: keep local
    a.save.write_bytes(b"a3")
    b.save.write_bytes(b"b3")
    await b.service.after_exit(ROM)
    await a.service.after_exit(ROM)
    [conflict] = await a.store.conflicts(ROM)
    await a.service.resolve(conflict.id, "local")
    assert a.save.read_bytes() == b"a3"
    newest = max(server_state(fake_romm).rows.values(), key=lambda r: r.id)
    assert newest.content == b"a3"
    assert b"b3" in [content(x.backup_path) for x in await a.store.backups(ROM)]
    assert (await a.service.sync_rom(ROM)).actions == {"Game.srm": "skip"}


async def test_the_server_down_at_exit_leaves_the_rom_pending_until_the_next_chance(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"offline")
    await a.service.sync_rom(ROM)  # registers the device
    a.save.write_bytes(b"offline-2")
    fake_romm.down = True
    report = await a.service.after_exit(ROM)
    assert report.pending and ROM in await a.store.pending()
    assert a.save.read_bytes() == b"offline-2"
    fake_romm.down = False
    [again] = await a.service.sync_pending()
    assert again.actions == {"Game.srm": "upload"} and await a.store.pending() == {}
    newest = max(server_state(fake_romm).rows.values(), key=lambda r: r.id)
    assert newest.content == b"offline-2"


async def test_a_slow_server_does_not_hold_the_launch_past_the_timeout(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    fake_romm.latency = 3.0
    report = await a.service.before_launch(ROM)
    assert report.pending == "timed out before launch" and ROM in await a.store.pending()


async def test_a_server_clock_an_hour_off_changes_no_decision(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    server_state(fake_romm).skew = -3600.0
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    await a.service.after_exit(ROM)
    server_state(fake_romm).skew = 3600.0
    await b.service.before_launch(ROM)
    b.save.write_bytes(b"two")
    assert (await b.service.after_exit(ROM)).actions == {"Game.srm": "upload"}
    assert (await a.service.before_launch(ROM)).actions == {"Game.srm": "download"}
    assert a.save.read_bytes() == b"two"


async def test_a_device_the_server_lost_is_registered_again(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    await a.service.sync_rom(ROM)
    old = await a.store.device_id()
    server_state(fake_romm).devices.clear()
    a.save.write_bytes(b"two")
    report = await a.service.after_exit(ROM)
    assert report.pending == "" and len(server_state(fake_romm).devices) == 1
    assert await a.store.device_id() not in (None, old)


async def test_the_session_listener_uploads_after_the_emulator_exits(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    from romdeck.domain.launch_protocol import ExitedRequest
    from romdeck.services.saves import SaveSessionListener

    a, _ = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"played")
    install = Install(ROM, "snes", "snes", "/r", "/r/Game.sfc", 3, (), "")
    await SaveSessionListener(a.service).session_exited(ExitedRequest(ROM, 0, "now", 5.0), install)
    assert [r.content for r in server_state(fake_romm).rows.values()] == [b"played"]
