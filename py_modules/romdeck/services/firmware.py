"""BIOS use cases: status per platform, download what is missing, delete what we placed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from romdeck.domain.firmware import (
    ANY_OF,
    FileStatus,
    FirmwareStatus,
    Placement,
    decide_status,
    fetch_decision,
    is_safe_bios_path,
    may_replace,
    platform_ready,
    platform_status,
    requirements_for_system,
)
from romdeck.domain.layout import PlayTarget
from romdeck.domain.models import Platform
from romdeck.domain.systems import system_for_platform
from romdeck.errors import (
    HashMismatchError,
    InvalidInputError,
    NotConfiguredError,
    NotFoundError,
    RomDeckError,
)
from romdeck.services.firmware_protocols import (
    BiosFolder,
    CoreInfoSource,
    FirmwarePlacements,
    FirmwareProgress,
    FirmwareServer,
)
from romdeck.services.protocols import Clock

_LIST_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class FirmwareDeps:
    """What :class:`FirmwareService` needs. ``connect`` raises ``NotConfiguredError``
    when signed out; ``target`` reads the emulation target off the loop (its
    ``paths.bios``)."""

    connect: Callable[[], FirmwareServer]
    folder: BiosFolder
    placements: FirmwarePlacements
    cores: CoreInfoSource
    target: Callable[[], Awaitable[PlayTarget]]
    clock: Clock


@dataclass(frozen=True, slots=True)
class PlatformFirmware:
    """One platform's BIOS status: ``system`` is its ES-DE folder; ``placed`` the paths
    RomDeck put there; ``needs_firmware`` false when no emulator we know needs a file."""

    platform: Platform
    system: str
    bios_root: str
    files: tuple[FileStatus, ...]
    placed: frozenset[str]

    @property
    def needs_firmware(self) -> bool:
        return any(f.requirement is not None for f in self.files)

    @property
    def ready(self) -> bool:
        """True when the games can boot: see :func:`platform_ready`."""
        return platform_ready(self.system, self.files)

    @property
    def any_of(self) -> tuple[str, ...]:
        """Paths of which one is needed (``("*",)``: any file), ``()`` when none."""
        return ANY_OF.get(self.system, ())


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What happened to one file: ``outcome`` is ``downloaded``, ``skipped`` or ``failed``;
    ``status`` the file's status afterwards; ``message`` why (skipped/failed);
    ``backup_path`` where a replaced file was moved (``""``: none)."""

    platform_slug: str
    path: str
    outcome: str
    status: FirmwareStatus
    message: str = ""
    error_code: str = ""
    backup_path: str = ""


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """A deleted BIOS file; ``backup_path`` is set when a file we had not placed was
    force-deleted (it is moved to RomDeck's backups, not destroyed)."""

    path: str
    backup_path: str


