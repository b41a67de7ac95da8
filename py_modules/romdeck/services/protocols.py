"""The ports services depend on, named by role. Adapters satisfy them structurally.

Every method documents its errors with our hierarchy (:mod:`romdeck.errors`);
adapters never leak aiohttp, sqlite3 or OSError exceptions through these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Collection as AbstractCollection
from typing import Protocol

from romdeck.domain.auth import DeviceAuthorization, DevicePoll
from romdeck.domain.models import (
    CatalogRefresh,
    Collection,
    Platform,
    RegistryEntry,
    RomPage,
    RomSummary,
    Selection,
    ServerInfo,
    SyncProgress,
)
from romdeck.domain.plan import ShortcutScan
from romdeck.domain.settings import Connection, Settings
from romdeck.domain.steam_collections import CollectionsReport
from romdeck.domain.sync_stamp import SyncStamp

ProgressSink = Callable[[SyncProgress], None]
"""Receives progress reports; must not block."""


class RommCatalogApi(Protocol):
    """Read access to a RomM server's library (an authenticated client).

    Raises ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError``,
    ``MissingScopeError``, ``NotFoundError`` or ``BadResponseError``.
    """

    async def heartbeat(self) -> ServerInfo:
        """``GET /api/heartbeat`` (no auth)."""
        ...

    async def list_platforms(self) -> list[Platform]:
        """``GET /api/platforms``: every platform with its ``rom_count``."""
        ...

    async def list_collections(self) -> list[Collection]:
        """``GET /api/collections``: the user's collections with their ``rom_ids``."""
        ...

    async def list_roms(
        self,
        *,
        platform_ids: Sequence[int] = (),
        collection_id: int | None = None,
        updated_after: str | None = None,
        offset: int = 0,
        limit: int = 500,
    ) -> RomPage:
        """``GET /api/roms`` one page, with no file lists and the cheap-list flags off.

        ``updated_after`` is an ISO datetime with an offset. Items are ordered by id.
        """
        ...

    async def platform_rom_ids(self, platform_id: int) -> list[int]:
        """All ROM ids of one platform (``rom_id_index`` of a 1-item ``GET /api/roms`` page)."""
        ...

    async def fetch_cover(self, path: str) -> tuple[bytes, str]:
        """GET a server-relative asset path (raw spaces allowed): ``(body, content type)``."""
        ...


class RommAuthApi(Protocol):
    """Unauthenticated sign-in calls against a server origin ``url``.

    Raises ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError`` (wrong
    password), ``MissingScopeError``, ``ServerTooOldError`` or ``BadResponseError``.
    """

    async def heartbeat(self, connection: Connection) -> ServerInfo:
        """``GET /api/heartbeat`` on ``connection.url``."""
        ...

    async def create_client_token(
        self, connection: Connection, *, username: str, password: str, token_name: str
    ) -> str:
        """Password grant then ``POST /api/client-tokens``; returns the raw ``rmm_`` token."""
        ...

    async def check_token(self, connection: Connection) -> str:
        """``GET /api/users/me`` with ``connection.token``: the ``username``; raises if rejected."""
        ...

    async def device_init(
        self, connection: Connection, *, device_id: str, device_name: str
    ) -> DeviceAuthorization:
        """``POST /api/auth/device/init``."""
        ...

    async def device_poll(self, connection: Connection, device_code: str) -> DevicePoll:
        """One ``POST /api/auth/device/token`` poll."""
        ...


class CoverFetcher(Protocol):
    """Fetches a cover and returns it as PNG bytes (converting WebP/JPEG)."""

    async def fetch_png(self, path: str) -> bytes:
        """Raises ``NotFoundError`` (no such asset) or ``BadResponseError`` (not an image)."""
        ...


