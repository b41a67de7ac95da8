"""Bulk import: create more shortcuts than one Steam session safely can, while Steam restarts.

The panel's chunked path creates shortcuts through Steam's client, whose renderer grows
with every creation (DESIGN.md). Past that budget the panel offers a bulk import:

1. ``start`` (in the plugin) stops the panel's chunked apply, records a ``preparing``
   job and starts a detached helper process (``romdeck bulk-import <job id>``).
2. ``run_job`` (in the helper), while Steam still runs: refreshes the catalog, plans
   against the panel's registry and fetches the covers into a disk cache; then records
   ``waiting_for_steam_exit``, and the panel asks Steam to restart.
3. The helper waits (at most the job's ``wait_seconds``) for Steam to exit. If it does
   not, nothing is written and the job ends ``timed_out``.
4. It runs the headless sync (``FileSync``, the CLI's code) with the prepared refresh:
   shortcuts.vdf (atomic, under a lock, refused if Steam is back), the grid art from the
   cache, the cloud-storage collections, and the registry under the panel's key, so
   the registry is what the chunked path would have left and a later panel sync plans
   nothing. The job ends ``done`` or ``failed`` with the counts; the panel shows it
   when it reopens in the restarted Steam.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from romdeck.domain.bulk_import import (
    MAX_FAILURES_KEPT,
    WAIT_FOR_STEAM_EXIT_S,
    BulkCounts,
    BulkJob,
    BulkState,
)
from romdeck.domain.models import (
    CatalogRefresh,
    RegistryEntry,
    Selection,
    SyncProgress,
    SyncSummary,
)
from romdeck.domain.plan import plan_sync
from romdeck.errors import (
    BusyError,
    InvalidInputError,
    NotFoundError,
    RomDeckError,
    SteamNotFoundError,
    SteamRunningError,
)
from romdeck.services.bulk_protocols import BulkJobStore, CoverCache, HeadlessSync, HelperLauncher
from romdeck.services.protocols import (
    Clock,
    LibraryRefresh,
    ProgressSink,
    RommCatalogApi,
    ShortcutRegistry,
    SteamProcess,
)

_log = logging.getLogger(__name__)

STEAM_POLL_S = 0.5
"""How often (seconds) the helper looks whether Steam has exited."""


def _noop(_: SyncProgress) -> None:
    return None


class RefreshRecorder:
    """A ``LibraryRefresh`` that remembers the last refresh it passed on (the panel's),
    so the bulk import can count the adds of the plan the panel is applying."""

    def __init__(self, inner: LibraryRefresh) -> None:
        self._inner = inner
        self.last: CatalogRefresh | None = None

    async def refresh(
        self,
        api: RommCatalogApi,
        selection: Selection,
        *,
        progress: ProgressSink = _noop,
        cancel: asyncio.Event | None = None,
        unchanged_since: str | None = None,
        stamped: bool = False,
    ) -> CatalogRefresh:
        result = await self._inner.refresh(
            api, selection, progress=progress, cancel=cancel,
            unchanged_since=unchanged_since, stamped=stamped,
        )  # fmt: skip
        self.last = result
        return result


class PreparedRefresh:
    """A ``LibraryRefresh`` answering with a refresh made earlier (before Steam exited),
    so the headless write needs no request to the server."""

    def __init__(self, result: CatalogRefresh) -> None:
        self._result = result

    async def refresh(
        self,
        api: RommCatalogApi,
        selection: Selection,
        *,
        progress: ProgressSink = _noop,
        cancel: asyncio.Event | None = None,
        unchanged_since: str | None = None,
        stamped: bool = False,
    ) -> CatalogRefresh:
        """The earlier refresh, always in full (never ``skipped``: the import must write)."""
        return self._result


class RegistryView:
    """A ``ShortcutRegistry`` keeping every Steam user's entries under one ``key``: the
    headless write of a bulk import lands where the panel's chunked path keeps its own."""

    def __init__(self, inner: ShortcutRegistry, key: str) -> None:
        self._inner = inner
        self._key = key

    async def entries(self, steam_user: str) -> dict[int, RegistryEntry]:
        return await self._inner.entries(self._key)

    async def commit(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry] = (),
        removed_rom_ids: Sequence[int] = (),
    ) -> None:
        await self._inner.commit(self._key, upserts=upserts, removed_rom_ids=removed_rom_ids)

    async def set_cover_key(self, steam_user: str, rom_id: int, cover_key: str) -> None:
        await self._inner.set_cover_key(self._key, rom_id, cover_key)

    async def digest(self, steam_user: str) -> str:
        return await self._inner.digest(self._key)