class FirmwareService:
    """BIOS status and downloads for the current emulation target's bios folder.

    Our md5 decides every status (RomM's ``is_verified`` is only carried along). A
    download is verified against the server's hash, installed atomically, never over a
    verified file, and recorded so that :meth:`delete` removes only files we placed.
    """

    def __init__(self, deps: FirmwareDeps) -> None:
        self._d = deps

    def _bios_root(self, target: PlayTarget) -> str:
        root = target.paths.bios
        if not root.startswith("/"):
            raise NotConfiguredError(
                "This emulation target has no BIOS folder RomDeck knows (a custom target)."
            )
        return root

    async def status(self, platform_slug: str | None = None) -> list[PlatformFirmware]:
        """Status of every platform of the server (or of one, by slug or fs_slug).

        Sources: ``GET /api/platforms``, ``GET /api/firmware?platform_id=`` per platform,
        the installed cores' ``.info`` files (else our table), md5 of the local files.
        Raises ``NotFoundError`` for an unknown slug, ``NotConfiguredError`` when signed
        out or the target has no bios folder, and the server's errors.
        """
        target = await self._d.target()
        root = self._bios_root(target)
        server = self._d.connect()
        platforms = await server.list_platforms()
        if platform_slug is not None:
            wanted = platform_slug.strip().lower()
            platforms = [p for p in platforms if wanted in (p.slug.lower(), p.fs_slug.lower())]
            if not platforms:
                raise NotFoundError(f"The RomM server has no platform {platform_slug!r}.")
        cores = await self._d.cores.installed_cores(target.paths.target)
        placed = await self._d.placements.placed(root)
        gate = asyncio.Semaphore(_LIST_CONCURRENCY)

        async def one(platform: Platform) -> PlatformFirmware:
            system = system_for_platform(
                platform.slug, platform.fs_slug, overrides=target.system_overrides
            )
            async with gate:
                files = await server.list_firmware(platform.id)
            requirements = requirements_for_system(system, cores)
            paths = [r.path for r in platform_status(system, requirements, files, {})]
            local = await self._d.folder.md5s(root, paths)
            rows = platform_status(system, requirements, files, local)
            mine = frozenset(r.path for r in rows if r.path in placed)
            return PlatformFirmware(platform, system, root, rows, mine)

        return list(await asyncio.gather(*(one(p) for p in platforms)))

    async def download(
        self,
        platform_slug: str | None,
        file_names: Sequence[str] = (),
        on_progress: FirmwareProgress | None = None,
    ) -> list[FetchResult]:
        """Download the chosen files (by file name or path; none given: every file the
        server has that is missing or wrong here) of one platform, or of all.

        Each file: downloaded to a staging file beside its place, checked against the
        server's md5 by our own hash, then renamed into place unless that would replace
        a verified file or a wrong one by another wrong one; a replaced file is backed
        up. Per-file failures are results, not exceptions. Raises ``InvalidInputError``
        when a named file is in no requirement or server list (nothing is downloaded).
        """
        platforms = await self.status(platform_slug)
        chosen = self._choose(platforms, file_names)
        results: list[FetchResult] = []
        server = self._d.connect()
        for platform, row in chosen:
            results.append(await self._fetch(server, platform, row, on_progress))
        return results

    def _choose(
        self, platforms: Sequence[PlatformFirmware], file_names: Sequence[str]
    ) -> list[tuple[PlatformFirmware, FileStatus]]:
        rows = [(p, r) for p in platforms for r in p.files]
        if not file_names:
            return [(p, r) for p, r in rows if r.server is not None]
        wanted = {n.strip().lower() for n in file_names if n.strip()}
        chosen = [
            (p, r) for p, r in rows if r.path.lower() in wanted or r.file_name.lower() in wanted
        ]
        known = {r.path.lower() for _, r in chosen} | {r.file_name.lower() for _, r in chosen}
        unknown = sorted(wanted - known)
        if unknown:
            raise InvalidInputError(f"No platform lists these BIOS files: {', '.join(unknown)}.")
        return chosen

    async def _fetch(
        self,
        server: FirmwareServer,
        platform: PlatformFirmware,
        row: FileStatus,
        on_progress: FirmwareProgress | None,
    ) -> FetchResult:
        slug = platform.platform.slug
        decision = fetch_decision(row)
        if not decision.fetch or row.server is None:
            return FetchResult(slug, row.path, "skipped", row.status, decision.reason)
        root, folder = platform.bios_root, self._d.folder
        staged = ""

        def progress(done: int, total: int | None) -> None:
            if on_progress is not None:
                on_progress(row.path, done, total)

        try:
            staged = folder.staging_path(root, row.path)
            await server.download_firmware(row.server, staged, progress)
            new_md5 = await folder.md5_of(staged)
            if row.server.md5 and new_md5 != row.server.md5:
                raise HashMismatchError(
                    f"{row.file_name} from the server has md5 {new_md5}, "
                    f"the server said {row.server.md5}."
                )
            existing = (await folder.md5s(root, [row.path])).get(row.path)
            if not may_replace(row.requirement, existing, new_md5):
                await folder.discard(staged)
                status = decide_status(row.requirement, existing, True)
                return FetchResult(
                    slug, row.path, "skipped", status, "would not improve the file there"
                )
            backup = await folder.install(root, staged, row.path, backup=existing is not None)
        except RomDeckError as error:
            if staged:
                await folder.discard(staged)
            return FetchResult(
                slug, row.path, "failed", row.status, error.message, error.code.value
            )
        except asyncio.CancelledError:
            if staged:
                await asyncio.shield(folder.discard(staged))
            raise
        await self._d.placements.record(
            Placement(root, row.path, new_md5, row.server.id, slug, self._d.clock.now_iso())
        )
        status = decide_status(row.requirement, new_md5, True)
        return FetchResult(slug, row.path, "downloaded", status, backup_path=backup)

    async def delete(self, path: str, *, force: bool = False) -> DeleteResult:
        """Delete a BIOS file (``path`` relative to the bios folder) that RomDeck placed
        and that is unchanged since. ``force``: any file; one we did not place (or that
        changed) is moved to RomDeck's backups instead of destroyed.

        Raises ``InvalidInputError`` (unsafe path, or not ours without ``force``),
        ``NotFoundError`` (no such file).
        """
        path = path.strip()
        if not is_safe_bios_path(path):
            raise InvalidInputError(f"{path!r} is not a path inside the BIOS folder.")
        root = self._bios_root(await self._d.target())
        placement = (await self._d.placements.placed(root)).get(path)
        current = (await self._d.folder.md5s(root, [path])).get(path)
        if current is None:
            raise NotFoundError(f"There is no BIOS file {path} in {root}.")
        ours = placement is not None and placement.md5 == current
        if not ours and not force:
            why = "changed since RomDeck placed it" if placement else "not placed by RomDeck"
            raise InvalidInputError(f"{path} was {why}; delete it with force to remove it.")
        backup = await self._d.folder.remove(root, path, backup=not ours)
        await self._d.placements.forget(root, path)
        return DeleteResult(path, backup)


