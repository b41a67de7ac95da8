"""Save sync for one ROM or all: before launch (bounded), after exit, manual; never loses a save.

For each candidate save file of an installed ROM, the local md5, the newest save in
RomM's ``autosave`` slot and the baseline of our last sync give a verdict
(:func:`romdeck.domain.save_sync.decide`). A download first keeps a backup of the local
file; a conflict stores the server's bytes beside ours and records it, replacing nothing;
RomM's 409 on upload becomes a conflict. When RomM cannot be reached the ROM is marked
pending and synced at the next chance (:meth:`SaveService.sync_pending`).

Where RomM has ``/api/sync/negotiate`` the sync runs in one of its sessions (uploads and
downloads carry ``session_id``; the session is completed with the tally); RomM's verdict
only makes ours safer (:func:`romdeck.domain.save_negotiate.safer`). A server without the
route is remembered by version and synced through the plain endpoints. Downloads are
fetched with ``optimistic=false`` and confirmed (``/downloaded``) only once the file is in
place, so a download cut short never makes RomM believe this device holds the save.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from posixpath import basename

from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest
from romdeck.domain.models import Install
from romdeck.domain.save_negotiate import (
    NegotiateSave,
    Negotiation,
    NoNegotiation,
    SyncOperation,
    operation_for,
    safer,
)
from romdeck.domain.save_states import is_state_name
from romdeck.domain.save_sync import (
    AUTOSAVE_SLOT,
    SaveAction,
    ServerSave,
    SlotConflict,
    decide,
    newest_in_slot,
)
from romdeck.errors import InvalidInputError, NotFoundError, RomDeckError, ServerUnreachableError
from romdeck.services.protocols import Clock
from romdeck.services.saves_protocols import (
    Backup,
    Baseline,
    Conflict,
    LocalSave,
    SaveFiles,
    SaveLocator,
    SaveServer,
    SaveStateStore,
    SaveTarget,
    StateSyncer,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SaveConfig:
    """``timeout``: seconds a pre-launch sync may take before the game starts anyway;
    ``keep_backups``: backups kept per save file; ``backup_max_age_days``: older ones go
    (the newest backup of a file is always kept); ``hostname``/``device_name`` for RomM."""

    timeout: float = 5.0
    keep_backups: int = 10
    backup_max_age_days: int = 30
    hostname: str = "steamdeck"
    device_name: str = "RomDeck"


@dataclass
class SyncReport:
    """What one ROM's sync did, per local file name (``skip``/``upload``/``download``/
    ``conflict``); ``pending`` holds the reason it must be retried (``""``: done)."""

    rom_id: int
    actions: dict[str, str] = field(default_factory=dict)
    pending: str = ""
    session_id: int | None = None
    """RomM's sync session (``/api/sync/negotiate``) the sync ran in; ``None``: plain endpoints."""


@dataclass
class _Run:
    """One negotiated session's tally: operations done and failed (a refused upload)."""

    session_id: int | None
    completed: int = 0
    failed: int = 0


