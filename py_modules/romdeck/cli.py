"""Headless command line: ``python -m romdeck`` (``scripts/romdeck`` sets it up).

Each command parses its arguments, calls one use case through :mod:`bootstrap`, and
maps our errors to exit codes: 0 done, 1 done with some failures (or another error),
2 usage, 3 auth rejected, 4 server unreachable, 5 Steam running.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bootstrap import App, Paths, build_app
from romdeck.domain.models import Selection, SyncProgress, SyncSummary
from romdeck.errors import (
    AuthRejectedError,
    InvalidInputError,
    MissingScopeError,
    RomDeckError,
    ServerUnreachableError,
    SteamRunningError,
)

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_STEAM = 0, 1, 2, 3, 4, 5


class ProgressBar:
    """One progress line per step on ``stream`` (redrawn in place on a terminal)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._width = width
        self._step = ""
        self._last = ""

    def __call__(self, progress: SyncProgress) -> None:
        if progress.step != self._step and self._step and self._tty:
            self._stream.write("\n")
        self._step = progress.step
        if progress.total:
            filled = int(self._width * min(progress.done, progress.total) / progress.total)
            bar = "#" * filled + "." * (self._width - filled)
            line = (
                f"{progress.message or progress.step:<28} [{bar}] {progress.done}/{progress.total}"
            )
        else:
            line = f"{progress.message or progress.step}…"
        if self._tty:
            self._stream.write("\r" + line)
        elif progress.done in (0, progress.total) and line != self._last:
            self._stream.write(line + "\n")
        self._last = line
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._step:
            self._stream.write("\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="romdeck", description="Your RomM library in Steam.")
    parser.add_argument("--data-dir", type=Path, help="keep state and settings in this folder")
    sub = parser.add_subparsers(dest="command", required=True)
    login = sub.add_parser("login", help="sign in to a RomM server")
    login.add_argument("--url", required=True, help="server address, e.g. https://romm.local")
    how = login.add_mutually_exclusive_group(required=True)
    how.add_argument("--username", help="password from $ROMDECK_PASSWORD or a prompt")
    how.add_argument("--token-env", metavar="VAR", help="read a client API token from $VAR")
    how.add_argument("--device", action="store_true", help="approve a code in RomM's web UI")
    login.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    login.add_argument("--ca-file", default="", help="also trust this PEM CA bundle")
    sub.add_parser("platforms", help="list the server's platforms")
    select = sub.add_parser("select", help="choose the platforms (and collections) to sync")
    select.add_argument("slugs", nargs="*", metavar="SLUG")
    select.add_argument("--collection", action="append", type=int, default=[], metavar="ID")
    sync = sub.add_parser("sync", help="create Steam shortcuts for the selection")
    sync.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="SLUG",
        help="sync these platforms (saved as the new selection)",
    )
    sync.add_argument("--steam-dir", type=Path, help="the Steam folder (default: found)")
    sync.add_argument("--steam-user", action="append", default=[], metavar="ID")
    sync.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
    sub.add_parser("status", help="show the connection, selection and last sync")
    return parser


async def _login(app: App, args: argparse.Namespace, out: TextIO) -> int:
    verify = not args.insecure
    if args.username:
        password = os.environ.get("ROMDECK_PASSWORD") or getpass.getpass("RomM password: ")
        info = await app.account.login_password(
            args.url, args.username, password, verify_tls=verify, ca_file=args.ca_file
        )
    elif args.token_env:
        token = os.environ.get(args.token_env, "")
        if not token:
            raise InvalidInputError(f"${args.token_env} is empty: put the rmm_ token in it.")
        info = await app.account.login_token(
            args.url, token, verify_tls=verify, ca_file=args.ca_file
        )
    else:
        authorization = await app.account.device_start(
            args.url, verify_tls=verify, ca_file=args.ca_file
        )
        out.write(
            f"Open {authorization.verification_url}\nand approve the code "
            f"{authorization.user_code} (valid {authorization.expires_in} s)…\n"
        )
        out.flush()
        await app.account.device_wait()
        info = await app.connect().heartbeat()
    url = app.settings.load().connection.url
    out.write(f"Signed in to {url} (RomM {info.version}).\n")
    return EXIT_OK


async def _platforms(app: App, out: TextIO) -> int:
    platforms = await app.connect().list_platforms()
    selected = app.settings.load().selection.platform_ids
    out.write(f"{'SLUG':<16} {'ROMS':>6}  SEL  NAME\n")
    for p in sorted(platforms, key=lambda p: p.display_name.casefold()):
        mark = " * " if p.id in selected else "   "
        out.write(f"{p.slug:<16} {p.rom_count:>6}  {mark}  {p.display_name}\n")
    return EXIT_OK


