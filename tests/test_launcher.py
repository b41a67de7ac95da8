"""bin/romdeck-launch run as Steam runs it: a real subprocess, a real socket, a real database.

The emulator is a stand-in Python script that records its argv, pid, cwd and one
environment variable as JSON, then exits with a chosen status (or waits for a signal).
Set ROMDECK_LAUNCHER_PYTHON to run the launcher under another interpreter (3.11–3.13).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from romdeck.adapters.launch_socket import UnixSocketLaunchServer
from romdeck.domain.launch_protocol import (
    ExitedRequest,
    error_reply,
    installed_reply,
    parse_request,
    queued_reply,
)

LAUNCHER = Path(__file__).resolve().parent.parent / "bin" / "romdeck-launch"
LAUNCHER_PYTHON = os.environ.get("ROMDECK_LAUNCHER_PYTHON", sys.executable)

FAKE_EMU = """\
import json, os, sys, time
with open({record!r}, "w", encoding="utf-8") as out:
    json.dump({{"argv": sys.argv[1:], "pid": os.getpid(), "cwd": os.getcwd(),
               "mark": os.environ.get("ROMDECK_TEST_MARK")}}, out)
if {hang!r}:
    time.sleep(60)
sys.exit({status!r})
"""

TRICKY_NAMES = [
    'The "Legend" of Zelda.sfc',
    "Super Mario World (USA) [!].sfc",
    "Price $HOME $(id) ${PATH}.gba",
    "back`id`tick.nes",
    "Pokémon ポケモン ☃ 🎮.gb",
    "Link's Awakening; rm -rf ~.gb",
]


@dataclass
class Emulator:
    """The stand-in emulator: ``argv_for(rom)`` runs it; ``record()`` is what it saw."""

    script: Path
    record_path: Path

    def argv_for(self, rom: Path) -> list[str]:
        return [sys.executable, str(self.script), str(rom)]

    def record(self) -> dict[str, Any]:
        return json.loads(self.record_path.read_text(encoding="utf-8"))


def make_emulator(tmp_path: Path, status: int = 0, hang: bool = False) -> Emulator:
    script, record = tmp_path / "fake_emu.py", tmp_path / "emu_record.json"
    script.write_text(FAKE_EMU.format(record=str(record), hang=hang, status=status))
    return Emulator(script, record)


def make_rom(tmp_path: Path, name: str = "Game.sfc") -> Path:
    rom = tmp_path / "roms dir" / name
    rom.parent.mkdir(exist_ok=True)
    rom.write_bytes(b"\0rom")
    return rom


def write_install(data_dir: Path, rom_id: int, argv: list[str], launch_path: Path) -> None:
    conn = sqlite3.connect(data_dir / "state.db")
    with conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS installs (rom_id INTEGER PRIMARY KEY, platform_slug TEXT,"
            " system TEXT, root TEXT, launch_path TEXT, size_bytes INTEGER, launch_argv TEXT,"
            " installed_at TEXT)"
        )
        conn.execute(
            "INSERT INTO installs VALUES (?, 'snes', 'snes', ?, ?, 4, ?, '2025-05-01T10:00:00Z')",
            (rom_id, str(launch_path), str(launch_path), json.dumps(argv)),
        )
    conn.close()


class Backend:
    """A handler that answers ``resolve`` with ``reply`` and acknowledges the rest."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: dict[str, Any] = {"ok": True}
        self.started = asyncio.Event()

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if request["op"] == "started":
            self.started.set()
        return self.reply if request["op"] == "resolve" else {"ok": True}

    def ops(self) -> list[str]:
        return [request["op"] for request in self.requests]


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


@pytest.fixture
async def backend(data_dir: Path) -> AsyncIterator[Backend]:
    handler = Backend()
    server = UnixSocketLaunchServer(handler)
    await server.start(data_dir / "launch.sock")
    yield handler
    await server.stop()