@dataclass(frozen=True, slots=True)
class BulkImportDeps:
    """What the bulk import needs (bootstrap wires it).

    ``panel_user``: the registry key of the panel's shortcuts. ``last_refresh``: the
    panel sync's latest refresh (``RefreshRecorder.last``). ``plan_pending``: operations
    the panel sync still has to apply (0 when no sync waits for the panel).
    ``stop_panel_sync``: ends the panel sync's chunked apply. ``connect``: a client for
    the saved connection. ``covers``: a disk-cached cover fetcher over a client.
    ``steam_users``: the Steam user ids of a Steam folder ("" = the default one).
    ``steam``: the Steam process check for a job. ``file_sync``: the headless sync for a
    job, over the given refresh and registry. ``helper_args``: the CLI arguments that
    run a job in the helper.
    """

    jobs: BulkJobStore
    launcher: HelperLauncher
    clock: Clock
    registry: ShortcutRegistry
    refresher: LibraryRefresh
    panel_user: str
    last_refresh: Callable[[], CatalogRefresh | None]
    plan_pending: Callable[[], int]
    stop_panel_sync: Callable[[], Awaitable[None]]
    connect: Callable[[], RommCatalogApi]
    covers: Callable[[RommCatalogApi], CoverCache]
    steam_users: Callable[[str], list[str]]
    steam: Callable[[BulkJob], SteamProcess]
    file_sync: Callable[[BulkJob, LibraryRefresh, ShortcutRegistry], HeadlessSync]
    helper_args: Callable[[str], list[str]]
    cover_concurrency: int = 8


