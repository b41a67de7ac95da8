"""Composition root: builds the adapters and wires the services; the only place both meet.

``main.py`` (Decky) and ``romdeck.cli`` (headless) call :func:`build_app` once, inside a
running event loop (aiohttp's session wants one), before their first ``await``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from romdeck import __version__
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.emulation.core_info import CoreInfoFolders
from romdeck.adapters.emulation.target import EmulationTargetReader
from romdeck.adapters.files.bios_folder import LocalBiosFolder
from romdeck.adapters.files.ca_bundle import LocalCaBundleReader
from romdeck.adapters.files.diskspace import StatvfsDiskSpace
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.files.extract import SafeExtractor
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.adapters.launch_socket import UnixSocketLaunchServer
from romdeck.adapters.romm.auth import AiohttpRommAuth
from romdeck.adapters.romm.catalog import AiohttpRommClient
from romdeck.adapters.romm.covers import PillowCoverFetcher
from romdeck.adapters.romm.firmware import AiohttpRommFirmware
from romdeck.adapters.steam.cloud_collections import JsonCloudCollections
from romdeck.adapters.steam.fingerprint import StatSteamFingerprint
from romdeck.adapters.steam.grid import FileGridArtwork
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.adapters.steam.process import ProcSteamProcess
from romdeck.adapters.steam.shortcuts_file import VdfShortcutFile
from romdeck.adapters.store.catalog import SqliteCatalog
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.firmware_files import SqliteFirmwarePlacements
from romdeck.adapters.store.installs import SqliteInstallStore
from romdeck.adapters.store.registry import SqliteRegistry
from romdeck.adapters.store.settings_json import JsonSettingsStore
from romdeck.adapters.store.sync_runs import SqliteSyncRunLog
from romdeck.adapters.store.sync_stamps import JsonSyncStamps
from romdeck.domain.downloads import DownloadStatus
from romdeck.domain.layout import PlayTarget
from romdeck.errors import NotConfiguredError
from romdeck.services.account import AccountService
from romdeck.services.artwork import ArtworkService
from romdeck.services.downloads import DownloadService
from romdeck.services.file_sync import FileSync, FileSyncDeps
from romdeck.services.firmware import FirmwareDeps, FirmwareService
from romdeck.services.installer import DownloadDeps, Installer
from romdeck.services.launch import LaunchService
from romdeck.services.library import LibraryRefresher
from romdeck.services.panel_sync import PanelSync
from romdeck.services.selection import SelectionService
from romdeck.services.settings_service import SettingsService

PLUGIN_ROOT = Path(__file__).resolve().parent
LAUNCHER = PLUGIN_ROOT / "bin" / "romdeck-launch"


@dataclass(frozen=True, slots=True)
class Paths:
    """Where RomDeck keeps its files.

    ``data_dir`` holds ``state.db`` and the launcher socket; ``settings_dir`` holds
    ``settings.json``. In Decky they are ``DECKY_PLUGIN_RUNTIME_DIR`` and
    ``DECKY_PLUGIN_SETTINGS_DIR``; headless ``$XDG_DATA_HOME/romdeck`` and
    ``$XDG_CONFIG_HOME/romdeck``; ``--data-dir`` (or ``$ROMDECK_DATA_DIR``) puts both in one folder.
    """

    data_dir: Path
    settings_dir: Path
    launcher: Path = LAUNCHER

    @classmethod
    def resolve(cls, data_dir: Path | None = None, env: Mapping[str, str] = os.environ) -> Paths:
        explicit = data_dir or (
            Path(env["ROMDECK_DATA_DIR"]) if env.get("ROMDECK_DATA_DIR") else None
        )
        if explicit is not None:
            return cls(explicit.expanduser(), explicit.expanduser())
        if env.get("DECKY_PLUGIN_RUNTIME_DIR"):
            runtime = Path(env["DECKY_PLUGIN_RUNTIME_DIR"])
            return cls(runtime, Path(env.get("DECKY_PLUGIN_SETTINGS_DIR") or runtime))
        home = Path(env.get("HOME") or Path.home())
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "romdeck"
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "romdeck"
        return cls(data, config)

    @property
    def database(self) -> Path:
        return self.data_dir / "state.db"

    @property
    def settings(self) -> Path:
        return self.settings_dir / "settings.json"

    @property
    def launch_socket(self) -> Path:
        """Where ``bin/romdeck-launch`` finds the backend (it derives the same folder)."""
        return self.data_dir / "launch.sock"


def user_home(env: Mapping[str, str] = os.environ) -> Path:
    """The desktop user's home (Decky's ``DECKY_USER_HOME`` when the plugin runs as root)."""
    return Path(env.get("DECKY_USER_HOME") or env.get("HOME") or Path.home())


def _device_identity() -> tuple[str, str]:
    """(device name shown in RomM, stable device identifier) from the host name and machine id."""
    host = socket.gethostname() or "steamdeck"
    try:
        machine = Path("/etc/machine-id").read_text(encoding="ascii").strip()
    except OSError:
        machine = host
    return f"RomDeck on {host}", str(uuid.uuid5(uuid.NAMESPACE_URL, f"romdeck:{machine}"))


@dataclass
class App:
    """The wired application. ``connect()`` gives a client for the saved connection."""

    paths: Paths
    session: aiohttp.ClientSession
    settings: JsonSettingsStore
    db: SqliteDatabase
    catalog: SqliteCatalog
    registry: SqliteRegistry
    runs: SqliteSyncRunLog
    clock: SystemClock
    account: AccountService
    refresher: LibraryRefresher
    panel_sync: PanelSync
    connect: Callable[[], AiohttpRommClient]
    """A RomM client for the saved connection. Raises ``NotConfiguredError``."""
    installs: SqliteInstallStore
    downloads: DownloadService
    launch: LaunchService
    launch_server: UnixSocketLaunchServer
    play_target: Callable[[], PlayTarget]
    """The emulation target from the settings and the disk (RetroDECK, EmuDeck, custom)."""
    settings_service: SettingsService
    """Reads and changes what the user sets (validated before saving)."""
    firmware: FirmwareService
    selection: SelectionService
    artwork: ArtworkService

    def covers(self, client: AiohttpRommClient) -> PillowCoverFetcher:
        """Cover art fetched through ``client`` and converted to PNG."""
        return PillowCoverFetcher(client)

    def file_sync(
        self,
        steam_dir: Path | None = None,
        *,
        home: Path | None = None,
        proc_root: Path | None = None,
    ) -> FileSync:
        """A headless sync writing the Steam tree at ``steam_dir`` (else the default one)."""
        locator = SteamLocator(steam_dir, home=home)
        root = locator.root()
        deps = FileSyncDeps(
            refresher=self.refresher,
            registry=self.registry,
            shortcuts=VdfShortcutFile(locator, lock_dir=self.paths.data_dir / "locks"),
            grid=FileGridArtwork(root),
            steam=ProcSteamProcess(proc_root or Path("/proc"), steam_root=None),
            clock=self.clock,
            collections=JsonCloudCollections(locator, lock_dir=self.paths.data_dir / "locks"),
            runs=self.runs,
            stamps=JsonSyncStamps(self.paths.data_dir / "sync-stamps.json"),
            tree=StatSteamFingerprint(locator),
        )
        return FileSync(deps)

    async def serve_launcher(self) -> None:
        """Answer ``bin/romdeck-launch`` on the unix socket and resume interrupted downloads."""
        await self.launch_server.start(self.paths.launch_socket)
        await self.downloads.restore()

    async def close(self) -> None:
        """Stop background work, close the HTTP session and the database (well under 5 s)."""
        await self.launch_server.stop()
        await self.downloads.close()
        await self.panel_sync.close()
        await self.session.close()
        self.db.close()


def _ignore_event(_status: DownloadStatus) -> None:
    return None


def build_app(
    paths: Paths,
    *,
    session: aiohttp.ClientSession | None = None,
    home: Path | None = None,
    on_download_event: Callable[[DownloadStatus], None] = _ignore_event,
) -> App:
    """Build the whole object graph. Call inside a running event loop.

    ``home``: the user whose RetroDECK/EmuDeck folders are used (default: ``user_home()``).
    ``on_download_event``: receives every download status change (Decky emits it).
    Raises ``StateError`` when the database cannot be opened.
    """
    session = session or aiohttp.ClientSession(
        headers={"User-Agent": f"RomDeck/{__version__}"},
        connector=aiohttp.TCPConnector(limit=16),
    )
    db = SqliteDatabase(paths.database)
    settings = JsonSettingsStore(paths.settings)
    catalog = SqliteCatalog(db)
    registry = SqliteRegistry(db)
    runs = SqliteSyncRunLog(db)
    clock = SystemClock()
    device_name, device_id = _device_identity()
    account = AccountService(
        auth=AiohttpRommAuth(session),
        settings=settings,
        clock=clock,
        device_name=device_name,
        device_id=device_id,
    )
    refresher = LibraryRefresher(catalog=catalog, launcher=str(paths.launcher))

    def connect() -> AiohttpRommClient:
        connection = settings.load().connection
        if not connection.configured:
            raise NotConfiguredError(
                "RomDeck is not signed in to a RomM server yet: sign in first "
                "(`romdeck login`, or the panel)."
            )
        return AiohttpRommClient(session, connection)

    targets = EmulationTargetReader(home or user_home())

    def play_target() -> PlayTarget:
        return targets.read(settings.load().emulation)

    installs = SqliteInstallStore(db)
    tree = LocalInstallTree()
    download_deps = DownloadDeps(
        connect=connect,
        downloader=AiohttpDownloader(session),
        extractor=SafeExtractor(),
        hasher=FileHasher(),
        tree=tree,
        free_space=StatvfsDiskSpace(),
        store=installs,
        target=play_target,
        clock=clock,
        on_event=on_download_event,
    )
    downloads = DownloadService(download_deps, installer=Installer(download_deps))
    launch = LaunchService(
        installs=installs,
        downloads=downloads,
        probe=tree,
        target=play_target,
        listeners=[downloads],  # uninstall refuses a game that is running
    )
    downloader = AiohttpDownloader(session)

    def connect_firmware() -> AiohttpRommFirmware:
        connect()  # raises NotConfiguredError when signed out
        return AiohttpRommFirmware(session, settings.load().connection, downloader)

    firmware = FirmwareService(
        FirmwareDeps(
            connect=connect_firmware,
            folder=LocalBiosFolder(FileHasher(), paths.data_dir / "bios-backups"),
            placements=SqliteFirmwarePlacements(db),
            cores=CoreInfoFolders(home or user_home()),
            target=play_target,
            clock=clock,
        )
    )
    return App(
        paths=paths,
        session=session,
        settings=settings,
        db=db,
        catalog=catalog,
        registry=registry,
        runs=runs,
        clock=clock,
        account=account,
        refresher=refresher,
        panel_sync=PanelSync(
            refresher=refresher, registry=registry, runs=runs, clock=clock, connect=connect
        ),
        connect=connect,
        installs=installs,
        downloads=downloads,
        launch=launch,
        launch_server=UnixSocketLaunchServer(launch.handle),
        play_target=play_target,
        settings_service=SettingsService(store=settings, ca_files=LocalCaBundleReader()),
        firmware=firmware,
        selection=SelectionService(settings=settings),
        artwork=ArtworkService(catalog=catalog, connect=connect, covers=PillowCoverFetcher),
    )