async def start_launcher(
    *args: str, data_dir: Path | None, script: Path = LAUNCHER, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    full_env = {k: v for k, v in os.environ.items() if k != "ROMDECK_DATA_DIR"}
    full_env.update(env or {})
    if data_dir is not None:
        full_env["ROMDECK_DATA_DIR"] = str(data_dir)
    return await asyncio.create_subprocess_exec(
        LAUNCHER_PYTHON, str(script), *args, env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def launch(*args: str, data_dir: Path | None, **kwargs: Any) -> Result:
    process = await start_launcher(*args, data_dir=data_dir, **kwargs)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


def pending_sessions(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "pending_sessions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- backend up ---------------------------------------------------------------------


async def test_the_emulator_gets_the_backends_argv_exactly(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator = make_emulator(tmp_path)
    roms = [str(make_rom(tmp_path, name)) for name in TRICKY_NAMES]
    backend.reply = dict(installed_reply([*emulator.argv_for(Path(roms[0])), *roms[1:], ""]))
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 0, result.stderr
    assert emulator.record()["argv"] == [*roms, ""]


async def test_exit_status_passes_through_and_start_and_exit_are_reported(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator = make_emulator(tmp_path, status=7)
    backend.reply = dict(installed_reply(emulator.argv_for(make_rom(tmp_path))))
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 7
    assert backend.ops() == ["resolve", "started", "exited"]
    resolve, started, exited = backend.requests
    assert resolve == {"op": "resolve", "rom_id": 42}
    assert started["pid"] == emulator.record()["pid"]
    session = parse_request(exited)
    assert isinstance(session, ExitedRequest)
    assert (session.rom_id, session.code) == (42, 7)
    assert datetime.fromisoformat(started["at"]) <= datetime.fromisoformat(session.at)
    assert pending_sessions(data_dir) == []


async def test_the_backends_cwd_and_environment_reach_the_emulator(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator, rom = make_emulator(tmp_path), make_rom(tmp_path)
    backend.reply = dict(
        installed_reply(emulator.argv_for(rom), cwd=str(rom.parent), env={"ROMDECK_TEST_MARK": "é"})
    )
    assert (await launch("romdeck:42", data_dir=data_dir)).status == 0
    assert emulator.record()["cwd"] == str(rom.parent)
    assert emulator.record()["mark"] == "é"


async def test_other_arguments_steam_adds_are_ignored(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator = make_emulator(tmp_path)
    backend.reply = dict(installed_reply(emulator.argv_for(make_rom(tmp_path))))
    assert (await launch("-silent", "romdeck:42", "extra", data_dir=data_dir)).status == 0
    assert backend.requests[0] == {"op": "resolve", "rom_id": 42}


async def test_sigterm_is_forwarded_to_the_emulator(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator = make_emulator(tmp_path, hang=True)
    backend.reply = dict(installed_reply(emulator.argv_for(make_rom(tmp_path))))
    process = await start_launcher("romdeck:42", data_dir=data_dir)
    await asyncio.wait_for(backend.started.wait(), timeout=10)
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 128 + signal.SIGTERM
    assert backend.requests[-1]["code"] == 128 + signal.SIGTERM


async def test_a_rom_that_is_not_installed_shows_the_message_and_exits_3(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator = make_emulator(tmp_path)
    backend.reply = dict(queued_reply("Chrono Trigger"))
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 3
    assert "Downloading Chrono Trigger — press Play again when it finishes" in result.stderr
    assert backend.ops() == ["resolve"]
    assert not emulator.record_path.exists()


async def test_a_backend_error_is_shown_and_exits_1(data_dir: Path, backend: Backend) -> None:
    backend.reply = dict(error_reply("not_found", "ROM 42 is gone from the server."))
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 1
    assert "ROM 42 is gone from the server." in result.stderr


async def test_a_missing_emulator_exits_127(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    backend.reply = dict(installed_reply([str(tmp_path / "no-such-emulator"), "rom"]))
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 127
    assert "no-such-emulator" in result.stderr


async def test_a_malformed_launch_command_falls_back_to_the_database(
    tmp_path: Path, data_dir: Path, backend: Backend
) -> None:
    emulator, rom = make_emulator(tmp_path), make_rom(tmp_path)
    write_install(data_dir, 42, emulator.argv_for(rom), rom)
    backend.reply = {"ok": True, "installed": True, "argv": "emulator rom"}
    assert (await launch("romdeck:42", data_dir=data_dir)).status == 0
    assert emulator.record()["argv"] == [str(rom)]


# --- backend down -------------------------------------------------------------------


@pytest.mark.parametrize("leftover", ["no socket", "stale socket"])
async def test_with_the_backend_down_an_installed_rom_runs_from_the_database(
    tmp_path: Path, data_dir: Path, leftover: str
) -> None:
    if leftover == "stale socket":
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(str(data_dir / "launch.sock"))
        stale.close()
    emulator, rom = make_emulator(tmp_path, status=5), make_rom(tmp_path, TRICKY_NAMES[2])
    write_install(data_dir, 42, emulator.argv_for(rom), rom)
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 5, result.stderr
    assert emulator.record()["argv"] == [str(rom)]
    [line] = pending_sessions(data_dir)
    session = parse_request(line)
    assert isinstance(session, ExitedRequest)
    assert (session.rom_id, session.code) == (42, 5)


async def test_with_the_backend_down_an_unknown_rom_exits_3(tmp_path: Path, data_dir: Path) -> None:
    rom = make_rom(tmp_path)
    write_install(data_dir, 7, make_emulator(tmp_path).argv_for(rom), rom)
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 3
    assert "not installed and RomDeck's backend is not running" in result.stderr


async def test_with_the_backend_down_and_no_database_the_rom_is_not_installed(
    data_dir: Path,
) -> None:
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 3
    assert "not installed and RomDeck's backend is not running" in result.stderr
    assert "state.db" not in os.listdir(data_dir)


async def test_with_the_backend_down_a_deleted_rom_file_is_not_launched(
    tmp_path: Path, data_dir: Path
) -> None:
    emulator, rom = make_emulator(tmp_path), make_rom(tmp_path)
    write_install(data_dir, 42, emulator.argv_for(rom), rom)
    rom.unlink()
    result = await launch("romdeck:42", data_dir=data_dir)
    assert result.status == 3
    assert str(rom) in result.stderr
    assert not emulator.record_path.exists()


# --- arguments and locations --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [(), ("romdeck:abc",), ("steam:42",), ("romdeck:0",), ("romdeck:1", "romdeck:2"), ("42",)],
)
async def test_bad_arguments_are_a_usage_error(data_dir: Path, args: tuple[str, ...]) -> None:
    result = await launch(*args, data_dir=data_dir)
    assert result.status == 2
    assert "usage: romdeck-launch romdeck:<rom id>" in result.stderr


async def test_under_decky_the_data_dir_is_the_plugins_runtime_dir(tmp_path: Path) -> None:
    home = tmp_path / "homebrew"
    plugin_bin, runtime = home / "plugins" / "RomDeck" / "bin", home / "data" / "RomDeck"
    plugin_bin.mkdir(parents=True)
    runtime.mkdir(parents=True)
    shutil.copy(LAUNCHER, plugin_bin / "romdeck-launch")
    emulator = make_emulator(tmp_path, status=4)
    handler = Backend()
    handler.reply = dict(installed_reply(emulator.argv_for(make_rom(tmp_path))))
    server = UnixSocketLaunchServer(handler)
    await server.start(runtime / "launch.sock")
    try:
        result = await launch("romdeck:3", data_dir=None, script=plugin_bin / "romdeck-launch")
    finally:
        await server.stop()
    assert result.status == 4, result.stderr
    assert handler.ops() == ["resolve", "started", "exited"]
    assert "rom 3" in (runtime / "launcher.log").read_text()


async def test_outside_decky_the_data_dir_is_under_xdg_data_home(tmp_path: Path) -> None:
    xdg_dir = tmp_path / "xdg" / "romdeck"
    xdg_dir.mkdir(parents=True)
    shutil.copy(LAUNCHER, tmp_path / "romdeck-launch")
    emulator, rom = make_emulator(tmp_path), make_rom(tmp_path)
    write_install(xdg_dir, 3, emulator.argv_for(rom), rom)
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = await launch("romdeck:3", data_dir=None, script=tmp_path / "romdeck-launch", env=env)
    assert result.status == 0, result.stderr
    assert emulator.record()["argv"] == [str(rom)]


async def test_an_unusable_data_dir_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    result = await launch("romdeck:42", data_dir=not_a_dir)
    assert result.status == 3
    assert "Traceback" not in result.stderr
