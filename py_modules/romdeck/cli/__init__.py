"""Headless command line: ``python -m romdeck`` (``scripts/romdeck`` sets it up).

Each command parses its arguments, calls one use case through :mod:`bootstrap`, and
maps our errors to exit codes: 0 done, 1 done with some failures (or another error),
2 usage, 3 auth rejected, 4 server unreachable, 5 Steam running.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bootstrap import Paths, build_app
from romdeck.cli import bios, bulk, library, play
from romdeck.cli import playtime as playtime_cli
from romdeck.cli import saves as saves_cli
from romdeck.cli.progress import ProgressBar
from romdeck.errors import (
    AuthRejectedError,
    InvalidInputError,
    MissingScopeError,
    RomDeckError,
    ServerUnreachableError,
    SteamRunningError,
)

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_STEAM = 0, 1, 2, 3, 4, 5


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
    play.add_commands(sub)
    bios.add_commands(sub)
    saves_cli.add_commands(sub)
    bulk.add_commands(sub)
    playtime_cli.add_commands(sub)
    return parser


async def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    bar = ProgressBar(err)
    app = build_app(Paths.resolve(args.data_dir), on_download_event=play.DownloadBar(bar))
    try:
        if args.command == "login":
            return await library.login(app, args, out, err)
        if args.command == "platforms":
            return await library.platforms(app, out)
        if args.command == "select":
            return await library.select(app, args.slugs, args.collection, out)
        if args.command == "sync":
            return await library.sync(app, args, out, err)
        if args.command == "status":
            return await library.status(app, out)
        if args.command == "bios":
            return await bios.run(app, args, out, bar)
        if args.command in ("saves", "settings"):
            return await saves_cli.run(app, args, out)
        if args.command == "bulk-import":
            return await bulk.run(app, args, out)
        if args.command == "playtime":
            return await playtime_cli.run(app, args, out, err)
        return await play.run(app, args, out, err)
    finally:
        bar.close()
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
    argv = saves_cli.parse_status_rom(list(sys.argv[1:] if argv is None else argv))
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
