"""EmulationTargetReader: the target read off the event loop, again when a config file changes."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from romdeck.adapters.emulation.target import EmulationTargetReader
from romdeck.domain.settings import EmulationSettings
from romdeck.errors import CorruptFileError

RD_CONFIG = Path(".var/app/net.retrodeck.retrodeck/config/retrodeck")


def write_json(home: Path, roms: str) -> Path:
    """A retrodeck.json (0.10 shape) whose ROMs folder is ``roms``, replaced atomically."""
    path = home / RD_CONFIG / "retrodeck.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name("retrodeck.json.tmp")
    temp.write_text(json.dumps({"paths": {"roms_path": roms}}), encoding="utf-8")
    os.replace(temp, path)
    return path


class Saved:
    """The saved emulation settings, noting the thread each read comes from."""

    def __init__(self, settings: EmulationSettings) -> None:
        self.settings = settings
        self.threads: list[int] = []

    def __call__(self) -> EmulationSettings:
        self.threads.append(threading.get_ident())
        return self.settings


async def test_the_current_target_is_read_in_a_thread_from_the_saved_settings(
    tmp_path: Path,
) -> None:
    write_json(tmp_path, "/run/media/deck/sd/roms")
    saved = Saved(EmulationSettings(target="auto", templates={"snes": "snes9x {rom}"}))
    target = await EmulationTargetReader(tmp_path, saved).current()
    assert target.paths.roms == "/run/media/deck/sd/roms"
    assert target.paths.source == "retrodeck.json"
    assert target.templates == {"snes": "snes9x {rom}"}
    assert saved.threads and threading.get_ident() not in saved.threads


async def test_a_changed_config_file_is_read_again(tmp_path: Path) -> None:
    write_json(tmp_path, "/home/deck/retrodeck/roms")
    reader = EmulationTargetReader(tmp_path, Saved(EmulationSettings(target="retrodeck")))
    assert (await reader.current()).paths.roms == "/home/deck/retrodeck/roms"
    write_json(tmp_path, "/run/media/deck/sd/retrodeck/roms")
    assert (await reader.current()).paths.roms == "/run/media/deck/sd/retrodeck/roms"


async def test_an_emudeck_install_appearing_changes_what_auto_picks(tmp_path: Path) -> None:
    reader = EmulationTargetReader(tmp_path, Saved(EmulationSettings(target="auto")))
    assert (await reader.current()).paths.target == "retrodeck"
    settings_sh = tmp_path / ".config" / "EmuDeck" / "settings.sh"
    settings_sh.parent.mkdir(parents=True)
    settings_sh.write_text('romsPath="/run/media/deck/sd/Emulation/roms"\n', encoding="utf-8")
    target = await reader.current()
    assert (target.paths.target, target.paths.roms) == (
        "emudeck",
        "/run/media/deck/sd/Emulation/roms",
    )


async def test_changed_settings_give_a_new_target_and_unchanged_ones_the_same(
    tmp_path: Path,
) -> None:
    write_json(tmp_path, "/home/deck/retrodeck/roms")
    saved = Saved(EmulationSettings(target="retrodeck"))
    reader = EmulationTargetReader(tmp_path, saved)
    first = await reader.current()
    assert await reader.current() is first  # nothing changed: not parsed again
    saved.settings = EmulationSettings(target="custom", roms_root="/srv/roms")
    assert (await reader.current()).paths.roms == "/srv/roms"


async def test_a_corrupt_config_is_refused_each_time_until_it_is_fixed(tmp_path: Path) -> None:
    path = write_json(tmp_path, "/home/deck/retrodeck/roms")
    path.write_text("{not json", encoding="utf-8")
    reader = EmulationTargetReader(tmp_path, Saved(EmulationSettings(target="retrodeck")))
    for _ in range(2):
        with pytest.raises(CorruptFileError, match=r"retrodeck\.json"):
            await reader.read_async(EmulationSettings(target="retrodeck"))
    write_json(tmp_path, "/srv/fixed/roms")
    assert (await reader.current()).paths.roms == "/srv/fixed/roms"
