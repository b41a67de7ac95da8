"""Composition root: builds the adapters and wires the services; the only place both meet.

``main.py`` (Decky) and ``romdeck.cli`` (headless) call :func:`build_app` once, inside a
running event loop (aiohttp's session wants one), before their first ``await``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from romdeck import __version__
from romdeck.adapters.clock import SystemClock
from romdeck.adapters.detached_helper import DetachedHelperLauncher, Mode
from romdeck.adapters.emulation.core_info import CoreInfoFolders
from romdeck.adapters.emulation.save_locator import RetroArchSaveLocator
from romdeck.adapters.emulation.target import EmulationTargetReader
from romdeck.adapters.emulation.target_saves import TargetRetroArchConfig, TargetStateLocator
from romdeck.adapters.files.bios_folder import LocalBiosFolder
from romdeck.adapters.files.ca_bundle import LocalCaBundleReader
from romdeck.adapters.files.diskspace import StatvfsDiskSpace
from romdeck.adapters.files.download import AiohttpDownloader
from romdeck.adapters.files.extract import SafeExtractor
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.adapters.files.pending_saves import PendingSaveQueue
from romdeck.adapters.files.pending_sessions import JsonlPendingSessions
from romdeck.adapters.files.save_files import LocalSaveFiles
from romdeck.adapters.launch_socket import UnixSocketLaunchServer
from romdeck.adapters.romm.auth import AiohttpRommAuth
from romdeck.adapters.romm.catalog import AiohttpRommClient
from romdeck.adapters.romm.cover_cache import CachedCoverFetcher
from romdeck.adapters.romm.covers import PillowCoverFetcher
from romdeck.adapters.romm.current_saves import CurrentRommSaves, CurrentRommStates
from romdeck.adapters.romm.firmware import AiohttpRommFirmware
from romdeck.adapters.romm.play_sessions import AiohttpRommPlaySessions
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.adapters.steam.cloud_collections import JsonCloudCollections
from romdeck.adapters.steam.fingerprint import StatSteamFingerprint
from romdeck.adapters.steam.grid import FileGridArtwork
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.adapters.steam.process import ProcSteamProcess
from romdeck.adapters.steam.shortcuts_file import VdfShortcutFile
from romdeck.adapters.store.bulk_jobs import JsonBulkJobFile
from romdeck.adapters.store.catalog import SqliteCatalog
from romdeck.adapters.store.database import SqliteDatabase
from romdeck.adapters.store.firmware_files import SqliteFirmwarePlacements
from romdeck.adapters.store.installs import SqliteInstallStore
from romdeck.adapters.store.play_sessions import SqlitePlaySessionOutbox
from romdeck.adapters.store.registry import SqliteRegistry
from romdeck.adapters.store.saves import SqliteSaveStore
from romdeck.adapters.store.settings_json import JsonSettingsStore
from romdeck.adapters.store.sync_runs import SqliteSyncRunLog
from romdeck.adapters.store.sync_stamps import JsonSyncStamps
from romdeck.domain.bulk_import import BulkJob
from romdeck.domain.downloads import DownloadStatus
from romdeck.domain.layout import PlayTarget
from romdeck.errors import NotConfiguredError
from romdeck.services.account import AccountService
from romdeck.services.artwork import ArtworkService
from romdeck.services.bulk_import import BulkImport, BulkImportDeps, RefreshRecorder
from romdeck.services.devices import DeviceConfig, DeviceService
from romdeck.services.downloads import DownloadService
from romdeck.services.file_sync import FileSync, FileSyncDeps
from romdeck.services.firmware import FirmwareDeps, FirmwareService
from romdeck.services.installer import DownloadDeps, Installer
from romdeck.services.launch import LaunchService
from romdeck.services.library import LibraryRefresher
from romdeck.services.panel_sync import PANEL_USER, PanelSync
from romdeck.services.playtime import PlaytimeDeps, PlaytimeService, PlaytimeSessionListener
from romdeck.services.protocols import LibraryRefresh, RommCatalogApi, ShortcutRegistry
from romdeck.services.save_states import StateSync
from romdeck.services.saves import SaveConfig, SaveService, SaveSessionListener, SyncReport
from romdeck.services.selection import SelectionService
from romdeck.services.settings_service import SettingsService

_log = logging.getLogger("romdeck.bootstrap")

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
    play_target: Callable[[], Awaitable[PlayTarget]]
    """The emulation target from the settings and the disk (RetroDECK, EmuDeck, custom),
    read off the loop."""
    settings_service: SettingsService
    """Reads and changes what the user sets (validated before saving)."""
    firmware: FirmwareService
    selection: SelectionService
    artwork: ArtworkService
    saves: SaveService
    """Save sync with RomM (before launch, after exit, pending retries, conflicts, backups)."""
    pending_saves: PendingSaves
    """The retry of pending save syncs started with the backend, and its recorded result."""
    bulk_import: BulkImport
    """Imports past Steam's per-session budget while Steam restarts (a detached helper)."""
    devices: DeviceService
    """This installation's RomM device (registered once, again when RomM lost it)."""
    playtime: PlaytimeService
    """Play sessions: outbox, delivery to RomM, totals per game."""

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
        self.pending_saves.start()

    async def close(self) -> None:
        """Stop background work, close the HTTP session and the database (well under 5 s)."""
        await self.launch_server.stop()
        await self.pending_saves.close()
        await self.playtime.close()
        await self.downloads.close()
        await self.panel_sync.close()
        await self.session.close()
        await self.installs.close()  # its pending writes land before the database closes
        self.db.close()


