"""Headless library sync: write Steam's ``shortcuts.vdf`` and grid art directly.

Used by the CLI (and by anyone syncing while Steam is not running). The flow:
refresh the catalog → plan per Steam user against the registry → write the
shortcuts file (atomic, backed up, foreign shortcuts untouched) → commit the
registry → fetch missing or changed covers with bounded concurrency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from romdeck.domain.models import (
    CatalogRefresh,
    RegistryEntry,
    Selection,
    SyncPlan,
    SyncProgress,
    SyncSummary,
)
from romdeck.domain.plan import (
    FoundShortcut,
    ShortcutScan,
    adopt_shortcuts,
    allocate_appid,
    needs_artwork,
    plan_sync,
)
from romdeck.domain.steam_collections import memberships, report_notes
from romdeck.domain.sync_stamp import SyncStamp, combine
from romdeck.errors import RomDeckError, SteamRunningError
from romdeck.services.protocols import (
    Clock,
    CoverFetcher,
    GridArtwork,
    LibraryRefresh,
    ProgressSink,
    RommCatalogApi,
    ShortcutFile,
    ShortcutRegistry,
    SteamCollectionStore,
    SteamProcess,
    SteamTreeState,
    SyncRunLog,
    SyncStampStore,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileSyncDeps:
    """What a headless sync needs (built by bootstrap)."""

    refresher: LibraryRefresh
    registry: ShortcutRegistry
    shortcuts: ShortcutFile
    grid: GridArtwork
    steam: SteamProcess
    clock: Clock
    runs: SyncRunLog
    cover_concurrency: int = 8
    collections: SteamCollectionStore | None = None
    """Writes the cloud-storage collections; None: tags only."""
    stamps: SyncStampStore | None = None
    """Where complete runs leave their stamps; with ``tree``, a resync that finds nothing
    changed skips planning (None: every run plans in full)."""
    tree: SteamTreeState | None = None
    """Fingerprints the Steam files of a user for the stamps."""


def _noop(_: SyncProgress) -> None:
    return None


class FileSync:
    """Runs one headless sync. See the module docstring for the flow."""

    def __init__(self, deps: FileSyncDeps) -> None:
        self._deps = deps

    async def run(
        self,
        api: RommCatalogApi,
        covers: CoverFetcher,
        selection: Selection,
        *,
        steam_users: Sequence[str] = (),
        dry_run: bool = False,
        progress: ProgressSink = _noop,
        cancel: asyncio.Event | None = None,
    ) -> SyncSummary:
        """Sync ``selection`` into every listed Steam user (all users when empty).

        Raises ``SteamRunningError`` (checked before fetching and again before
        writing), ``SteamNotFoundError``, the client's errors, ``CorruptFileError``
        for an unreadable shortcuts.vdf (left untouched) and ``CancelledError``.
        Cover failures do not fail the sync: they are listed in ``failures``.

        Every run is recorded in the sync run log (``ok``, ``partial``, ``dry-run`` or
        ``failed``); an exception that is not ours is logged with its traceback and recorded
        as failed before it propagates.
        """
        run_id = await self._deps.runs.start(self._deps.clock.now_iso())
        try:
            summary = await self._run(
                api,
                covers,
                selection,
                steam_users=steam_users,
                dry_run=dry_run,
                progress=progress,
                cancel=cancel,
            )
        except BaseException as error:
            if isinstance(error, RomDeckError):
                message = error.message
            else:
                _log.exception("The headless sync failed unexpectedly")
                message = f"Unexpected error: {type(error).__name__}"
            await self._record(run_id, "failed", {"error": message})
            raise
        status = "dry-run" if dry_run else ("partial" if summary.failures else "ok")
        await self._record(run_id, status, asdict(summary))
        return summary

    async def _record(self, run_id: int, status: str, summary: Mapping[str, object]) -> None:
        """End run ``run_id`` in the run log with ``status`` and ``summary``."""
        await self._deps.runs.finish(
            run_id, finished_at=self._deps.clock.now_iso(), status=status, summary=summary
        )

    async def _run(
        self,
        api: RommCatalogApi,
        covers: CoverFetcher,
        selection: Selection,
        *,
        steam_users: Sequence[str] = (),
        dry_run: bool = False,
        progress: ProgressSink = _noop,
        cancel: asyncio.Event | None = None,
    ) -> SyncSummary:
        deps = self._deps
        started = deps.clock.monotonic()
        if not dry_run:
            await self._refuse_if_steam_running()
        users = list(steam_users) or await deps.shortcuts.list_users()
        stored = await deps.stamps.load() if deps.stamps is not None else {}
        library = await self._unchanged_library(users, stored)
        refresh = await deps.refresher.refresh(
            api,
            selection,
            progress=progress,
            cancel=cancel,
            unchanged_since=library,
            stamped=deps.stamps is not None and deps.tree is not None,
        )
        if refresh.skipped:  # the short path: the last complete run left exactly this
            return SyncSummary(
                unchanged=sum(stored[user].unchanged for user in users),
                dry_run=dry_run,
                seconds=round(deps.clock.monotonic() - started, 3),
                notes=tuple(note for user in users for note in stored[user].notes),
            )
        summary = SyncSummary(dry_run=dry_run)
        user_notes: dict[str, tuple[str, ...]] = {}
        for user in users:
            entries = await deps.registry.entries(user)
            plan = await asyncio.to_thread(plan_sync, refresh.desired, entries)  # CPU
            scan = ShortcutScan(frozenset(), ())
            if plan.add or plan.update:  # only then could our shortcuts be written twice
                scan = await deps.shortcuts.scan(user)  # the one parse of this sync
                entries = await self._adopt(user, entries, scan.own, dry_run)
                plan = await asyncio.to_thread(plan_sync, refresh.desired, entries)
            summary = _add_counts(summary, plan)
            if dry_run:
                continue
            await self._refuse_if_steam_running()
            entries = await self._apply(user, plan, entries, scan.appids, progress)
            written, failures = await self._sync_covers(user, entries, covers, progress)
            notes, failed = await self._write_collections(user, entries)
            user_notes[user] = notes
            summary = replace(
                summary,
                covers_written=summary.covers_written + written,
                failures=summary.failures + failures + failed,
                notes=summary.notes + notes,
            )
        if not dry_run and not summary.failures:
            await self._save_stamps(user_notes, stored, refresh)
        return replace(summary, seconds=round(deps.clock.monotonic() - started, 3))

    async def _local_stamp(self, user: str) -> str | None:
        """The user's local stamp (registry rows and Steam files), None without the deps."""
        deps = self._deps
        if deps.tree is None or deps.stamps is None:
            return None
        return combine([user, await deps.registry.digest(user), await deps.tree.fingerprint(user)])

    async def _unchanged_library(
        self, users: Sequence[str], stored: Mapping[str, SyncStamp]
    ) -> str | None:
        """The library stamp every user's last complete run recorded, when each user's
        local stamp is still the one it recorded; else None (plan in full)."""
        libraries: set[str] = set()
        for user in users:
            stamp = stored.get(user)
            if stamp is None or await self._local_stamp(user) != stamp.local:
                return None
            libraries.add(stamp.library)
        return libraries.pop() if len(libraries) == 1 else None

    async def _save_stamps(
        self,
        user_notes: Mapping[str, tuple[str, ...]],
        stored: Mapping[str, SyncStamp],
        refresh: CatalogRefresh,
    ) -> None:
        """Record a complete run's stamps (after its writes) for the next resync;
        ``user_notes``: the notes of each user synced."""
        if self._deps.stamps is None or not refresh.stamp:
            return
        stamps = dict(stored)
        for user, notes in user_notes.items():
            local = await self._local_stamp(user)
            if local is not None:
                stamps[user] = SyncStamp(refresh.stamp, local, len(refresh.desired), notes)
        await self._deps.stamps.save(stamps)

    async def _adopt(
        self,
        user: str,
        entries: dict[int, RegistryEntry],
        found: Sequence[FoundShortcut],
        dry_run: bool,
    ) -> dict[int, RegistryEntry]:
        """Record our shortcuts the registry lacks (lost state.db, crash before commit).

        Called only when the plan adds or updates: otherwise nothing can be written twice,
        and a no-change resync does not parse a 20k-shortcut file (about 1 s).
        """
        adopted = adopt_shortcuts(found, entries)
        if not adopted:
            return entries
        if not dry_run:
            await self._deps.registry.commit(user, upserts=adopted)
        return {**entries, **{entry.rom_id: entry for entry in adopted}}

    async def _write_collections(
        self, user: str, entries: dict[int, RegistryEntry]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Our collections into Steam's cloud-storage file: ``(notes, failures)``."""
        store = self._deps.collections
        if store is None:
            return (), ()
        try:
            report = await store.save(user, memberships(entries.values()))
        except RomDeckError as err:
            return (), (f"collections of Steam user {user}: {err.message}",)
        return report_notes(user, report), ()

    async def _refuse_if_steam_running(self) -> None:
        if await self._deps.steam.running():
            raise SteamRunningError(
                "Steam is running. Close Steam (or use the RomDeck panel in Game Mode) "
                "before syncing, so its shortcuts file is not overwritten."
            )

    async def _apply(
        self,
        user: str,
        plan: SyncPlan,
        entries: dict[int, RegistryEntry],
        in_file: frozenset[int],
        progress: ProgressSink,
    ) -> dict[int, RegistryEntry]:
        """Write the plan to the user's shortcuts file and registry; returns the new entries.

        ``in_file``: every appid in the file (scanned whenever the plan adds).
        """
        deps = self._deps
        if plan.is_empty:
            return entries
        total = len(plan.add) + len(plan.update) + len(plan.remove)
        progress(SyncProgress("apply", 0, total, f"Writing shortcuts for Steam user {user}"))
        taken = {e.appid for e in entries.values()} | in_file
        upserts: list[RegistryEntry] = []
        for spec in plan.add:
            appid = allocate_appid(spec, taken)
            taken.add(appid)
            upserts.append(RegistryEntry(spec=spec, appid=appid))
        upserts += [replace(entry, spec=spec) for entry, spec in plan.update]
        removals = [entry.appid for entry in plan.remove]
        await deps.shortcuts.write(user, upserts=upserts, removals=removals)
        await deps.registry.commit(
            user, upserts=upserts, removed_rom_ids=[entry.rom_id for entry in plan.remove]
        )
        await deps.grid.remove_art(user, removals)
        progress(SyncProgress("apply", total, total, f"Wrote shortcuts for Steam user {user}"))
        removed = {entry.rom_id for entry in plan.remove}
        updated = {rom_id: e for rom_id, e in entries.items() if rom_id not in removed}
        updated.update((e.rom_id, e) for e in upserts)
        return updated

    async def _sync_covers(
        self,
        user: str,
        entries: dict[int, RegistryEntry],
        covers: CoverFetcher,
        progress: ProgressSink,
    ) -> tuple[int, tuple[str, ...]]:
        deps = self._deps
        present = await deps.grid.portraits(user)
        todo = [
            entry
            for entry in entries.values()
            if needs_artwork(entry.spec, entry)
            or (entry.spec.cover_path and entry.appid not in present)
        ]
        if not todo:
            return 0, ()
        limiter = asyncio.Semaphore(deps.cover_concurrency)
        failures: list[str] = []
        done = 0

        async def one(entry: RegistryEntry) -> bool:
            nonlocal done
            async with limiter:
                try:
                    png = await covers.fetch_png(entry.spec.cover_path)
                    await deps.grid.save_portrait(user, entry.appid, png)
                except RomDeckError as err:
                    failures.append(f"cover of {entry.spec.app_name!r}: {err.message}")
                    return False
                finally:
                    done += 1
                    progress(SyncProgress("covers", done, len(todo), "Fetching cover art"))
            await deps.registry.set_cover_key(user, entry.rom_id, entry.spec.cover_path)
            return True

        results = await asyncio.gather(*(one(entry) for entry in todo))
        return sum(results), tuple(failures)


def _add_counts(summary: SyncSummary, plan: SyncPlan) -> SyncSummary:
    return replace(
        summary,
        added=summary.added + len(plan.add),
        updated=summary.updated + len(plan.update),
        removed=summary.removed + len(plan.remove),
        unchanged=summary.unchanged + plan.unchanged,
    )