async def _select(app: App, slugs: Sequence[str], collections: Sequence[int], out: TextIO) -> int:
    client = app.connect()
    platforms = await client.list_platforms()
    by_slug = {p.slug: p for p in platforms} | {p.fs_slug: p for p in platforms}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise InvalidInputError(
            f"Unknown platform {', '.join(unknown)}; see `romdeck platforms` for the slugs."
        )
    if collections:
        known = {c.id for c in await client.list_collections()}
        missing = [str(c) for c in collections if c not in known]
        if missing:
            raise InvalidInputError(f"Unknown collection id {', '.join(missing)}.")
    selection = Selection(frozenset(by_slug[s].id for s in slugs), frozenset(collections))
    settings = app.settings.load()
    app.settings.save(replace(settings, selection=selection))
    names = sorted(by_slug[s].display_name for s in slugs) or ["nothing"]
    out.write(f"Selected: {', '.join(names)}.\n")
    return EXIT_OK


async def _sync(app: App, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.platform:
        await _select(app, args.platform, list(app.settings.load().selection.collection_ids), out)
    settings = app.settings.load()
    client = app.connect()
    sync = app.file_sync(args.steam_dir)
    bar = ProgressBar(err)
    run_id = app.runs.start(app.clock.now_iso())
    try:
        summary = await sync.run(
            client,
            app.covers(client),
            settings.selection,
            steam_users=args.steam_user,
            dry_run=args.dry_run,
            progress=bar,
        )
    except RomDeckError as error:
        bar.close()
        app.runs.finish(
            run_id,
            finished_at=app.clock.now_iso(),
            status="failed",
            summary={"error": error.message},
        )
        raise
    bar.close()
    status = "dry-run" if args.dry_run else ("partial" if summary.failures else "ok")
    app.runs.finish(
        run_id, finished_at=app.clock.now_iso(), status=status, summary=_summary_dict(summary)
    )
    _print_summary(summary, out)
    return EXIT_PARTIAL if summary.failures else EXIT_OK


def _summary_dict(summary: SyncSummary) -> dict[str, object]:
    return {
        "added": summary.added,
        "updated": summary.updated,
        "removed": summary.removed,
        "unchanged": summary.unchanged,
        "covers_written": summary.covers_written,
        "failures": list(summary.failures),
        "seconds": summary.seconds,
    }


def _print_summary(summary: SyncSummary, out: TextIO) -> None:
    prefix = "Dry run: would have " if summary.dry_run else ""
    out.write(
        f"{prefix}added {summary.added}, updated {summary.updated}, removed {summary.removed}, "
        f"unchanged {summary.unchanged}, covers written {summary.covers_written} "
        f"in {summary.seconds:.1f} s.\n"
    )
    for failure in summary.failures:
        out.write(f"  failed: {failure}\n")


def _status(app: App, out: TextIO) -> int:
    settings = app.settings.load()
    connection = settings.connection
    out.write(
        f"Server: {connection.url or '(none)'}{'' if connection.token else ' (signed out)'}\n"
    )
    out.write(f"Selected platform ids: {sorted(settings.selection.platform_ids) or 'none'}\n")
    if settings.selection.collection_ids:
        out.write(f"Selected collection ids: {sorted(settings.selection.collection_ids)}\n")
    last = app.runs.last()
    if last:
        out.write(
            f"Last sync: {last.get('finished_at') or last.get('started_at')} "
            f"({last.get('status')}) {last.get('summary')}\n"
        )
    else:
        out.write("Last sync: never\n")
    return EXIT_OK


async def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    app = build_app(Paths.resolve(args.data_dir))
    try:
        if args.command == "login":
            return await _login(app, args, out)
        if args.command == "platforms":
            return await _platforms(app, out)
        if args.command == "select":
            return await _select(app, args.slugs, args.collection, out)
        if args.command == "sync":
            return await _sync(app, args, out, err)
        return _status(app, out)
    finally:
        await app.close()


def exit_code(error: RomDeckError) -> int:
    """The CLI exit code for one of our errors."""
    if isinstance(error, AuthRejectedError | MissingScopeError):
        return EXIT_AUTH
    if isinstance(error, ServerUnreachableError):
        return EXIT_UNREACHABLE
    if isinstance(error, SteamRunningError):
        return EXIT_STEAM
    if isinstance(error, InvalidInputError):
        return EXIT_USAGE
    return EXIT_PARTIAL


def main(
    argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run one command; returns the exit code (argparse exits 2 on usage errors)."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args, out, err))
    except RomDeckError as error:
        err.write(f"romdeck: {error.message}\n")
        return exit_code(error)
    except KeyboardInterrupt:
        err.write("romdeck: interrupted\n")
        return 130
    finally:
        err.flush()
