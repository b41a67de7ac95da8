"""Bulk import: the record of one "import while Steam restarts" job, and its states.

A job is started by the panel when a sync would create more shortcuts than is safe in
one Steam session; a detached helper process prepares it while Steam runs, waits for
Steam to exit, writes ``shortcuts.vdf``, the grid art and the cloud-storage collections
headless, and records how it ended. The record is what the panel reads after Steam
restarted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

WAIT_FOR_STEAM_EXIT_S = 120.0
"""How long (seconds) the helper waits for Steam to exit before giving up, writing nothing."""


class BulkState(StrEnum):
    """Where a bulk import job is. ``done``, ``failed`` and ``timed_out`` are final."""

    IDLE = "idle"
    PREPARING = "preparing"
    """The helper refreshes the catalog and fetches covers while Steam still runs."""
    WAITING_FOR_STEAM_EXIT = "waiting_for_steam_exit"
    """Ready: the panel asks Steam to restart; the helper waits for it to exit."""
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    """Steam did not exit within the bound: nothing was written."""

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({BulkState.IDLE, BulkState.DONE, BulkState.FAILED, BulkState.TIMED_OUT})


@dataclass(frozen=True, slots=True)
class BulkCounts:
    """What the headless write did (``SyncSummary`` numbers; ``failures`` is a count)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    covers_written: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class BulkJob:
    """One bulk import job as stored between the plugin and its helper.

    ``job_id``: an opaque id (``"<unix seconds>-<pid>"``). ``steam_user``: the Steam
    account id (userdata folder) written. ``platform_ids``/``collection_ids``: the
    selection to import. ``count``: shortcuts the plan adds (known when prepared).
    ``wait_seconds``: the bound on waiting for Steam to exit. ``pid``: the helper's
    process id (0 until started). ``steam_dir``/``proc_root``: overrides of the Steam
    folder and the process table (tests); empty means the defaults. Times are ISO 8601
    UTC strings, empty until reached. ``failures``: the failure texts, at most 20.
    ``write_seconds``: see the field.
    """

    job_id: str
    state: BulkState
    steam_user: str
    platform_ids: tuple[int, ...] = ()
    collection_ids: tuple[int, ...] = ()
    count: int = 0
    message: str = ""
    counts: BulkCounts = field(default_factory=BulkCounts)
    failures: tuple[str, ...] = ()
    wait_seconds: float = WAIT_FOR_STEAM_EXIT_S
    pid: int = 0
    started_at: str = ""
    finished_at: str = ""
    steam_dir: str = ""
    proc_root: str = ""
    write_seconds: float = 0.0
    """Seconds from seeing Steam gone to everything written (the window Steam must stay shut)."""


MAX_FAILURES_KEPT = 20
