"""Playtime commands: ``playtime [ROM_ID] [--json]`` (totals per game) and ``playtime sync``
(read pending_sessions.jsonl into the outbox and send every queued session to RomM)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TextIO

from bootstrap import App
from romdeck.domain.play_sessions import GameTotal
from romdeck.errors import ErrorCode, InvalidInputError

EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE = 0, 1, 4
USAGE = "Usage: romdeck playtime [ROM_ID] [--json] | romdeck playtime sync [--json]."


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``playtime`` to the ``romdeck`` parser."""
    playtime = sub.add_parser(
        "playtime", help="playtime per game (ours plus RomM's); `playtime sync` sends sessions"
    )
    playtime.add_argument("words", nargs="*", metavar="ROM_ID | sync")
    playtime.add_argument("--json", action="store_true", help="print JSON (an array per game)")


async def run(app: App, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Dispatch one ``playtime`` command; returns the exit code."""
    words: list[str] = list(args.words)
    if words == ["sync"]:
        return await _sync(app, out, err, as_json=args.json)
    if len(words) > 1 or (words and not (words[0].isascii() and words[0].isdigit())):
        raise InvalidInputError(USAGE)
    totals = await app.playtime.totals(int(words[0]) if words else None)
    if args.json:
        out.write(json.dumps([{"id": t.rom_id, **asdict(t)} for t in totals], indent=2) + "\n")
    else:
        _table(totals, out, err)
    return EXIT_OK


def _table(totals: list[GameTotal], out: TextIO, err: TextIO) -> None:
    if not totals:
        out.write("No play sessions yet.\n")
    for t in totals:
        extra = "".join(
            f", {n} {what}" for n, what in ((t.queued, "queued"), (t.refused, "refused")) if n
        )
        out.write(
            f"{t.rom_id:>6}  {_hours(t.total_seconds):>9}  {t.sessions:>4} session(s)  "
            f"last {t.last_played_at or '-'}  {t.name}{extra}\n"
        )
    if any(t.offline for t in totals):
        err.write("romdeck: RomM could not be asked: these totals are this device's only.\n")


def _hours(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m{whole % 60:02d}s"


async def _sync(app: App, out: TextIO, err: TextIO, *, as_json: bool) -> int:
    report = await app.playtime.deliver()
    if as_json:
        out.write(json.dumps(asdict(report), indent=2) + "\n")
    else:
        out.write(
            f"{report.delivered} delivered, {report.refused} refused, "
            f"{report.queued} still queued ({report.batches} request(s)).\n"
        )
    if report.error:
        err.write(f"romdeck: {report.error}\n")
        unreachable = report.error_code in (ErrorCode.SERVER_UNREACHABLE, ErrorCode.TLS_FAILURE)
        return EXIT_UNREACHABLE if unreachable else EXIT_PARTIAL
    return EXIT_OK
