"""The ``SaveServer``/``StateServer`` ports for whichever RomM connection is saved at the
moment of each call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import aiohttp

from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.adapters.romm.states import AiohttpRommStates
from romdeck.domain.save_negotiate import NegotiateSave, Negotiation, NoNegotiation
from romdeck.domain.save_sync import AUTOSAVE_SLOT, ServerSave, SlotConflict
from romdeck.domain.settings import Connection
from romdeck.errors import NotConfiguredError

_Client = TypeVar("_Client", AiohttpRommSaves, AiohttpRommStates)


class _ForCurrentConnection(Generic[_Client]):
    """A client of type ``make`` for ``connection()``, rebuilt when the connection changes.

    The user may sign in (or switch servers) after the app was built, so the connection
    is read at every call (``settings.json``, served from memory). Raises
    ``NotConfiguredError`` when signed out.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        connection: Callable[[], Connection],
        make: Callable[[aiohttp.ClientSession, Connection], _Client],
    ) -> None:
        self._session = session
        self._connection = connection
        self._make = make
        self._cached: tuple[Connection, _Client] | None = None

    def _client(self) -> _Client:
        connection = self._connection()
        if not connection.configured:
            raise NotConfiguredError(
                "RomDeck is not signed in to a RomM server yet: saves sync after you sign in."
            )
        if self._cached is None or self._cached[0] != connection:
            self._cached = (connection, self._make(self._session, connection))
        return self._cached[1]


class CurrentRommSaves(_ForCurrentConnection[AiohttpRommSaves]):
    """Delegates each call to an :class:`AiohttpRommSaves` for ``connection()``'s server
    (its docstrings give the endpoints and errors); ``NotConfiguredError`` when signed out."""

    def __init__(
        self, session: aiohttp.ClientSession, connection: Callable[[], Connection]
    ) -> None:
        super().__init__(session, connection, AiohttpRommSaves)

    async def register_device(self, *, install_id: str, hostname: str, name: str) -> str:
        """``POST /api/devices``."""
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
        slot: str = AUTOSAVE_SLOT, session_id: int | None = None,
    ) -> ServerSave | SlotConflict:  # fmt: skip
        """``POST /api/saves`` into ``slot``; a 409 comes back as :class:`SlotConflict`."""
        return await self._client().upload_save(
            rom_id=rom_id, emulator=emulator, file_name=file_name, data=data,
            device_id=device_id, slot=slot, session_id=session_id,
        )  # fmt: skip

    async def download_save(
        self, save_id: int, *, device_id: str, session_id: int | None = None
    ) -> bytes:
        """``GET /api/saves/{id}/content?device_id=[&session_id=]``."""
        return await self._client().download_save(
            save_id, device_id=device_id, session_id=session_id
        )

    async def confirm_downloaded(self, save_id: int, *, device_id: str) -> None:
        """``POST /api/saves/{id}/downloaded``."""
        await self._client().confirm_downloaded(save_id, device_id=device_id)

    async def server_version(self) -> str:
        """``GET /api/heartbeat`` → the server's version."""
        return await self._client().server_version()

    async def negotiate(
        self, device_id: str, saves: Sequence[NegotiateSave]
    ) -> Negotiation | NoNegotiation:
        """``POST /api/sync/negotiate`` (``NoNegotiation`` where the server lacks it)."""
        return await self._client().negotiate(device_id, saves)

    async def complete_session(self, session_id: int, *, completed: int, failed: int) -> str:
        """``POST /api/sync/sessions/{id}/complete``."""
        return await self._client().complete_session(session_id, completed=completed, failed=failed)


class CurrentRommStates(_ForCurrentConnection[AiohttpRommStates]):
    """Delegates each call to an :class:`AiohttpRommStates` for ``connection()``'s server;
    ``NotConfiguredError`` when signed out."""

    def __init__(
        self, session: aiohttp.ClientSession, connection: Callable[[], Connection]
    ) -> None:
        super().__init__(session, connection, AiohttpRommStates)

    async def list_states(self, rom_id: int) -> list[ServerSave]:
        """``GET /api/states?rom_id=``."""
        return await self._client().list_states(rom_id)

    async def upload_state(
        self, *, rom_id: int, emulator: str, file_name: str, data: bytes
    ) -> ServerSave:
        """``POST /api/states?rom_id=&emulator=`` (multipart ``stateFile``)."""
        return await self._client().upload_state(
            rom_id=rom_id, emulator=emulator, file_name=file_name, data=data
        )

    async def download_state(self, state_id: int) -> tuple[bytes, str]:
        """``GET /api/states/{id}/content`` → (bytes, md5 hex)."""
        return await self._client().download_state(state_id)
