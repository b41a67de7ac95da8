"""The download queue: fetch a ROM's content, lay it out in the system folder, record it.

Flow per ROM (at most ``concurrency`` at once, the rest wait in order): describe it
(``GET /api/roms/{id}``) → plan the layout (:func:`plan_install`) → adopt matching files
already in place, else check free space → download (``.part``, Range resume, retries
and hash checks are the downloader's) → unpack into a hidden staging folder, verify
each file against the server's hashes, add our ``.m3u`` for a multi-disc game → move
into place → record the install with its launch command. A failure or a cancel leaves
nothing half-written; a ``.part`` stays only when the download can resume (pause,
unload, a lost connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from posixpath import basename

from romdeck.domain.downloads import DownloadProgress
from romdeck.domain.layout import (
    ExpectedFile,
    FinalLayout,
    InstallKind,
    InstallPlan,
    PlayTarget,
    final_layout,
    hash_to_check,
    install_argv,
    is_save_path,
    launch_file_in,
    mismatch,
    plan_install,
)
from romdeck.domain.models import Install, RomDetail
from romdeck.domain.systems import keeps_zip, system_for_platform
from romdeck.errors import (
    DiskFullError,
    ErrorCode,
    HashMismatchError,
    InvalidInputError,
    NotFoundError,
    RomDeckError,
)
from romdeck.services.play_protocols import (
    ArchiveExtractor,
    DownloadState,
    DownloadStatus,
    FileHashes,
    FreeSpace,
    InstalledList,
    InstallStore,
    InstallTree,
    RomContentSource,
    RomFileTransfer,
)
from romdeck.services.protocols import Clock

_log = logging.getLogger(__name__)
_ACTIVE = frozenset({DownloadState.QUEUED, DownloadState.DOWNLOADING, DownloadState.UNPACKING})
_RESUMABLE = frozenset({DownloadState.PAUSED, DownloadState.FAILED})


def _ignore(_: DownloadStatus) -> None:
    return None


@dataclass(frozen=True, slots=True)
class DownloadDeps:
    """What the download service needs (built by bootstrap).

    ``connect`` returns a client for the saved connection (raises ``NotConfiguredError``);
    ``target`` reads the emulation target's folders and launch settings; ``on_event``
    receives every status change and progress report (must not block).
    """

    connect: Callable[[], RomContentSource]
    downloader: RomFileTransfer
    extractor: ArchiveExtractor
    hasher: FileHashes
    tree: InstallTree
    free_space: FreeSpace
    store: InstallStore
    target: Callable[[], PlayTarget]
    clock: Clock
    on_event: Callable[[DownloadStatus], None] = _ignore
    concurrency: int = 2


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

    def __init__(self, deps: DownloadDeps) -> None:
        self._deps = deps
        self._jobs: dict[int, _Job] = {}
        self._idle = asyncio.Event()
        self._closed = False

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
        job = self._jobs.get(rom_id)
        if job is not None and job.status.state in _ACTIVE:
            return job.status
        if job is not None and job.status.state in _RESUMABLE:
            return self._set(job, DownloadState.QUEUED)
        installed = self._deps.store.get(rom_id)
        if installed is not None and await self._deps.tree.exists(Path(installed.launch_path)):
            return DownloadStatus(rom_id, basename(installed.root), DownloadState.INSTALLED)
        rom = await self._deps.connect().get_rom(rom_id)
        job = _Job(DownloadStatus(rom_id, rom.summary.name, DownloadState.QUEUED), rom=rom)
        self._jobs.pop(rom_id, None)
        self._jobs[rom_id] = job
        return self._set(job, DownloadState.QUEUED)

    async def restore(self) -> None:
        """Re-queue the downloads persisted by a previous run (paused ones stay paused)."""
        for row in self._deps.store.downloads():
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
            self._set(job, DownloadState.PAUSED)
        return job.status

    async def resume(self, rom_id: int) -> DownloadStatus:
        """Queue a paused or failed download again; it continues from its ``.part``."""
        job = self._job(rom_id)
        if job.status.state not in _RESUMABLE:
            raise InvalidInputError(f"{job.status.name or rom_id} is not paused.")
        status = self._set(job, DownloadState.QUEUED)
        self._pump()
        return status

    async def cancel(self, rom_id: int) -> DownloadStatus:
        """Stop a download and remove everything it wrote, ``.part`` included."""
        job = self._job(rom_id)
        if not await self._stop(job, "cancel"):
            await self._discard(job)
        self._deps.store.remove_download(rom_id)
        self._jobs.pop(rom_id, None)
        status = replace(job.status, state=DownloadState.CANCELLED)
        self._deps.on_event(status)
        self._idle.set()
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

    # ---- installs ---------------------------------------------------------------------------
    async def uninstall(self, rom_id: int) -> int:
        """Remove an installed ROM's files (never saves or states next to them) and its
        record; the Steam shortcut stays. Returns the bytes freed. ``NotFoundError``."""
        install = self._deps.store.get(rom_id)
        if install is None:
            raise NotFoundError(f"ROM {rom_id} is not installed.")
        if rom_id in self._jobs:
            await self.cancel(rom_id)
        root = Path(install.root)
        sizes = await self._deps.tree.file_sizes(root)
        doomed = [path for path in sizes if path == "" or not is_save_path(path)]
        if "" in sizes:
            await self._deps.tree.remove(root)
        elif doomed:
            await self._deps.tree.remove(root, doomed)
        self._deps.store.remove(rom_id)
        return sum(sizes[path] for path in doomed)

    def installed(self) -> InstalledList:
        """Every install with its size, summed per platform and in all (bytes)."""
        installs = tuple(self._deps.store.list())
        by_platform: dict[str, int] = {}
        for install in installs:
            slug = install.platform_slug
            by_platform[slug] = by_platform.get(slug, 0) + install.size_bytes
        return InstalledList(installs, by_platform, sum(by_platform.values()))

    async def free_space(self) -> int:
        """Free bytes on the file system of the ROMs folder."""
        roms = Path(self._deps.target().paths.roms)
        return await asyncio.to_thread(self._deps.free_space.free_bytes, roms)

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
            self._deps.store.remove_download(install.rom_id)
            self._set(job, DownloadState.INSTALLED, persist=False)
        except asyncio.CancelledError:
            if job.stop == "pause":
                self._set(job, DownloadState.PAUSED)
            elif job.stop == "cancel":
                await self._discard(job)
                job.status = replace(job.status, state=DownloadState.CANCELLED)
            else:
                raise
        except RomDeckError as err:
            self._fail(job, err.code, err.message)
        except Exception as err:  # a bug must not kill the queue silently
            _log.exception("download of ROM %s failed", job.status.rom_id)
            self._fail(job, ErrorCode.INTERNAL, f"Unexpected error: {err}")
        finally:
            job.task = None
            self._pump()
            self._idle.set()

    def _fail(self, job: _Job, code: str, message: str) -> None:
        job.status = replace(job.status, error_code=str(code), error_message=message)
        self._set(job, DownloadState.FAILED)

    def _set(self, job: _Job, state: DownloadState, *, persist: bool = True) -> DownloadStatus:
        status = replace(job.status, state=state)
        if state != DownloadState.FAILED:
            status = replace(status, error_code="", error_message="")
        job.status = status
        if persist:
            total = status.bytes_total or 0
            self._deps.store.set_download(
                status.rom_id, state.value, status.bytes_done, total, status.error_message
            )
        self._deps.on_event(status)
        self._idle.set()
        return status

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
        target = self._deps.target()
        plan = _plan(rom, target)
        job.plan = plan
        adopted = await self._adopt(plan, target)
        if adopted is not None:
            return adopted
        await self._check_space(plan)
        self._set(job, DownloadState.DOWNLOADING)
        await self._deps.downloader.download(
            client.content_url(rom),
            Path(plan.download_path),
            headers=client.auth_headers(),
            ssl=client.ssl,
            expected_size=plan.expected.size_bytes or None,
            expected_md5=plan.expected.md5 or None,
            expected_sha1=plan.expected.sha1 or None,
            expected_crc=plan.expected.crc or None,
            force_range=plan.force_range,
            on_progress=lambda report: self._progress(job, report),
            keep_partial=True,
        )
        if plan.kind != InstallKind.FILE:
            self._set(job, DownloadState.UNPACKING)
        layout = await self._lay_out(plan)
        return self._record(plan, target, layout.root, layout.launch_path, await self._size(layout))

    async def _size(self, layout: FinalLayout) -> int:
        return sum((await self._deps.tree.file_sizes(Path(layout.root))).values())

    async def _check_space(self, plan: InstallPlan) -> None:
        free = await asyncio.to_thread(self._deps.free_space.free_bytes, Path(plan.system_dir))
        if free < plan.needed_bytes:
            raise DiskFullError(
                f"{plan.name} needs {_mib(plan.needed_bytes)} free in {plan.system_dir} "
                f"(download and unpacking); only {_mib(free)} are free."
            )

    async def _lay_out(self, plan: InstallPlan) -> FinalLayout:
        """Unpack, verify and move into place; on any failure remove what was written."""
        if plan.kind == InstallKind.FILE:
            return final_layout(plan)
        tree = self._deps.tree
        staging = Path(plan.staging_dir)
        await tree.remove(staging)
        try:
            await self._deps.extractor.extract_async(Path(plan.download_path), staging)
            await tree.remove(Path(plan.download_path))
            sizes = await tree.file_sizes(staging)
            await self._verify_unpacked(plan, staging, sizes)
            layout = final_layout(plan, sorted(sizes))
            if layout.m3u:
                await tree.write_text(Path(layout.m3u_staged), layout.m3u)
            await tree.move(Path(layout.move_from), Path(layout.root))
            return layout
        finally:
            await tree.remove(staging)
            await tree.remove(Path(plan.download_path))

    async def _verify_unpacked(
        self, plan: InstallPlan, staging: Path, sizes: dict[str, int]
    ) -> None:
        expected: list[ExpectedFile] = list(plan.files) if plan.kind == InstallKind.FOLDER else []
        if plan.content is not None and len(sizes) == 1:
            expected = [replace(plan.content, path=next(iter(sizes)))]
        for wanted in expected:
            if wanted.path not in sizes:
                raise HashMismatchError(f"{wanted.path} is missing from the download.")
            reason = await self._compare(staging / wanted.path, wanted, sizes[wanted.path])
            if reason:
                raise HashMismatchError(f"The download is damaged: {reason}.")

    async def _compare(self, path: Path, wanted: ExpectedFile, size: int) -> str:
        algorithm = hash_to_check(wanted)
        if algorithm is None or (wanted.size_bytes and size != wanted.size_bytes):
            return mismatch(wanted, size, {})
        hashes = await self._deps.hasher.hash_file(path, [algorithm])
        return mismatch(wanted, size, hashes)

    async def _adopt(self, plan: InstallPlan, target: PlayTarget) -> Install | None:
        """Record files already in place when they match the server's size and hash.

        Raises ``InvalidInputError`` when something else is in the way."""
        base = Path(plan.adopt_base)
        candidate = base if plan.kind == InstallKind.FOLDER else base / plan.files[0].path
        sizes = await self._deps.tree.file_sizes(candidate)
        if not sizes:
            return None
        for wanted in plan.files:
            key = wanted.path if plan.kind == InstallKind.FOLDER else ""
            path = base / wanted.path
            reason = f"{wanted.path} is missing"
            if key in sizes:
                reason = await self._compare(path, wanted, sizes[key])
            if reason:
                raise InvalidInputError(
                    f"{candidate} already exists and is not the server's copy ({reason}); "
                    "move it away to download this game."
                )
        launch = str(candidate)
        if plan.kind == InstallKind.FOLDER:
            launch = launch_file_in(str(candidate), sorted(sizes))
        return self._record(plan, target, str(candidate), launch, sum(sizes.values()))

    def _record(
        self, plan: InstallPlan, target: PlayTarget, root: str, launch: str, size: int
    ) -> Install:
        install = Install(
            rom_id=plan.rom_id,
            platform_slug=plan.platform_slug,
            system=plan.system,
            root=root,
            launch_path=launch,
            size_bytes=size,
            launch_argv=install_argv(target, system=plan.system, launch_path=launch),
            installed_at=self._deps.clock.now_iso(),
        )
        self._deps.store.record(install)
        return install

    async def _discard(self, job: _Job) -> None:
        """Remove a stopped download's part, temporary zip and staging folder."""
        plan = job.plan
        if plan is None and job.rom is not None:
            plan = _plan(job.rom, self._deps.target())
        if plan is None:
            return
        tree = self._deps.tree
        await tree.discard_partial(Path(plan.download_path))
        if plan.kind != InstallKind.FILE:
            await tree.remove(Path(plan.download_path))
            await tree.remove(Path(plan.staging_dir))


def _plan(rom: RomDetail, target: PlayTarget) -> InstallPlan:
    fs_slug = basename(rom.fs_path.rstrip("/"))
    system = system_for_platform(
        rom.summary.platform_slug, fs_slug, overrides=target.system_overrides
    )
    return plan_install(rom, system=system, roms_root=target.paths.roms, keep_zip=keeps_zip(system))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
