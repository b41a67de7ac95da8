"""This installation's RomM device: registered once (``POST /api/devices``), kept in state,
registered again when RomM lost it (a 404)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from romdeck.services.playtime_protocols import DeviceServer, DeviceStateStore


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """``hostname`` and ``name`` sent to RomM (every Deck is called ``steamdeck``; the
    installation id, sent as a derived MAC address, keeps two installations apart)."""

    hostname: str = "steamdeck"
    name: str = "RomDeck"


class DeviceService:
    """The RomM device id of this installation.

    Args:
        connect: the device API of the saved connection (raises ``NotConfiguredError``).
        store: keeps the installation id and the device id (``save_meta`` in state.db).
        config: what RomM is told about the device.

    Errors of ``connect`` and the server (``ServerUnreachableError``, ``AuthRejectedError``,
    ...) and ``StateError`` propagate.
    """

    def __init__(
        self,
        *,
        connect: Callable[[], DeviceServer],
        store: DeviceStateStore,
        config: DeviceConfig = DeviceConfig(),
    ) -> None:
        self._connect = connect
        self._store = store
        self._config = config
        self._lock = asyncio.Lock()

    async def device_id(self) -> str:
        """The stored device id, or a new registration (once, even when asked concurrently)."""
        async with self._lock:
            return await self._store.device_id() or await self._register()

    async def replace_lost(self, device_id: str) -> str:
        """After RomM answered 404 for ``device_id``: ``device_id`` when RomM still has it,
        else the id of a new registration (kept in state)."""
        async with self._lock:
            stored = await self._store.device_id()
            if stored and stored != device_id:
                return stored  # someone registered again meanwhile
            if await self._connect().device_exists(device_id):
                return device_id
            return await self._register()

    async def _register(self) -> str:
        device = await self._connect().register_device(
            install_id=await self._store.install_id(),
            hostname=self._config.hostname,
            name=self._config.name,
        )
        await self._store.set_device_id(device)
        return device
