"""End to end, BIOS: the real CLI in a RetroDECK home against the fake RomM server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from test_firmware_service import install_core, write_retrodeck_json

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Deck:
    tmp: Path
    library: FakeLibrary

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    @property
    def bios(self) -> Path:
        return self.tmp / "home" / "retrodeck" / "bios"

    async def cli(self, *args: str) -> tuple[int, str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}",
            "ROMDECK_DATA_DIR": str(self.tmp / "data"),
            "ROMDECK_PASSWORD": "hunter2",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "romdeck", *args, env=env, cwd=self.tmp,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        return proc.returncode or 0, out.decode(), err.decode()

    async def statuses(self, *args: str) -> dict[tuple[str, str], dict[str, Any]]:
        code, out, err = await self.cli("bios", *args, "--json")
        assert code == 0, err
        return {(r["platform_slug"], r["path"]): r for r in json.loads(out)}

    def content(self, name: str) -> bytes:
        return next(f.content for f in self.library.firmware.values() if f.file_name == name)


@pytest.fixture
async def deck(tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary) -> Deck:
    d = Deck(tmp_path, fake_library)
    write_retrodeck_json(d.home, d.bios)
    code, _, err = await d.cli("login", "--url", fake_romm.url, "--username", "admin")
    assert code == 0, err
    return d


async def test_ps1_and_gba_bios_download_into_retrodecks_bios_folder(deck: Deck) -> None:
    ps1 = hashlib.md5(deck.content("scph5501.bin")).hexdigest()
    install_core(deck.home, "swanstation", {"490f666e1afb15b7362b406ed1cea246": ps1})
    before = await deck.statuses()
    assert before[("psx", "scph5501.bin")] == {
        "platform_slug": "psx", "file_name": "scph5501.bin", "path": "scph5501.bin",
        "required": False, "status": "optional_missing", "on_server": True,
    }  # fmt: skip
    assert before[("gba", "gba_bios.bin")]["status"] == "optional_missing"

    code, out, err = await deck.cli("bios", "download", "psx", "scph5501.bin")
    assert code == 0, out + err
    assert "downloaded" in out and "scph5501.bin" in out
    code, out, err = await deck.cli("bios", "download", "gba_bios.bin")
    assert code == 0, out + err

    assert (deck.bios / "scph5501.bin").read_bytes() == deck.content("scph5501.bin")
    assert (deck.bios / "gba_bios.bin").read_bytes() == deck.content("gba_bios.bin")
    after = await deck.statuses()
    assert after[("psx", "scph5501.bin")]["status"] == "verified"
    # Our table knows the real GBA BIOS md5; the fake's random bytes are not it.
    assert after[("gba", "gba_bios.bin")]["status"] == "wrong_hash"
    code, out, _ = await deck.cli("bios", "psx")
    assert code == 0 and ": ready" in out.splitlines()[0]


async def test_the_table_view_and_delete(deck: Deck) -> None:
    code, out, _ = await deck.cli("bios", "psx")
    assert code == 0 and "scph5501.bin" in out and str(deck.bios) in out
    assert "NOT READY; needs one of: scph5500.bin" in out
    code, out, _ = await deck.cli("bios", "n64")
    assert code == 0 and "n64" in out
    assert (await deck.cli("bios", "download", "psx"))[0] == 0
    assert (deck.bios / "scph5501.bin").is_file()
    code, out, err = await deck.cli("bios", "delete", "scph5501.bin")
    assert code == 0, err
    assert not (deck.bios / "scph5501.bin").exists()
    (deck.bios / "own.bin").write_bytes(b"user")
    code, _, err = await deck.cli("bios", "delete", "own.bin")
    assert code == 2 and "not placed by RomDeck" in err
    assert (deck.bios / "own.bin").exists()