def platform_json(p: PlatformFirmware) -> dict[str, object]:
    """The wire shape of ``list_firmware`` items (contracts §3), plus ``system``, ``ready``
    (the games can boot), ``any_of`` (paths of which one is needed), and per
    file ``server_verified`` (RomM's ``is_verified``), ``expected_md5s``, ``placed``,
    ``description``. ``md5`` is our md5 of the local file; ``size_bytes`` the server's."""
    return {
        "platform_slug": p.platform.slug,
        "platform_name": p.platform.display_name or p.platform.name,
        "system": p.system,
        "needs_firmware": p.needs_firmware,
        "ready": p.ready,
        "any_of": list(p.any_of),
        "files": [_file_json(f, f.path in p.placed) for f in p.files],
    }


def _file_json(f: FileStatus, placed: bool) -> dict[str, object]:
    req = f.requirement
    return {
        "file_name": f.file_name,
        "path": f.path,
        "required": f.required,
        "status": f.status.value,
        "on_server": f.server is not None,
        "firmware_id": f.server.id if f.server else None,
        "md5": f.md5,
        "size_bytes": f.server.size_bytes if f.server else None,
        "server_verified": f.server.is_verified if f.server else None,
        "expected_md5s": list(req.md5s) if req else [],
        "description": req.description if req else "",
        "placed": placed,
    }


def fetch_json(r: FetchResult) -> dict[str, object]:
    """The wire shape of one ``download_firmware`` result."""
    return {
        "platform_slug": r.platform_slug,
        "path": r.path,
        "outcome": r.outcome,
        "status": r.status.value,
        "message": r.message,
        "error_code": r.error_code or None,
        "backup_path": r.backup_path or None,
    }
