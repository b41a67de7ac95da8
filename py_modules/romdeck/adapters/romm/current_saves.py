"""The ``SaveServer`` port for whichever RomM connection is saved at the moment of each call."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.domain.save_sync import AUTOSAVE_SLOT, ServerSave, SlotConflict
from romdeck.domain.settings import Connection
from romdeck.errors import NotConfiguredError


class CurrentRommSaves:
    """Delegates each call to an :class:`AiohttpRommSaves` for ``connection()``'s server.

    The user may sign in (or switch servers) after the app was built, so the connection
    is read at every call (``settings.json``, served from memory). Raises
    ``NotConfiguredError`` when signed out, else whatever ``AiohttpRommSaves`` raises.
    """

    def __init__(
        self, session: aiohttp.ClientSession, connection: Callable[[], Connection]
    ) -> None:
        self._session = session
        self._connection = connection
        self._cached: tuple[Connection, AiohttpRommSaves] | None = None

    def _client(self) -> AiohttpRommSaves:
        connection = self._connection()
        if not connection.configured:
            raise NotConfiguredError(
                "RomDeck is not signed in to a RomM server yet: saves sync after you sign in."
            )
        if self._cached is None or self._cached[0] != connection:
            self._cached = (connection, AiohttpRommSaves(self._session, connection))
        return self._cached[1]

    async def register_device(self, *, install_id: str, hostname: str, name: str) -> str:
        """``POST /api/devices`` (see ``AiohttpRommSaves.register_device``)."""
        return await self._client().register_device(
            install_id=install_id, hostname=hostname, name=name
        )

    async def device_exists(self, device_id: str) -> bool:
        """``GET /api/devices/{id}``."""
        return await self._client().device_exists(device_id)

    async def list_saves(self, rom_id: int, *, device_id: str) -> list[ServerSave]:
        """``GET /api/saves?rom_id=&device_id=``."""
        return await self._client().list_saves(rom_id, device_id=device_id)

    async def upload_save(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes, device_id: str,
        slot: str = AUTOSAVE_SLOT,
    ) -> ServerSave | SlotConflict:  # fmt: skip
        """``POST /api/saves`` into ``slot``; a 409 comes back as :class:`SlotConflict`."""
        return await self._client().upload_save(
            rom_id=rom_id, emulator=emulator, file_name=file_name, data=data,
            device_id=device_id, slot=slot,
        )  # fmt: skip

    async def download_save(self, save_id: int, *, device_id: str) -> bytes:
        """``GET /api/saves/{id}/content?device_id=``."""
        return await self._client().download_save(save_id, device_id=device_id)
