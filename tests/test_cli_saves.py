"""End to end, saves: the real ``romdeck saves``/``settings`` commands against the fake RomM.

The ROM is installed for a custom target without a RetroArch config, so RetroArch's
default puts its battery save next to the ROM (``<roms>/snes/<name>.srm``). A second
device is played by storing saves straight into the fake server's slot.
"""

# ruff: noqa: ASYNC240

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from test_cli_play import FAKE_EMU, Deck

ROM = 20
NAME = "Super Metroid (USA, Europe)"


@pytest.fixture
async def deck(tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary) -> Deck:
    (tmp_path / "home").mkdir()
    emu = tmp_path / "fake_emu.py"
    emu.write_text(FAKE_EMU)
    d = Deck(tmp_path, fake_romm, fake_library)
    assert (await d.cli("login", "--url", fake_romm.url, "--username", "admin")).code == 0
    template = f"*={sys.executable} {emu} {d.emu_log} {{rom}}"
    run = await d.cli("target", "custom", "--roms-root", str(d.roms), "--template", template)
    assert run.code == 0, run.err
    assert (await d.cli("download", str(ROM))).code == 0
    return d


def srm(deck: Deck) -> Path:
    return deck.roms / "snes" / f"{NAME}.srm"


async def listing(deck: Deck, *args: str) -> list[dict[str, object]]:
    run = await deck.cli("saves", *args, "--json")
    assert run.code == 0, run.out + run.err
    items = json.loads(run.out)
    assert all("id" in item for item in items)
    return items


async def test_sync_uploads_then_status_shows_both_versions_in_step(deck: Deck) -> None:
    srm(deck).write_bytes(b"first save")
    run = await deck.cli("saves", "sync")
    assert run.code == 0, run.out + run.err
    assert f"ROM {ROM}: {NAME}.srm upload" in run.out
    rows = list(fake_saves(deck.server).rows.values())
    assert [r.content for r in rows] == [b"first save"] and rows[0].slot == "autosave"
    (game,) = await listing(deck, str(ROM))
    assert game["id"] == ROM and game["offline"] is False and game["last_sync_at"]
    (file,) = game["files"]  # type: ignore[misc]
    assert file["state"] == "synced"
    assert file["local"]["size_bytes"] == 10
    assert file["server"]["id"] == rows[0].id and file["server"]["md5"] == rows[0].content_hash
    text = await deck.cli("saves")
    assert f"ROM {ROM} [snes9x]" in text.out and "synced" in text.out


async def test_a_second_device_save_is_downloaded_before_launch_and_ours_is_restorable(
    deck: Deck,
) -> None:
    srm(deck).write_bytes(b"ours")
    assert (await deck.cli("saves", "sync", str(ROM))).code == 0
    fake_saves(deck.server).put(ROM, f"{NAME}.srm", b"from the other deck", device_id="other")
    run = await deck.cli("saves", "sync", "--rom", str(ROM), "--before-launch", "--timeout", "5")
    assert run.code == 0, run.out + run.err
    assert "download" in run.out and srm(deck).read_bytes() == b"from the other deck"
    (backup,) = await listing(deck, "backups", str(ROM))
    assert backup["reason"] == "download"
    assert Path(str(backup["backup_path"])).read_bytes() == b"ours"
    assert (await deck.cli("saves", "restore", str(backup["id"]))).code == 0
    assert srm(deck).read_bytes() == b"ours"


@pytest.mark.parametrize("keep", ["local", "server"])
async def test_both_sides_changed_is_a_conflict_and_each_choice_settles_it(
    deck: Deck, keep: str
) -> None:
    srm(deck).write_bytes(b"base")
    assert (await deck.cli("saves", "sync")).code == 0
    fake_saves(deck.server).put(ROM, f"{NAME}.srm", b"theirs", device_id="other")
    srm(deck).write_bytes(b"mine")
    run = await deck.cli("saves", "sync", str(ROM))
    assert run.code == 1 and "conflict" in run.out
    assert srm(deck).read_bytes() == b"mine"
    (conflict,) = await listing(deck, "conflicts")
    assert Path(str(conflict["server_copy"])).read_bytes() == b"theirs"
    (game,) = await listing(deck)
    assert game["conflicts"] == [conflict["id"]] and game["files"][0]["state"] == "conflict"  # type: ignore[index]
    run = await deck.cli("saves", "resolve", str(conflict["id"]), "--keep", keep)
    assert run.code == 0, run.out + run.err
    wanted = b"mine" if keep == "local" else b"theirs"
    assert srm(deck).read_bytes() == wanted
    newest = max(fake_saves(deck.server).rows.values(), key=lambda r: (r.updated_at, r.id))
    assert newest.content == wanted
    assert await listing(deck, "conflicts") == []
    assert (await deck.cli("saves", "resolve", str(conflict["id"]), "--keep", keep)).code == 1


async def test_the_settings_turn_sync_off_and_states_on(deck: Deck) -> None:
    shown = await deck.cli("settings")
    assert "Save sync (saves): on" in shown.out and "Save state sync (states): off" in shown.out
    assert (await deck.cli("settings", "saves", "off")).code == 0
    assert (await deck.cli("settings", "states", "on")).code == 0
    srm(deck).write_bytes(b"not sent")
    run = await deck.cli("saves", "sync")
    assert run.code == 0 and "Save sync is off" in run.out
    assert fake_saves(deck.server).rows == {}
    shown = await deck.cli("settings")
    assert "Save sync (saves): off" in shown.out and "Save state sync (states): on" in shown.out
    assert (await deck.cli("settings", "saves")).code == 2


async def test_status_works_offline_and_an_unreachable_sync_stays_pending(deck: Deck) -> None:
    srm(deck).write_bytes(b"made offline")
    settings = deck.tmp / "data" / "settings.json"
    doc = json.loads(settings.read_text())
    doc["connection"]["url"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.write_text(json.dumps(doc))
    (game,) = await listing(deck)
    assert game["offline"] is True and game["files"][0]["server"] is None  # type: ignore[index]
    assert game["files"][0]["state"] == "upload"  # type: ignore[index]
    run = await deck.cli("saves", "sync", "--rom", str(ROM), "--after-exit")
    assert run.code == 1 and "pending" in run.out
    (game,) = await listing(deck)
    assert game["pending"]
    doc["connection"]["url"] = deck.server.url
    settings.write_text(json.dumps(doc))
    run = await deck.cli("saves", "sync")
    assert run.code == 0, run.out + run.err
    assert [r.content for r in fake_saves(deck.server).rows.values()] == [b"made offline"]
    (game,) = await listing(deck)
    assert game["pending"] is None


async def test_a_sync_after_exit_also_delivers_the_play_session_the_launcher_kept(
    deck: Deck,
) -> None:
    """The launcher with the backend down appends the session to pending_sessions.jsonl
    and then runs ``saves sync --after-exit``: that run sends the session to RomM too."""
    from fakeromm.play_sessions import fake_play_sessions
    from test_cli_playtime import exited

    (deck.tmp / "data" / "pending_sessions.jsonl").write_text(exited(ROM, 1, 600) + "\n")
    srm(deck).write_bytes(b"after the game")
    run = await deck.cli("saves", "sync", "--rom", str(ROM), "--after-exit", "--json")
    assert run.code == 0, run.out + run.err
    assert [r.rom_id for r in fake_play_sessions(deck.server).rows.values()] == [ROM]
    again = await deck.cli("saves", "sync", "--rom", str(ROM), "--before-launch")
    assert again.code == 0, again.err
    assert len(fake_play_sessions(deck.server).rows) == 1  # delivered once
