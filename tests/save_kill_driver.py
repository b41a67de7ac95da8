"""A separate process that syncs one ROM's saves, for the SIGKILL tests (test_save_kill.py).

``python tests/save_kill_driver.py URL TOKEN ROOT`` builds a ``SaveService`` over real
parts under ``ROOT`` (``ROOT/state.db``, ``ROOT/data`` for backups, the RetroDECK tree
``ROOT/retrodeck`` with ``roms/snes/Game.sfc`` and saves in ``saves/snes/Game.srm``), runs
``sync_rom(1)`` against the RomM server at ``URL`` with the ``rmm_`` ``TOKEN`` and prints
the report as one JSON line: ``{"actions": {file: action}, "pending": reason}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp

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


def save_path(root: Path) -> Path:
    """Where RetroArch (RetroDECK layout) keeps the driver's ROM's save."""
    return root / "retrodeck" / "saves" / "snes" / "Game.srm"


async def run(url: str, token: str, root: Path) -> dict[str, object]:
    """Sync ROM 1 once; returns the report as a dict."""
    roms = root / "retrodeck" / "roms" / "snes"
    roms.mkdir(parents=True, exist_ok=True)
    rom = roms / "Game.sfc"
    rom.write_bytes(b"rom")
    install = Install(ROM, "snes", "snes", str(rom), str(rom), 3, ("flatpak",), "")
    reader = RetroArchSaveConfigReader(
        root / "none.cfg", home=root, saves_path=str(root / "retrodeck" / "saves")
    )
    store = SqliteSaveStore(SqliteDatabase(root / "state.db"))
    async with aiohttp.ClientSession() as session:
        service = SaveService(
            server=AiohttpRommSaves(session, Connection(url=url, token=token)),
            locator=RetroArchSaveLocator(lambda rom_id: install if rom_id == ROM else None, reader),
            files=LocalSaveFiles(root / "data"), store=store,
            clock=SystemClock(), config=SaveConfig(timeout=30.0),
        )  # fmt: skip
        report = await service.sync_rom(ROM)
    return {"actions": report.actions, "pending": report.pending}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(sys.argv[1], sys.argv[2], Path(sys.argv[3])))), flush=True)
