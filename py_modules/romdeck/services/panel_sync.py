"""Library sync driven by the panel while Steam runs (Decky mode).

Steam owns ``shortcuts.vdf`` while it runs, so shortcuts are created by the panel
through ``SteamClient.Apps``. The backend refreshes the catalog in a background task
and computes the plan once; the panel then takes the plan in chunks (``next_chunk``),
applies each and reports the appids Steam assigned (``report_chunk``), which are
committed to the registry at once and struck from the in-memory plan.

A chunk handed out and not yet reported is *leased*: no other caller gets its ROMs
until the lease expires (the panel closed mid-chunk), when they are handed out again.
The plan is derived from the mirror and the registry, so after a backend restart a
new sync plans only what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from romdeck.domain.models import (
    RegistryEntry,
    Selection,
    ShortcutSpec,
    SyncPlan,
    SyncProgress,
    SyncSummary,
)
from romdeck.domain.plan import plan_sync
from romdeck.errors import BusyError, InvalidInputError, RomDeckError
from romdeck.services.protocols import (
    Clock,
    LibraryRefresh,
    RommCatalogApi,
    ShortcutRegistry,
    SyncRunLog,
)

PANEL_USER = "steamclient"
"""Registry key for shortcuts the panel made through the Steam client."""

LEASE_SECONDS = 120.0
"""How long (seconds, monotonic) a handed-out chunk stays reserved for its caller."""

_log = logging.getLogger(__name__)

_Op = RegistryEntry | tuple[RegistryEntry, ShortcutSpec] | ShortcutSpec
"""One pending operation: a removal, an update (old entry, new spec) or an add."""


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """The panel's report for one ROM: the appid Steam gave, or that it was removed.

    ``artwork``: the panel set the ROM's cover (from ``get_artwork``) as its portrait art,
    so the registry records that cover and later syncs don't ask for it again.
    """

    rom_id: int
    appid: int | None = None
    removed: bool = False
    error: str = ""
    artwork: bool = False


@dataclass(frozen=True, slots=True)
class ChunkReport:
    """The answer to a report: what was committed, and what the panel must do with the
    shortcuts it created that were not.

    ``committed``: ROMs committed to the registry. ``orphans``: unsigned appids of
    shortcuts the panel reported creating that nothing will ever own: the ROM was
    committed under another appid (another caller reported it first, e.g. after this
    lease expired) or is no longer wanted; the panel removes them. ``kept``: ROM ids
    whose created shortcut was neither committed nor orphaned because no plan is loaded
    (the backend restarted and no sync has planned yet); the panel keeps them for reuse.
    """

    committed: int
    orphans: tuple[int, ...] = ()
    kept: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Chunk:
    """One leased slice of the plan.

    ``lease_id`` is None (and the plan empty) when nothing is left to hand out: all
    done, or everything left is leased to another caller. ``remaining``: operations of
    the plan not yet reported (leased ones included). ``lease_seconds``: how long the
    caller has to report before the chunk is handed out again. ``planned``: a sync has
    planned since the backend started (False: nothing is known of what is wanted, e.g.
    after a restart, so an empty chunk does not mean that everything is done).
    """

    lease_id: str | None
    plan: SyncPlan
    remaining: int
    lease_seconds: float
    planned: bool = False


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the panel shows: the current step, and the outcome when finished."""

    running: bool = False
    progress: SyncProgress = field(default_factory=lambda: SyncProgress("idle", 0, 0))
    summary: SyncSummary | None = None
    error: RomDeckError | None = None
    remaining: int = 0


@dataclass(slots=True)
class _Lease:
    rom_ids: tuple[int, ...]
    expires: float