class BulkImport:
    """Starts, runs and reports bulk imports (see the module docstring)."""

    def __init__(self, deps: BulkImportDeps) -> None:
        self._deps = deps
        self._launched: dict[str, int] = {}
        self._serial = 0

    async def pending_adds(self) -> int:
        """Shortcuts the panel sync waiting for the panel would still create (0 when no
        sync waits). Computed from its refresh and the panel's registry, off the loop."""
        deps = self._deps
        last = deps.last_refresh()
        if last is None or deps.plan_pending() <= 0:
            return 0
        entries = await deps.registry.entries(deps.panel_user)
        plan = await asyncio.to_thread(plan_sync, last.desired, entries)
        return len(plan.add)

    async def start(
        self,
        steam_user: str,
        selection: Selection,
        *,
        steam_dir: str = "",
        proc_root: str = "",
        wait_seconds: float = WAIT_FOR_STEAM_EXIT_S,
    ) -> BulkJob:
        """Start a bulk import of ``selection`` into ``steam_user``'s library.

        ``steam_user``: the Steam account id (userdata folder); "" picks the only user.
        Stops the panel sync's chunked apply (what it committed stays) and starts the
        helper. Raises ``BusyError`` (a job is under way), ``InvalidInputError`` (empty
        selection, a bad wait, several Steam users and none named), ``SteamNotFoundError``
        and ``StateError`` (the record or the helper could not be made).
        """
        deps = self._deps
        if not selection.platform_ids and not selection.collection_ids:
            raise InvalidInputError("Choose platforms or collections to import first.")
        if not 0 < wait_seconds <= 3600:
            raise InvalidInputError("The wait for Steam must be between 0 and 3600 seconds.")
        current = await self.status()
        if not current.state.final:
            raise BusyError("A bulk import is already under way.")
        user = _pick_user(steam_user, await asyncio.to_thread(deps.steam_users, steam_dir))
        deps.connect()  # raises NotConfiguredError before anything changes
        self._serial += 1
        stamp = "".join(c for c in deps.clock.now_iso() if c.isdigit())
        job_id = f"{stamp}-{self._serial}"
        job = BulkJob(
            job_id=job_id,
            state=BulkState.PREPARING,
            steam_user=user,
            platform_ids=tuple(sorted(selection.platform_ids)),
            collection_ids=tuple(sorted(selection.collection_ids)),
            count=await self.pending_adds(),
            message="Preparing the import",
            wait_seconds=wait_seconds,
            started_at=deps.clock.now_iso(),
            steam_dir=steam_dir,
            proc_root=proc_root,
        )
        await deps.stop_panel_sync()
        self._launched[job_id] = 0  # ours, starting: not "a helper that never started"
        await deps.jobs.save(job)
        try:
            pid = await deps.launcher.start(deps.helper_args(job_id))
        except RomDeckError as err:
            await deps.jobs.save(self._ended(job, BulkState.FAILED, err.message))
            raise
        self._launched[job_id] = pid
        return job

    async def status(self) -> BulkJob:
        """The last job as recorded (``idle`` when there was none).

        A job that is not final while its helper no longer runs (killed, crashed, or never
        started) is recorded and reported as ``failed``; what it wrote is consistent.
        """
        deps = self._deps
        job = await deps.jobs.load()
        if job is None:
            return BulkJob(job_id="", state=BulkState.IDLE, steam_user="")
        if job.state.final:
            return job
        pid = job.pid or self._launched.get(job.job_id, 0)
        # Not started by this process and never recorded by its helper: the plugin
        # restarted after a start whose helper died before it ran.
        never_ran = not pid and job.job_id not in self._launched
        if not never_ran and not (pid and not deps.launcher.is_alive(pid)):
            return job
        again = await deps.jobs.load()  # it may have moved on between the two reads
        if again is not None and (again.state.final or again.pid != job.pid):
            return again
        words = (
            "The import helper never started."
            if never_ran
            else "The import helper stopped before finishing; see bulk-import.log."
        )
        job = self._ended(job, BulkState.FAILED, words + " Sync again to finish the import.")
        await deps.jobs.save(job)
        return job

    async def run_job(self, job_id: str, pid: int) -> BulkJob:
        """Run job ``job_id`` in this (the helper) process, whose id is ``pid``.

        Always ends with the job recorded as ``timed_out``, ``done`` or ``failed`` (an
        exception that is not ours is recorded, logged and raised again). Raises
        ``NotFoundError`` when no such job waits to be run.
        """
        deps = self._deps
        job = await deps.jobs.load()
        if job is None or job.job_id != job_id or job.state is not BulkState.PREPARING:
            raise NotFoundError(f"No bulk import {job_id!r} is waiting to run.")
        job = replace(job, pid=pid)
        await deps.jobs.save(job)
        covers: CoverCache | None = None
        try:
            api = deps.connect()
            covers = deps.covers(api)
            job = await self._work(job, api, covers)
        except RomDeckError as err:
            job = self._ended(job, BulkState.FAILED, _failure_words(err))
        except BaseException as err:
            _log.exception("The bulk import failed unexpectedly")
            await deps.jobs.save(
                self._ended(job, BulkState.FAILED, f"Unexpected error: {type(err).__name__}")
            )
            raise
        finally:
            if covers is not None:
                await covers.clear()
        await deps.jobs.save(job)
        return job

    async def _work(self, job: BulkJob, api: RommCatalogApi, covers: CoverCache) -> BulkJob:
        deps = self._deps
        selection = Selection(frozenset(job.platform_ids), frozenset(job.collection_ids))
        refresh = await deps.refresher.refresh(api, selection)
        entries = await deps.registry.entries(deps.panel_user)
        plan = await asyncio.to_thread(plan_sync, refresh.desired, entries)
        await self._prefetch(covers, [s.cover_path for s in plan.add if s.cover_path])
        count = len(plan.add)
        job = replace(
            job,
            state=BulkState.WAITING_FOR_STEAM_EXIT,
            count=count,
            message=f"Ready to import {count} games: waiting for Steam to close.",
        )
        await deps.jobs.save(job)
        if not await self._steam_exited(deps.steam(job), job.wait_seconds):
            return self._ended(
                job,
                BulkState.TIMED_OUT,
                f"Steam did not close within {job.wait_seconds:g} seconds, so nothing was "
                "written. Start the import again and let Steam restart.",
            )
        began = deps.clock.monotonic()
        job = replace(job, state=BulkState.WRITING, message=f"Writing {count} games")
        await deps.jobs.save(job)
        sync = deps.file_sync(
            job, PreparedRefresh(refresh), RegistryView(deps.registry, deps.panel_user)
        )
        summary = await sync.run(api, covers, selection, steam_users=[job.steam_user])
        done = self._done(job, summary)
        return replace(done, write_seconds=round(deps.clock.monotonic() - began, 3))

    async def _prefetch(self, covers: CoverCache, paths: Sequence[str]) -> None:
        """Fetch covers into the cache while Steam runs; a failure is left for the write
        step, which fetches again and reports it."""
        limiter = asyncio.Semaphore(self._deps.cover_concurrency)

        async def one(path: str) -> None:
            async with limiter:
                try:
                    await covers.fetch_png(path)
                except RomDeckError:
                    return

        await asyncio.gather(*(one(path) for path in dict.fromkeys(paths)))

    async def _steam_exited(self, steam: SteamProcess, bound: float) -> bool:
        clock = self._deps.clock
        deadline = clock.monotonic() + bound
        while await steam.running():
            if clock.monotonic() >= deadline:
                return False
            await clock.sleep(STEAM_POLL_S)
        return True

    def _done(self, job: BulkJob, summary: SyncSummary) -> BulkJob:
        counts = BulkCounts(
            added=summary.added,
            updated=summary.updated,
            removed=summary.removed,
            covers_written=summary.covers_written,
            failures=len(summary.failures),
        )
        words = f"Imported {summary.added} games into Steam"
        if summary.failures:
            words += f"; {len(summary.failures)} problem(s), listed below"
        ended = self._ended(job, BulkState.DONE, words + ".")
        return replace(ended, counts=counts, failures=summary.failures[:MAX_FAILURES_KEPT])

    def _ended(self, job: BulkJob, state: BulkState, message: str) -> BulkJob:
        return replace(job, state=state, message=message, finished_at=self._deps.clock.now_iso())


