"""The Decky zip (``scripts/build_plugin``): its layout, its determinism, and an install.

The install test unpacks the zip into a fake Decky tree (``homebrew/plugins/RomDeck`` with
settings/data/logs folders and the ``DECKY_*`` variables pointing into a temp tree) and runs
``tests/plugin_zip_probe.py`` in a fresh ``python -I -S``: only the standard library, the
loader's bundled packages (aiohttp 3.10 and its dependencies, linked from this venv) and
then the zip's ``py_modules`` (appended, as Decky appends it) are importable. The backend
talks to the fake RomM server on loopback.

Which zip: ``$ROMDECK_PLUGIN_ZIP`` when set (CI builds it with ``scripts/build_plugin``
first, where PyPI is reachable); otherwise the test builds one with
``scripts/build_plugin --offline`` from the wheel cache (no network; the cache is filled
by one online build).
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fakeromm.server import FakeRommServer

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
_spec = importlib.util.spec_from_file_location("pack_zip", SCRIPTS / "pack_zip.py")
assert _spec and _spec.loader
pack_zip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pack_zip)

NAME = "RomDeck"
UNLOAD_LIMIT_S = 5.0
"""Decky sends SIGKILL 5 s after asking a plugin to stop."""

VENDORED = ("vdf", "tenacity", "filelock", "lxml", "PIL", "py7zr")
DECKY_BUNDLED = ("aiohttp", "certifi")
"""Distributions Decky Loader's frozen build carries that our backend may use (with their
dependencies; research/platform.md §1)."""


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("ROMDECK_PLUGIN_ZIP")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("build")
    build = subprocess.run(
        ["bash", str(SCRIPTS / "build_plugin"), "--offline", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"scripts/build_plugin --offline failed:\n{build.stdout}\n{build.stderr}")
    return out / f"{NAME}.zip"


@pytest.fixture(scope="module")
def names(plugin_zip: Path) -> list[str]:
    with zipfile.ZipFile(plugin_zip) as archive:
        return archive.namelist()


def extract(plugin_zip: Path, into: Path) -> None:
    """Unpack keeping the zip's unix modes (zipfile's extractall drops them)."""
    with zipfile.ZipFile(plugin_zip) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, into))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


def test_the_zip_holds_one_folder_named_after_the_plugin_in_deckys_layout(names):
    assert {n.split("/")[0] for n in names} == {NAME}
    for required in (
        "main.py",
        "bootstrap.py",
        "plugin.json",
        "package.json",
        "LICENSE",
        "README.md",
        "dist/index.js",
        "bin/romdeck-launch",
        "py_modules/romdeck/__init__.py",
    ):
        assert f"{NAME}/{required}" in names, required
    tops = {n.split("/")[1] for n in names if n.count("/") >= 1 and n.split("/")[1]}
    expected = {
        "main.py",
        "bootstrap.py",
        "plugin.json",
        "package.json",
        "LICENSE",
        "README.md",
        "dist",
        "bin",
        "py_modules",
    }
    expected |= {p.name for p in (REPO / "defaults").iterdir() if p.name != ".keep"}
    assert tops == expected


def test_the_zip_ships_our_whole_package_and_the_vendored_packages_but_not_aiohttp(names):
    ours = {
        p.relative_to(REPO / "py_modules").as_posix()
        for p in (REPO / "py_modules" / "romdeck").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    shipped = {
        n.removeprefix(f"{NAME}/py_modules/")
        for n in names
        if n.startswith(f"{NAME}/py_modules/romdeck/") and n.endswith(".py")
    }
    assert shipped == ours
    for package in VENDORED:
        assert any(n.startswith(f"{NAME}/py_modules/{package}/") for n in names), package
    assert not any(n.startswith(f"{NAME}/py_modules/aiohttp") for n in names)
    extensions = [n for n in names if ".cpython-" in n and n.endswith(".so")]
    assert extensions  # lxml, Pillow, py7zr's codecs
    assert all(".cpython-311-x86_64-linux-gnu.so" in n for n in extensions)


def test_the_zip_leaves_out_caches_tests_and_node_modules(names):
    for name in names:
        parts = name.split("/")
        assert not {"__pycache__", "tests", "node_modules", ".git"} & set(parts), name
        assert not name.endswith((".pyc", ".pyo")), name
        assert ".dist-info/RECORD" not in name, name


def test_the_zip_matches_this_checkouts_backend_and_panel(plugin_zip):
    with zipfile.ZipFile(plugin_zip) as archive:
        for name in ("main.py", "bootstrap.py", "plugin.json", "package.json"):
            assert archive.read(f"{NAME}/{name}") == (REPO / name).read_bytes(), name
        launcher = archive.getinfo(f"{NAME}/bin/romdeck-launch")
        assert (launcher.external_attr >> 16) & 0o777 == 0o755
        assert b"romdeck" in archive.read(f"{NAME}/dist/index.js").lower()


def test_packing_the_same_tree_again_gives_the_same_bytes(plugin_zip, tmp_path):
    """Unpack, scramble every timestamp, pack again: byte-identical to the built zip."""
    extract(plugin_zip, tmp_path)
    for i, path in enumerate(sorted((tmp_path / NAME).rglob("*"))):
        os.utime(path, (1_000_000 + i, 2_000_000_000 - i))
    (tmp_path / NAME / "py_modules" / "romdeck" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / NAME / "py_modules" / "romdeck" / "__pycache__" / "x.pyc").write_bytes(b"x")
    again = tmp_path / "again.zip"
    pack_zip.pack(tmp_path / NAME, again)
    assert again.read_bytes() == plugin_zip.read_bytes()


def _decky_tree(root: Path, plugin_zip: Path) -> dict[str, str]:
    """Install the zip into ``root/homebrew/plugins`` and return the loader's environment."""
    homebrew, home = root / "homebrew", root / "home" / "deck"
    extract(plugin_zip, homebrew / "plugins")
    dirs = {
        "DECKY_PLUGIN_SETTINGS_DIR": homebrew / "settings" / NAME,
        "DECKY_PLUGIN_RUNTIME_DIR": homebrew / "data" / NAME,
        "DECKY_PLUGIN_LOG_DIR": homebrew / "logs" / NAME,
    }
    for path in (home, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    package = json.loads((homebrew / "plugins" / NAME / "package.json").read_text())
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "USER": "deck",
        "DECKY_USER": "deck",
        "DECKY_USER_HOME": str(home),
        "DECKY_HOME": str(homebrew),
        "DECKY_VERSION": "v3.2.9",
        **{k: str(v) for k, v in dirs.items()},
        "DECKY_PLUGIN_DIR": str(homebrew / "plugins" / NAME),
        "DECKY_PLUGIN_NAME": NAME,
        "DECKY_PLUGIN_VERSION": package["version"],
        "DECKY_PLUGIN_AUTHOR": "RomDeck developers",
        "DECKY_PLUGIN_LOG": str(dirs["DECKY_PLUGIN_LOG_DIR"] / "2026-12-01 00.00.00.log"),
    }


