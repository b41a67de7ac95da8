"""End to end, playtime: the real CLI and the Plugin callables against the fake RomM server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fakeromm.play_sessions import fake_play_sessions
from fakeromm.server import FakeRommServer
from test_plugin_contract import ok, plugin, sign_in

__all__ = ["plugin"]
REPO = Path(__file__).resolve().parents[1]


async def cli(tmp: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "HOME": str(tmp / "home"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}",
        "ROMDECK_DATA_DIR": str(tmp / "data"),
        "ROMDECK_PASSWORD": "hunter2",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "romdeck", *args, env=env, cwd=tmp,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def exited(rom_id: int, hours_ago: float, seconds: float) -> str:
    at = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="milliseconds")
    return json.dumps({"op": "exited", "rom_id": rom_id, "code": 0, "at": at, "seconds": seconds})


async def test_playtime_sync_delivers_the_launchers_pending_sessions_once_and_lists_totals(
    tmp_path: Path, fake_romm: FakeRommServer
) -> None:
    code, _, err = await cli(tmp_path, "login", "--url", fake_romm.url, "--username", "admin")
    assert code == 0, err
    pending = tmp_path / "data" / "pending_sessions.jsonl"
    pending.write_text(exited(1, 3, 3600) + "\n" + exited(2, 2, 90.5) + "\n")

    fake_romm.down = True
    code, out, err = await cli(tmp_path, "playtime", "sync")
    assert code == 4 and "0 delivered" in out and "2 still queued" in out, (out, err)
    assert not pending.exists()  # in the outbox now
    code, out, err = await cli(tmp_path, "playtime", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["id"], r["queued"], r["offline"]) for r in rows] == [(2, 1, True), (1, 1, True)]
    code, out, err = await cli(tmp_path, "playtime")
    assert code == 0 and "1 queued" in out and "this device's only" in err, (out, err)

    fake_romm.down = False
    code, out, err = await cli(tmp_path, "playtime", "sync", "--json")
    assert code == 0, err
    assert json.loads(out)["delivered"] == 2
    code, out, _ = await cli(tmp_path, "playtime", "sync")
    assert code == 0 and "0 delivered" in out
    assert len(fake_play_sessions(fake_romm).rows) == 2
    code, out, err = await cli(tmp_path, "playtime", "1")
    assert code == 0 and "1h00m00s" in out and "1 session(s)" in out, (out, err)
    code, _, err = await cli(tmp_path, "playtime", "one")
    assert code == 2 and "Usage" in err


async def test_get_playtime_and_sync_playtime_answer_the_panel(
    plugin: Any, fake_romm: FakeRommServer, tmp_path: Path
) -> None:
    assert (await plugin.get_playtime(None))["ok"] is True
    await sign_in(plugin, fake_romm)
    runtime = tmp_path / "runtime"
    (runtime / "pending_sessions.jsonl").write_text(exited(5, 1, 125.25) + "\n")
    delivery = await ok(plugin.sync_playtime())
    assert delivery == {"delivered": 1, "refused": 0, "queued": 0, "batches": 1,
                        "error": "", "error_code": ""}  # fmt: skip
    [game] = await ok(plugin.get_playtime(5))
    assert game.keys() == {
        "rom_id", "name", "total_seconds", "local_seconds", "server_seconds", "sessions",
        "last_played_at", "queued", "refused", "offline",
    }  # fmt: skip
    assert (game["rom_id"], game["total_seconds"], game["sessions"]) == (5, 125.25, 1)
    assert game["server_seconds"] == 0 and game["offline"] is False
    json.dumps(game)
