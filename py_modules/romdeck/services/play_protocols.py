"""The ports the play services (downloads, launch) depend on, named by role.

Adapters satisfy them structurally; each method raises only :mod:`romdeck.errors`.
Paths are :class:`pathlib.Path` where the file adapters take them.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from romdeck.domain.downloads import (
    DownloadProgress,
    DownloadResult,
    DownloadState,
    DownloadStatus,
    HashAlgorithm,
)
from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest
from romdeck.domain.layout import InstallPlan, PlayTarget
from romdeck.domain.models import Install, RomDetail
from romdeck.services.protocols import Clock


class DownloadQueue(Protocol):
    """Queues downloads (``DownloadService``); the launch service's view of it."""

    async def queue(self, rom_ids: Sequence[int]) -> list[DownloadStatus]:
        """Queue (or resume) each ROM; an installed one reports ``INSTALLED``."""
        ...


class PathProbe(Protocol):
    """Whether something exists at a path (checked off the event loop)."""

    async def exists(self, path: Path) -> bool: ...


class RomContentSource(Protocol):
    """A signed-in RomM client that can describe and serve a ROM's content
    (``AiohttpRommClient``). Raises ``NotFoundError``, ``AuthRejectedError``,
    ``ServerUnreachableError``, ``BadResponseError``."""

    @property
    def ssl(self) -> ssl.SSLContext | bool:
        """aiohttp's ``ssl`` argument for streamed downloads."""
        ...

    async def get_rom(self, rom_id: int) -> RomDetail:
        """``GET /api/roms/{id}`` with its ``files``."""
        ...

    def content_url(self, rom: RomDetail) -> str:
        """Absolute URL of ``GET /api/roms/{id}/content/<fs_name>``."""
        ...

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a streamed download."""
        ...


class RomFileTransfer(Protocol):
    """Downloads one URL to a file (``AiohttpDownloader``): ``<target>.part`` then an
    atomic rename, resumed with ``Range`` from a kept part, retried with backoff.

    Raises ``HashMismatchError`` / ``DiskFullError`` (part deleted), ``AuthRejectedError``,
    ``NotFoundError``, ``ServerUnreachableError`` / ``DownloadFailedError`` (part kept),
    ``CancelledError``; cancelling the awaiting task keeps the part when ``keep_partial``.
    """

    async def download(
        self,
        url: str,
        target: Path,
        *,
        headers: dict[str, str] | None = None,
        ssl: ssl.SSLContext | bool | None = None,
        expected_size: int | None = None,
        expected_md5: str | None = None,
        expected_sha1: str | None = None,
        expected_crc: str | None = None,
        force_range: bool = False,
        on_progress: Callable[[DownloadProgress], None] | None = None,
        cancel: asyncio.Event | None = None,
        keep_partial: bool = False,
    ) -> DownloadResult: ...


class ArchiveExtractor(Protocol):
    """Unpacks a zip/7z into an absent or empty folder, or writes nothing (``SafeExtractor``).

    Raises ``UnsafeArchiveError``, ``CorruptFileError``, ``DiskFullError``,
    ``DownloadFailedError``; cancelling the awaiting task cleans up first.
    """

    async def extract_async(self, archive: Path, target_dir: Path) -> list[Path]:
        """The extracted files' paths (under ``target_dir``)."""
        ...


class FileHashes(Protocol):
    """Hashes of a local file computed off the event loop (``FileHasher``)."""

    async def hash_file(
        self, path: Path, algorithms: Iterable[HashAlgorithm] = ...
    ) -> dict[HashAlgorithm, str]:
        """``{algorithm: lowercase hex}``. Raises ``NotFoundError`` or ``StateError``."""
        ...


class FreeSpace(Protocol):
    """Free bytes on the file system of a path or its nearest existing parent, read off
    the event loop (``StatvfsDiskSpace``). Raises ``InvalidInputError``."""

    async def free_bytes_async(self, path: Path) -> int: ...


