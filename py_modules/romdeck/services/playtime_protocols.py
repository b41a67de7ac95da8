"""Ports of the devices and playtime services (async; the adapters do their I/O off the loop)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from romdeck.domain.models import RomSummary
from romdeck.domain.play_sessions import (
    BatchRefused,
    IngestReply,
    NewSession,
    OutboxSession,
    PendingBatch,
    ServerSession,
)


class DeviceServer(Protocol):
    """RomM's ``/api/devices`` (``adapters/romm/saves.py`` ``AiohttpRommSaves``)."""

    async def register_device(self, *, install_id: str, hostname: str, name: str) -> str:
        """``POST /api/devices`` → the device id; the same installation gets its own back."""
        ...

    async def device_exists(self, device_id: str) -> bool:
        """``GET /api/devices/{id}``: False on 404."""
        ...


class DeviceStateStore(Protocol):
    """Where the installation id and the RomM device id are kept (``SqliteSaveStore``)."""

    async def install_id(self) -> str: ...

    async def device_id(self) -> str | None: ...

    async def set_device_id(self, device_id: str) -> None: ...


class DeviceIds(Protocol):
    """This installation's RomM device (``services.devices.DeviceService``)."""

    async def device_id(self) -> str:
        """The registered device id (registers once when there is none)."""
        ...

    async def replace_lost(self, device_id: str) -> str:
        """After a 404: a new id when RomM lost ``device_id``, else ``device_id`` itself."""
        ...


class PlaySessionServer(Protocol):
    """RomM's ``/api/play-sessions`` (``adapters/romm/play_sessions.py``)."""

    async def ingest(
        self, device_id: str, sessions: Sequence[dict[str, object]]
    ) -> IngestReply | BatchRefused: ...

    async def list_sessions(self, rom_id: int | None = None) -> list[ServerSession]: ...


class PlaySessionOutbox(Protocol):
    """The outbox table (``adapters/store/play_sessions.py``)."""

    async def record(self, sessions: Sequence[NewSession], recorded_at: str) -> int:
        """Insert as queued (a known rom_id + start_time is kept); returns how many are new."""
        ...

    async def queued(self) -> list[OutboxSession]: ...

    async def sessions(self, rom_id: int | None = None) -> list[OutboxSession]: ...

    async def note_attempt(self, ids: Iterable[int], device_id: str) -> None: ...

    async def mark_delivered(self, delivered: Iterable[tuple[int, int | None]]) -> None: ...

    async def mark_refused(self, refused: Iterable[tuple[int, str]]) -> None: ...

    async def set_offset(self, shifted: Iterable[tuple[int, int]]) -> None:
        """Shift these queued rows by that many seconds when they are sent."""
        ...


class PendingSessions(Protocol):
    """The launcher's fallback file (``adapters/files/pending_sessions.py``)."""

    async def take(self) -> PendingBatch:
        """Claim and read every pending line (the file is left until :meth:`done`)."""
        ...

    async def done(self, batch: PendingBatch, rejected: list[tuple[str, str]]) -> None:
        """After commit: keep the ``(line, reason)`` rejects, then delete the claims."""
        ...

    async def append(self, session: dict[str, object]) -> None:
        """Append one ``exited`` line, as the launcher does."""
        ...


class RomNames(Protocol):
    """Mirrored catalog rows, for game names (``SqliteCatalog``)."""

    async def roms(
        self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()
    ) -> list[RomSummary]: ...
