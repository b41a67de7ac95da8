"""``scripts/romdeck demo`` end to end: a sync from the demo server into a throwaway Steam tree."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import vdf

from shared_files import CAPTURES

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "scripts" / "demo_data" / "romm-api" / "captures"


def _venv_running_this_python(tmp: Path) -> Path:
    """A ``$ROMDECK_VENV`` that ``scripts/_venv.sh`` takes as ready (no pip run)."""
    venv = tmp / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    requirements = (REPO / "requirements.txt").read_bytes()
    stamp = hashlib.sha256(requirements + requirements).hexdigest()
    (venv / ".romdeck-requirements.txt.sha").write_text(stamp + "\n")
    return venv


def test_the_demo_syncs_every_rom_with_a_cover_into_a_throwaway_steam_tree(tmp_path: Path):
    where = tmp_path / "demo"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "ROMDECK_VENV": str(_venv_running_this_python(tmp_path)),
    }
    run = subprocess.run(
        ["bash", str(REPO / "scripts" / "romdeck"), "demo", "--dir", str(where)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    config = where / "steam" / "userdata" / "10000001" / "config"
    root = vdf.binary_loads((config / "shortcuts.vdf").read_bytes())
    shortcuts = list(root["shortcuts"].values())
    assert len(shortcuts) == 20
    assert all(s["LaunchOptions"].startswith("romdeck:") for s in shortcuts)
    assert all(s["Exe"].endswith('bin/romdeck-launch"') for s in shortcuts)
    assert len(list((config / "grid").glob("*p.png"))) == 20
    assert f"{config / 'shortcuts.vdf'} (20 RomDeck shortcuts)" in run.stdout
    assert f"{config / 'grid'} (20 portrait covers)" in run.stdout
    assert not (tmp_path / "home").exists(), "the demo wrote outside its folder"


def test_the_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path):
    (tmp_path / "mine.txt").write_text("keep me")
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}", "HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "not empty" in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_the_demos_copy_of_the_captures_matches_the_shared_recording():
    for bundled in sorted(BUNDLED.iterdir()):
        assert bundled.read_bytes() == (CAPTURES / bundled.name).read_bytes(), bundled.name
