"""A sync process SIGKILLed mid-upload or mid-download loses nothing and the next run finishes.

The driver (``tests/save_kill_driver.py``) is a real separate process syncing against the
fake RomM server in this test's loop; the server stalls the transfer at a chosen byte,
tells the test, and the test kills the driver there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.saves import FakeSaves, fake_saves
from fakeromm.server import FakeRommServer

ROM = 1
REPO = Path(__file__).resolve().parent.parent
DRIVER = REPO / "tests" / "save_kill_driver.py"
BIG = bytes(range(256)) * 4096  # 1 MiB: more than loopback buffers take at once


def save_of(root: Path) -> Path:
    return root / "retrodeck" / "saves" / "snes" / "Game.srm"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def token(lib: FakeLibrary, name: str) -> str:
    return lib.auth.create_client_token("admin", name, list(ALL_SCOPES), None).raw_token


async def start_driver(server: FakeRommServer, tok: str, root: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}"}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(DRIVER), server.url, tok, str(root), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def run_driver(server: FakeRommServer, tok: str, root: Path) -> dict[str, object]:
    proc = await start_driver(server, tok, root)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def kill_when_stalled(server: FakeRommServer, tok: str, root: Path) -> None:
    state = fake_saves(server)
    state.stalled.clear()
    proc = await start_driver(server, tok, root)
    try:
        await asyncio.wait_for(state.stalled.wait(), 60)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    state.stall_upload_at = state.stall_download_at = None
    await asyncio.sleep(0.05)  # let the server notice the dropped connection


def baseline(root: Path) -> str | None:
    with sqlite3.connect(root / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = conn.execute(
            "SELECT content_hash FROM save_baselines WHERE rom_id = ? AND file_name = 'Game.srm'",
            (ROM,),
        ).fetchone()
    return None if row is None else str(row[0])


def assert_only_the_save(root: Path, expected: bytes | None) -> None:
    """The save is byte-identical to ``expected`` (None: absent) and no temp file lies beside it."""
    folder = save_of(root).parent
    names = sorted(os.listdir(folder)) if folder.exists() else []
    assert names == ([] if expected is None else ["Game.srm"])
    if expected is not None:
        assert save_of(root).read_bytes() == expected


def content_gets(server: FakeRommServer) -> int:
    return sum(1 for m, p, s in server.requests if m == "GET" and "/content" in p and s == 200)


def rows(server: FakeRommServer) -> list[bytes]:
    state: FakeSaves = fake_saves(server)
    return [r.content for r in sorted(state.rows.values(), key=lambda r: r.id)]


async def test_killed_mid_first_upload_keeps_the_save_and_the_next_run_uploads_it_once(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> None:
    tok = token(fake_library, "deck")
    save_of(tmp_path).parent.mkdir(parents=True)
    save_of(tmp_path).write_bytes(BIG)
    fake_saves(fake_romm).stall_upload_at = 300_000
    await kill_when_stalled(fake_romm, tok, tmp_path)
    assert_only_the_save(tmp_path, BIG)
    assert baseline(tmp_path) is None and rows(fake_romm) == []
    assert (await run_driver(fake_romm, tok, tmp_path))["actions"] == {"Game.srm": "upload"}
    assert rows(fake_romm) == [BIG] and baseline(tmp_path) == md5(BIG)
    assert (await run_driver(fake_romm, tok, tmp_path))["actions"] == {"Game.srm": "skip"}
    assert rows(fake_romm) == [BIG]


async def test_killed_mid_upload_of_a_changed_save_adds_exactly_one_row_on_the_next_run(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> None:
    tok = token(fake_library, "deck")
    save_of(tmp_path).parent.mkdir(parents=True)
    save_of(tmp_path).write_bytes(b"first")
    await run_driver(fake_romm, tok, tmp_path)
    changed = BIG[::-1]
    save_of(tmp_path).write_bytes(changed)
    fake_saves(fake_romm).stall_upload_at = 500_000
    await kill_when_stalled(fake_romm, tok, tmp_path)
    assert_only_the_save(tmp_path, changed)
    assert baseline(tmp_path) == md5(b"first") and rows(fake_romm) == [b"first"]
    assert (await run_driver(fake_romm, tok, tmp_path))["actions"] == {"Game.srm": "upload"}
    assert rows(fake_romm) == [b"first", changed]


async def test_killed_mid_download_keeps_the_old_save_whole_and_the_next_run_downloads_once(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> None:
    tok = token(fake_library, "deck")
    save_of(tmp_path).parent.mkdir(parents=True)
    save_of(tmp_path).write_bytes(b"old save")
    await run_driver(fake_romm, tok, tmp_path)
    fake_saves(fake_romm).put(ROM, "Game.srm", BIG)  # another device played
    fake_saves(fake_romm).stall_download_at = 400_000
    await kill_when_stalled(fake_romm, tok, tmp_path)
    assert_only_the_save(tmp_path, b"old save")
    assert baseline(tmp_path) == md5(b"old save")
    fake_romm.reset_log()
    assert (await run_driver(fake_romm, tok, tmp_path))["actions"] == {"Game.srm": "download"}
    assert_only_the_save(tmp_path, BIG)
    assert content_gets(fake_romm) == 1 and baseline(tmp_path) == md5(BIG)
    backups = list((tmp_path / "data" / "backups" / str(ROM)).iterdir())
    assert [b.read_bytes() for b in backups] == [b"old save"]
    assert len(rows(fake_romm)) == 2


async def test_killed_mid_first_download_leaves_no_partial_save(
    tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> None:
    tok = token(fake_library, "deck")
    fake_saves(fake_romm).put(ROM, "Game.srm", BIG)
    fake_saves(fake_romm).stall_download_at = 100_000
    await kill_when_stalled(fake_romm, tok, tmp_path)
    assert_only_the_save(tmp_path, None)
    assert baseline(tmp_path) is None
    assert (await run_driver(fake_romm, tok, tmp_path))["actions"] == {"Game.srm": "download"}
    assert_only_the_save(tmp_path, BIG)


async def test_a_temp_file_left_by_a_writer_killed_mid_write_is_removed_by_the_next_write(
    tmp_path: Path,
) -> None:
    from romdeck.adapters.files.save_files import LocalSaveFiles

    folder = tmp_path / "saves"
    folder.mkdir()
    (folder / "Game.srm").write_bytes(b"intact")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await proc.wait()  # a pid that is gone
    stale = folder / f".Game.srm.{proc.pid}.1234.tmp"
    stale.write_bytes(b"half")
    live = folder / f".Game.srm.{os.getpid()}.1.tmp"  # a writer still running: left alone
    live.write_bytes(b"busy")
    other = folder / f".Other.srm.{proc.pid}.1.tmp"
    other.write_bytes(b"not ours to judge")
    await LocalSaveFiles(tmp_path / "data").write(str(folder / "Game.srm"), b"new")
    assert sorted(os.listdir(folder)) == sorted(["Game.srm", live.name, other.name])
    assert (folder / "Game.srm").read_bytes() == b"new"
