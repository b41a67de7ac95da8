"""Installing one ROM: lay its content out in the system folder and record it.

Steps (the queue in :mod:`romdeck.services.downloads` runs them): adopt matching files
already in place, else check free space → download (``.part``, Range resume, retries
and hash checks are the downloader's) → unpack into a hidden staging folder, verify
each file against the server's hashes, add our ``.m3u`` for a multi-disc game → move
into place → record the install with its launch command. A failure leaves nothing
half-written but the downloader's ``.part`` (removed by :meth:`Installer.discard`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from posixpath import basename

from romdeck.domain.downloads import DownloadProgress, DownloadState
from romdeck.domain.layout import (
    ExpectedFile,
    FinalLayout,
    InstallKind,
    InstallPlan,
    PlayTarget,
    final_layout,
    hash_to_check,
    install_argv,
    launch_file_in,
    mismatch,
    plan_install,
)
from romdeck.domain.models import Install, RomDetail
from romdeck.domain.systems import keeps_zip, system_for_platform
from romdeck.errors import DiskFullError, HashMismatchError, InvalidInputError
from romdeck.services.play_protocols import DownloadDeps, RomContentSource

__all__ = ["DownloadDeps", "Installer", "plan_for"]


def plan_for(rom: RomDetail, target: PlayTarget) -> InstallPlan:
    """Where ``rom`` goes under the target's ROMs folder, and how (file, zip, folder)."""
    fs_slug = basename(rom.fs_path.rstrip("/"))
    system = system_for_platform(
        rom.summary.platform_slug, fs_slug, overrides=target.system_overrides
    )
    return plan_install(rom, system=system, roms_root=target.paths.roms, keep_zip=keeps_zip(system))


class Installer:
    """Adopts or downloads, unpacks, verifies and records one planned install.

    The caller reads the client and the target (``deps.connect``, ``deps.target``) once
    per install and passes them in, with the plan made from them.
    """

    def __init__(self, deps: DownloadDeps) -> None:
        self._deps = deps

    def plan(self, rom: RomDetail, target: PlayTarget) -> InstallPlan:
        """Where ``rom`` goes under the target's ROMs folder (:func:`plan_for`)."""
        return plan_for(rom, target)

    async def install(
        self,
        client: RomContentSource,
        rom: RomDetail,
        plan: InstallPlan,
        target: PlayTarget,
        *,
        on_state: Callable[[DownloadState], Awaitable[object]],
        on_progress: Callable[[DownloadProgress], None],
    ) -> Install:
        """Install ``rom`` as ``plan`` says (from :func:`plan_for`) and record it.

        ``on_state`` is told (and awaited) ``DOWNLOADING`` and then, for an archive,
        ``UNPACKING``;
        ``on_progress`` gets the downloader's byte reports. Raises ``InvalidInputError``
        (other files in the way), ``DiskFullError``, ``HashMismatchError``, and the
        client's, downloader's and extractor's errors.
        """
        adopted = await self._adopt(plan, target)
        if adopted is not None:
            return adopted
        await self._check_space(plan)
        await on_state(DownloadState.DOWNLOADING)
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
            on_progress=on_progress,
            keep_partial=True,
        )
        if plan.kind != InstallKind.FILE:
            await on_state(DownloadState.UNPACKING)
        layout = await self._lay_out(plan)
        return await self._record(
            plan, target, layout.root, layout.launch_path, await self._size(layout)
        )

    async def discard(self, plan: InstallPlan) -> None:
        """Remove a stopped download's part, temporary zip and staging folder."""
        tree = self._deps.tree
        await tree.discard_partial(Path(plan.download_path))
        if plan.kind != InstallKind.FILE:
            await tree.remove(Path(plan.download_path))
            await tree.remove(Path(plan.staging_dir))

    async def _size(self, layout: FinalLayout) -> int:
        return sum((await self._deps.tree.file_sizes(Path(layout.root))).values())

    async def _check_space(self, plan: InstallPlan) -> None:
        free = await self._deps.free_space.free_bytes_async(Path(plan.system_dir))
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
        return await self._record(plan, target, str(candidate), launch, sum(sizes.values()))

    async def _record(
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
        await self._deps.store.record(install)
        return install


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