class SaveService:
    """Keeps a ROM's local saves and RomM's ``autosave`` slot in step (see the module docstring)."""

    def __init__(
        self, *, server: SaveServer, locator: SaveLocator, files: SaveFiles,
        store: SaveStateStore, clock: Clock, config: SaveConfig = SaveConfig(),
        states: StateSyncer | None = None,
    ) -> None:  # fmt: skip
        self._server = server
        self._locator = locator
        self._files = files
        self._store = store
        self._clock = clock
        self._config = config
        self._states = states
        self._locks: dict[int, asyncio.Lock] = {}

    # ---- entry points -----------------------------------------------------------------------
    async def before_launch(self, rom_id: int) -> SyncReport:
        """Sync one ROM, giving up after ``config.timeout`` s: the game then starts with its
        local save and the ROM is marked pending. Never raises for a server problem."""
        try:
            return await asyncio.wait_for(self.sync_rom(rom_id), self._config.timeout)
        except TimeoutError:
            await self._store.mark_pending(rom_id, "timed out before launch", self._clock.now_iso())
            return SyncReport(rom_id, pending="timed out before launch")

    async def after_exit(self, rom_id: int) -> SyncReport:
        """Sync one ROM after its emulator exited (uploads what changed)."""
        return await self.sync_rom(rom_id)

    async def sync_pending(self) -> list[SyncReport]:
        """Retry every ROM marked pending."""
        return [await self.sync_rom(rom_id) for rom_id in sorted(await self._store.pending())]

    async def sync_rom(self, rom_id: int) -> SyncReport:
        """Sync one installed ROM's saves. A server that cannot be reached (or answers
        badly) marks the ROM pending instead of raising; local files are never lost."""
        lock = self._locks.setdefault(rom_id, asyncio.Lock())
        async with lock:
            try:
                report = await self._sync(rom_id)
            except RomDeckError as exc:
                await self._store.mark_pending(rom_id, exc.message, self._clock.now_iso())
                return SyncReport(rom_id, pending=exc.message)
            await self._store.clear_pending(rom_id)
            return report

    # ---- conflicts and backups -------------------------------------------------------------
    async def resolve(self, conflict_id: int, keep: str) -> Conflict:
        """Settle a conflict: ``keep="local"`` uploads the local file, ``"server"`` puts the
        server's copy in place (the local file backed up first). Both versions stay
        available (the other one as a backup). Raises ``InvalidInputError``/``NotFoundError``."""
        if keep not in ("local", "server"):
            raise InvalidInputError("Choose which save to keep: local or server.")
        found = [c for c in await self._store.conflicts() if c.id == conflict_id]
        if not found:
            raise NotFoundError(f"There is no open save conflict {conflict_id}.")
        conflict = found[0]
        if self._states is not None and is_state_name(conflict.file_name):
            await self._states.resolve(conflict, keep)
            await self._store.resolve_conflict(conflict.id, keep)
            await self._files.remove_copy(conflict.server_copy)
            return conflict
        target = await self._locator.locate(conflict.rom_id)
        local = await self._files.read(conflict.local_path)
        server_copy = await self._files.read(conflict.server_copy)
        if server_copy is None:
            raise NotFoundError(f"The server's copy {conflict.server_copy} is gone.")
        device = await self._device()
        if keep == "server":
            if local is not None:
                await self._backup(conflict.rom_id, local, "conflict")
            await self._files.write(conflict.local_path, server_copy.data)
            kept, save_id = server_copy.md5, conflict.server_save_id
            await self._server.confirm_downloaded(save_id, device_id=device)
        else:
            if local is None or target is None:
                raise NotFoundError(f"The local save {conflict.local_path} is gone.")
            await self._backup(conflict.rom_id, server_copy, "conflict", conflict.local_path)
            # the user has seen the server's save and chose to supersede it
            await self._server.confirm_downloaded(conflict.server_save_id, device_id=device)
            uploaded = await self._upload(target, local, device)
            if isinstance(uploaded, SlotConflict):
                raise InvalidInputError("RomM got an even newer save meanwhile; sync again first.")
            kept, save_id = local.md5, uploaded.id
        await self._set_baseline(conflict.rom_id, conflict.file_name, kept, save_id)
        await self._store.resolve_conflict(conflict.id, keep)
        await self._files.remove_copy(conflict.server_copy)
        return conflict

    async def restore(self, backup_id: int) -> Backup:
        """Put a backup back in place (the current file backed up first). ``NotFoundError``."""
        backup = await self._store.backup(backup_id)
        copy = None if backup is None else await self._files.read(backup.backup_path)
        if backup is None or copy is None:
            raise NotFoundError(f"There is no save backup {backup_id}.")
        current = await self._files.read(backup.original_path)
        if current is not None and current.md5 != copy.md5:
            await self._backup(backup.rom_id, current, "restore")
        await self._files.write(backup.original_path, copy.data)
        return backup

    # ---- one ROM ----------------------------------------------------------------------------
    async def _sync(self, rom_id: int) -> SyncReport:
        report = SyncReport(rom_id)
        target = await self._locator.locate(rom_id)
        if target is None:
            return report
        device = await self._device()
        try:
            saves = await self._server.list_saves(rom_id, device_id=device)
        except NotFoundError:
            if await self._server.device_exists(device):
                raise
            device = await self._register()
            saves = await self._server.list_saves(rom_id, device_id=device)
        files = [(path, await self._files.read(path)) for path in target.paths]
        negotiation = await self._negotiate(target, [f for _, f in files if f is not None], device)
        run = _Run(None if negotiation is None else negotiation.session_id)
        for path, local in files:
            op = None
            if negotiation is not None:
                op = operation_for(negotiation.operations, rom_id, basename(path), AUTOSAVE_SLOT)
            action = await self._sync_file(target, path, local, saves, device, op, run)
            if action is not None:
                report.actions[basename(path)] = action
        if negotiation is not None:
            report.session_id = negotiation.session_id
            await self._complete(run)
        if self._states is not None and self._states.enabled():
            report.actions.update(await self._states.sync_rom(rom_id))
        return report

    async def _negotiate(
        self, target: SaveTarget, locals_: list[LocalSave], device: str
    ) -> Negotiation | None:
        """RomM's plan for this ROM, or ``None`` where the server has no negotiate (that is
        remembered per server version, so an older server costs one heartbeat a sync)."""
        missing_on = await self._store.negotiate_missing_on()
        if missing_on is not None and await self._server.server_version() == missing_on:
            return None
        result = await self._server.negotiate(device, [
            NegotiateSave(target.rom_id, basename(f.path), AUTOSAVE_SLOT, target.emulator,
                          f.md5, f.modified_at or self._clock.now_iso(), len(f.data))
            for f in locals_
        ])  # fmt: skip
        if isinstance(result, NoNegotiation):
            if result.route_missing:
                await self._store.set_negotiate_missing_on(await self._server.server_version())
            _log.info("RomM did not negotiate (%s); using the plain save endpoints", result.detail)
            return None
        if missing_on is not None:
            await self._store.set_negotiate_missing_on(None)
        return result

    async def _complete(self, run: _Run) -> None:
        """Close the session; one left open is cancelled by RomM at the next negotiate."""
        if run.session_id is None:
            return
        try:
            await self._server.complete_session(
                run.session_id, completed=run.completed, failed=run.failed
            )
        except RomDeckError as exc:
            _log.warning("Sync session %s not closed: %s", run.session_id, exc.message)

    async def _sync_file(
        self, target: SaveTarget, path: str, local: LocalSave | None, saves: list[ServerSave],
        device: str, op: SyncOperation | None, run: _Run,
    ) -> str | None:  # fmt: skip
        name = basename(path)
        remote = newest_in_slot(saves, name)
        if local is None and remote is None:
            return None
        base = await self._store.baseline(target.rom_id, name)
        verdict = decide(
            local.md5 if local else None,
            remote.content_hash if remote else None,
            base.content_hash if base else None,
        )
        if local is not None and remote is not None:
            verdict = safer(verdict, op)
        if verdict.action is SaveAction.SKIP:
            if local is not None and (base is None or base.content_hash != local.md5):
                await self._set_baseline(
                    target.rom_id, name, local.md5, remote.id if remote else None
                )
        elif verdict.action is SaveAction.UPLOAD and local is not None:
            uploaded = await self._upload(target, local, device, run.session_id)
            if isinstance(uploaded, SlotConflict):
                run.failed += 1
                if remote is None:  # RomM saw a newer save we were not listed: retry later
                    raise ServerUnreachableError("RomM refused the upload; will retry.")
                await self._conflict(target.rom_id, local, remote, device)
                return SaveAction.CONFLICT.value
            run.completed += 1
            await self._set_baseline(target.rom_id, name, local.md5, uploaded.id)
        elif verdict.action is SaveAction.DOWNLOAD and remote is not None:
            data = await self._server.download_save(
                remote.id, device_id=device, session_id=run.session_id
            )
            if local is not None:
                await self._backup(target.rom_id, local, "download")
            await self._files.write(path, data)
            await self._set_baseline(target.rom_id, name, remote.content_hash, remote.id)
            await self._server.confirm_downloaded(remote.id, device_id=device)
            run.completed += 1
        elif verdict.action is SaveAction.CONFLICT and local is not None and remote is not None:
            await self._conflict(target.rom_id, local, remote, device)
        return verdict.action.value

    async def _conflict(
        self, rom_id: int, local: LocalSave, remote: ServerSave, device: str
    ) -> None:
        open_ = [
            c for c in await self._store.conflicts(rom_id) if c.file_name == basename(local.path)
        ]
        if (
            open_
            and open_[0].server_hash == remote.content_hash
            and open_[0].local_hash == local.md5
        ):
            return
        data = await self._server.download_save(remote.id, device_id=device)
        copy = await self._files.keep_copy("conflicts", rom_id, basename(local.path), data)
        await self._store.add_conflict(Conflict(
            id=0, rom_id=rom_id, file_name=basename(local.path), local_path=local.path,
            local_hash=local.md5, server_hash=remote.content_hash, server_save_id=remote.id,
            server_copy=copy, created_at=self._clock.now_iso(),
        ))  # fmt: skip

    async def _upload(
        self, target: SaveTarget, local: LocalSave, device: str, session_id: int | None = None
    ) -> ServerSave | SlotConflict:
        return await self._server.upload_save(
            rom_id=target.rom_id, emulator=target.emulator, file_name=basename(local.path),
            data=local.data, device_id=device, session_id=session_id,
        )  # fmt: skip

    async def _backup(
        self, rom_id: int, save: LocalSave, reason: str, original: str | None = None
    ) -> Backup:
        name = basename(original or save.path)
        path = await self._files.keep_copy("backups", rom_id, name, save.data)
        backup = await self._store.add_backup(Backup(
            id=0, rom_id=rom_id, file_name=name, original_path=original or save.path,
            backup_path=path, content_hash=save.md5, size_bytes=len(save.data),
            created_at=self._clock.now_iso(), reason=reason,
        ))  # fmt: skip
        await self._prune(rom_id, name)
        return backup

    async def _prune(self, rom_id: int, name: str) -> None:
        mine = [b for b in await self._store.backups(rom_id) if b.file_name == name]
        now_days = _days(self._clock.now_iso())
        drop = [
            b for index, b in enumerate(mine)
            if index > 0 and (index >= self._config.keep_backups
                              or now_days - _days(b.created_at) > self._config.backup_max_age_days)
        ]  # fmt: skip
        for b in drop:
            await self._files.remove_copy(b.backup_path)
        await self._store.drop_backups([b.id for b in drop])

    async def _set_baseline(self, rom_id: int, name: str, md5: str, save_id: int | None) -> None:
        await self._store.set_baseline(Baseline(rom_id, name, md5, save_id, self._clock.now_iso()))

    async def _device(self) -> str:
        return await self._store.device_id() or await self._register()

    async def _register(self) -> str:
        device = await self._server.register_device(
            install_id=await self._store.install_id(), hostname=self._config.hostname,
            name=self._config.device_name,
        )  # fmt: skip
        await self._store.set_device_id(device)
        return device


def _days(iso: str) -> float:
    """Days since 0001-01-01 of an ISO-8601 date (date part only; enough to age backups)."""
    year, month, day = (int(part) for part in iso[:10].split("-"))
    return year * 365.25 + (month - 1) * 30.44 + day


class SaveSessionListener:
    """The launcher's ``SessionListener`` for saves: after an exit, sync the ROM's saves.

    ``started`` arrives after the emulator was spawned, too late for a pre-launch
    download, so it does nothing here; the pre-launch sync belongs before the launch
    command is handed out (``SaveService.before_launch``).
    """

    def __init__(self, saves: SaveService) -> None:
        self._saves = saves

    async def session_started(self, request: StartedRequest, install: Install | None) -> None:
        """Nothing to do once the emulator runs."""
        del request, install

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None:
        """Upload what the session changed (or mark the ROM pending)."""
        if install is not None:
            await self._saves.after_exit(request.rom_id)
