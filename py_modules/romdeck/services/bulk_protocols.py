"""Ports of the bulk import service (bootstrap gives the adapters)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from romdeck.domain.bulk_import import BulkJob
from romdeck.domain.models import Selection, SyncProgress, SyncSummary
from romdeck.services.protocols import CoverFetcher, ProgressSink, RommCatalogApi


class BulkJobStore(Protocol):
    """The one stored bulk import job (``JsonBulkJobFile``)."""

    async def load(self) -> BulkJob | None:
        """The last job, None when there was none (a damaged record reads as failed)."""
        ...

    async def save(self, job: BulkJob) -> None:
        """Replace the record atomically. Raises ``StateError``."""
        ...


class HelperLauncher(Protocol):
    """Starts ``romdeck`` CLI commands detached (``DetachedHelperLauncher``)."""

    async def start(self, args: Sequence[str]) -> int:
        """Start ``romdeck <args>``; returns its pid. Raises ``StateError``."""
        ...

    def is_alive(self, pid: int) -> bool: ...


class CoverCache(CoverFetcher, Protocol):
    """Covers kept on disk from the preparation until the grid is written."""

    async def clear(self) -> None: ...


def _noop(_: SyncProgress) -> None:
    return None


class HeadlessSync(Protocol):
    """The headless sync (``FileSync``): writes shortcuts.vdf, the grid and collections."""

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
    ) -> SyncSummary: ...
