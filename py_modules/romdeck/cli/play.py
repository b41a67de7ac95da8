"""Play commands: ``download``, ``uninstall``, ``installed``, ``launch``, ``serve``, ``target``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
from datetime import UTC, datetime
from typing import TextIO

from bootstrap import App
from romdeck.cli.progress import ProgressBar
from romdeck.domain.downloads import DownloadState, DownloadStatus
from romdeck.domain.launch_protocol import parse_launch_option
from romdeck.domain.models import SyncProgress
from romdeck.errors import InvalidInputError

EXIT_OK, EXIT_PARTIAL = 0, 1


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the play commands to the ``romdeck`` parser."""
    download = sub.add_parser("download", help="download and install ROMs")
    download.add_argument("rom_ids", nargs="+", type=int, metavar="ROM_ID")
    uninstall = sub.add_parser("uninstall", help="remove installed ROM files (never saves)")
    uninstall.add_argument("rom_ids", nargs="+", type=int, metavar="ROM_ID")
    sub.add_parser("installed", help="list installed ROMs and their sizes")
    launch = sub.add_parser("launch", help="what the launcher does: run romdeck:<id>")
    launch.add_argument("option", metavar="romdeck:ID")
    sub.add_parser("serve", help="answer bin/romdeck-launch until interrupted")
    target = sub.add_parser("target", help="where ROMs go and how they launch")
    target.add_argument("kind", nargs="?", choices=("auto", "retrodeck", "emudeck", "custom"))
    target.add_argument("--roms-root", help="the ROMs folder of a custom target")
    target.add_argument(
        "--template",
        action="append",
        default=[],
        metavar="SYSTEM=COMMAND",
        help="launch command with {rom} (SYSTEM * for any)",
    )
    target.add_argument("--no-templates", action="store_true", help="forget every template")


class DownloadBar:
    """Renders download events as a byte progress line per ROM."""

    def __init__(self, bar: ProgressBar) -> None:
        self._bar = bar

    def __call__(self, status: DownloadStatus) -> None:
        name = status.name or f"ROM {status.rom_id}"
        total = status.bytes_total or 0
        self._bar(
            SyncProgress(
                f"rom{status.rom_id}", status.bytes_done, total, f"{name} ({status.state.value})"
            )
        )


async def run(app: App, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Dispatch one play command; returns the exit code."""
    command = args.command
    if command == "download":
        return await _download(app, args.rom_ids, out)
    if command == "uninstall":
        for rom_id in args.rom_ids:
            freed = await app.downloads.uninstall(rom_id)
            out.write(f"Uninstalled ROM {rom_id}: freed {freed / 2**20:.1f} MiB.\n")
        return EXIT_OK
    if command == "installed":
        return await _installed(app, out)
    if command == "launch":
        return await _launch(app, args.option, out, err)
    if command == "serve":
        return await _serve(app, out)
    return await _target(app, args, out)


async def _download(app: App, rom_ids: list[int], out: TextIO) -> int:
    await app.downloads.queue(rom_ids)
    await app.downloads.wait_idle()
    failed = 0
    for status in app.downloads.statuses():
        if status.state is DownloadState.INSTALLED:
            out.write(f"Installed {status.name or status.rom_id}.\n")
        else:
            failed += 1
            out.write(
                f"Not installed {status.name or status.rom_id}: "
                f"{status.error_message or status.state.value}\n"
            )
    return EXIT_PARTIAL if failed else EXIT_OK


async def _installed(app: App, out: TextIO) -> int:
    listing = await app.downloads.installed()
    for install in listing.installs:
        out.write(
            f"{install.rom_id:>6}  {install.size_bytes / 2**20:9.1f} MiB  "
            f"{install.system:<12} {install.launch_path}\n"
        )
    for slug, size in sorted(listing.bytes_by_platform.items()):
        out.write(f"{slug}: {size / 2**20:.1f} MiB\n")
    out.write(f"Total: {len(listing.installs)} ROMs, {listing.total_bytes / 2**20:.1f} MiB\n")
    return EXIT_OK


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _launch(app: App, option: str, out: TextIO, err: TextIO) -> int:
    """Resolve like the launcher; download first when needed (no backend keeps running)."""
    rom_id = parse_launch_option(option)
    reply = await app.launch.handle({"op": "resolve", "rom_id": rom_id})
    if not reply.get("installed"):
        out.write(f"{reply.get('message', 'Downloading')}\n")
        await app.downloads.wait_idle()
        reply = await app.launch.handle({"op": "resolve", "rom_id": rom_id})
        if not reply.get("installed"):
            err.write(f"romdeck: ROM {rom_id} could not be installed.\n")
            return EXIT_PARTIAL
    argv = [str(a) for a in reply["argv"]]
    started = asyncio.get_running_loop().time()
    process = await asyncio.to_thread(subprocess.Popen, argv)
    await app.launch.handle({"op": "started", "rom_id": rom_id, "pid": process.pid, "at": _now()})
    code = await asyncio.to_thread(process.wait)
    seconds = asyncio.get_running_loop().time() - started
    await app.launch.handle(
        {"op": "exited", "rom_id": rom_id, "code": code, "at": _now(), "seconds": seconds}
    )
    return 128 - code if code < 0 else code


async def _serve(app: App, out: TextIO) -> int:
    await app.serve_launcher()
    out.write(f"Answering the launcher on {app.paths.launch_socket}; Ctrl-C stops.\n")
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    return EXIT_OK


async def _target(app: App, args: argparse.Namespace, out: TextIO) -> int:
    emulation: dict[str, object] = {}
    if args.kind:
        emulation["target"] = args.kind
    if args.roms_root is not None:
        emulation["roms_root"] = args.roms_root
    if args.template or args.no_templates:
        current = app.settings_service.current().emulation.templates
        templates = {} if args.no_templates else dict(current)
        for item in args.template:
            system, sep, command = item.partition("=")
            if not sep:
                raise InvalidInputError(f"--template wants SYSTEM=COMMAND, not {item!r}.")
            templates[system.strip()] = command
        emulation["templates"] = templates
    if emulation:
        await app.settings_service.update({"emulation": emulation})
    settings = app.settings_service.current().emulation
    target = await app.play_target()
    out.write(
        f"Target: {settings.target} → {target.paths.target} ({target.paths.source})\n"
        f"ROMs: {target.paths.roms}\n"
    )
    for system, command in sorted(target.templates.items()):
        out.write(f"Launch {system}: {command}\n")
    return EXIT_OK
