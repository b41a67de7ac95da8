"""Library sync driven by the panel while Steam runs (Decky mode).

Steam owns ``shortcuts.vdf`` while it runs, so shortcuts are created by the panel
through ``SteamClient.Apps``. The backend refreshes the catalog in a background task,
then hands the plan out in chunks (``next_chunk``); the panel applies each chunk and
reports the appids Steam assigned (``report_chunk``), which are committed to the
registry at once. The plan is derived from the mirror and the registry, so an
interrupted sync resumes where it stopped: the next plan holds only what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
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
from romdeck.services.library import LibraryRefresher
from romdeck.services.protocols import Clock, RommCatalogApi, ShortcutRegistry, SyncRunLog

PANEL_USER = "steamclient"
"""Registry key for shortcuts the panel made through the Steam client."""


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
class SyncState:
    """What the panel shows: the current step, and the outcome when finished."""

    running: bool = False
    progress: SyncProgress = field(default_factory=lambda: SyncProgress("idle", 0, 0))
    summary: SyncSummary | None = None
    error: RomDeckError | None = None
    remaining: int = 0


class PanelSync:
    """Background refresh plus chunked apply through the panel.

    Args:
        refresher: refreshes the catalog and computes wanted shortcuts.
        registry: where applied chunks are committed.
        runs: sync run log.
        clock: wall and monotonic time.
        connect: returns a client for the saved connection (raises ``NotConfiguredError``).
    """

    def __init__(
        self,
        *,
        refresher: LibraryRefresher,
        registry: ShortcutRegistry,
        runs: SyncRunLog,
        clock: Clock,
        connect: Callable[[], RommCatalogApi],
    ) -> None:
        self._refresher = refresher
        self._registry = registry
        self._runs = runs
        self._clock = clock
        self._connect = connect
        self._task: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._desired: dict[int, ShortcutSpec] = {}
        self._state = SyncState()
        self._run_id = 0
        self._started = 0.0
        self._tally = SyncSummary()

    @property
    def state(self) -> SyncState:
        plan = self._plan() if self._desired else SyncPlan()
        left = len(plan.add) + len(plan.update) + len(plan.remove)
        return replace(self._state, remaining=left)

    def start(self, selection: Selection) -> int:
        """Start a refresh in the background; returns the run id. Raises ``BusyError``."""
        if self._task is not None and not self._task.done():
            raise BusyError("A sync is already running.")
        api = self._connect()
        self._cancel = asyncio.Event()
        self._started = self._clock.monotonic()
        self._run_id = self._runs.start(self._clock.now_iso())
        self._tally = SyncSummary()
        self._state = SyncState(running=True, progress=SyncProgress("platforms", 0, 0))
        self._task = asyncio.create_task(self._refresh(api, selection))
        return self._run_id

    async def _refresh(self, api: RommCatalogApi, selection: Selection) -> None:
        try:
            result = await self._refresher.refresh(
                api, selection, progress=self._on_progress, cancel=self._cancel
            )
        except RomDeckError as err:
            self._finish(error=err)
            return
        self._desired = result.desired
        plan = self._plan()
        self._tally = replace(self._tally, unchanged=plan.unchanged)
        total = len(plan.add) + len(plan.update) + len(plan.remove)
        if total == 0:
            self._finish()
        else:
            self._on_progress(SyncProgress("apply", 0, total, "Adding shortcuts to Steam"))

    def _on_progress(self, progress: SyncProgress) -> None:
        self._state = replace(self._state, progress=progress)

    def _plan(self) -> SyncPlan:
        return plan_sync(self._desired, self._registry.entries(PANEL_USER))

    def next_chunk(self, size: int) -> SyncPlan:
        """The next ``size`` operations of the plan (removals first, then updates, adds)."""
        if size < 1:
            raise InvalidInputError("The chunk size must be at least 1.")
        if not self._desired:
            return SyncPlan()
        plan = self._plan()
        remove = plan.remove[:size]
        update = plan.update[: size - len(remove)]
        add = plan.add[: size - len(remove) - len(update)]
        return SyncPlan(add=add, update=update, remove=remove, unchanged=plan.unchanged)

    def report_chunk(self, results: Sequence[ChunkResult]) -> int:
        """Commit what the panel applied; returns how many ROMs were committed.

        An add needs the appid Steam returned; an update keeps the registered appid.
        Results with an ``error`` are counted as failures and left for the next sync.
        """
        entries: Mapping[int, RegistryEntry] = self._registry.entries(PANEL_USER)
        upserts: list[RegistryEntry] = []
        removed: list[int] = []
        failures: list[str] = []
        for result in results:
            if result.error:
                failures.append(f"ROM {result.rom_id}: {result.error}")
            elif result.removed:
                if result.rom_id in entries:
                    removed.append(result.rom_id)
            elif (spec := self._desired.get(result.rom_id)) is not None:
                old = entries.get(result.rom_id)
                appid = result.appid if result.appid is not None else (old.appid if old else None)
                if appid is None:
                    failures.append(f"ROM {result.rom_id}: Steam gave no appid")
                    continue
                cover = spec.cover_path if result.artwork else (old.cover_key if old else "")
                upserts.append(RegistryEntry(spec=spec, appid=appid & 0xFFFFFFFF, cover_key=cover))
        self._registry.commit(PANEL_USER, upserts=upserts, removed_rom_ids=removed)
        added = sum(1 for e in upserts if e.rom_id not in entries)
        self._tally = replace(
            self._tally,
            added=self._tally.added + added,
            updated=self._tally.updated + len(upserts) - added,
            removed=self._tally.removed + len(removed),
            failures=self._tally.failures + tuple(failures),
        )
        if self._state.running and self._task is not None and self._task.done():
            plan = self._plan()
            left = len(plan.add) + len(plan.update) + len(plan.remove)
            done = self._tally.added + self._tally.updated + self._tally.removed
            self._on_progress(SyncProgress("apply", done, done + left, "Adding shortcuts to Steam"))
            if left == 0 or len(failures) == len(results):
                self._finish()
        return len(upserts) + len(removed)

    async def cancel(self) -> None:
        """Stop the refresh (if running) and end the run; applied chunks stay committed."""
        await self.close()
        if self._state.running:
            self._finish(error=None, status="cancelled")

    def _finish(self, *, error: RomDeckError | None = None, status: str = "") -> None:
        if not self._state.running:
            return
        seconds = round(self._clock.monotonic() - self._started, 3)
        summary = replace(self._tally, seconds=seconds)
        status = status or ("failed" if error else ("partial" if summary.failures else "ok"))
        self._runs.finish(
            self._run_id,
            finished_at=self._clock.now_iso(),
            status=status,
            summary={**asdict(summary), "error": error.message if error else ""},
        )
        self._state = SyncState(
            running=False, progress=self._state.progress, summary=summary, error=error
        )

    async def close(self) -> None:
        """Cancel the background task (for ``_unload``)."""
        self._cancel.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
