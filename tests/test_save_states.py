"""Save states through RomM's /api/states, behind a setting: real fake server, SQLite, files."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.emulation.retroarch_cfg import RetroArchSaveConfigReader
from romdeck.adapters.emulation.save_locator import RetroArchSaveLocator
from romdeck.adapters.emulation.state_locator import RetroArchStateLocator
from romdeck.adapters.files.save_files import LocalSaveFiles
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.adapters.romm.states import AiohttpRommStates
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.saves import SqliteSaveStore
from romdeck.domain.models import Install
from romdeck.domain.save_files import SaveDirConfig
from romdeck.domain.settings import Connection
from romdeck.services.save_states import StateSync
from romdeck.services.saves import SaveConfig, SaveService
from shared_files import real_files

ROM = 1


@dataclass
class Deck:
    service: SaveService
    store: SqliteSaveStore
    states: Path
    switch: list[bool]


async def make_deck(
    tmp: Path, session: aiohttp.ClientSession, server: FakeRommServer, lib: FakeLibrary
) -> Deck:
    token = lib.auth.create_client_token("admin", tmp.name, list(ALL_SCOPES), None).raw_token
    roms = tmp / "retrodeck" / "roms" / "snes"
    roms.mkdir(parents=True)
    rom = roms / "Game.sfc"
    rom.write_bytes(b"rom")
    install = Install(ROM, "snes", "snes", str(rom), str(rom), 3, ("flatpak",), "")

    def install_for(rom_id: int) -> Install | None:
        return install if rom_id == ROM else None

    saves_dir, states_dir = tmp / "retrodeck" / "saves", tmp / "retrodeck" / "states"
    connection = Connection(url=server.url, token=token)
    store = SqliteSaveStore(SqliteDatabase(tmp / "state.db"))
    files = LocalSaveFiles(tmp / "data")
    switch = [False]
    states = StateSync(
        server=AiohttpRommStates(session, connection),
        locator=RetroArchStateLocator(install_for, tmp / "none.cfg", home=tmp,
                                      states_path=str(states_dir)),
        files=files, store=store, clock=SystemClock(), enabled=lambda: switch[0],
    )  # fmt: skip
    reader = RetroArchSaveConfigReader(tmp / "none.cfg", home=tmp, saves_path=str(saves_dir))
    service = SaveService(
        server=AiohttpRommSaves(session, connection),
        locator=RetroArchSaveLocator(install_for, reader), files=files, store=store,
        clock=SystemClock(), config=SaveConfig(timeout=5.0), states=states,
    )  # fmt: skip
    return Deck(service, store, states_dir / "snes", switch)


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


def state_calls(server: FakeRommServer) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in server.requests if p.startswith("/api/states")]


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def read(path: str | Path) -> bytes:
    return Path(path).read_bytes()


async def test_states_are_left_alone_while_the_setting_is_off(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    write(a.states / "Game.state1", b"s1")
    assert (await a.service.after_exit(ROM)).actions == {}
    assert state_calls(fake_romm) == [] and fake_saves(fake_romm).states.rows == {}


async def test_states_go_up_and_reach_the_other_deck_before_launch(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    a.switch[0] = b.switch[0] = True
    write(a.states / "Game.state1", b"slot one")
    write(a.states / "Game.state.auto", b"auto")
    report = await a.service.after_exit(ROM)
    assert report.actions == {"Game.state1": "upload", "Game.state.auto": "upload"}
    rows = fake_saves(fake_romm).states.rows.values()
    assert sorted((r.file_name, r.content) for r in rows) == [
        ("Game.state.auto", b"auto"), ("Game.state1", b"slot one"),
    ]  # fmt: skip
    down = await b.service.before_launch(ROM)
    assert down.actions == {"Game.state1": "download", "Game.state.auto": "download"}
    assert read(b.states / "Game.state1") == b"slot one"
    fake_romm.reset_log()
    again = await a.service.sync_rom(ROM)
    assert set(again.actions.values()) == {"skip"}
    assert [c for c in state_calls(fake_romm) if c[0] != "GET" or "/content" in c[1]] == []


async def test_a_state_changed_on_both_decks_is_a_conflict_kept_locally_and_each_choice_works(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    a.switch[0] = b.switch[0] = True
    write(a.states / "Game.state", b"base")
    await a.service.after_exit(ROM)
    await b.service.before_launch(ROM)
    write(a.states / "Game.state", b"from a")
    write(b.states / "Game.state", b"from b")
    await b.service.after_exit(ROM)
    assert (await a.service.after_exit(ROM)).actions == {"Game.state": "conflict"}
    assert read(a.states / "Game.state") == b"from a"  # nothing overwritten either way
    [row] = fake_saves(fake_romm).states.rows.values()
    assert row.content == b"from b"
    [conflict] = await a.store.conflicts(ROM)
    assert read(conflict.server_copy) == b"from b"
    await a.service.resolve(conflict.id, "local")
    assert row.content == b"from a" and read(a.states / "Game.state") == b"from a"
    assert b"from b" in [read(x.backup_path) for x in await a.store.backups(ROM)]
    # the other deck now has a conflict of its own; it keeps the server's version
    write(b.states / "Game.state", b"b again")
    assert (await b.service.after_exit(ROM)).actions == {"Game.state": "conflict"}
    [conflict_b] = await b.store.conflicts(ROM)
    await b.service.resolve(conflict_b.id, "server")
    assert read(b.states / "Game.state") == b"from a"
    assert b"b again" in [read(x.backup_path) for x in await b.store.backups(ROM)]
    assert set((await b.service.sync_rom(ROM)).actions.values()) == {"skip"}


def test_the_state_folder_follows_retrodecks_real_retroarch_cfg(tmp_path: Path) -> None:
    cfg = tmp_path / "retroarch.cfg"
    shutil.copy(real_files() / "retroarch" / "retroarch.retrodeck.cfg", cfg)
    locator = RetroArchStateLocator(
        lambda _: None, cfg, home=tmp_path, states_path="/home/deck/retrodeck/states"
    )
    assert locator.read() == SaveDirConfig("/home/deck/retrodeck/states", sort_by_content=True)
    cfg.write_text('savestate_directory = "~/st"\nsort_savestates_enable = "true"\n')
    assert locator.read() == SaveDirConfig(str(tmp_path / "st"), sort_by_core=True)
    cfg.write_text('savestates_in_content_dir = "true"\n')
    assert locator.read() == SaveDirConfig("", in_content_dir=True)
