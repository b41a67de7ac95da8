"""BIOS commands: ``bios [PLATFORM] [--json]``, ``bios download PLATFORM|FILE...``,
``bios delete FILE [--force]``."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from bootstrap import App
from romdeck.cli.progress import ProgressBar
from romdeck.domain.models import SyncProgress
from romdeck.errors import InvalidInputError
from romdeck.services.firmware import PlatformFirmware

EXIT_OK, EXIT_PARTIAL = 0, 1


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bios`` to the ``romdeck`` parser."""
    bios = sub.add_parser(
        "bios",
        help="BIOS status per platform; `bios download PLATFORM|FILE...`, `bios delete FILE`",
    )
    bios.add_argument("words", nargs="*", metavar="PLATFORM | download ... | delete FILE")
    bios.add_argument("--json", action="store_true", help="print a JSON array, one item per file")
    bios.add_argument("--force", action="store_true", help="delete a file RomDeck did not place")


async def run(app: App, args: argparse.Namespace, out: TextIO, bar: ProgressBar) -> int:
    """Dispatch one ``bios`` command; returns the exit code."""
    words: list[str] = list(args.words)
    if words and words[0] == "download":
        return await _download(app, words[1:], out, bar)
    if words and words[0] == "delete":
        if len(words) != 2:
            raise InvalidInputError(
                "Usage: romdeck bios delete FILE (a path inside the bios folder)."
            )
        deleted = await app.firmware.delete(words[1], force=args.force)
        moved = f" (moved to {deleted.backup_path})" if deleted.backup_path else ""
        out.write(f"Deleted {deleted.path}{moved}.\n")
        return EXIT_OK
    if len(words) > 1:
        raise InvalidInputError("Usage: romdeck bios [PLATFORM] [--json].")
    platforms = await app.firmware.status(words[0] if words else None)
    if args.json:
        out.write(json.dumps(_rows(platforms), indent=2) + "\n")
    else:
        _table(platforms, out)
    return EXIT_OK


def _rows(platforms: list[PlatformFirmware]) -> list[dict[str, object]]:
    return [
        {
            "platform_slug": p.platform.slug,
            "file_name": f.file_name,
            "path": f.path,
            "required": f.required,
            "status": f.status.value,
            "on_server": f.server is not None,
        }
        for p in platforms
        for f in p.files
    ]


def _table(platforms: list[PlatformFirmware], out: TextIO) -> None:
    for p in platforms:
        name = p.platform.display_name or p.platform.name
        if not p.needs_firmware and not p.files:
            out.write(f"{p.platform.slug} ({name}): needs no BIOS\n")
            continue
        state = "ready" if p.ready else "NOT READY"
        need = f"; needs one of: {', '.join(p.any_of)}" if p.any_of and not p.ready else ""
        out.write(f"{p.platform.slug} ({name}), bios folder {p.bios_root}: {state}{need}\n")
        for f in p.files:
            need = "required" if f.required else "optional"
            server = "on server" if f.server else "not on server"
            out.write(f"  {f.status.value:<17} {need:<8} {server:<13} {f.path}\n")


async def _download(app: App, words: list[str], out: TextIO, bar: ProgressBar) -> int:
    if not words:
        raise InvalidInputError("Usage: romdeck bios download PLATFORM|FILE...")
    slugs = {p.platform.slug.lower() for p in await app.firmware.status(None)}
    platform = words[0] if words[0].lower() in slugs else None
    names = words[1:] if platform else words

    def progress(path: str, done: int, total: int | None) -> None:
        bar(SyncProgress(f"bios:{path}", done, total or 0, path))

    results = await app.firmware.download(platform, names, progress)
    failed = 0
    for r in results:
        why = f": {r.message}" if r.message else ""
        out.write(f"{r.outcome:<10} {r.status.value:<17} {r.path}{why}\n")
        failed += r.outcome == "failed"
    return EXIT_PARTIAL if failed else EXIT_OK
