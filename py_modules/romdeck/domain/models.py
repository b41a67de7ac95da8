"""Value types shared by every layer: what RomM serves and what Steam holds.

All types are frozen. Sizes are bytes; times are ISO-8601 strings exactly as the
server sent them (UTC, with an offset) unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What ``GET /api/heartbeat`` tells: ``SYSTEM.VERSION`` (may be ``"development"``)."""

    version: str


@dataclass(frozen=True, slots=True)
class Platform:
    """A RomM platform (``GET /api/platforms`` item).

    ``display_name`` is RomM's ``display_name`` (falls back to ``custom_name`` then
    ``name``); ``rom_count`` is the server's count of ROMs on the platform.
    """

    id: int
    slug: str
    fs_slug: str
    name: str
    display_name: str
    rom_count: int


@dataclass(frozen=True, slots=True)
class Collection:
    """A RomM collection (``GET /api/collections`` item) with its member ROM ids."""

    id: int
    name: str
    rom_ids: tuple[int, ...]
    rom_count: int
    is_smart: bool = False
    is_virtual: bool = False


@dataclass(frozen=True, slots=True)
class RomSummary:
    """The part of a RomM SimpleRom that a shortcut needs (``GET /api/roms`` item).

    ``cover_path`` is ``path_cover_large`` as served: a server-relative URL with raw
    spaces in its ``?ts=`` query, or ``""`` when the ROM has no cover.
    """

    id: int
    platform_id: int
    platform_slug: str
    name: str
    fs_name: str
    fs_name_no_tags: str
    cover_path: str
    updated_at: str
    fs_size_bytes: int = 0
    missing_from_fs: bool = False


@dataclass(frozen=True, slots=True)
class RomPage:
    """One page of ``GET /api/roms``; ``total`` is ``None`` when asked ``with_total=false``.

    ``served_at``: when the server answered, by its own clock (its HTTP ``Date``, ISO-8601
    UTC, second resolution); ``""`` when unknown.
    """

    items: tuple[RomSummary, ...]
    total: int | None
    offset: int
    limit: int
    served_at: str = ""


@dataclass(frozen=True, slots=True)
class Selection:
    """What the user chose to sync: RomM platform ids and collection ids."""

    platform_ids: frozenset[int] = frozenset()
    collection_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ShortcutSpec:
    """The Steam shortcut a ROM should have (what RomDeck owns of it).

    ``exe`` and ``start_dir`` are stored quoted, as Steam writes them
    (``"\\"/path/bin/romdeck-launch\\""``). ``tags`` are Steam collection names.
    ``cover_path`` is the RomM cover to show as portrait art (``""``: none).
    """

    rom_id: int
    app_name: str
    exe: str
    start_dir: str
    launch_options: str
    tags: tuple[str, ...]
    cover_path: str = ""


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """A shortcut RomDeck made, as last applied: the spec plus Steam's ``appid``.

    ``appid`` is the unsigned 32-bit shortcut id (``>= 0x80000000`` when we computed
    it; whatever Steam returned otherwise). ``cover_key`` is the cover path whose image
    was last written for it (``""``: none written).
    """

    spec: ShortcutSpec
    appid: int
    cover_key: str = ""

    @property
    def rom_id(self) -> int:
        return self.spec.rom_id


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a sync will do to one Steam user's shortcuts.

    ``add``: specs with no shortcut yet; ``update``: (existing entry, new spec) pairs
    whose name, exe, options or tags changed; ``remove``: entries no longer wanted;
    ``unchanged``: how many entries already match.
    """

    add: tuple[ShortcutSpec, ...] = ()
    update: tuple[tuple[RegistryEntry, ShortcutSpec], ...] = ()
    remove: tuple[RegistryEntry, ...] = ()
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.add or self.update or self.remove)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """A progress report: ``step`` name, ``done`` of ``total`` units (``total`` 0: unknown)."""

    step: str
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What a finished sync did, summed over Steam users. ``seconds`` is wall time.

    ``notes``: things the user should know that are not failures (e.g. a Steam user
    whose client has no cloud-storage collections file, so only tags were written).
    """

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    covers_written: int = 0
    failures: tuple[str, ...] = field(default=())
    seconds: float = 0.0
    dry_run: bool = False
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RomFile:
    """One entry of a DetailedRom's ``files[]`` (``GET /api/roms/{id}``).

    ``file_path`` is the server folder (``roms/psx/Game (USA)/Disc 1``); hashes are
    lowercase hex, ``""`` when the server has none.
    """

    id: int
    file_name: str
    file_path: str
    size_bytes: int
    md5_hash: str = ""
    sha1_hash: str = ""
    crc_hash: str = ""
    is_top_level: bool = True
    category: str | None = None


@dataclass(frozen=True, slots=True)
class RomDetail:
    """A DetailedRom (``GET /api/roms/{id}``): the summary, its server folder and ``files``.

    ``fs_path`` is the server folder holding the ROM (``roms/psx``); the ROM's own
    hashes are those of its content (for a zip ROM, of what is inside).
    """

    summary: RomSummary
    fs_name_no_ext: str
    fs_extension: str
    fs_path: str
    files: tuple[RomFile, ...]
    md5_hash: str = ""
    sha1_hash: str = ""
    crc_hash: str = ""


@dataclass(frozen=True, slots=True)
class Install:
    """A ROM installed on this device (``installs`` table).

    ``root`` is the installed file or folder; ``launch_path`` the file handed to the
    emulator (m3u, cue or game file); ``launch_argv`` the full command, resolved at
    install time so the launcher can run it offline. ``size_bytes`` on disk.
    """

    rom_id: int
    platform_slug: str
    system: str
    root: str
    launch_path: str
    size_bytes: int
    launch_argv: tuple[str, ...]
    installed_at: str


@dataclass(frozen=True, slots=True)
class CatalogRefresh:
    """The outcome of a refresh: the platforms and chosen collections as served now,
    the wanted shortcuts by ROM id, and the request counts for the summary.

    ``stamp``: the library stamp (:func:`romdeck.domain.sync_stamp.library_stamp`) after
    the refresh; ``skipped``: nothing changed since the stamp the caller passed, so
    ``desired`` was not computed (it is empty).
    """

    platforms: dict[int, Platform]
    collections: tuple[Collection, ...]
    desired: dict[int, ShortcutSpec]
    fetched: int
    deleted: int
    stamp: str = ""
    skipped: bool = False
