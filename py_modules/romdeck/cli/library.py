"""Library commands: ``login``, ``platforms``, ``select``, ``sync``, ``status``."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Sequence
from typing import TextIO

from bootstrap import App
from romdeck.cli.progress import ProgressBar
from romdeck.domain.models import SyncSummary
from romdeck.errors import InvalidInputError

EXIT_OK, EXIT_PARTIAL = 0, 1


async def login(app: App, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    verify = not args.insecure
    if args.username:
        password = os.environ.get("ROMDECK_PASSWORD") or getpass.getpass("RomM password: ")
        signed_in = await app.account.login_password(
            args.url, args.username, password, verify_tls=verify, ca_file=args.ca_file
        )
        for warning in signed_in.warnings:
            err.write(f"romdeck: warning: {warning}\n")
        info = signed_in.server
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


async def platforms(app: App, out: TextIO) -> int:
    platforms = await app.connect().list_platforms()
    selected = app.settings.load().selection.platform_ids
    out.write(f"{'SLUG':<16} {'ROMS':>6}  SEL  NAME\n")
    for p in sorted(platforms, key=lambda p: p.display_name.casefold()):
        mark = " * " if p.id in selected else "   "
        out.write(f"{p.slug:<16} {p.rom_count:>6}  {mark}  {p.display_name}\n")
    return EXIT_OK


async def select(app: App, slugs: Sequence[str], collections: Sequence[int], out: TextIO) -> int:
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
    await app.selection.save([by_slug[s].id for s in slugs], collections)
    names = sorted(by_slug[s].display_name for s in slugs) or ["nothing"]
    out.write(f"Selected: {', '.join(names)}.\n")
    return EXIT_OK


async def sync(app: App, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.platform:
        await select(app, args.platform, list(app.settings.load().selection.collection_ids), out)
    settings = app.settings.load()
    client = app.connect()
    sync = app.file_sync(args.steam_dir)
    bar = ProgressBar(err)
    try:
        summary = await sync.run(
            client,
            app.covers(client),
            settings.selection,
            steam_users=args.steam_user,
            dry_run=args.dry_run,
            progress=bar,
        )
    finally:
        bar.close()
    _print_summary(summary, out)
    return EXIT_PARTIAL if summary.failures else EXIT_OK


def _print_summary(summary: SyncSummary, out: TextIO) -> None:
    prefix = "Dry run: would have " if summary.dry_run else ""
    out.write(
        f"{prefix}added {summary.added}, updated {summary.updated}, removed {summary.removed}, "
        f"unchanged {summary.unchanged}, covers written {summary.covers_written} "
        f"in {summary.seconds:.1f} s.\n"
    )
    for failure in summary.failures:
        out.write(f"  failed: {failure}\n")
    for note in summary.notes:
        out.write(f"  {note}\n")


async def status(app: App, out: TextIO) -> int:
    settings = app.settings.load()
    connection = settings.connection
    out.write(
        f"Server: {connection.url or '(none)'}{'' if connection.token else ' (signed out)'}\n"
    )
    out.write(f"Selected platform ids: {sorted(settings.selection.platform_ids) or 'none'}\n")
    if settings.selection.collection_ids:
        out.write(f"Selected collection ids: {sorted(settings.selection.collection_ids)}\n")
    last = await app.runs.last()
    if not last:
        out.write("Last sync: never\n")
        return EXIT_OK
    when = last.get("finished_at") or last.get("started_at")
    summary = last.get("summary")
    counts = ""
    if isinstance(summary, dict):
        keys = ("added", "updated", "removed", "unchanged", "covers_written", "error")
        counts = ", ".join(f"{k.replace('_', ' ')} {summary[k]}" for k in keys if summary.get(k))
    out.write(f"Last sync: {when} ({last.get('status')}){': ' + counts if counts else ''}\n")
    for user, count in sorted((await app.registry.counts()).items()):
        out.write(f"Shortcuts for Steam user {user}: {count}\n")
    return EXIT_OK