class PanelSync:
    """Background refresh plus chunked, leased apply through the panel.

    Args:
        refresher: refreshes the catalog and computes wanted shortcuts.
        registry: where applied chunks are committed.
        runs: sync run log.
        clock: wall and monotonic time (leases use ``monotonic``).
        connect: returns a client for the saved connection (raises ``NotConfiguredError``).
        lease_seconds: how long a handed-out chunk is reserved (seconds).
    """

    def __init__(
        self,
        *,
        refresher: LibraryRefresh,
        registry: ShortcutRegistry,
        runs: SyncRunLog,
        clock: Clock,
        connect: Callable[[], RommCatalogApi],
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._refresher = refresher
        self._registry = registry
        self._runs = runs
        self._clock = clock
        self._connect = connect
        self._lease_seconds = lease_seconds
        self._task: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._state = SyncState()
        self._run_id = 0
        self._started = 0.0
        self._tally = SyncSummary()
        self._reset_plan()

    def _reset_plan(self) -> None:
        self._desired: dict[int, ShortcutSpec] = {}
        self._entries: dict[int, RegistryEntry] = {}
        self._removes: dict[int, RegistryEntry] = {}
        self._updates: dict[int, tuple[RegistryEntry, ShortcutSpec]] = {}
        self._adds: dict[int, ShortcutSpec] = {}
        self._leased: dict[int, str] = {}
        self._leases: dict[str, _Lease] = {}
        self._lease_serial = 0
        self._total = 0
        self._planned = False

    @property
    def remaining(self) -> int:
        """Operations of the current plan not yet reported (memory only)."""
        return len(self._removes) + len(self._updates) + len(self._adds)

    @property
    def state(self) -> SyncState:
        """The live state, read from memory only (the panel polls it every second)."""
        return replace(self._state, remaining=self.remaining)

    async def start(self, selection: Selection) -> int:
        """Start a refresh in the background; returns the run id. Raises ``BusyError``.

        A run still waiting for chunks (the panel went away) is ended as ``cancelled``
        first; what it committed stays.
        """
        if self._task is not None and not self._task.done():
            raise BusyError("A sync is already running.")
        api = self._connect()
        if self._state.running:
            await self._finish(status="cancelled")
        self._reset_plan()
        self._cancel = asyncio.Event()
        self._started = self._clock.monotonic()
        self._tally = SyncSummary()
        self._state = SyncState(running=True, progress=SyncProgress("platforms", 0, 0))
        try:
            self._run_id = await self._runs.start(self._clock.now_iso())
        except RomDeckError:
            self._state = SyncState()
            raise
        self._task = asyncio.create_task(self._refresh(api, selection))
        return self._run_id

    async def _refresh(self, api: RommCatalogApi, selection: Selection) -> None:
        """The background task: it always ends with the run finished or the apply step."""
        try:
            result = await self._refresher.refresh(
                api, selection, progress=self._on_progress, cancel=self._cancel
            )
            entries = await self._registry.entries(PANEL_USER)
            plan = await asyncio.to_thread(plan_sync, result.desired, entries)  # CPU, off the loop
        except RomDeckError as err:
            await self._finish(error=err)
            return
        except Exception as err:  # not ours: the run must still end, loudly
            _log.exception("The library refresh failed unexpectedly")
            await self._finish(error=RomDeckError(f"Unexpected error: {type(err).__name__}"))
            return
        self._desired = result.desired
        self._entries = entries
        self._removes = {e.rom_id: e for e in plan.remove}
        self._updates = {spec.rom_id: (e, spec) for e, spec in plan.update}
        self._adds = {spec.rom_id: spec for spec in plan.add}
        self._planned = True
        self._total = self.remaining
        self._tally = replace(self._tally, unchanged=plan.unchanged)
        if self._total == 0:
            await self._finish()
        else:
            self._on_progress(SyncProgress("apply", 0, self._total, "Adding shortcuts to Steam"))

    def _on_progress(self, progress: SyncProgress) -> None:
        self._state = replace(self._state, progress=progress)

    def _expire_leases(self) -> None:
        now = self._clock.monotonic()
        for lease_id in [k for k, lease in self._leases.items() if lease.expires <= now]:
            self._release(lease_id)

    def _release(self, lease_id: str) -> None:
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            return
        for rom_id in lease.rom_ids:
            if self._leased.get(rom_id) == lease_id:
                del self._leased[rom_id]

    def next_chunk(self, size: int) -> Chunk:
        """Lease the next ``size`` operations not leased to anyone (removals first, then
        updates, then adds, each by ROM id). Raises ``InvalidInputError`` for ``size < 1``.
        """
        if size < 1:
            raise InvalidInputError("The chunk size must be at least 1.")
        self._expire_leases()
        removes: list[RegistryEntry] = []
        updates: list[tuple[RegistryEntry, ShortcutSpec]] = []
        adds: list[ShortcutSpec] = []
        left = size
        for pending, out in (
            (self._removes, removes),
            (self._updates, updates),
            (self._adds, adds),
        ):
            if left == 0:
                break
            for rom_id, op in pending.items():
                if rom_id in self._leased:
                    continue
                out.append(op)  # type: ignore[arg-type]  # each list takes its dict's values
                left -= 1
                if left == 0:
                    break
        rom_ids = (
            tuple(e.rom_id for e in removes)
            + tuple(s.rom_id for _, s in updates)
            + tuple(s.rom_id for s in adds)
        )
        if not rom_ids:
            return Chunk(None, SyncPlan(), self.remaining, self._lease_seconds, self._planned)
        self._lease_serial += 1
        lease_id = f"{self._run_id}-{self._lease_serial}"
        self._leases[lease_id] = _Lease(rom_ids, self._clock.monotonic() + self._lease_seconds)
        for rom_id in rom_ids:
            self._leased[rom_id] = lease_id
        plan = SyncPlan(add=tuple(adds), update=tuple(updates), remove=tuple(removes))
        return Chunk(lease_id, plan, self.remaining, self._lease_seconds, self._planned)

    async def report_chunk(self, lease_id: str, results: Sequence[ChunkResult]) -> ChunkReport:
        """Commit what the panel applied; returns what was committed and the orphans.

        The lease ends. An add needs the appid Steam returned; an update keeps the
        registered appid. A result for a ROM no longer in the plan (already committed
        from another lease, e.g. after this lease expired) is not committed again: its
        appid, when it is not the registered one, is an orphan (see :class:`ChunkReport`).
        Results with an ``error`` are counted as failures and left for the next sync.
        Raises ``StateError`` when the registry cannot be written (the plan is kept).
        """
        self._release(lease_id)
        upserts: list[RegistryEntry] = []
        removed: list[int] = []
        failures: list[str] = []
        taken: dict[int, _Op] = {}
        orphans: list[int] = []
        kept: list[int] = []
        for result in results:
            rom_id = result.rom_id
            if rom_id in taken:
                continue
            op = self._take(rom_id)
            if op is None:
                self._unowned(result, orphans, kept)
                continue
            taken[rom_id] = op
            if result.error:
                failures.append(f"ROM {rom_id}: {result.error}")
            elif isinstance(op, RegistryEntry):
                if result.removed:
                    removed.append(rom_id)
                else:
                    failures.append(f"ROM {rom_id}: not reported as removed")
            else:
                old, spec = op if isinstance(op, tuple) else (None, op)
                assert isinstance(spec, ShortcutSpec)
                appid = result.appid if result.appid is not None else (old.appid if old else None)
                if appid is None:
                    failures.append(f"ROM {rom_id}: Steam gave no appid")
                    continue
                cover = spec.cover_path if result.artwork else (old.cover_key if old else "")
                upserts.append(RegistryEntry(spec=spec, appid=appid & 0xFFFFFFFF, cover_key=cover))
        try:
            if upserts or removed:
                await self._registry.commit(PANEL_USER, upserts=upserts, removed_rom_ids=removed)
        except BaseException:
            for rom_id, op in taken.items():
                self._put_back(rom_id, op)
            raise
        added = sum(1 for e in upserts if e.rom_id not in self._entries)
        for rom_id in removed:
            self._entries.pop(rom_id, None)
        self._entries.update((e.rom_id, e) for e in upserts)
        self._tally = replace(
            self._tally,
            added=self._tally.added + added,
            updated=self._tally.updated + len(upserts) - added,
            removed=self._tally.removed + len(removed),
            failures=self._tally.failures + tuple(failures),
        )
        if self._state.running and self._task is not None and self._task.done():
            left = self.remaining
            self._on_progress(
                SyncProgress("apply", self._total - left, self._total, "Adding shortcuts to Steam")
            )
            if left == 0:
                await self._finish()
        return ChunkReport(len(upserts) + len(removed), tuple(orphans), tuple(kept))

    def _unowned(self, result: ChunkResult, orphans: list[int], kept: list[int]) -> None:
        """Sort a created shortcut whose ROM has no pending operation: orphan or kept."""
        if result.appid is None or result.error or result.removed:
            return
        appid = result.appid & 0xFFFFFFFF
        if not self._planned:
            kept.append(result.rom_id)
            return
        entry = self._entries.get(result.rom_id)
        if entry is None or entry.appid != appid:
            orphans.append(appid)

    def _take(self, rom_id: int) -> _Op | None:
        self._leased.pop(rom_id, None)
        if rom_id in self._removes:
            return self._removes.pop(rom_id)
        if rom_id in self._updates:
            return self._updates.pop(rom_id)
        return self._adds.pop(rom_id, None)

    def _put_back(self, rom_id: int, op: _Op) -> None:
        if isinstance(op, RegistryEntry):
            self._removes[rom_id] = op
        elif isinstance(op, tuple):
            self._updates[rom_id] = op
        else:
            self._adds[rom_id] = op

    async def cancel(self) -> None:
        """Stop the refresh (if running) and end the run; applied chunks stay committed."""
        await self.close()
        if self._state.running:
            await self._finish(status="cancelled")
        self._reset_plan()

    async def _finish(self, *, error: RomDeckError | None = None, status: str = "") -> None:
        if not self._state.running:
            return
        seconds = round(self._clock.monotonic() - self._started, 3)
        summary = replace(self._tally, seconds=seconds)
        status = status or ("failed" if error else ("partial" if summary.failures else "ok"))
        self._state = SyncState(
            running=False, progress=self._state.progress, summary=summary, error=error
        )
        try:
            await self._runs.finish(
                self._run_id,
                finished_at=self._clock.now_iso(),
                status=status,
                summary={**asdict(summary), "error": error.message if error else ""},
            )
        except Exception:  # the state above already ended the run; keep the trace
            _log.exception("Could not record the end of sync run %s", self._run_id)

    async def close(self) -> None:
        """Cancel the background task (for ``_unload``)."""
        self._cancel.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
