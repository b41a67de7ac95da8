"""Decky Loader entry point: the plugin's lifecycle and one async callable per panel action.

No logic lives here: each callable converts its arguments, calls one service and
serialises the result. Callables never raise across the bridge (Decky loses the
exception's class and message): they return ``{"ok": true, "data": ...}`` or
``{"ok": false, "error": {"code": <ErrorCode>, "message": str}}``.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, ParamSpec, TypeVar

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import decky
from bootstrap import App, Paths, build_app
from romdeck.domain.downloads import DownloadStatus, InstalledList
from romdeck.domain.models import (
    RegistryEntry,
    ShortcutSpec,
    SyncProgress,
)
from romdeck.domain.plan import needs_artwork
from romdeck.domain.settings import Settings
from romdeck.errors import ErrorCode, InvalidInputError, RomDeckError
from romdeck.services.firmware import fetch_json, platform_json
from romdeck.services.panel_sync import Chunk, ChunkResult

UNLOAD_BUDGET_S = 4.0
"""Seconds ``_unload`` may take; Decky kills the plugin 5 s after asking it to stop."""

P = ParamSpec("P")
T = TypeVar("T")
Result = dict[str, Any]


def result(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[Result]]:
    """Wrap a callable: its value becomes ``{"ok": true, "data": value}``; our errors
    become ``{"ok": false, "error": {code, message}}``; anything else is logged and
    reported as ``internal``."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Result:
        try:
            return {"ok": True, "data": await fn(*args, **kwargs)}
        except RomDeckError as error:
            return {"ok": False, "error": {"code": error.code.value, "message": error.message}}
        except Exception as error:  # the bridge must never see an exception
            decky.logger.exception("RomDeck callable %s failed", fn.__name__)
            message = f"Unexpected error: {type(error).__name__}"
            return {"ok": False, "error": {"code": ErrorCode.INTERNAL.value, "message": message}}

    return wrapper


def _progress(progress: SyncProgress) -> dict[str, Any]:
    return {
        "step": progress.step,
        "done": progress.done,
        "total": progress.total,
        "message": progress.message,
    }


def _chunk(chunk: Chunk) -> dict[str, Any]:
    def spec(s: ShortcutSpec, entry: RegistryEntry | None) -> dict[str, Any]:
        return {
            "rom_id": s.rom_id,
            "app_name": s.app_name,
            "exe": s.exe,
            "start_dir": s.start_dir,
            "launch_options": s.launch_options,
            "tags": list(s.tags),
            "appid": entry.appid if entry else None,
            "artwork": needs_artwork(s, entry),
        }

    plan = chunk.plan
    return {
        "lease_id": chunk.lease_id,
        "add": [spec(s, None) for s in plan.add],
        "update": [spec(s, e) for e, s in plan.update],
        "remove": [{"rom_id": e.rom_id, "appid": e.appid} for e in plan.remove],
        "remaining": chunk.remaining,
        "lease_seconds": chunk.lease_seconds,
        "planned": chunk.planned,
    }


def _download(status: DownloadStatus) -> dict[str, Any]:
    return {**asdict(status), "state": status.state.value}


def _installed(listing: InstalledList) -> dict[str, Any]:
    return {
        "installs": [
            {
                "rom_id": i.rom_id,
                "platform_slug": i.platform_slug,
                "system": i.system,
                "root": i.root,
                "launch_path": i.launch_path,
                "size_bytes": i.size_bytes,
                "installed_at": i.installed_at,
            }
            for i in listing.installs
        ],
        "bytes_by_platform": dict(listing.bytes_by_platform),
        "total_bytes": listing.total_bytes,
    }


def _settings(settings: Settings) -> dict[str, Any]:
    emulation, connection = settings.emulation, settings.connection
    return {
        "emulation": {
            "target": emulation.target,
            "roms_root": emulation.roms_root or None,
            "bios_root": emulation.bios_root or None,
            "templates": dict(emulation.templates),
        },
        "tls": {"verify": connection.verify_tls, "ca_file": connection.ca_file or None},
    }


