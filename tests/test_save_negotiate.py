"""Sync negotiation: the adapter against the fake's recorded rules, the service on both
paths (negotiate where the server has it, the plain endpoints where it doesn't), and the
rule that the safer of RomM's verdict and ours wins."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.domain.save_negotiate import NegotiateSave, NoNegotiation, SyncOperation, safer
from romdeck.domain.save_sync import SaveAction, SaveVerdict, decide
from romdeck.domain.settings import Connection
from romdeck.errors import InvalidInputError
from test_saves_service import ROM, Deck, content, make_deck


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def op(action: str) -> SyncOperation:
    return SyncOperation(action, ROM, 1, "Game.srm", "autosave", "snes9x", "r", "h", "t")


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        (("a", "b", "a"), "upload", SaveAction.DOWNLOAD),  # RomM's stale mark: ours stands
        (("a", "b", "a"), "conflict", SaveAction.CONFLICT),
        (("a", "b", "b"), "download", SaveAction.UPLOAD),  # never RomM's download over ours
        (("a", "b", "b"), "conflict", SaveAction.CONFLICT),
        (("a", "b", "c"), "upload", SaveAction.CONFLICT),
        (("a", "b", "c"), "no_op", SaveAction.CONFLICT),
        (("a", "a", None), "conflict", SaveAction.SKIP),  # same bytes: nothing to lose
        (("a", "b", "a"), None, SaveAction.DOWNLOAD),
    ],
)
def test_the_safer_of_romms_verdict_and_ours_wins(
    ours: tuple[str, str, str | None], theirs: str | None, expected: SaveAction
) -> None:
    verdict = safer(decide(*ours), None if theirs is None else op(theirs))
    assert verdict.action is expected


def test_safer_never_turns_a_conflict_into_a_transfer() -> None:
    conflict = SaveVerdict(SaveAction.CONFLICT, "both")
    for action in ("no_op", "upload", "download", "conflict"):
        assert safer(conflict, op(action)).action is SaveAction.CONFLICT


# ---- the adapter ---------------------------------------------------------------------------
@pytest_asyncio.fixture
async def api(
    fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[AiohttpRommSaves]:
    token = fake_library.auth.create_client_token("admin", "deck", list(ALL_SCOPES), None).raw_token
    async with aiohttp.ClientSession() as session:
        yield AiohttpRommSaves(session, Connection(url=fake_romm.url, token=token))


def local(name: str, data: bytes, rom_id: int = ROM) -> NegotiateSave:
    when = "2026-01-01T00:00:00+00:00"
    return NegotiateSave(rom_id, name, "autosave", "snes9x", md5(data), when, len(data))


async def test_negotiate_pairs_on_rom_and_slot_and_sessions_close_once(
    api: AiohttpRommSaves, fake_romm: FakeRommServer
) -> None:
    deck = await api.register_device(install_id="a" * 32, hostname="steamdeck", name="A")
    other = await api.register_device(install_id="b" * 32, hostname="steamdeck", name="B")
    await api.upload_save(rom_id=ROM, emulator="snes9x", file_name="Game.srm", data=b"v1",
                          device_id=deck)  # fmt: skip
    first = await api.negotiate(deck, [local("Game.srm", b"v1")])
    assert not isinstance(first, NoNegotiation)
    [same] = first.operations
    assert same.action == "no_op" and same.save_id is not None
    assert same.file_name.startswith("Game [") and same.server_content_hash == md5(b"v1")
    fresh = await api.negotiate(other, [])
    assert not isinstance(fresh, NoNegotiation)
    assert [(o.action, o.save_id) for o in fresh.operations] == [("download", same.save_id)]
    new = await api.negotiate(deck, [local("Other.srm", b"x", rom_id=2)])
    assert not isinstance(new, NoNegotiation)
    assert [(o.action, o.rom_id, o.file_name) for o in new.operations] == [
        ("upload", 2, "Other.srm")
    ]
    sessions = fake_saves(fake_romm).sync.sessions
    assert sessions[first.session_id]["status"] == "CANCELLED"  # the later negotiate did it
    with pytest.raises(InvalidInputError, match="already CANCELLED"):
        await api.complete_session(first.session_id, completed=0, failed=0)
    assert await api.complete_session(new.session_id, completed=1, failed=0) == "COMPLETED"
    with pytest.raises(InvalidInputError, match="Session is already COMPLETED"):
        await api.complete_session(new.session_id, completed=1, failed=0)


async def test_negotiate_without_the_route_or_with_an_unknown_device_says_why(
    api: AiohttpRommSaves, fake_romm: FakeRommServer
) -> None:
    unknown = await api.negotiate("no-such-device", [])
    assert unknown == NoNegotiation("Device with ID no-such-device not found", route_missing=False)
    deck = await api.register_device(install_id="a" * 32, hostname="steamdeck", name="A")
    fake_saves(fake_romm).devices[deck]["sync_enabled"] = False
    disabled = await api.negotiate(deck, [])
    assert isinstance(disabled, NoNegotiation) and not disabled.route_missing
    fake_saves(fake_romm).sync.enabled = False
    old = await api.negotiate(deck, [])
    assert old == NoNegotiation("Not Found", route_missing=True)
    assert await api.server_version() == fake_romm.version


# ---- the service ---------------------------------------------------------------------------
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


def calls(server: FakeRommServer, method: str, prefix: str) -> int:
    return sum(1 for m, p, _ in server.requests if m == method and p.startswith(prefix))


async def test_a_negotiated_sync_runs_in_one_session_and_completes_it(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    up = await a.service.after_exit(ROM)
    assert up.actions == {"Game.srm": "upload"} and up.session_id is not None
    down = await b.service.before_launch(ROM)
    assert down.actions == {"Game.srm": "download"} and b.save.read_bytes() == b"one"
    sync = fake_saves(fake_romm).sync
    assert [(s, m) for s, m, _ in sync.session_ops] == [
        (up.session_id, "POST"), (down.session_id, "GET"),
    ]  # fmt: skip
    for report in (up, down):
        assert report.session_id is not None
        session = sync.sessions[report.session_id]
        assert (session["status"], session["operations_completed"]) == ("COMPLETED", 1)
    assert (await a.service.sync_rom(ROM)).actions == {"Game.srm": "skip"}


async def test_a_server_without_negotiate_uses_the_plain_endpoints_and_remembers_its_version(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, b = decks
    fake_saves(fake_romm).sync.enabled = False
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    report = await a.service.after_exit(ROM)
    assert report.actions == {"Game.srm": "upload"} and report.session_id is None
    assert await a.store.negotiate_missing_on() == fake_romm.version
    fake_romm.reset_log()
    a.save.write_bytes(b"two")
    assert (await a.service.after_exit(ROM)).actions == {"Game.srm": "upload"}
    assert calls(fake_romm, "POST", "/api/sync/negotiate") == 0  # remembered
    assert [r.content for r in fake_saves(fake_romm).rows.values()] == [b"one", b"two"]
    assert (await b.service.before_launch(ROM)).actions == {"Game.srm": "download"}
    assert b.save.read_bytes() == b"two"
    # the server is upgraded: a new version is asked again, and negotiate is used
    fake_romm.version = "4.9.0"
    fake_saves(fake_romm).sync.enabled = True
    a.save.write_bytes(b"three")
    again = await a.service.after_exit(ROM)
    assert again.actions == {"Game.srm": "upload"} and again.session_id is not None
    assert await a.store.negotiate_missing_on() is None


async def test_romm_seeing_a_conflict_where_we_would_upload_keeps_both_and_uploads_nothing(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    await a.service.after_exit(ROM)
    state = fake_saves(fake_romm)
    [row] = state.rows.values()
    row.updated_at = state.now()  # changed on the server (same bytes) since our sync
    a.save.write_bytes(b"mine")
    report = await a.service.after_exit(ROM)
    assert report.actions == {"Game.srm": "conflict"}
    assert a.save.read_bytes() == b"mine" and [r.content for r in state.rows.values()] == [b"one"]
    [conflict] = await a.store.conflicts(ROM)
    assert content(conflict.server_copy) == b"one"


async def test_a_refused_negotiate_for_a_disabled_device_falls_back_this_time_only(
    decks: tuple[Deck, Deck], fake_romm: FakeRommServer
) -> None:
    a, _ = decks
    a.save.parent.mkdir(parents=True)
    a.save.write_bytes(b"one")
    await a.service.sync_rom(ROM)
    device = await a.store.device_id()
    assert device is not None
    fake_saves(fake_romm).devices[device]["sync_enabled"] = False
    a.save.write_bytes(b"two")
    report = await a.service.after_exit(ROM)
    assert report.actions == {"Game.srm": "upload"} and report.session_id is None
    assert await a.store.negotiate_missing_on() is None
