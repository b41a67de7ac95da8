"""The real-browser harness: the real panel in Debian's chromium over the real Plugin and
the fake RomM server (``scripts/panel_harness``), each step asserted by ``harness/walk.mjs``.

``scripts/test`` and ``.ci/run`` install what it needs (Debian's chromium with apt,
playwright-core with npm); when chromium (``$ROMDECK_CHROMIUM`` or ``/usr/bin/chromium``) or
node_modules are missing anyway, the tests fail and say which.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("ROMDECK_CHROMIUM") or "/usr/bin/chromium")
SCREENSHOTS = ROOT / "out" / "screenshots"
WALK_TIMEOUT_S = 600
STEPS = ["sign-in", "platform-selection", "sync", "download", "save-conflict", "bios"]


def missing_tools() -> str:
    """Why the harness cannot run here, or "" when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        return "node_modules/playwright-core is missing (npm ci)"
    return ""


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    reason = missing_tools()
    if reason:
        pytest.fail(f"the panel harness cannot run: {reason}")
    tree = tmp_path_factory.mktemp("harness") / "tree"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "panel_harness.py"), "--dir", str(tree)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WALK_TIMEOUT_S,
        check=False,
    )
    report = SCREENSHOTS / "report.json"
    assert report.is_file(), done.stdout + done.stderr[-4000:]
    return {
        "rc": done.returncode,
        "out": done.stdout,
        "err": done.stderr,
        **json.loads(report.read_text()),
    }


def test_every_step_of_the_walk_passes_in_chromium_against_the_fake_server(walk) -> None:
    steps = {s["name"]: s for s in walk["steps"]}
    failed = {n: s["note"] for n, s in steps.items() if s["status"] == "failed"}
    assert not failed, walk["out"]
    assert walk["rc"] == 0, walk["out"] + str(walk["err"])[-4000:]
    assert walk["mode"] == "fake"
    assert list(steps) == STEPS
    for name in STEPS:  # every step, the save conflict included, must have passed
        assert steps[name]["status"] == "passed", (name, steps[name])


def test_each_step_leaves_a_panel_screenshot_at_the_quick_access_width(walk) -> None:
    panels = sorted(p for p in SCREENSHOTS.glob("[0-9][0-9]-*.png") if not p.stem.endswith("-page"))
    names = [p.stem.split("-", 1)[1] for p in panels]
    for wanted in (
        "device-code",
        "signed-in",
        "synced",
        "downloading",
        "installed",
        "save-conflict",
        "save-resolved",
        "bios-downloaded",
    ):
        assert wanted in names, names
    for panel in panels:
        width, height = png_size(panel)
        assert width == 310 and height > 400, (panel.name, width, height)
        assert (SCREENSHOTS / f"{panel.stem}-page.png").is_file()


async def test_the_harness_walks_a_server_given_by_url_signing_in_with_a_password(
    tmp_path: Path,
) -> None:
    """``--romm-url URL --username USER`` (what a real server gets), here pointed at the fake."""
    reason = missing_tools()
    if reason:
        pytest.fail(f"the panel harness cannot run: {reason}")
    out = tmp_path / "screens"
    async with FakeRommServer(
        FakeLibrary.from_captures(), username="ada", password="s3cret"
    ) as server:
        walker = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "scripts" / "panel_harness.py"),
            "--romm-url", server.url, "--username", "ada", "--out", str(out),
            "--dir", str(tmp_path / "tree"),
            env={**os.environ, "ROMDECK_PASSWORD": "s3cret"}, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(walker.communicate(), WALK_TIMEOUT_S)
    report = json.loads((out / "report.json").read_text())
    steps = {s["name"]: s for s in report["steps"]}
    assert walker.returncode == 0, output.decode()[-4000:]
    assert report["mode"] == "real"
    assert steps["sign-in"]["note"] == "signed in as ada"
    assert steps["save-conflict"]["status"] == "skipped"
    passed = [n for n, s in steps.items() if s["status"] == "passed"]
    assert passed == ["sign-in", "platform-selection", "sync", "download", "bios"]
    assert any(server_path.startswith("/api/token") for _m, server_path, _s in server.requests)
