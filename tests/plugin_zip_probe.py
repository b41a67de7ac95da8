"""Run an installed RomDeck plugin the way Decky Loader does, and report what happened.

Run by ``tests/test_plugin_zip.py`` in a fresh ``python -I -S`` (no site-packages, no
PYTHONPATH, so nothing of the repository is importable). Usage:
``python -I -S plugin_zip_probe.py <bundled dir> <romm url>``; the ``DECKY_*`` variables
name the fake Decky tree. Like Decky it appends the loader's bundled packages (aiohttp and
its dependencies: ``<bundled dir>``) and then ``$DECKY_PLUGIN_DIR/py_modules`` to
``sys.path``, installs a ``decky`` module, loads ``main.py`` as module ``_``, runs
``_migration`` (if any) and ``_main``, calls every public coroutine of ``Plugin`` once with
arguments guessed from parameter names and annotations, then times ``_unload``.

Prints one JSON object on stdout: ``{"sys_path", "modules": {name: file}, "calls":
[{name, args, result | raised}], "main_s", "unload_s", "emitted": [event names],
"pending_tasks": [repr]}``. Standard library only (it runs before anything is importable).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
import logging
import os
import sys
import time
import traceback
import types
from typing import Any

CALL_TIMEOUT_S = 15.0
SIGN_IN = "login_password"
"""Called after every other sign-in callable (their made-up codes and tokens fail), so the
rest run signed in to the fake server."""
LAST = ("logout",)
"""Callables called after all the others (signing out first would starve the rest)."""


def _order(name: str, member: Any) -> tuple[int, int]:
    """Sign-in callables first (``login_password`` last of them), ``LAST`` at the end, the
    rest in the order main.py defines them."""
    line = inspect.unwrap(member).__code__.co_firstlineno
    if name == SIGN_IN:
        return (1, line)
    if "login" in name:
        return (0, line)
    return (3 if name in LAST else 2, line)


def _install_decky(emitted: list[str]) -> None:
    """A ``decky`` module with the constants, logger and ``emit`` the loader provides."""
    decky = types.ModuleType("decky")
    for name in (
        "HOME",
        "USER",
        "DECKY_VERSION",
        "DECKY_USER",
        "DECKY_USER_HOME",
        "DECKY_HOME",
        "DECKY_PLUGIN_SETTINGS_DIR",
        "DECKY_PLUGIN_RUNTIME_DIR",
        "DECKY_PLUGIN_LOG_DIR",
        "DECKY_PLUGIN_DIR",
        "DECKY_PLUGIN_NAME",
        "DECKY_PLUGIN_VERSION",
        "DECKY_PLUGIN_AUTHOR",
        "DECKY_PLUGIN_LOG",
    ):
        setattr(decky, name, os.environ[name])
    logging.basicConfig(
        level=logging.INFO,
        handlers=[logging.FileHandler(os.environ["DECKY_PLUGIN_LOG"]), logging.StreamHandler()],
    )
    decky.logger = logging.getLogger()  # type: ignore[attr-defined]

    async def emit(event: str, *args: Any) -> None:
        json.dumps(args)  # the loader sends events as JSON
        emitted.append(event)

    decky.emit = emit  # type: ignore[attr-defined]
    sys.modules["decky"] = decky


def _guess(name: str, annotation: Any, url: str) -> Any:
    """A plausible argument for parameter ``name`` (annotations are strings here)."""
    by_name: dict[str, Any] = {
        "url": url,
        "username": "admin",
        "password": "hunter2",
        "token": "rmm_" + "0" * 64,
        "verify_tls": True,
        "size": 10,
        "platform_slug": "snes",
        "path": "bios/none.bin",
        "force": False,
        "patch": {},
        "results": [],
        "file_names": [],
        "file_name": "Game.srm",
        "choice": "local",
        "steam_user": "1",
    }
    if name in by_name:
        return by_name[name]
    if name.endswith("_ids"):
        return [1]
    if name.endswith("_id") or name == "appid":
        return 1
    text = str(annotation).replace("typing.", "")
    if "None" in text.split("|")[-1] or text.startswith("Optional"):
        return None
    for prefix, value in (
        ("bool", False),
        ("int", 0),
        ("float", 0.0),
        ("str", ""),
        ("list", []),
        ("dict", {}),
        ("tuple", []),
        ("Sequence", []),
        ("Mapping", {}),
    ):
        if text.startswith(prefix):
            return value
    return None


def _arguments(method: Any, url: str) -> list[Any]:
    """Positional arguments only, as Decky passes them."""
    args: list[Any] = []
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is not parameter.empty:
            args.append(parameter.default)
        else:
            args.append(_guess(parameter.name, parameter.annotation, url))
    return args


async def _run(url: str) -> dict[str, Any]:
    emitted: list[str] = []
    _install_decky(emitted)
    plugin_dir = os.environ["DECKY_PLUGIN_DIR"]
    spec = importlib.util.spec_from_file_location("_", os.path.join(plugin_dir, "main.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["_"] = module
    spec.loader.exec_module(module)
    plugin = module.Plugin()
    report: dict[str, Any] = {"calls": [], "emitted": emitted}

    if hasattr(plugin, "_migration"):
        await plugin._migration()
    started = time.monotonic()
    main_task = asyncio.get_running_loop().create_task(plugin._main())
    await asyncio.wait_for(asyncio.shield(main_task), timeout=10)
    report["main_s"] = time.monotonic() - started

    members = {
        n: member
        for n, member in inspect.getmembers(type(plugin))
        if not n.startswith("_") and inspect.iscoroutinefunction(member)
    }
    names = sorted(members, key=lambda n: _order(n, members[n]))
    for name in names:
        args = _arguments(getattr(type(plugin), name), url)
        call: dict[str, Any] = {"name": name, "args": args}
        try:
            value = await asyncio.wait_for(getattr(plugin, name)(*args), CALL_TIMEOUT_S)
            json.dumps(value, ensure_ascii=False)  # what the loader does with it
            call["result"] = value
        except BaseException as error:  # the report says what escaped
            call["raised"] = "".join(traceback.format_exception(error))
        report["calls"].append(call)

    started = time.monotonic()
    await plugin._unload()
    report["unload_s"] = time.monotonic() - started
    await asyncio.sleep(0)
    report["pending_tasks"] = [
        repr(t) for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
    ]
    return report


def main() -> None:
    bundled, url = sys.argv[1], sys.argv[2]
    sys.path.append(bundled)
    sys.path.append(os.path.join(os.environ["DECKY_PLUGIN_DIR"], "py_modules"))
    os.chdir(os.environ["DECKY_HOME"])
    report = asyncio.run(_run(url))
    modules = (
        "aiohttp",
        "romdeck",
        "vdf",
        "tenacity",
        "filelock",
        "lxml.etree",
        "PIL.Image",
        "py7zr",
    )
    report["modules"] = {m: importlib.import_module(m).__file__ for m in modules}
    report["aiohttp_version"] = importlib.import_module("aiohttp").__version__
    report["sys_path"] = sys.path
    report["python"] = list(sys.version_info[:3])
    report["log_bytes"] = os.path.getsize(os.environ["DECKY_PLUGIN_LOG"])
    sys.stdout.write("\nPROBE-REPORT " + json.dumps(report, default=repr) + "\n")


if __name__ == "__main__":
    main()
