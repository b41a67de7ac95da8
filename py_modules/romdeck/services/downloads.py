"""The download queue: fetch a ROM's content, lay it out in the system folder, record it.

Flow per ROM (at most ``concurrency`` at once, the rest wait in order): describe it
(``GET /api/roms/{id}``) → plan the layout → install it (the :class:`RomInstaller`
bootstrap passes in: adopt or download, unpack, verify, move into place, record). A
failure or a cancel leaves nothing half-written; a ``.part`` stays only when the
download can resume (pause, unload, a lost connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from posixpath import basename

from romdeck.domain.downloads import DownloadProgress, DownloadState, DownloadStatus, InstalledList
from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest
from romdeck.domain.layout import InstallPlan, is_save_path
from romdeck.domain.models import Install, RomDetail
from romdeck.errors import BusyError, ErrorCode, InvalidInputError, NotFoundError, RomDeckError
from romdeck.services.play_protocols import DownloadDeps, RomInstaller

_log = logging.getLogger(__name__)
_ACTIVE = frozenset({DownloadState.QUEUED, DownloadState.DOWNLOADING, DownloadState.UNPACKING})
_RESUMABLE = frozenset({DownloadState.PAUSED, DownloadState.FAILED})


@dataclass(eq=False)
class _Job:
    status: DownloadStatus
    rom: RomDetail | None = None
    plan: InstallPlan | None = None
    task: asyncio.Task[None] | None = None
    stop: str = ""  # "pause" | "cancel" while the task is being stopped


class DownloadService:
    """Queue, progress, pause/resume/cancel, uninstall and the installed list.

    Background work runs as tracked tasks; :meth:`close` stops them (keeping ``.part``
    files so :meth:`restore` resumes them next time).
    """

    def __init__(self, deps: DownloadDeps, *, installer: RomInstaller) -> None:
        self._deps = deps
        self._installer = installer
        self._jobs: dict[int, _Job] = {}
        self._idle = asyncio.Event()
        self._closed = False
        self._playing: set[int] = set()

    # ---- queue ------------------------------------------------------------------------------
    async def queue(self, rom_ids: Sequence[int]) -> list[DownloadStatus]:
        """Queue each ROM (describing it first), resume a paused or failed one, and report
        an installed one as ``INSTALLED``. Raises ``InvalidInputError`` (bad id),
        ``NotFoundError`` (no such ROM) or the client's connection errors."""
        out: list[DownloadStatus] = []
        for rom_id in rom_ids:
            out.append(await self._queue_one(rom_id))
        self._pump()
        return out

    async def _queue_one(self, rom_id: int) -> DownloadStatus:
        if rom_id <= 0:
            raise InvalidInputError(f"{rom_id} is not a ROM id.")
        known = self._requeue(rom_id)
        if known is not None:
            return await self._persisted(*known)
        installed = await self._deps.store.get(rom_id)
        if installed is not None and await self._deps.tree.exists(Path(installed.launch_path)):
            return DownloadStatus(rom_id, basename(installed.root), DownloadState.INSTALLED)
        rom = await self._deps.connect().get_rom(rom_id)
        known = self._requeue(rom_id)  # another caller queued it while we awaited
        if known is not None:
            return await self._persisted(*known)
        job = _Job(DownloadStatus(rom_id, rom.summary.name, DownloadState.QUEUED), rom=rom)
        self._jobs.pop(rom_id, None)
        self._jobs[rom_id] = job
        return await self._set(job, DownloadState.QUEUED)

    def _requeue(self, rom_id: int) -> tuple[DownloadStatus, bool] | None:
        """The status of a job already queued or running, or of a paused or failed one
        queued again (and whether it changed, so it must be persisted); None when the ROM
        has no such job (no await: callers rely on it)."""
        job = self._jobs.get(rom_id)
        if job is not None and job.status.state in _ACTIVE:
            return job.status, False
        if job is not None and job.status.state in _RESUMABLE:
            return self._mark(job, DownloadState.QUEUED), True
        return None

    async def _persisted(self, status: DownloadStatus, changed: bool) -> DownloadStatus:
        if changed:
            await self._persist(status)
        return status

    async def restore(self) -> None:
        """Re-queue the downloads persisted by a previous run (paused ones stay paused)."""
        for row in await self._deps.store.downloads():
            if row.rom_id in self._jobs:
                continue
            state = DownloadState.PAUSED if row.state == "paused" else DownloadState.QUEUED
            if row.state in ("queued", "downloading", "unpacking", "paused"):
                self._jobs[row.rom_id] = _Job(DownloadStatus(row.rom_id, "", state))
        self._pump()

    def statuses(self) -> list[DownloadStatus]:
        """Every download this run knows, in queue order (finished ones included)."""
        return [job.status for job in self._jobs.values()]

    async def wait_idle(self) -> None:
        """Return once no download is queued or running (headless CLI)."""
        while not self._closed and any(j.status.state in _ACTIVE for j in self._jobs.values()):
            self._idle.clear()
            await self._idle.wait()

    async def pause(self, rom_id: int) -> DownloadStatus:
        """Stop a queued or downloading ROM, keeping its ``.part`` for :meth:`resume`.

        Raises ``NotFoundError`` (not queued) or ``InvalidInputError`` (unpacking/finished).
        """
        job = self._job(rom_id)
        if job.status.state not in (DownloadState.QUEUED, DownloadState.DOWNLOADING):
            raise InvalidInputError(f"{job.status.name or rom_id} cannot be paused now.")
        if not await self._stop(job, "pause"):
            await self._set(job, DownloadState.PAUSED)
        return job.status

    async def resume(self, rom_id: int) -> DownloadStatus:
        """Queue a paused or failed download again; it continues from its ``.part``."""
        job = self._job(rom_id)
        if job.status.state not in _RESUMABLE:
            raise InvalidInputError(f"{job.status.name or rom_id} is not paused.")
        status = self._mark(job, DownloadState.QUEUED)
        self._pump()
        await self._persist(status)
        return status

    async def cancel(self, rom_id: int) -> DownloadStatus:
        """Stop a download and remove everything it wrote, ``.part`` included."""
        job = self._job(rom_id)
        if not await self._stop(job, "cancel"):
            await self._discard(job)
        if self._jobs.get(rom_id) is job:
            del self._jobs[rom_id]
        status = replace(job.status, state=DownloadState.CANCELLED)
        self._deps.on_event(status)
        self._idle.set()
        await self._deps.store.remove_download(rom_id)
        return status

    def _job(self, rom_id: int) -> _Job:
        job = self._jobs.get(rom_id)
        if job is None:
            raise NotFoundError(f"ROM {rom_id} is not in the download queue.")
        return job

    async def _stop(self, job: _Job, why: str) -> bool:
        """Cancel the job's task and wait for it; False when it had none running."""
        task = job.task
        if task is None or task.done():
            return False
        job.stop = why
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def close(self) -> None:
        """Stop every running download (``.part`` kept) and wait for the tasks to end."""
        self._closed = True
        self._idle.set()
        tasks = [job.task for job in self._jobs.values() if job.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- play sessions (a SessionListener of the launch service) -----------------------------
    async def session_started(self, request: StartedRequest, install: Install | None) -> None:
        """The launcher started ROM ``request.rom_id``: it may not be uninstalled until exit."""
        self._playing.add(request.rom_id)

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None:
        """The launcher reported the ROM's emulator exited."""
        self._playing.discard(request.rom_id)

    # ---- installs ---------------------------------------------------------------------------
    async def uninstall(self, rom_id: int) -> int:
        """Remove an installed ROM's files (never saves or states next to them) and its
        record; the Steam shortcut stays. Returns the bytes freed. Raises ``NotFoundError``
        (not installed) or ``BusyError`` (the launcher reported it started and not exited)."""
        install = await self._deps.store.get(rom_id)
        if install is None:
            raise NotFoundError(f"ROM {rom_id} is not installed.")
        if rom_id in self._playing:
            raise BusyError(
                f"{basename(install.root)} is running; quit the game before uninstalling it."
            )
        if rom_id in self._jobs:
            await self.cancel(rom_id)
        root = Path(install.root)
        sizes = await self._deps.tree.file_sizes(root)
        doomed = [path for path in sizes if path == "" or not is_save_path(path)]
        if "" in sizes:
            await self._deps.tree.remove(root)
        elif doomed:
            await self._deps.tree.remove(root, doomed)
        await self._deps.store.remove(rom_id)
        return sum(sizes[path] for path in doomed)

    async def installed(self) -> InstalledList:
        """Every install with its size, summed per platform and in all (bytes)."""
        installs = tuple(await self._deps.store.list())
        by_platform: dict[str, int] = {}
        for install in installs:
            slug = install.platform_slug
            by_platform[slug] = by_platform.get(slug, 0) + install.size_bytes
        return InstalledList(installs, by_platform, sum(by_platform.values()))

    async def free_space(self) -> int:
        """Free bytes on the file system of the ROMs folder."""
        roms = Path((await self._deps.target()).paths.roms)
        return await self._deps.free_space.free_bytes_async(roms)

    # ---- the work ---------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._closed:
            return
        running = sum(1 for job in self._jobs.values() if job.task is not None)
        for job in self._jobs.values():
            if running >= max(self._deps.concurrency, 1):
                break
            if job.status.state == DownloadState.QUEUED and job.task is None:
                job.stop = ""
                job.task = asyncio.create_task(self._run(job), name=f"download-{job.status.rom_id}")
                running += 1

    async def _run(self, job: _Job) -> None:
        try:
            install = await self._install(job)
            self._mark(job, DownloadState.INSTALLED)  # before the await: no pause lands now
            await self._deps.store.remove_download(install.rom_id)
        except asyncio.CancelledError:
            if job.stop == "pause":
                await self._set_quietly(job, DownloadState.PAUSED)
            elif job.stop == "cancel":
                await self._discard(job)
                job.status = replace(job.status, state=DownloadState.CANCELLED)
            else:
                raise
        except RomDeckError as err:
            await self._fail(job, err.code, err.message)
        except Exception as err:  # a bug must not kill the queue silently
            _log.exception("download of ROM %s failed", job.status.rom_id)
            await self._fail(job, ErrorCode.INTERNAL, f"Unexpected error: {err}")
        finally:
            job.task = None
            self._pump()
            self._idle.set()

    async def _fail(self, job: _Job, code: str, message: str) -> None:
        job.status = replace(job.status, error_code=str(code), error_message=message)
        await self._set_quietly(job, DownloadState.FAILED)

    async def _set(self, job: _Job, state: DownloadState) -> DownloadStatus:
        """:meth:`_mark` the job, then persist its row (the store keeps call order)."""
        status = self._mark(job, state)
        await self._persist(status)
        return status

    async def _set_quietly(self, job: _Job, state: DownloadState) -> None:
        """:meth:`_set` for a task that is ending: a database failure is logged (the
        status in memory, which the panel reads, is already set)."""
        try:
            await self._set(job, state)
        except RomDeckError as err:
            _log.warning("could not record ROM %s as %s: %s", job.status.rom_id, state, err)

    def _mark(self, job: _Job, state: DownloadState) -> DownloadStatus:
        """Set the job's state in memory and announce it (no await: callers rely on it)."""
        status = replace(job.status, state=state)
        if state != DownloadState.FAILED:
            status = replace(status, error_code="", error_message="")
        job.status = status
        self._deps.on_event(status)
        self._idle.set()
        return status

    async def _persist(self, status: DownloadStatus) -> None:
        await self._deps.store.set_download(
            status.rom_id,
            status.state.value,
            status.bytes_done,
            status.bytes_total or 0,
            status.error_message,
        )

    def _progress(self, job: _Job, report: DownloadProgress) -> None:
        job.status = replace(
            job.status,
            bytes_done=report.bytes_done,
            bytes_total=report.bytes_total,
            rate_bytes_per_s=report.rate_bytes_per_s,
            eta_seconds=report.eta_seconds,
        )
        self._deps.on_event(job.status)

    async def _install(self, job: _Job) -> Install:
        client = self._deps.connect()
        rom = job.rom or await client.get_rom(job.status.rom_id)
        job.rom = rom
        job.status = replace(job.status, name=rom.summary.name)
        target = await self._deps.target()
        plan = self._installer.plan(rom, target)
        job.plan = plan
        return await self._installer.install(
            client,
            rom,
            plan,
            target,
            on_state=lambda state: self._set(job, state),
            on_progress=lambda report: self._progress(job, report),
        )

    async def _discard(self, job: _Job) -> None:
        """Remove what a stopped download wrote (its plan made again if it had none)."""
        plan = job.plan
        if plan is None and job.rom is not None:
            plan = self._installer.plan(job.rom, await self._deps.target())
        if plan is not None:
            await self._installer.discard(plan)
