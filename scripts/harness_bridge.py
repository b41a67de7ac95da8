"""The panel harness's bridge: the REAL ``main.Plugin`` behind a small local HTTP server.

``python scripts/harness_bridge.py --dir DIR [--romm-url URL] [--port N]`` builds a
throwaway Decky, Steam and RetroDECK tree under ``DIR`` (an empty or new folder), points
the ``DECKY_*`` variables and the user's home at it, installs a stand-in ``decky`` module,
imports ``main.py`` and runs ``Plugin._main``, then serves on 127.0.0.1:

- ``GET /``: the harness page (``out/harness-page``, built by ``scripts/panel_harness``);
- ``POST /call/<name>`` with a JSON array body: ``await Plugin.<name>(*args)``, answered
  with its JSON return value (what Decky's ``callable`` resolves with); 404 for a name
  that is not a public callable, 500 with the traceback when the method raised;
- ``GET /events``: server-sent events, one ``{"event", "args"}`` per ``decky.emit``;
- ``GET /lab/info``: ``{mode: "fake"|"real", romm_url, features: {saves: bool}}``;
- ``GET /lab/smallest-rom?platform_id=N``: the mirrored ROM with the fewest bytes;
- fake mode only (the fake RomM server of ``tests/fakeromm`` started on 127.0.0.1 with the
  recorded lab library): ``POST /lab/approve {user_code}`` approves a device sign-in as
  the user would on RomM's web page, ``POST /lab/knobs {chunk_delay}`` slows downloads
  (seconds between 16 KiB chunks), ``POST /lab/save-conflict {rom_id}`` makes a save
  conflict (a local save synced once, then changed both here and by a second device).

Without ``--romm-url`` it starts the fake server; with it, the Plugin talks to that server
(signing in is the walker's job). Prints ``HARNESS-READY <json>`` on stdout when serving;
SIGINT/SIGTERM runs ``Plugin._unload`` and stops. Nothing outside ``DIR`` is written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import json
import logging
import os
import signal
import sys
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "out" / "harness-page"
STEAM_USER = "10000001"
os.environ.setdefault(
    "ROMDECK_SHARED", str(ROOT / "scripts" / "demo_data")
)  # tests/shared_files.py
for _path in (ROOT / "scripts", ROOT / "tests", ROOT, ROOT / "py_modules"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aiohttp import web  # noqa: E402

from fakeromm.saves import fake_saves  # noqa: E402
from fakeromm.server import FakeRommServer  # noqa: E402
from romdeck.domain.save_files import (  # noqa: E402
    SaveDirConfig,
    core_for,
    save_base_name,
    save_dir,
    save_suffixes,
)

FAKE_USERNAME, FAKE_PASSWORD = "admin", "hunter2"


def make_trees(where: Path) -> dict[str, str]:
    """Lay out a throwaway Decky, Steam and RetroDECK tree under ``where``; returns the env.

    Decky: ``decky/{settings,data,logs,plugins}/RomDeck``; the user's home ``home/`` with
    Steam at ``home/.local/share/Steam`` (one user, an empty ``config``) and RetroDECK's
    default folders ``home/retrodeck/{roms,bios,saves}``.
    """
    home = where / "home"
    decky = where / "decky"
    env = {
        "HOME": str(home),
        "USER": "deck",
        "DECKY_VERSION": "v3.1.0-harness",
        "DECKY_USER": "deck",
        "DECKY_USER_HOME": str(home),
        "DECKY_HOME": str(decky),
        "DECKY_PLUGIN_SETTINGS_DIR": str(decky / "settings" / "RomDeck"),
        "DECKY_PLUGIN_RUNTIME_DIR": str(decky / "data" / "RomDeck"),
        "DECKY_PLUGIN_LOG_DIR": str(decky / "logs" / "RomDeck"),
        "DECKY_PLUGIN_DIR": str(ROOT),
        "DECKY_PLUGIN_NAME": "RomDeck",
        "DECKY_PLUGIN_VERSION": "0.1.0",
        "DECKY_PLUGIN_AUTHOR": "RomDeck",
    }
    env["DECKY_PLUGIN_LOG"] = str(Path(env["DECKY_PLUGIN_LOG_DIR"]) / "harness.log")
    for key in ("DECKY_PLUGIN_SETTINGS_DIR", "DECKY_PLUGIN_RUNTIME_DIR", "DECKY_PLUGIN_LOG_DIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    (home / ".local/share/Steam/userdata" / STEAM_USER / "config").mkdir(parents=True)
    for folder in ("roms", "bios", "saves"):
        (home / "retrodeck" / folder).mkdir(parents=True)
    return env


class Events:
    """Fans ``decky.emit`` out to every connected ``/events`` stream."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str]] = set()

    async def emit(self, event: str, *args: Any) -> None:
        data = json.dumps({"event": event, "args": list(args)}, ensure_ascii=False)
        for queue in self.queues:
            queue.put_nowait(data)


