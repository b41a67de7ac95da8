"""Ports of the saves service (async from the start; the adapters do their I/O off the loop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from romdeck.domain.save_negotiate import NegotiateSave, Negotiation, NoNegotiation
from romdeck.domain.save_records import Backup, Baseline, Conflict, LocalSave, SaveTarget
from romdeck.domain.save_status import LocalVersion
from romdeck.domain.save_sync import AUTOSAVE_SLOT, ServerSave, SlotConflict

__all__ = ["Backup", "Baseline", "Conflict", "LocalSave", "SaveTarget"]


class SaveServer(Protocol):
    """RomM's devices and saves (``adapters/romm/saves.py``)."""

    async def register_device(self, *, install_id: str, hostname: str, name: str) -> str: ...

    async def device_exists(self, device_id: str) -> bool: ...

    async def list_saves(self, rom_id: int, *, device_id: str) -> list[ServerSave]: ...

    async def upload_save(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes, device_id: str,
        slot: str = AUTOSAVE_SLOT, session_id: int | None = None,
    ) -> ServerSave | SlotConflict: ...  # fmt: skip

    async def download_save(
        self, save_id: int, *, device_id: str, session_id: int | None = None
    ) -> bytes: ...

    async def confirm_downloaded(self, save_id: int, *, device_id: str) -> None: ...

    async def server_version(self) -> str: ...

    async def negotiate(
        self, device_id: str, saves: Sequence[NegotiateSave]
    ) -> Negotiation | NoNegotiation: ...

    async def complete_session(self, session_id: int, *, completed: int, failed: int) -> str: ...


class DeviceIdSource(Protocol):
    """This installation's RomM device id (``services.devices.DeviceService``)."""

    async def device_id(self) -> str:
        """The stored id, or a new registration. Raises the server's errors."""
        ...

    async def replace_lost(self, device_id: str) -> str:
        """After a 404 for ``device_id``: it, if RomM still has it, else a new registration."""
        ...


class StateServer(Protocol):
    """RomM's save states (``adapters/romm/states.py``): no slots, devices or 409s."""

    async def list_states(self, rom_id: int) -> list[ServerSave]: ...

    async def upload_state(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes
    ) -> ServerSave: ...

    async def download_state(self, state_id: int) -> tuple[bytes, str]:
        """The state's bytes and their md5 hex."""
        ...


class StateSyncer(Protocol):
    """Syncs a ROM's save states (``services/save_states.py``), run inside a save sync."""

    def enabled(self) -> bool: ...

    async def sync_rom(self, rom_id: int) -> dict[str, str]:
        """``{state file name: action}``."""
        ...

    async def resolve(self, conflict: Conflict, keep: str) -> None: ...


class SaveLocator(Protocol):
    """Which save files an installed ROM has (``None``: not installed or not a RetroArch game)."""

    async def locate(self, rom_id: int) -> SaveTarget | None: ...


class SaveFiles(Protocol):
    """The save files on disk: reads, atomic replaces, backup and conflict copies."""

    async def read(self, path: str) -> LocalSave | None:
        """The file whole, or ``None`` when it does not exist."""
        ...

    async def write(self, path: str, data: bytes) -> None:
        """Replace (or create) ``path`` atomically; its folder is created."""
        ...

    async def keep_copy(self, kind: str, rom_id: int, name: str, data: bytes) -> str:
        """Keep ``data`` in our ``kind`` folder (``backups``/``conflicts``); returns the path."""
        ...

    async def remove_copy(self, path: str) -> None:
        """Delete one of our kept copies (never a user's save)."""
        ...

    async def version(self, path: str) -> LocalVersion | None:
        """md5, size and mtime of ``path`` without keeping its bytes (``None``: missing)."""
        ...


class SaveStateStore(Protocol):
    """Save-sync state in SQLite: device, baselines, pending work, conflicts, backups."""

    async def install_id(self) -> str: ...

    async def device_id(self) -> str | None: ...

    async def set_device_id(self, device_id: str) -> None: ...

    async def baseline(self, rom_id: int, file_name: str) -> Baseline | None: ...

    async def set_baseline(self, baseline: Baseline) -> None: ...

    async def mark_pending(self, rom_id: int, reason: str, at: str) -> None: ...

    async def clear_pending(self, rom_id: int) -> None: ...

    async def pending(self) -> dict[int, str]: ...

    async def add_conflict(self, conflict: Conflict) -> Conflict:
        """Record an open conflict (one per rom and file: an open one is returned as is)."""
        ...

    async def conflicts(self, rom_id: int | None = None) -> list[Conflict]:
        """Open conflicts, oldest first."""
        ...

    async def resolve_conflict(self, conflict_id: int, resolution: str) -> None: ...

    async def add_backup(self, backup: Backup) -> Backup: ...

    async def backups(self, rom_id: int | None = None) -> list[Backup]:
        """Backups, newest first."""
        ...

    async def backup(self, backup_id: int) -> Backup | None: ...

    async def drop_backups(self, ids: Sequence[int]) -> None: ...

    async def negotiate_missing_on(self) -> str | None:
        """The RomM version found without ``/api/sync/negotiate`` (``None``: not seen)."""
        ...

    async def set_negotiate_missing_on(self, version: str | None) -> None: ...

    async def state_token(self, rom_id: int, file_name: str) -> str | None:
        """The server version (``save_states.server_token``) of a state at its last sync."""
        ...

    async def set_state_token(self, rom_id: int, file_name: str, token: str | None) -> None: ...
