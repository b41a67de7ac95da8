"""End to end: bin/romdeck-launch with the backend down syncs saves itself (headless CLI).

The fake RomM is up, no backend runs. A second device's newer save must be on disk when
the stand-in emulator starts; the save the emulator writes must reach RomM after exit;
when the headless command cannot run at all, the game still starts and the ROM is
queued for the backend.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.play_sessions import fake_play_sessions
from fakeromm.saves import fake_saves
from fakeromm.server import FakeRommServer
from test_cli_play import Deck
from test_cli_saves import NAME, ROM, srm

EMU = """
import json, sys
from pathlib import Path
rom = Path(sys.argv[2])
save = rom.with_suffix(".srm")
seen = save.read_bytes().decode() if save.exists() else None
with open(sys.argv[1], "a", encoding="utf-8") as log:
    log.write(json.dumps({"seen": seen}) + "\\n")
save.write_bytes(b"written by the emulator")
"""


@dataclass
class SaveDeck(Deck):
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **self.extra_env}


@pytest.fixture
async def deck(tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary) -> SaveDeck:
    (tmp_path / "home").mkdir()
    emu = tmp_path / "save_emu.py"
    emu.write_text(EMU)
    d = SaveDeck(tmp_path, fake_romm, fake_library)
    assert (await d.cli("login", "--url", fake_romm.url, "--username", "admin")).code == 0
    template = f"*={sys.executable} {emu} {d.emu_log} {{rom}}"
    run = await d.cli("target", "custom", "--roms-root", str(d.roms), "--template", template)
    assert run.code == 0, run.err
    assert (await d.cli("download", str(ROM))).code == 0
    return d


def newest(deck: SaveDeck) -> bytes:
    rows = fake_saves(deck.server).rows.values()
    return max(rows, key=lambda r: (r.updated_at, r.id)).content


async def test_the_launcher_downloads_before_and_uploads_after_with_the_backend_down(
    deck: SaveDeck,
) -> None:
    srm(deck).write_bytes(b"old local save")
    assert (await deck.cli("saves", "sync")).code == 0
    fake_saves(deck.server).put(ROM, f"{NAME}.srm", b"from the other deck", device_id="other")
    run = await deck.launcher(f"romdeck:{ROM}")
    assert run.code == 0, run.out + run.err
    assert deck.launches() == [{"seen": "from the other deck"}]
    assert newest(deck) == b"written by the emulator"
    # the session was kept first, then the headless after-exit run sent it to RomM
    assert [r.rom_id for r in fake_play_sessions(deck.server).rows.values()] == [ROM]
    assert not (deck.tmp / "data" / "pending_sessions.jsonl").exists()
    assert not (deck.tmp / "data" / "pending_saves.jsonl").exists()
    log = (deck.tmp / "data" / "launcher.log").read_text()
    assert "before-launch save sync exited 0" in log and "after-exit save sync exited 0" in log


async def test_when_the_headless_sync_cannot_run_the_game_starts_and_the_rom_is_queued(
    deck: SaveDeck,
) -> None:
    deck.extra_env["ROMDECK_PYTHON"] = str(deck.tmp / "no-such-python")
    run = await deck.launcher(f"romdeck:{ROM}")
    deck.extra_env.clear()
    assert run.code == 0, run.out + run.err
    assert deck.launches() == [{"seen": None}]
    queued = (deck.tmp / "data" / "pending_saves.jsonl").read_text().splitlines()
    assert [json.loads(line)["rom_id"] for line in queued] == [ROM]
    assert fake_saves(deck.server).rows == {}
    run = await deck.cli("saves", "sync")  # the next chance: the queue is taken, and synced
    assert run.code == 0, run.out + run.err
    assert newest(deck) == b"written by the emulator"
    assert not (deck.tmp / "data" / "pending_saves.jsonl").exists()


async def test_with_the_backend_up_it_syncs_before_answering_and_after_the_exit(
    deck: SaveDeck,
) -> None:
    srm(deck).write_bytes(b"old local save")
    assert (await deck.cli("saves", "sync")).code == 0
    fake_saves(deck.server).put(ROM, f"{NAME}.srm", b"from the other deck", device_id="other")
    serve = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "romdeck", "serve", env=deck.env, cwd=deck.tmp,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert serve.stdout is not None
        line = await asyncio.wait_for(serve.stdout.readline(), timeout=30)
        assert b"Answering the launcher" in line
        run = await deck.launcher(f"romdeck:{ROM}")
    finally:
        serve.terminate()
        await serve.wait()
    assert run.code == 0, run.out + run.err
    assert deck.launches() == [{"seen": "from the other deck"}]
    assert newest(deck) == b"written by the emulator"
    log = (deck.tmp / "data" / "launcher.log").read_text()
    assert "save sync exited" not in log  # the backend did it, not the headless command
    assert not (deck.tmp / "data" / "pending_sessions.jsonl").exists()