def _pick_user(steam_user: str, users: Sequence[str]) -> str:
    if steam_user:
        if steam_user not in users:
            known = ", ".join(users) or "none"
            raise SteamNotFoundError(f"No Steam user {steam_user} here (users: {known}).")
        return steam_user
    if len(users) != 1:
        raise InvalidInputError(f"This Steam has {len(users)} users: say which one to import into.")
    return users[0]


def _failure_words(err: RomDeckError) -> str:
    if isinstance(err, SteamRunningError):
        return (
            "Steam started again before RomDeck could write, so nothing was written. "
            "Start the import again."
        )
    return err.message


def job_json(job: BulkJob, pending_adds: int) -> Mapping[str, object]:
    """The wire shape of ``get_bulk_import`` (see ``main.py``)."""
    return {
        "job_id": job.job_id or None,
        "state": job.state.value,
        "message": job.message,
        "count": job.count,
        "counts": {
            "added": job.counts.added,
            "updated": job.counts.updated,
            "removed": job.counts.removed,
            "covers": job.counts.covers_written,
            "failed": job.counts.failures,
        },
        "failures": list(job.failures),
        "started_at": job.started_at or None,
        "finished_at": job.finished_at or None,
        "write_seconds": job.write_seconds,
        "pending_adds": pending_adds,
    }