class CatalogStore(Protocol):
    """The local mirror of the server's ROM list for the platforms we sync (SQLite).

    Every method does its database work off the event loop.

    Raises ``StateError`` when the database cannot be read or written.
    """

    async def upsert_roms(self, roms: Iterable[RomSummary]) -> int:
        """Insert or replace by ROM id; returns how many rows changed."""
        ...

    async def delete_roms(self, rom_ids: Iterable[int]) -> int:
        """Forget these ROMs; returns how many were known."""
        ...

    async def rom_ids(self, platform_id: int) -> set[int]:
        """Ids of the mirrored ROMs of one platform."""
        ...

    async def counts(self) -> dict[int, int]:
        """Mirrored ROM count per platform id."""
        ...

    async def roms(
        self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()
    ) -> list[RomSummary]:
        """Mirrored ROMs on these platforms, plus these ROM ids wherever they are."""
        ...

    async def digest(self, *, platform_ids: Iterable[int], rom_ids: Iterable[int] = ()) -> str:
        """A hex digest of the mirrored ROMs :meth:`roms` would return: any change changes it."""
        ...

    async def watermark(self, platform_id: int) -> str | None:
        """The newest ``updated_at`` fetched for a platform whose full fetch completed.

        A negative key is a collection's own stream (``-collection id``).
        """
        ...

    async def watermarks(self) -> dict[int, str]:
        """Every watermark by key (platform id; ``-collection id`` for a collection)."""
        ...

    async def set_watermark(self, platform_id: int, updated_at: str) -> None:
        """Record a completed fetch of a platform up to ``updated_at``."""
        ...

    async def clear_watermark(self, platform_id: int) -> None:
        """Forget a platform's watermark (next sync fetches it whole)."""
        ...


class ShortcutRegistry(Protocol):
    """Which Steam shortcut RomDeck made for which ROM, per Steam user (SQLite).

    Every method does its database work off the event loop.

    Raises ``StateError`` when the database cannot be read or written.
    """

    async def entries(self, steam_user: str) -> dict[int, RegistryEntry]:
        """Every entry of a Steam user, by ROM id."""
        ...

    async def commit(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry] = (),
        removed_rom_ids: Sequence[int] = (),
    ) -> None:
        """Record applied shortcuts and removals in one transaction."""
        ...

    async def set_cover_key(self, steam_user: str, rom_id: int, cover_key: str) -> None:
        """Record that the cover ``cover_key`` was written for a ROM's shortcut."""
        ...

    async def digest(self, steam_user: str) -> str:
        """A hex digest of every entry of a Steam user: any change to them changes it."""
        ...


class ShortcutFile(Protocol):
    """Steam's ``shortcuts.vdf`` of one Steam user, written directly (Steam not running).

    Every method does its file work off the event loop. Raises ``SteamNotFoundError``,
    ``CorruptFileError`` (file left untouched) or ``DiskFullError``/``StateError`` on a
    failed write (the old file survives).
    """

    async def list_users(self) -> list[str]:
        """Steam user ids (``userdata/<id>``) that have a ``config`` folder."""
        ...

    async def scan(self, steam_user: str) -> ShortcutScan:
        """Every shortcut's unsigned appid and RomDeck's shortcuts (launcher exe,
        ``romdeck:<id>``) in file order, from one parse that the next ``write`` reuses
        when the file has not changed meanwhile."""
        ...

    async def write(
        self,
        steam_user: str,
        *,
        upserts: Sequence[RegistryEntry],
        removals: Sequence[int],
    ) -> bool:
        """Upsert these shortcuts (by appid) and remove these appids; keep everything else.

        Writes atomically after backing up the previous file; returns False (and writes
        nothing) when the file would not change.
        """
        ...


class GridArtwork(Protocol):
    """Steam's grid folder of one user (``userdata/<id>/config/grid``), off the event loop."""

    async def save_portrait(self, steam_user: str, appid: int, png: bytes) -> None:
        """Write ``{appid}p.png`` atomically."""
        ...

    async def portraits(self, steam_user: str) -> set[int]:
        """The appids that have a portrait (one listing of the folder)."""
        ...

    async def remove_art(self, steam_user: str, appids: Iterable[int]) -> None:
        """Remove every grid image of these appids (portrait, wide, hero, logo, icon)."""
        ...