class InstallTree(PathProbe, Protocol):
    """File operations on installed games (``LocalInstallTree``); all off the loop.

    Raises ``DiskFullError`` or ``DownloadFailedError`` when a write fails.
    """

    async def file_sizes(self, root: Path) -> dict[str, int]:
        """Regular files under ``root`` by ``/``-relative path → size in bytes
        (``root`` a file: ``{"": size}``; absent: ``{}``). Symlinks are not followed."""
        ...

    async def move(self, source: Path, target: Path) -> None:
        """Rename ``source`` (file or folder) to ``target``, which must not exist."""
        ...

    async def write_text(self, path: Path, text: str) -> None:
        """Write UTF-8 text atomically (temp file, fsync, rename)."""
        ...

    async def remove(self, root: Path, relative: Sequence[str] = ()) -> None:
        """Remove the file ``root``, or these files under the folder ``root`` then every
        folder left empty (``root`` included). ``relative`` empty: the whole tree."""
        ...

    async def discard_partial(self, target: Path) -> None:
        """Remove the downloader's ``<target>.part`` and ``<target>.part.json``."""
        ...


class DownloadRow(Protocol):
    """One persisted download-queue row."""

    @property
    def rom_id(self) -> int: ...

    @property
    def state(self) -> str: ...


class InstallStore(Protocol):
    """Installs and the persisted download queue (``SqliteInstallStore``), all off the loop.

    Calls take effect in the order they are made; a write is kept even when the awaiting
    task is cancelled. Sizes in bytes. Raises ``StateError``.
    """

    async def record(self, install: Install) -> None: ...

    async def get(self, rom_id: int) -> Install | None: ...

    async def remove(self, rom_id: int) -> bool: ...

    async def list(self) -> list[Install]: ...

    async def set_download(
        self, rom_id: int, state: str, bytes_done: int = 0, bytes_total: int = 0, error: str = ""
    ) -> None: ...

    async def downloads(self) -> Sequence[DownloadRow]: ...

    async def remove_download(self, rom_id: int) -> bool: ...


class InstallReader(Protocol):
    """Read access to installs (the launch service's view of :class:`InstallStore`)."""

    async def get(self, rom_id: int) -> Install | None: ...


class SessionListener(Protocol):
    """Told when a launched game starts and exits (save sync and playtime hook in here).

    A listener's ``RomDeckError`` is logged and does not fail the launcher's request.
    """

    async def session_started(self, request: StartedRequest, install: Install | None) -> None: ...

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None: ...


class RomInstaller(Protocol):
    """Lays one ROM out in its system folder and records it (``services.installer``)."""

    def plan(self, rom: RomDetail, target: PlayTarget) -> InstallPlan:
        """Where ``rom`` goes under the target's ROMs folder, and how."""
        ...

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
        """Adopt or download, unpack, verify, move into place and record ``rom``
        (``on_state`` is awaited at each step, ``on_progress`` must not block)."""
        ...

    async def discard(self, plan: InstallPlan) -> None:
        """Remove what a stopped install of ``plan`` wrote (``.part`` included)."""
        ...


def _ignore(_: DownloadStatus) -> None:
    return None


@dataclass(frozen=True, slots=True)
class DownloadDeps:
    """What the download queue and its installer need (built by bootstrap).

    ``connect`` returns a client for the saved connection (raises ``NotConfiguredError``);
    ``target`` reads the emulation target's folders and launch settings (off the loop;
    raises ``CorruptFileError``, ``InvalidInputError``); ``on_event``
    receives every status change and progress report (must not block); ``concurrency``
    is how many downloads run at once.
    """

    connect: Callable[[], RomContentSource]
    downloader: RomFileTransfer
    extractor: ArchiveExtractor
    hasher: FileHashes
    tree: InstallTree
    free_space: FreeSpace
    store: InstallStore
    target: Callable[[], Awaitable[PlayTarget]]
    clock: Clock
    on_event: Callable[[DownloadStatus], None] = _ignore
    concurrency: int = 2


class PreLaunchHook(Protocol):
    """Runs before the launcher gets a ROM's command (the saves service: newer saves are
    downloaded first). Must bound its own time (seconds, not minutes) and never raise
    for a server problem; a ``RomDeckError`` it raises is logged and the launch goes on."""

    async def before_launch(self, rom_id: int) -> object: ...
