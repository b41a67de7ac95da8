"""Save-state sync for one ROM through RomM's ``/api/states``, behind a setting (off by default).

The same three-way check as saves (:func:`romdeck.domain.save_sync.decide`), with the
server's md5 taken from our baseline while the state's server version
(:func:`romdeck.domain.save_states.server_token`) is unchanged, else from its downloaded
bytes. RomM has no slots, devices or 409 for states, so our baseline is the only guard:
a state changed on both sides is a conflict, the local file kept and the server's bytes
stored beside it; a download keeps a backup of the local state first.
"""

from __future__ import annotations

from collections.abc import Callable
from posixpath import basename

from romdeck.domain.save_records import Baseline, Conflict, LocalSave
from romdeck.domain.save_states import server_token
from romdeck.domain.save_sync import SaveAction, ServerSave, decide
from romdeck.errors import NotFoundError
from romdeck.services.protocols import Clock
from romdeck.services.saves_protocols import (
    Backup,
    SaveFiles,
    SaveLocator,
    SaveStateStore,
    StateServer,
)


class StateSync:
    """Keeps a ROM's RetroArch states and RomM's states in step (module docstring).

    ``locator`` gives the state paths (``RetroArchStateLocator``); ``enabled`` is read on
    every sync (``Settings.saves.states``). Errors of the server or files propagate (the
    save sync around it marks the ROM pending).
    """

    def __init__(
        self, *, server: StateServer, locator: SaveLocator, files: SaveFiles,
        store: SaveStateStore, clock: Clock, enabled: Callable[[], bool],
    ) -> None:  # fmt: skip
        self._server = server
        self._locator = locator
        self._files = files
        self._store = store
        self._clock = clock
        self._enabled = enabled

    def enabled(self) -> bool:
        """Whether states are synced (the user's setting)."""
        return self._enabled()

    async def sync_rom(self, rom_id: int) -> dict[str, str]:
        """Sync one ROM's states; ``{file name: skip|upload|download|conflict}``."""
        target = await self._locator.locate(rom_id)
        if target is None:
            return {}
        newest: dict[str, ServerSave] = {}
        for state in await self._server.list_states(rom_id):
            known = newest.get(state.file_name)
            if known is None or (state.updated_at, state.id) > (known.updated_at, known.id):
                newest[state.file_name] = state
        actions: dict[str, str] = {}
        for path in target.paths:
            local = await self._files.read(path)
            remote = newest.get(basename(path))
            if local is None and remote is None:
                continue
            actions[basename(path)] = await self._sync_file(
                rom_id, target.emulator, path, local, remote
            )
        return actions

    async def _sync_file(
        self, rom_id: int, emulator: str, path: str, local: LocalSave | None,
        remote: ServerSave | None,
    ) -> str:  # fmt: skip
        name = basename(path)
        base = await self._store.baseline(rom_id, name)
        token = None if remote is None else server_token(remote.id, remote.updated_at)
        data: bytes | None = None
        server_md5: str | None = None
        if remote is not None:
            if base is not None and token == await self._store.state_token(rom_id, name):
                server_md5 = base.content_hash
            else:
                data, server_md5 = await self._server.download_state(remote.id)
        verdict = decide(
            local.md5 if local else None, server_md5, base.content_hash if base else None
        )
        if verdict.action is SaveAction.SKIP and local is not None:
            await self._settle(rom_id, name, local.md5, remote, token)
        elif verdict.action is SaveAction.UPLOAD and local is not None:
            uploaded = await self._server.upload_state(
                rom_id=rom_id, emulator=emulator, file_name=name, data=local.data
            )
            await self._settle(rom_id, name, local.md5, uploaded,
                               server_token(uploaded.id, uploaded.updated_at))  # fmt: skip
        elif verdict.action is SaveAction.DOWNLOAD and remote is not None and server_md5:
            if data is None:
                data, server_md5 = await self._server.download_state(remote.id)
            if local is not None:
                await self._backup(rom_id, local, "download")
            await self._files.write(path, data)
            await self._settle(rom_id, name, server_md5, remote, token)
        elif verdict.action is SaveAction.CONFLICT and local and remote and server_md5:
            await self._conflict(rom_id, local, remote, server_md5, data)
        return verdict.action.value

    async def _conflict(
        self, rom_id: int, local: LocalSave, remote: ServerSave, server_md5: str,
        data: bytes | None,
    ) -> None:  # fmt: skip
        name = basename(local.path)
        for open_ in await self._store.conflicts(rom_id):
            if (open_.file_name, open_.local_hash, open_.server_hash) == (
                name, local.md5, server_md5,
            ):  # fmt: skip
                return
        if data is None:
            data, server_md5 = await self._server.download_state(remote.id)
        copy = await self._files.keep_copy("conflicts", rom_id, name, data)
        await self._store.add_conflict(Conflict(
            id=0, rom_id=rom_id, file_name=name, local_path=local.path, local_hash=local.md5,
            server_hash=server_md5, server_save_id=remote.id, server_copy=copy,
            created_at=self._clock.now_iso(),
        ))  # fmt: skip

    async def resolve(self, conflict: Conflict, keep: str) -> None:
        """Settle a state conflict (``keep`` ``local``/``server``); the other version is kept
        as a backup. The caller closes the conflict. ``NotFoundError`` when a copy is gone."""
        local = await self._files.read(conflict.local_path)
        server_copy = await self._files.read(conflict.server_copy)
        if server_copy is None:
            raise NotFoundError(f"The server's copy {conflict.server_copy} is gone.")
        if keep == "server":
            if local is not None:
                await self._backup(conflict.rom_id, local, "conflict")
            await self._files.write(conflict.local_path, server_copy.data)
            # the server's version is re-read (and found equal) at the next sync
            await self._settle(conflict.rom_id, conflict.file_name, server_copy.md5, None, None)
            return
        target = await self._locator.locate(conflict.rom_id)
        if local is None or target is None:
            raise NotFoundError(f"The local state {conflict.local_path} is gone.")
        await self._backup(conflict.rom_id, server_copy, "conflict", conflict.local_path)
        uploaded = await self._server.upload_state(
            rom_id=conflict.rom_id, emulator=target.emulator, file_name=conflict.file_name,
            data=local.data,
        )  # fmt: skip
        await self._settle(conflict.rom_id, conflict.file_name, local.md5, uploaded,
                           server_token(uploaded.id, uploaded.updated_at))  # fmt: skip

    async def _settle(
        self, rom_id: int, name: str, md5: str, remote: ServerSave | None, token: str | None
    ) -> None:
        await self._store.set_baseline(
            Baseline(rom_id, name, md5, remote.id if remote else None, self._clock.now_iso())
        )
        await self._store.set_state_token(rom_id, name, token)

    async def _backup(
        self, rom_id: int, state: LocalSave, reason: str, original: str | None = None
    ) -> None:
        name = basename(original or state.path)
        path = await self._files.keep_copy("backups", rom_id, name, state.data)
        await self._store.add_backup(Backup(
            id=0, rom_id=rom_id, file_name=name, original_path=original or state.path,
            backup_path=path, content_hash=state.md5, size_bytes=len(state.data),
            created_at=self._clock.now_iso(), reason=reason,
        ))  # fmt: skip
