"""End to end, Play: the real CLI and the real launcher against the fake RomM server.

A stand-in emulator (a tiny Python script) records the argv it was given, so each
test sees exactly what RetroDECK would have been handed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "bin" / "romdeck-launch"
FAKE_EMU = """
import json, sys
with open(sys.argv[1], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[2:]) + "\\n")
sys.exit(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
"""


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Deck:
    tmp: Path
    server: FakeRommServer
    library: FakeLibrary

    @property
    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.tmp / "home"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}",
            "ROMDECK_DATA_DIR": str(self.tmp / "data"),
            "ROMDECK_PASSWORD": "hunter2",
        }

    async def run(self, *argv: str) -> Run:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=self.env,
            cwd=self.tmp,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return Run(proc.returncode, out.decode(), err.decode())

    async def cli(self, *args: str) -> Run:
        return await self.run(sys.executable, "-m", "romdeck", *args)

    async def launcher(self, *args: str) -> Run:
        return await self.run(sys.executable, str(LAUNCHER), *args)

    @property
    def roms(self) -> Path:
        return self.tmp / "roms"

    @property
    def emu_log(self) -> Path:
        return self.tmp / "emulator.log"

    def launches(self) -> list[list[str]]:
        if not self.emu_log.exists():
            return []
        return [json.loads(line) for line in self.emu_log.read_text().splitlines()]


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
    return d


async def test_every_recorded_layout_downloads_into_its_system_folder(deck: Deck):
    run = await deck.cli("download", "20", "19", "5", "12", "14", "15", "4")
    assert run.code == 0, run.out + run.err
    assert (deck.roms / "snes" / "Super Metroid (USA, Europe).sfc").is_file()
    assert (deck.roms / "gba" / "Kirby & The Amazing Mirror (USA).gba").is_file()
    assert (deck.roms / "psx" / "Metal Gear Solid (USA)" / "Metal Gear Solid (USA).m3u").is_file()
    assert not list(deck.roms.rglob("*.part"))
    listing = await deck.cli("installed")
    assert "Total: 7 ROMs" in listing.out
    assert "psx:" in listing.out and "snes:" in listing.out


async def test_launch_runs_the_command_with_the_rom_as_one_argument(deck: Deck):
    snes = next(pid for pid, p in deck.library.platforms.items() if p["slug"] == "snes")
    name = 'Mario\'s "Quest" $HOME `id` — ünïcode.sfc'
    rom_id = deck.library.add_rom(
        snes, name="Mario's Quest", fs_name=name, files=[(name, b"SNES" * 100)]
    )
    run = await deck.cli("launch", f"romdeck:{rom_id}")
    assert run.code == 0, run.out + run.err
    assert deck.launches() == [[str(deck.roms / "snes" / name)]]


async def test_the_launcher_asks_the_backend_and_falls_back_to_the_database_when_it_is_down(
    deck: Deck,
):
    assert (await deck.cli("download", "20")).code == 0
    rom = str(deck.roms / "snes" / "Super Metroid (USA, Europe).sfc")
    serve = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "romdeck",
        "serve",
        env=deck.env,
        cwd=deck.tmp,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert serve.stdout is not None
        line = await asyncio.wait_for(serve.stdout.readline(), timeout=30)
        assert b"Answering the launcher" in line
        online = await deck.launcher("romdeck:20")
        assert online.code == 0, online.err
        # not installed: the backend queues the download, the launcher says so and exits 3
        queued = await deck.launcher("romdeck:12")
        assert queued.code == 3, queued.err
        assert "Castlevania" in queued.err or "Downloading" in queued.err
        for _ in range(200):
            if (deck.roms / "psx" / "Castlevania - Symphony of the Night (USA)").is_dir():
                break
            await asyncio.sleep(0.05)
    finally:
        serve.terminate()
        await serve.wait()
    offline = await deck.launcher("romdeck:20")
    assert offline.code == 0, offline.err
    assert deck.launches() == [[rom], [rom]]
    played_later = await deck.launcher("romdeck:12")
    assert played_later.code == 0, played_later.err
    assert deck.launches()[-1][0].endswith("Castlevania - Symphony of the Night (USA).m3u")


async def test_uninstall_removes_the_files_but_keeps_saves(deck: Deck):
    assert (await deck.cli("download", "20")).code == 0
    save = deck.roms / "snes" / "Super Metroid (USA, Europe).srm"
    save.write_bytes(b"battery")
    run = await deck.cli("uninstall", "20")
    assert run.code == 0, run.err
    assert not (deck.roms / "snes" / "Super Metroid (USA, Europe).sfc").exists()
    assert save.read_bytes() == b"battery"
    assert "Total: 0 ROMs" in (await deck.cli("installed")).out


async def test_retrodeck_is_the_default_target_and_launches_through_flatpak(deck: Deck):
    run = await deck.cli("target", "auto", "--no-templates")
    assert run.code == 0, run.err
    assert "retrodeck" in run.out
    assert (await deck.cli("download", "20")).code == 0
    installed = (
        deck.tmp / "home" / "retrodeck" / "roms" / "snes" / "Super Metroid (USA, Europe).sfc"
    )
    assert installed.is_file()
    import sqlite3

    with sqlite3.connect(deck.tmp / "data" / "state.db") as db:
        (argv,) = db.execute("SELECT launch_argv FROM installs WHERE rom_id = 20").fetchone()
    argv = json.loads(argv)
    assert argv[:3] == ["flatpak", "run", "net.retrodeck.retrodeck"]
    assert argv[-1] == str(installed)