class Plugin:
    """RomDeck's Decky backend. ``_main`` wires the app before its first ``await``."""

    _app_instance: App | None = None

    _event_tasks: set[asyncio.Task[None]]

    def _app(self) -> App:
        if self._app_instance is None:
            self._event_tasks = set()
            self._app_instance = build_app(Paths.resolve(), on_download_event=self._emit_download)
        return self._app_instance

    def _emit_download(self, status: DownloadStatus) -> None:
        """Send a download's status to the panel as the ``download_progress`` event."""
        task = asyncio.get_running_loop().create_task(
            decky.emit("download_progress", _download(status))
        )
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    def _emit_firmware(self, path: str, done: int, total: int | None) -> None:
        """A BIOS download's byte progress as the ``firmware_progress`` event."""
        payload = {"path": path, "bytes_done": done, "bytes_total": total}
        task = asyncio.get_running_loop().create_task(decky.emit("firmware_progress", payload))
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _main(self) -> None:
        app = self._app()
        try:
            await app.serve_launcher()
        except RomDeckError as error:
            decky.logger.error("RomDeck cannot answer the launcher: %s", error.message)
        # Everything built so far (modules, the object graph) lives as long as the plugin:
        # keep it out of the cyclic collector, whose full passes would otherwise scan it
        # again and again while a 20k-ROM refresh allocates (each pass stalls the loop).
        gc.freeze()
        decky.logger.info("RomDeck started")

    async def _unload(self) -> None:
        """Close everything within Decky's 5 s budget (SIGKILL follows)."""
        if self._app_instance is not None:
            app, self._app_instance = self._app_instance, None
            try:
                await asyncio.wait_for(app.close(), timeout=UNLOAD_BUDGET_S)
            except TimeoutError:
                decky.logger.warning("RomDeck did not close within %s s", UNLOAD_BUDGET_S)
        decky.logger.info("RomDeck unloaded")

    async def _uninstall(self) -> None:
        return None

    @result
    async def get_status(self) -> dict[str, Any]:
        app = self._app()
        connection = app.settings.load().connection
        return {
            "configured": connection.configured,
            "url": connection.url,
            "server_version": await app.account.server_version(),
            "last_sync": await app.runs.last(),
            "sync_running": app.panel_sync.state.running,
        }

    @result
    async def login_password(
        self, url: str, username: str, password: str, verify_tls: bool = True
    ) -> dict[str, Any]:
        signed_in = await self._app().account.login_password(
            url, username, password, verify_tls=bool(verify_tls)
        )
        return {
            "url": self._app().settings.load().connection.url,
            "server_version": signed_in.server.version,
            "warnings": list(signed_in.warnings),
        }

    @result
    async def login_token(self, url: str, token: str, verify_tls: bool = True) -> dict[str, Any]:
        info = await self._app().account.login_token(url, token, verify_tls=bool(verify_tls))
        return {"url": self._app().settings.load().connection.url, "server_version": info.version}

    @result
    async def device_login_start(self, url: str, verify_tls: bool = True) -> dict[str, Any]:
        auth = await self._app().account.device_start(url, verify_tls=bool(verify_tls))
        return {
            "user_code": auth.user_code,
            "verification_url": auth.verification_url,
            "expires_in": auth.expires_in,
            "interval": auth.interval,
        }

    @result
    async def device_login_poll(self) -> dict[str, Any]:
        poll = await self._app().account.device_poll()
        return {"status": poll.status.value}

    @result
    async def logout(self) -> dict[str, Any]:
        self._app().account.logout()
        return {}

    @result
    async def test_connection(self) -> dict[str, Any]:
        app = self._app()
        info, platforms = await app.account.test_connection(app.connect())
        return {"server_version": info.version, "platforms": platforms}

    @result
    async def list_platforms(self) -> list[dict[str, Any]]:
        app = self._app()
        selected = app.settings.load().selection.platform_ids
        return [
            {
                "id": p.id,
                "slug": p.slug,
                "name": p.display_name,
                "rom_count": p.rom_count,
                "selected": p.id in selected,
            }
            for p in await app.connect().list_platforms()
        ]

    @result
    async def list_collections(self) -> list[dict[str, Any]]:
        app = self._app()
        selected = app.settings.load().selection.collection_ids
        return [
            {"id": c.id, "name": c.name, "rom_count": c.rom_count, "selected": c.id in selected}
            for c in await app.connect().list_collections()
        ]

    @result
    async def save_selection(
        self, platform_ids: list[int], collection_ids: list[int]
    ) -> dict[str, Any]:
        self._app().selection.save(platform_ids, collection_ids)
        return {}

    @result
    async def start_sync(self) -> dict[str, Any]:
        app = self._app()
        return {"run_id": await app.panel_sync.start(app.settings.load().selection)}

    @result
    async def get_sync_progress(self) -> dict[str, Any]:
        state = self._app().panel_sync.state
        error = (
            {"code": state.error.code.value, "message": state.error.message}
            if state.error
            else None
        )
        summary = asdict(state.summary) if state.summary else None
        return {
            "running": state.running,
            **_progress(state.progress),
            "summary": summary,
            "error": error,
            "remaining": state.remaining,
        }

    @result
    async def cancel_sync(self) -> dict[str, Any]:
        await self._app().panel_sync.cancel()
        return {}

    @result
    async def next_sync_chunk(self, size: int) -> dict[str, Any]:
        return _chunk(self._app().panel_sync.next_chunk(int(size)))

    @result
    async def report_sync_chunk(
        self, lease_id: str, results: list[dict[str, Any]]
    ) -> dict[str, Any]:
        parsed = [
            ChunkResult(
                rom_id=int(r["rom_id"]),
                appid=None if r.get("appid") is None else int(r["appid"]),
                removed=bool(r.get("removed", False)),
                error=str(r.get("error") or ""),
                artwork=bool(r.get("artwork", False)),
            )
            for r in results
        ]
        report = await self._app().panel_sync.report_chunk(str(lease_id or ""), parsed)
        return {
            "committed": report.committed,
            "orphans": list(report.orphans),
            "kept": list(report.kept),
        }

    @result
    async def get_artwork(self, rom_id: int) -> dict[str, Any]:
        png = await self._app().artwork.portrait_png(int(rom_id))
        return {"png_base64": None if png is None else base64.b64encode(png).decode("ascii")}

    @result
    async def queue_downloads(self, rom_ids: list[int]) -> list[dict[str, Any]]:
        statuses = await self._app().downloads.queue([int(i) for i in rom_ids])
        return [_download(s) for s in statuses]

    @result
    async def get_downloads(self) -> list[dict[str, Any]]:
        return [_download(s) for s in self._app().downloads.statuses()]

    @result
    async def pause_download(self, rom_id: int) -> dict[str, Any]:
        return _download(await self._app().downloads.pause(int(rom_id)))

    @result
    async def resume_download(self, rom_id: int) -> dict[str, Any]:
        return _download(await self._app().downloads.resume(int(rom_id)))

    @result
    async def cancel_download(self, rom_id: int) -> dict[str, Any]:
        return _download(await self._app().downloads.cancel(int(rom_id)))

    @result
    async def uninstall(self, rom_id: int) -> dict[str, Any]:
        return {"freed_bytes": await self._app().downloads.uninstall(int(rom_id))}

    @result
    async def list_installed(self) -> dict[str, Any]:
        return _installed(self._app().downloads.installed())

    @result
    async def get_free_space(self) -> dict[str, Any]:
        return {"free_bytes": await self._app().downloads.free_space()}

    @result
    async def get_settings(self) -> dict[str, Any]:
        return _settings(self._app().settings_service.current())

    @result
    async def set_settings(self, patch: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise InvalidInputError("Settings must be an object.")
        return _settings(await self._app().settings_service.update(patch))

    @result
    async def list_firmware(self, platform_slug: str | None) -> list[dict[str, Any]]:
        return [platform_json(p) for p in await self._app().firmware.status(platform_slug)]

    @result
    async def download_firmware(
        self, platform_slug: str | None, file_names: list[str]
    ) -> dict[str, Any]:
        names = [str(n) for n in file_names or []]
        results = await self._app().firmware.download(platform_slug, names, self._emit_firmware)
        return {"results": [fetch_json(r) for r in results]}

    @result
    async def delete_firmware(self, path: str, force: bool) -> dict[str, Any]:
        deleted = await self._app().firmware.delete(str(path), force=bool(force))
        return {"path": deleted.path, "backup_path": deleted.backup_path or None}
