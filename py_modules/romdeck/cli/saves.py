"""Save commands: ``saves`` (status), ``saves sync``, ``saves conflicts``, ``saves resolve``,
``saves backups``, ``saves restore``; and ``settings`` (save sync on/off).

``--json`` prints a JSON array of objects, each with its ``id`` (the ROM id for
``saves``, the conflict or backup id otherwise). ``saves sync`` exits 1 when a ROM is
left pending (the server could not be reached in time, a conflict is open).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any, TextIO

from bootstrap import App
from romdeck.domain.save_status import GameSaveStatus
from romdeck.errors import InvalidInputError
from romdeck.services.saves import SyncReport

EXIT_OK, EXIT_PARTIAL = 0, 1


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``saves`` and ``settings`` to the ``romdeck`` parser."""
    saves = sub.add_parser("saves", help="save sync with RomM: status, sync, conflicts, backups")
    saves.add_argument("--json", action="store_true", help="print a JSON array")
    actions = saves.add_subparsers(dest="saves_command")
    status = actions.add_parser("status", help="per game: local and server versions (default)")
    status.add_argument("rom_id", nargs="?", type=int, metavar="ROM_ID")
    status.add_argument("--json", action="store_true", help="print a JSON array")
    sync = actions.add_parser("sync", help="sync saves now (no ids: pending and all installed)")
    sync.add_argument("rom_ids", nargs="*", type=int, metavar="ROM_ID")
    sync.add_argument("--rom", action="append", type=int, default=[], metavar="ROM_ID")
    when = sync.add_mutually_exclusive_group()
    when.add_argument("--before-launch", action="store_true", help="bounded pre-launch sync")
    when.add_argument("--after-exit", action="store_true", help="upload what a session changed")
    sync.add_argument("--timeout", type=float, default=None, metavar="S",
                      help="seconds a --before-launch sync may take (default 5)")  # fmt: skip
    sync.add_argument("--json", action="store_true", help="print what was done as a JSON array")
    conflicts = actions.add_parser("conflicts", help="saves changed here and on RomM")
    conflicts.add_argument("--json", action="store_true", help="print a JSON array")
    resolve = actions.add_parser("resolve", help="settle a conflict")
    resolve.add_argument("conflict_id", type=int, metavar="CONFLICT_ID")
    resolve.add_argument("--keep", required=True, choices=("local", "server"))
    backups = actions.add_parser("backups", help="copies kept before a save was replaced")
    backups.add_argument("rom_id", nargs="?", type=int, metavar="ROM_ID")
    backups.add_argument("--json", action="store_true", help="print a JSON array")
    restore = actions.add_parser("restore", help="put a backup back in place")
    restore.add_argument("backup_id", type=int, metavar="BACKUP_ID")
    settings = sub.add_parser("settings", help="show settings; turn save (state) sync on/off")
    settings.add_argument("key", nargs="?", choices=("saves", "states"))
    settings.add_argument("value", nargs="?", choices=("on", "off"))


def parse_status_rom(argv: list[str]) -> list[str]:
    """``saves 5`` is ``saves status 5``: argparse cannot mix a positional with sub-commands."""
    if len(argv) >= 2 and argv[0] == "saves" and argv[1].isdigit():
        return ["saves", "status", *argv[1:]]
    return argv


async def run(app: App, args: argparse.Namespace, out: TextIO) -> int:
    """Dispatch one saves/settings command; returns the exit code."""
    if args.command == "settings":
        return await _settings(app, args, out)
    command = args.saves_command or "status"
    as_json = bool(getattr(args, "json", False))
    if command == "status":
        return await _status(app, getattr(args, "rom_id", None), as_json, out)
    if command == "sync":
        return await _sync(app, args, out)
    if command == "conflicts":
        items = await app.saves.conflicts()
        return _listing([asdict(c) for c in items], as_json, out, _conflict_line, "conflicts")
    if command == "resolve":
        conflict = await app.saves.resolve(args.conflict_id, args.keep)
        out.write(f"Kept the {args.keep} {conflict.file_name} of ROM {conflict.rom_id}.\n")
        return EXIT_OK
    if command == "backups":
        items = await app.saves.backups(args.rom_id)
        return _listing([asdict(b) for b in items], as_json, out, _backup_line, "backups")
    backup = await app.saves.restore(args.backup_id)
    out.write(f"Restored {backup.original_path} from backup {backup.id}.\n")
    return EXIT_OK


def status_json(game: GameSaveStatus) -> dict[str, Any]:
    """One game's save status as the ``--json`` object (``id`` is the ROM id)."""
    return {
        "id": game.rom_id,
        "rom_id": game.rom_id,
        "emulator": game.emulator,
        "last_sync_at": game.last_sync_at,
        "pending": game.pending or None,
        "offline": game.offline,
        "conflicts": [c.id for c in game.conflicts],
        "files": [
            {
                "file_name": f.file_name,
                "path": f.path,
                "state": f.state,
                "local": asdict(f.local) if f.local else None,
                "server": asdict(f.server) if f.server else None,
                "synced_md5": f.synced_md5,
                "synced_at": f.synced_at,
            }
            for f in game.files
        ],
    }