def _bundled(root: Path) -> Path:
    """A folder standing in for the loader's frozen packages: links into this venv."""
    site = Path(aiohttp.__file__).parent.parent
    modules_of: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            modules_of.setdefault(canonical(dist), set()).add(module)
    wanted: list[str] = list(DECKY_BUNDLED)
    seen: set[str] = set()
    while wanted:
        dist = canonical(wanted.pop())
        if dist in seen or dist not in modules_of:
            continue
        seen.add(dist)
        for requirement in metadata.requires(dist) or []:
            if "extra ==" not in requirement:
                wanted.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    bundled = root / "decky-bundled"
    bundled.mkdir()
    for dist in seen:
        for module in modules_of[dist]:
            for candidate in (site / module, *site.glob(f"{module}.*")):
                if candidate.exists() and not (bundled / candidate.name).exists():
                    (bundled / candidate.name).symlink_to(candidate)
    assert (bundled / "aiohttp").exists()
    return bundled


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _public_callables() -> Iterator[str]:
    """Names of ``Plugin``'s public async methods, read from main.py's syntax tree."""
    tree = ast.parse((REPO / "main.py").read_text())
    plugin = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Plugin")
    for node in plugin.body:
        if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield node.name


async def test_the_installed_zip_starts_answers_every_callable_and_unloads_in_time(
    plugin_zip: Path, tmp_path: Path, fake_romm: FakeRommServer
):
    env = _decky_tree(tmp_path, plugin_zip)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        str(Path(__file__).with_name("plugin_zip_probe.py")),
        str(_bundled(tmp_path)),
        fake_romm.url,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    output = stdout.decode() + stderr.decode()
    assert process.returncode == 0, output
    report: dict[str, Any] = json.loads(stdout.decode().split("PROBE-REPORT ", 1)[1])

    assert report["python"][:2] == [3, 11]
    assert report["aiohttp_version"].startswith("3.10.")
    plugin_dir = env["DECKY_PLUGIN_DIR"]
    path = report["sys_path"]
    assert str(REPO / "py_modules") not in path and str(REPO) not in path
    bundled_at = path.index(str(tmp_path / "decky-bundled"))
    assert path.index(f"{plugin_dir}/py_modules") > bundled_at  # appended, as Decky does
    assert report["modules"]["aiohttp"].startswith(str(tmp_path / "decky-bundled"))
    for module in ("romdeck", "vdf", "tenacity", "filelock", "lxml.etree", "PIL.Image", "py7zr"):
        assert report["modules"][module].startswith(f"{plugin_dir}/py_modules/"), module

    called = [c["name"] for c in report["calls"]]
    assert set(called) == set(_public_callables())
    assert len(called) >= 20
    problems = []
    for call in report["calls"]:
        value = call.get("result")
        if "raised" in call:
            problems.append(f"{call['name']}{tuple(call['args'])} raised:\n{call['raised']}")
        elif not isinstance(value, dict) or not isinstance(value.get("ok"), bool):
            problems.append(f"{call['name']}{tuple(call['args'])} returned {value!r}")
        elif not value["ok"] and value["error"]["code"] == "internal":
            problems.append(f"{call['name']}{tuple(call['args'])} failed inside: {value}")
    assert not problems, "\n".join(problems) + "\n" + output[-4000:]
    by_name = {c["name"]: c["result"] for c in report["calls"]}
    assert by_name["login_password"]["ok"] is True  # it really reached the fake server
    assert by_name["list_platforms"]["ok"] is True and by_name["list_platforms"]["data"]

    assert report["unload_s"] < UNLOAD_LIMIT_S
    assert report["pending_tasks"] == []
    assert report["log_bytes"] > 0  # decky.logger wrote to DECKY_PLUGIN_LOG