class SteamProcess(Protocol):
    """Whether the Steam client is running on this machine."""

    async def running(self) -> bool:
        """Read from the process table off the event loop. Raises ``StateError``."""
        ...


class SettingsStore(Protocol):
    """``settings.json`` (mode 0600, atomic writes, corrupt file set aside and reported)."""

    def load(self) -> Settings:
        """Served from memory after the first read (re-read when the file changes).

        Raises ``CorruptFileError`` after moving a corrupt file aside.
        """
        ...

    def save(self, settings: Settings) -> None: ...

    async def save_async(self, settings: Settings) -> None:
        """:meth:`save` off the event loop (what services call)."""
        ...


class SyncRunLog(Protocol):
    """Sync runs recorded in the state database (work done off the event loop).

    Raises ``StateError`` when the database cannot be read or written.
    """

    async def start(self, started_at: str) -> int:
        """Record a started run; returns its id."""
        ...

    async def finish(
        self, run_id: int, *, finished_at: str, status: str, summary: Mapping[str, object]
    ) -> None: ...

    async def last(self) -> Mapping[str, object] | None:
        """The newest run as ``{id, started_at, finished_at, status, summary}``."""
        ...


class LibraryRefresh(Protocol):
    """Brings the catalog mirror up to date for a selection (``services.library``)."""

    async def refresh(
        self,
        api: RommCatalogApi,
        selection: Selection,
        *,
        progress: ProgressSink = ...,
        cancel: asyncio.Event | None = None,
        unchanged_since: str | None = None,
        stamped: bool = False,
    ) -> CatalogRefresh:
        """The wanted shortcuts by ROM id after the refresh.

        ``stamped``: the result carries the library ``stamp``. ``unchanged_since``: a
        library stamp of an earlier refresh; when nothing changed since, the result is
        ``skipped`` (no wanted shortcuts computed).
        Raises the client's errors and ``CancelledError`` when ``cancel`` is set.
        """
        ...


class Clock(Protocol):
    """Wall and monotonic time (seconds)."""

    def now_iso(self) -> str:
        """UTC now as ISO-8601 with ``+00:00``."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SteamCollectionStore(Protocol):
    """Steam's collections of one user in its library cloud-storage namespace (Steam stopped).

    Raises ``SteamNotFoundError``, ``CorruptFileError`` (files left untouched),
    ``BusyError``, or ``DiskFullError``/``StateError`` on a failed write (old files survive).
    """

    async def save(
        self, steam_user: str, collections: Mapping[str, AbstractCollection[int]]
    ) -> CollectionsReport:
        """Make RomDeck's collections exactly ``collections`` (name → unsigned appids),
        leaving every other entry as it was; backed up and atomic, off the event loop. The
        report says ``no_cloud_storage`` where the file does not exist (older clients:
        tags only)."""
        ...


class SteamTreeState(Protocol):
    """A cheap fingerprint of the Steam files a headless sync writes for one user
    (``shortcuts.vdf``, the grid folder, the collections files): stats, no contents."""

    async def fingerprint(self, steam_user: str) -> str:
        """Text that stays the same while none of those files changes.

        Raises ``SteamNotFoundError``.
        """
        ...


class SyncStampStore(Protocol):
    """The headless sync's stamps by Steam user (a cache: losing it costs one full plan)."""

    async def load(self) -> dict[str, SyncStamp]:
        """Every stored stamp; ``{}`` when none (or unreadable)."""
        ...

    async def save(self, stamps: Mapping[str, SyncStamp]) -> None:
        """Replace every stamp. Raises ``DiskFullError`` or ``StateError``."""
        ...


class PortraitFetcher(Protocol):
    """Cover art small enough for one reply over Decky's bridge (the panel's portraits)."""

    async def fetch_portrait(self, path: str) -> bytes:
        """The cover at server-relative ``path`` as PNG, fitting Steam's 600×900 portrait
        and Decky's ~1 MiB reply cap once base64-encoded."""
        ...