async def _status(app: App, rom_id: int | None, as_json: bool, out: TextIO) -> int:
    installed = [i.rom_id for i in (await app.downloads.installed()).installs]
    if rom_id is not None:
        if rom_id not in installed:
            raise InvalidInputError(f"ROM {rom_id} is not installed here.")
        installed = [rom_id]
    games = await app.saves.status(installed)
    if as_json:
        out.write(json.dumps([status_json(g) for g in games], indent=2) + "\n")
        return EXIT_OK
    if not games:
        out.write("No installed RetroArch games.\n")
    for game in games:
        where = " (RomM not reachable: local side only)" if game.offline else ""
        out.write(f"ROM {game.rom_id} [{game.emulator}]{where}: last sync "
                  f"{game.last_sync_at or 'never'}\n")  # fmt: skip
        if game.pending:
            out.write(f"  pending: {game.pending}\n")
        for f in game.files:
            local = (
                f"{f.local.md5[:8]} {f.local.size_bytes} B {f.local.modified_at}"
                if f.local
                else "none"
            )
            server = (
                f"#{f.server.id} {f.server.md5[:8]} {f.server.updated_at}" if f.server else "none"
            )
            out.write(f"  {f.file_name:<32} {f.state:<8} local {local}; server {server}\n")
        for c in game.conflicts:
            out.write(f"  conflict {c.id}: {c.file_name} (romdeck saves resolve {c.id} "
                      "--keep local|server)\n")  # fmt: skip
    return EXIT_OK


async def _sync(app: App, args: argparse.Namespace, out: TextIO) -> int:
    rom_ids = sorted({*args.rom_ids, *args.rom})
    if not app.saves.enabled:
        if args.json:  # nothing to do is done: the launcher must not queue it
            out.write(json.dumps([{"id": r, "rom_id": r, "off": True} for r in rom_ids]) + "\n")
        else:
            out.write("Save sync is off (romdeck settings saves on).\n")
        return EXIT_OK
    reports: list[SyncReport] = []
    if args.before_launch or args.after_exit:
        if not rom_ids:
            raise InvalidInputError("--before-launch/--after-exit need a ROM id (--rom ID).")
        for rom_id in rom_ids:
            if args.before_launch:
                reports.append(await app.saves.before_launch(rom_id, args.timeout))
            else:
                reports.append(await app.saves.after_exit(rom_id))
    elif rom_ids:
        reports = [await app.saves.sync_rom(rom_id) for rom_id in rom_ids]
    else:
        await app.pending_saves.take_queue()
        reports = await app.saves.sync_pending()
        done = {r.rom_id for r in reports}
        for install in (await app.downloads.installed()).installs:
            if install.rom_id not in done:
                reports.append(await app.saves.sync_rom(install.rom_id))
    if not args.before_launch:  # pending play sessions go with every sync but the bounded one
        delivery = await app.playtime.deliver()
        if not args.json and (delivery.delivered or delivery.queued or delivery.error):
            out.write(
                f"Play sessions: {delivery.delivered} delivered, {delivery.queued} queued"
                + (f" ({delivery.error})\n" if delivery.error else "\n")
            )
    if args.json:
        items = [{"id": r.rom_id, "rom_id": r.rom_id, "actions": r.actions,
                  "pending": r.pending or None} for r in reports]  # fmt: skip
        out.write(json.dumps(items) + "\n")
    for report in [] if args.json else reports:
        actions = ", ".join(f"{name} {what}" for name, what in sorted(report.actions.items()))
        line = f"ROM {report.rom_id}: {actions or 'nothing to sync'}"
        out.write(line + (f" (pending: {report.pending})\n" if report.pending else "\n"))
    open_conflict = any(a == "conflict" for r in reports for a in r.actions.values())
    return EXIT_PARTIAL if open_conflict or any(r.pending for r in reports) else EXIT_OK


def _listing(items: list[dict[str, Any]], as_json: bool, out: TextIO, line: Any, what: str) -> int:
    if as_json:
        out.write(json.dumps(items, indent=2) + "\n")
    elif not items:
        out.write(f"No {what}.\n")
    for item in [] if as_json else items:
        out.write(line(item) + "\n")
    return EXIT_OK


def _conflict_line(c: dict[str, Any]) -> str:
    return (f"{c['id']:>4}  ROM {c['rom_id']}  {c['file_name']}  since {c['created_at']}  "
            f"local {c['local_hash'][:8]} / server {c['server_hash'][:8]}")  # fmt: skip


def _backup_line(b: dict[str, Any]) -> str:
    return (f"{b['id']:>4}  ROM {b['rom_id']}  {b['file_name']}  {b['created_at']}  "
            f"{b['size_bytes']} B  ({b['reason']})")  # fmt: skip


async def _settings(app: App, args: argparse.Namespace, out: TextIO) -> int:
    if args.key is not None:
        if args.value is None:
            raise InvalidInputError(f"Say on or off: romdeck settings {args.key} on|off.")
        key = "sync" if args.key == "saves" else "states"
        await app.settings_service.update({"saves": {key: args.value == "on"}})
    settings = app.settings_service.current()
    target = settings.emulation
    out.write(f"Target: {target.target}\n")
    out.write(f"Save sync (saves): {'on' if settings.saves.sync else 'off'}\n")
    out.write(f"Save state sync (states): {'on' if settings.saves.states else 'off'}\n")
    return EXIT_OK