def install_decky(env: dict[str, str], events: Events) -> None:
    """A ``decky`` module with the loader's constants, a logger and ``emit`` (to ``events``)."""
    decky = types.ModuleType("decky")
    for key, value in env.items():
        setattr(decky, key, value)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(env["DECKY_PLUGIN_LOG"]), logging.StreamHandler()],
    )
    decky.logger = logging.getLogger()  # type: ignore[attr-defined]
    decky.emit = events.emit  # type: ignore[attr-defined]
    sys.modules["decky"] = decky


def public_callables(plugin: Any) -> dict[str, Callable[..., Any]]:
    """The Plugin's public coroutine methods: what Decky lets the frontend call."""
    return {
        name: getattr(plugin, name)
        for name, member in inspect.getmembers(type(plugin))
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }


class Bridge:
    """The HTTP side: page, callables, events and the lab helpers (see the module docstring)."""

    def __init__(self, plugin: Any, events: Events, server: FakeRommServer | None, url: str):
        self.plugin = plugin
        self.events = events
        self.server = server
        self.url = url
        self.callables = public_callables(plugin)

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/", self.index)
        r.add_post("/call/{name}", self.call)
        r.add_get("/events", self.stream)
        r.add_get("/favicon.ico", self.no_icon)
        r.add_get("/lab/info", self.info)
        r.add_get("/lab/smallest-rom", self.smallest_rom)
        r.add_post("/lab/approve", self.approve)
        r.add_post("/lab/knobs", self.knobs)
        r.add_post("/lab/save-conflict", self.save_conflict)
        if (PAGE / "assets").is_dir():
            r.add_static("/assets", PAGE / "assets")
        return app

    async def index(self, _request: web.Request) -> web.StreamResponse:
        page = PAGE / "index.html"
        if not page.is_file():
            return web.Response(status=500, text=f"The page is not built: {page} is missing.")
        return web.FileResponse(page)

    async def no_icon(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    async def call(self, request: web.Request) -> web.StreamResponse:
        method = self.callables.get(request.match_info["name"])
        if method is None:
            name = request.match_info["name"]
            return web.Response(status=404, text=f"The backend has no callable {name}.")
        args = await request.json()
        if not isinstance(args, list):
            return web.Response(status=400, text="The body must be a JSON array of arguments.")
        try:
            value = await method(*args)
        except Exception:  # Decky sends the traceback text; the page's promise rejects
            return web.Response(status=500, text=traceback.format_exc())
        return web.Response(
            text=json.dumps(value, ensure_ascii=False), content_type="application/json"
        )

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})  # fmt: skip
        await response.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.events.queues.add(queue)
        try:
            await response.write(b": connected\n\n")
            while True:
                data = await queue.get()
                await response.write(f"data: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.events.queues.discard(queue)
        return response

    async def info(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response({
            "mode": "fake" if self.server else "real",
            "romm_url": self.url,
            "username": FAKE_USERNAME if self.server else None,
            "features": {"saves": "resolve_save_conflict" in self.callables},
        })  # fmt: skip

    async def smallest_rom(self, request: web.Request) -> web.StreamResponse:
        platform_id = int(request.query["platform_id"])
        roms = await self.plugin._app().catalog.roms(platform_ids=[platform_id])
        if not roms:
            return web.json_response({"error": "no ROMs mirrored for that platform"}, status=404)
        rom = min(roms, key=lambda r: (r.fs_size_bytes, r.id))
        return web.json_response({"rom_id": rom.id, "name": rom.name, "bytes": rom.fs_size_bytes})

    def _fake(self) -> FakeRommServer:
        if self.server is None:
            raise web.HTTPConflict(text="Only against the fake RomM server.")
        return self.server

    async def approve(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._fake().library.approve_device(str(body["user_code"]))
        return web.json_response({})

    async def knobs(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._fake().chunk_delay = float(body.get("chunk_delay", 0.0))
        return web.json_response({})

    async def save_conflict(self, request: web.Request) -> web.StreamResponse:
        server = self._fake()
        if "sync_saves" not in self.callables:
            return web.json_response({"error": "this Plugin has no save callables"}, status=409)
        rom_id = int((await request.json())["rom_id"])
        listing = await self.plugin.list_installed()
        install = next(i for i in listing["data"]["installs"] if i["rom_id"] == rom_id)
        save = self._save_path(install)
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_bytes(b"harness: played on this Deck")
        first = await self.plugin.sync_saves(rom_id)
        save.write_bytes(b"harness: played on this Deck again, offline")
        fake_saves(server).put(rom_id, save.name, b"harness: played on another device")
        return web.json_response({"save": str(save), "first_sync": first})

    @staticmethod
    def _save_path(install: dict[str, Any]) -> Path:
        """Where RetroArch writes the install's primary save with RetroDECK's defaults (no
        retroarch.cfg: ``~/retrodeck/saves``, sorted by the content's folder)."""
        home = Path(os.environ["DECKY_USER_HOME"])
        config = SaveDirConfig(str(home / "retrodeck" / "saves"), sort_by_content=True)
        launch_path = str(install["launch_path"])
        suffix = save_suffixes(core_for(str(install["system"])))[0]
        return Path(save_dir(config, launch_path)) / (save_base_name(launch_path) + suffix)


async def serve(args: argparse.Namespace) -> None:
    where: Path = args.dir.resolve()
    env = make_trees(where)
    os.environ.update(env)
    os.environ.pop("ROMDECK_DATA_DIR", None)
    events = Events()
    install_decky(env, events)
    server: FakeRommServer | None = None
    url = args.romm_url
    if url is None:
        from demo import demo_library  # the recorded lab library, every ROM with a cover

        server = FakeRommServer(
            demo_library(), username=FAKE_USERNAME, password=FAKE_PASSWORD, device_interval=1
        )
        url = await server.start()
    main = importlib.import_module("main")
    plugin = main.Plugin()
    await plugin._main()
    runner = web.AppRunner(Bridge(plugin, events, server, url).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = runner.addresses[0][1]
    ready = {"page": f"http://127.0.0.1:{port}/", "romm_url": url, "dir": str(where)}
    sys.stdout.write("HARNESS-READY " + json.dumps(ready) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for queue in list(events.queues):
            queue.put_nowait("")  # wake the streams so the runner can close them
        await plugin._unload()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner.cleanup(), timeout=3)
        if server is not None:
            await server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the panel harness over the real Plugin.")
    parser.add_argument("--dir", type=Path, required=True, help="an empty or new folder")
    parser.add_argument("--romm-url", help="a RomM server (default: start the fake one)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    if args.dir.exists() and any(args.dir.iterdir()):
        sys.stderr.write(f"harness_bridge: {args.dir} is not empty; give an empty or new folder.\n")
        return 2
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
