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
from romdeck.domain.save_records import Backup
from romdeck.domain.save_status import GameSaveStatus
from romdeck.domain.settings import Settings
from romdeck.errors import ErrorCode, InvalidInputError, NotFoundError, RomDeckError
from romdeck.services.bulk_import import job_json
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
        "saves": {"sync": settings.saves.sync, "states": settings.saves.states},
    }


def _game_saves(game: GameSaveStatus, names: dict[int, str]) -> dict[str, Any]:
    """One game's saves for the panel (``GameSaves`` in src/backend.ts)."""
    return {
        "rom_id": game.rom_id,
        "name": names.get(game.rom_id, f"ROM {game.rom_id}"),
        "last_sync_at": game.last_sync_at,
        "pending": game.pending or None,
        "offline": game.offline,
        "files": [
            {
                "file_name": f.file_name,
                "state": f.state,
                "local_updated_at": f.local.modified_at if f.local else None,
                "server_updated_at": f.server.updated_at if f.server else None,
            }
            for f in game.files
        ],
    }


def _save_backup(backup: Backup) -> dict[str, Any]:
    return {
        "id": backup.id,
        "rom_id": backup.rom_id,
        "file_name": backup.file_name,
        "created_at": backup.created_at,
        "size_bytes": backup.size_bytes,
        "reason": backup.reason,
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
        app.playtime.deliver_soon()  # pending_sessions.jsonl and the outbox; result logged
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
            "username": await app.account.username(),
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
        await self._app().account.logout()
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
        await self._app().selection.save(platform_ids, collection_ids)
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
        return _installed(await self._app().downloads.installed())

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

    async def _games(self, rom_id: int | None) -> list[dict[str, Any]]:
        """Save status of one installed ROM (``rom_id``) or all, the server asked."""
        app = self._app()
        installs = (await app.downloads.installed()).installs
        names = {i.rom_id: os.path.splitext(os.path.basename(i.launch_path))[0] for i in installs}
        ids = [i.rom_id for i in installs if rom_id is None or i.rom_id == rom_id]
        return [_game_saves(g, names) for g in await app.saves.status(ids)]

    @result
    async def list_saves(self, rom_id: int | None) -> list[dict[str, Any]]:
        return await self._games(None if rom_id is None else int(rom_id))

    @result
    async def sync_saves(self, rom_id: int | None) -> list[dict[str, Any]]:
        app = self._app()
        if not app.saves.enabled:
            raise InvalidInputError("Save sync is off: turn on Sync saves in the settings.")
        if rom_id is not None:
            await app.saves.sync_rom(int(rom_id))
            return await self._games(int(rom_id))
        await app.pending_saves.take_queue()
        done = {r.rom_id for r in await app.saves.sync_pending()}
        for install in (await app.downloads.installed()).installs:
            if install.rom_id not in done:
                await app.saves.sync_rom(install.rom_id)
        app.playtime.deliver_soon()  # "sync all" also sends pending play sessions
        return await self._games(None)

    @result
    async def resolve_save_conflict(
        self, rom_id: int, file_name: str, choice: str
    ) -> dict[str, Any]:
        app = self._app()
        found = [c for c in await app.saves.conflicts(int(rom_id)) if c.file_name == file_name]
        if not found:
            raise NotFoundError(f"There is no open save conflict for {file_name}.")
        await app.saves.resolve(found[0].id, str(choice))
        return await self._one_game(int(rom_id))

    @result
    async def list_save_backups(self, rom_id: int) -> list[dict[str, Any]]:
        return [_save_backup(b) for b in await self._app().saves.backups(int(rom_id))]

    @result
    async def restore_save_backup(self, backup_id: int) -> dict[str, Any]:
        backup = await self._app().saves.restore(int(backup_id))
        return await self._one_game(backup.rom_id)

    async def _one_game(self, rom_id: int) -> dict[str, Any]:
        games = await self._games(rom_id)
        if not games:
            raise NotFoundError(f"ROM {rom_id} is not installed here.")
        return games[0]

    @result
    async def start_bulk_import(self, steam_user: str) -> dict[str, Any]:
        """Import the saved selection while Steam restarts: ``{job_id, count, state}``.

        ``steam_user``: the signed-in Steam account id ("" = the only user on disk).
        """
        app = self._app()
        job = await app.bulk_import.start(str(steam_user or ""), app.settings.load().selection)
        return {"job_id": job.job_id, "count": job.count, "state": job.state.value}

    @result
    async def get_bulk_import(self) -> dict[str, Any]:
        """The last bulk import (``services.bulk_import.job_json``) and the pending adds."""
        bulk = self._app().bulk_import
        return dict(job_json(await bulk.status(), await bulk.pending_adds()))

    @result
    async def get_playtime(self, rom_id: int | None) -> list[dict[str, Any]]:
        totals = await self._app().playtime.totals(None if rom_id is None else int(rom_id))
        return [asdict(t) for t in totals]

    @result
    async def sync_playtime(self) -> dict[str, Any]:
        report = await self._app().playtime.deliver()
        return asdict(report)