class PendingSaves:
    """Runs ``saves.sync_pending()`` once in the background (at backend start) and records
    how it ended: ``result`` is ``None`` while it runs or before it started, else the
    list of :class:`SyncReport` or the error's text. Every outcome is logged."""

    def __init__(self, saves: SaveService, queue: PendingSaveQueue) -> None:
        self._saves = saves
        self._queue = queue
        self._task: asyncio.Task[None] | None = None
        self.result: list[SyncReport] | str | None = None

    def start(self) -> None:
        """Start the retry unless it already ran or runs (never blocks the caller)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def take_queue(self) -> list[int]:
        """Mark pending the ROMs the launcher queued in ``pending_saves.jsonl``."""
        return await self._queue.drain(self._saves.mark_pending)

    async def _run(self) -> None:
        try:
            await self.take_queue()
            reports = await self._saves.sync_pending()
        except asyncio.CancelledError:
            self.result = "cancelled at shutdown"
            _log.warning("Pending save syncs were cancelled at shutdown")
            raise
        except Exception as error:  # recorded, never silent
            self.result = f"{type(error).__name__}: {error}"
            _log.exception("Pending save syncs failed")
            return
        self.result = reports
        still = [r.rom_id for r in reports if r.pending]
        _log.info("Pending save syncs: %d retried, still pending: %s", len(reports), still)

    async def wait(self) -> None:
        """Until the retry (if started) has ended."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        """Cancel a retry still running (its ROMs stay pending)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self.wait()


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

    targets = EmulationTargetReader(home or user_home(), lambda: settings.load().emulation)
    play_target = targets.current  # reads settings.json and the config files in a thread

    installs = SqliteInstallStore(db)
    tree = LocalInstallTree()
    devices, playtime = _playtime(paths, session, settings, db, catalog, clock, connect)
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
    saves = _save_service(
        paths, session, db, settings, installs,
        lambda: targets.read(settings.load().emulation),  # blocking: the locator runs in a thread
        home or user_home(), devices,
    )  # fmt: skip
    launch = LaunchService(
        installs=installs,
        downloads=downloads,
        probe=tree,
        target=play_target,
        # playtime first: the session's row exists before any save upload starts;
        # downloads: uninstall refuses a game that is running; saves: upload after exit
        listeners=[PlaytimeSessionListener(playtime), downloads, SaveSessionListener(saves)],
        pre_launch=saves,  # saves: a newer server save is downloaded before the game starts
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
    recorder = RefreshRecorder(refresher)
    panel_sync = PanelSync(
        refresher=recorder, registry=registry, runs=runs, clock=clock, connect=connect
    )
    bulk_import = _bulk_import(
        paths,
        home=home or user_home(),
        registry=registry,
        refresher=refresher,
        recorder=recorder,
        panel_sync=panel_sync,
        runs=runs,
        clock=clock,
        connect=connect,
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
        panel_sync=panel_sync,
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
        saves=saves,
        pending_saves=PendingSaves(saves, PendingSaveQueue(paths.data_dir / "pending_saves.jsonl")),
        bulk_import=bulk_import,
        devices=devices,
        playtime=playtime,
    )


def _save_service(
    paths: Paths,
    session: aiohttp.ClientSession,
    db: SqliteDatabase,
    settings: JsonSettingsStore,
    installs: SqliteInstallStore,
    play_target: Callable[[], PlayTarget],
    home: Path,
    devices: DeviceService,
) -> SaveService:
    """The saves service: RomM for the connection saved at each call, the target's own
    ``retroarch.cfg`` (``play_target`` blocks: the save locator calls it in its worker
    thread), kept copies under ``<data>/saves/{backups,conflicts}``, this host's name for
    the RomM device; syncs only while ``settings.saves.sync`` is on, and RetroArch's save
    states too while ``settings.saves.states`` is."""
    host = socket.gethostname() or "steamdeck"
    device_name = f"RomDeck on {host}"  # as the sign-in names it (_device_identity)
    files = LocalSaveFiles(paths.data_dir / "saves")
    store = SqliteSaveStore(db)
    states = StateSync(
        server=CurrentRommStates(session, lambda: settings.load().connection),
        locator=TargetStateLocator(installs.get_blocking, home, play_target),
        files=files,
        store=store,
        clock=SystemClock(),
        enabled=lambda: settings.load().saves.states,
    )
    return SaveService(
        server=CurrentRommSaves(session, lambda: settings.load().connection),
        locator=RetroArchSaveLocator(
            installs.get_blocking, TargetRetroArchConfig(home, play_target)
        ),
        files=files,
        store=store,
        clock=SystemClock(),
        config=SaveConfig(hostname=host, device_name=device_name),
        enabled=lambda: settings.load().saves.sync,
        states=states,
        devices=devices,  # one RomM device for saves and play sessions
    )


def _cli_main(args: list[str]) -> int:
    """``romdeck.cli.main``, imported when the spawned helper runs it (the CLI imports us)."""
    from romdeck.cli import main

    return main(args)


def _bulk_import(
    paths: Paths,
    *,
    home: Path,
    registry: SqliteRegistry,
    refresher: LibraryRefresher,
    recorder: RefreshRecorder,
    panel_sync: PanelSync,
    runs: SqliteSyncRunLog,
    clock: SystemClock,
    connect: Callable[[], AiohttpRommClient],
) -> BulkImport:
    """The bulk import and its helper. ``$ROMDECK_HELPER_MODE`` (``subprocess``/``spawn``)
    overrides how the helper is started (tests; the default picks by interpreter)."""
    locks = paths.data_dir / "locks"
    wanted = os.environ.get("ROMDECK_HELPER_MODE", "")
    mode: Mode = (
        "spawn" if wanted == "spawn" else "subprocess" if wanted == "subprocess" else "auto"
    )
    launcher = DetachedHelperLauncher(
        PLUGIN_ROOT, paths.data_dir / "bulk-import.log", entry=_cli_main, mode=mode
    )

    def locator(steam_dir: str) -> SteamLocator:
        return SteamLocator(Path(steam_dir) if steam_dir else None, home=home)

    def proc(job: BulkJob) -> ProcSteamProcess:
        return ProcSteamProcess(Path(job.proc_root or "/proc"), steam_root=None)

    def file_sync(job: BulkJob, refresh: LibraryRefresh, view: ShortcutRegistry) -> FileSync:
        steam = locator(job.steam_dir)
        return FileSync(
            FileSyncDeps(
                refresher=refresh,
                registry=view,
                shortcuts=VdfShortcutFile(steam, lock_dir=locks),
                grid=FileGridArtwork(steam.root()),
                steam=proc(job),
                clock=clock,
                collections=JsonCloudCollections(steam, lock_dir=locks),
                runs=runs,
            )
        )

    def helper_args(job_id: str) -> list[str]:
        shared = paths.data_dir == paths.settings_dir
        return [*(["--data-dir", str(paths.data_dir)] if shared else []), "bulk-import", job_id]

    def covers(api: RommCatalogApi) -> CachedCoverFetcher:
        return CachedCoverFetcher(PillowCoverFetcher(api), paths.data_dir / "bulk-covers")

    return BulkImport(
        BulkImportDeps(
            jobs=JsonBulkJobFile(paths.data_dir / "bulk-import.json"),
            launcher=launcher,
            clock=clock,
            registry=registry,
            refresher=refresher,
            panel_user=PANEL_USER,
            last_refresh=lambda: recorder.last,
            plan_pending=lambda: panel_sync.state.remaining if panel_sync.state.running else 0,
            stop_panel_sync=panel_sync.cancel,
            connect=connect,
            covers=covers,
            steam_users=lambda steam_dir: locator(steam_dir).users(),
            steam=proc,
            file_sync=file_sync,
            helper_args=helper_args,
        )
    )


def _playtime(
    paths: Paths,
    session: aiohttp.ClientSession,
    settings: JsonSettingsStore,
    db: SqliteDatabase,
    catalog: SqliteCatalog,
    clock: SystemClock,
    connect: Callable[[], AiohttpRommClient],
) -> tuple[DeviceService, PlaytimeService]:
    """The device service and the playtime service (outbox, pending file, RomM API)."""

    def connect_devices() -> AiohttpRommSaves:
        connect()  # raises NotConfiguredError when signed out
        return AiohttpRommSaves(session, settings.load().connection)

    def connect_sessions() -> AiohttpRommPlaySessions:
        connect()
        return AiohttpRommPlaySessions(session, settings.load().connection)

    device_name, _ = _device_identity()
    devices = DeviceService(
        connect=connect_devices,
        store=SqliteSaveStore(db),
        config=DeviceConfig(hostname=socket.gethostname() or "steamdeck", name=device_name),
    )
    playtime = PlaytimeService(
        PlaytimeDeps(
            outbox=SqlitePlaySessionOutbox(db),
            pending=JsonlPendingSessions(paths.data_dir),
            connect=connect_sessions,
            devices=devices,
            names=catalog,
            clock=clock,
        )
    )
    return devices, playtime
