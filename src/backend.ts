/**
 * The panel's only door to the Python backend (`main.py`'s `Plugin` methods).
 *
 * Every callable answers with one wire shape, {@link Result}. The functions
 * exported here unwrap it: they resolve with `data` on `{ok: true}` and reject
 * with a {@link BackendError} on `{ok: false}`. A rejected Decky call (the
 * Python method raised, or the loader's socket failed) also becomes a
 * `BackendError`, with code `"internal"`, so callers handle one error type.
 *
 * `scripts/check_callables.py` (run in CI) checks that the names bound with
 * `rpc` below match `Plugin`'s public methods and that {@link ErrorCode}
 * matches `ErrorCode` in `py_modules/romdeck/errors.py`.
 */
import { callable } from "@decky/api";

/** Mirror of `romdeck.errors.ErrorCode` (closed set; kept in step by CI). */
export type ErrorCode =
  | "server_unreachable"
  | "tls_failure"
  | "auth_rejected"
  | "missing_scope"
  | "server_too_old"
  | "not_found"
  | "bad_response"
  | "not_configured"
  | "invalid_input"
  | "steam_not_found"
  | "steam_running"
  | "corrupt_file"
  | "disk_full"
  | "unsafe_archive"
  | "hash_mismatch"
  | "download_failed"
  | "cancelled"
  | "busy"
  | "auth_pending"
  | "state_error"
  | "internal";

/** The error part of a failed result: a stable code and one sentence for the user. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** What every callable returns on the wire. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: WireError };

/** A failed backend call: `code` says what kind, `message` is for the user. */
export class BackendError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }
}

/** Returns `error` itself if it is a BackendError, else wraps it with code `"internal"`. */
export function asBackendError(error: unknown): BackendError {
  if (error instanceof BackendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError("internal", message || "The RomDeck backend failed.");
}

/** Returns `data` of an ok result; throws a BackendError for an error result or a malformed one. */
export function unwrap<T>(result: Result<T>): T {
  if (result !== null && typeof result === "object") {
    if (result.ok === true) return result.data;
    if (result.ok === false && result.error) {
      throw new BackendError(result.error.code, result.error.message);
    }
  }
  throw new BackendError("internal", "The RomDeck backend sent a malformed reply.");
}

/** Binds the backend method `name` as a function that unwraps its Result (for backend-pending.ts too). */
export function rpc<Args extends unknown[], T>(name: string): (...args: Args) => Promise<T> {
  const call = callable<Args, Result<T>>(name);
  return async (...args: Args): Promise<T> => {
    let result: Result<T>;
    try {
      result = await call(...args);
    } catch (error) {
      throw asBackendError(error);
    }
    return unwrap(result);
  };
}

/* ----------------------------------------------------------------- shapes */

/** Summary of a finished sync; its fields are owned by the backend's sync service. */
export type SyncSummary = Record<string, unknown>;

/** The newest recorded sync run (the state database's `sync_runs` table). */
export interface SyncRun {
  id: number;
  /** ISO-8601 time. */
  started_at: string;
  /** ISO-8601 time; null while the run has not finished (or was interrupted). */
  finished_at: string | null;
  /** "running" until the run ends; then how it ended. */
  status: string;
  summary: SyncSummary;
}

export interface Status {
  configured: boolean;
  /** RomM base URL; empty when not configured. */
  url: string;
  server_version: string | null;
  /** The signed-in RomM user (GET /api/users/me); null when signed out or unknown. */
  username?: string | null;
  last_sync: SyncRun | null;
  sync_running: boolean;
}

export interface LoginResult {
  url: string;
  server_version: string;
  /** Sentences to show the user, e.g. a password sent over plain http:// to another host
   *  (password sign-in only; absent for token sign-in). */
  warnings?: string[];
}

/** OAuth device authorization: show `user_code` and `verification_url`; poll every `interval` s. */
export interface DeviceLogin {
  user_code: string;
  verification_url: string;
  /** Seconds until `user_code` expires. */
  expires_in: number;
  /** Seconds to wait between polls. */
  interval: number;
}

export type DeviceLoginStatus =
  | "authorization_pending"
  | "slow_down"
  | "access_denied"
  | "expired_token"
  | "approved";

export interface DevicePoll {
  status: DeviceLoginStatus;
}

export interface ConnectionTest {
  server_version: string;
  /** Number of platforms the server has. */
  platforms: number;
}

export interface Platform {
  id: number;
  slug: string;
  name: string;
  rom_count: number;
  selected: boolean;
}

export interface Collection {
  id: number;
  name: string;
  rom_count: number;
  selected: boolean;
}

export interface SyncStarted {
  run_id: number;
}

export interface SyncProgress {
  running: boolean;
  step: string;
  done: number;
  total: number;
  message: string;
  summary: SyncSummary | null;
  error: WireError | null;
  /** Shortcut changes planned and not yet applied by the panel. */
  remaining: number;
}

/** A Steam shortcut to create (`appid` null) or to change (`appid` set). */
export interface ShortcutChange {
  rom_id: number;
  app_name: string;
  exe: string;
  start_dir: string;
  launch_options: string;
  tags: string[];
  appid: number | null;
  /** Set the portrait art from `get_artwork`: the ROM has a cover not applied yet. */
  artwork: boolean;
}

export interface ShortcutUpdate extends ShortcutChange {
  appid: number;
}

export interface ShortcutRemoval {
  rom_id: number;
  appid: number;
}

export interface SyncChunk {
  /** Names this hand-out in `report_sync_chunk`; null when nothing is left to hand out. */
  lease_id: string | null;
  add: ShortcutChange[];
  update: ShortcutUpdate[];
  remove: ShortcutRemoval[];
  /** Changes of the plan not yet reported (this chunk's included). */
  remaining: number;
  /** Seconds until unreported changes of this chunk are handed out again. */
  lease_seconds: number;
  /** A sync has planned since the backend started (false: an empty chunk does not mean done). */
  planned: boolean;
}

/** What the panel did with one change of a chunk. */
export interface ShortcutOutcome {
  rom_id: number;
  /** The shortcut's app id, or null when it could not be created. */
  appid: number | null;
  removed?: boolean;
  /** Why Steam refused the change, if it did. */
  error?: string;
  /** The panel set the ROM's cover as the shortcut's portrait art. */
  artwork?: boolean;
}

export interface ChunkReport {
  committed: number;
  /**
   * App ids of shortcuts reported as created that nothing will own (the ROM was committed
   * under another app id, or is no longer wanted): the panel removes those it created.
   */
  orphans: number[];
  /** Rom ids whose created shortcut a backend without a plan kept uncommitted (reuse them). */
  kept: number[];
}

export interface Artwork {
  /** PNG bytes, base64-encoded; null when the ROM has no cover. */
  png_base64: string | null;
}

/** A ROM's download as `get_downloads` and the `download_progress` event give it. */
export interface Download {
  rom_id: number;
  name: string;
  state: "queued" | "downloading" | "unpacking" | "paused" | "installed" | "failed" | "cancelled";
  bytes_done: number;
  bytes_total: number | null;
  rate_bytes_per_s: number;
  eta_seconds: number | null;
  error_code: string;
  error_message: string;
}

export interface Installed {
  rom_id: number;
  platform_slug: string;
  system: string;
  root: string;
  launch_path: string;
  size_bytes: number;
  installed_at: string;
}

export interface InstalledList {
  installs: Installed[];
  bytes_by_platform: Record<string, number>;
  total_bytes: number;
}

export interface Uninstalled {
  freed_bytes: number;
}

export interface FreeSpace {
  free_bytes: number;
}

export type EmulationTarget = "auto" | "retrodeck" | "emudeck" | "custom";

/** What the user sets (`get_settings`). */
export interface Settings {
  emulation: {
    target: EmulationTarget;
    /** Absolute ROMs folder of a custom target; null when unset. */
    roms_root: string | null;
    /** BIOS folder of the "custom" target; null: RomDeck manages no BIOS there. */
    bios_root: string | null;
    /** ES-DE system (or "*") → launch command with a {rom} placeholder. */
    templates: Record<string, string>;
  };
  tls: {
    verify: boolean;
    /** Absolute path of a PEM CA bundle trusted in addition; null when unset. */
    ca_file: string | null;
  };
  /** Save sync with RomM: `sync` saves before launch and after exit; `states` also save states. */
  saves: {
    sync: boolean;
    states: boolean;
  };
}

/** A partial {@link Settings} for `set_settings`: keys left out keep their value, null
 *  clears `roms_root`/`bios_root`/`ca_file`, `templates` replaces the whole map. */
export interface SettingsPatch {
  emulation?: Partial<Settings["emulation"]>;
  tls?: Partial<Settings["tls"]>;
  saves?: Partial<Settings["saves"]>;
}

export type Empty = Record<string, never>;

/** Events the backend emits (`addEventListener(EVENTS.x, ...)`); CI checks them against main.py. */
export const EVENTS = {
  /** A download's status changed or made progress; the payload is one {@link Download}. */
  downloadProgress: "download_progress",
  /** A BIOS download made progress; the payload is one {@link FirmwareProgress}. */
  firmwareProgress: "firmware_progress",
} as const;

/* -------------------------------------------------------------- callables */

export const getStatus = rpc<[], Status>("get_status");
export const loginPassword = rpc<
  [url: string, username: string, password: string, verifyTls: boolean],
  LoginResult
>("login_password");
export const loginToken = rpc<[url: string, token: string, verifyTls: boolean], LoginResult>(
  "login_token",
);
export const deviceLoginStart = rpc<[url: string, verifyTls: boolean], DeviceLogin>(
  "device_login_start",
);
export const deviceLoginPoll = rpc<[], DevicePoll>("device_login_poll");
export const logout = rpc<[], Empty>("logout");
export const testConnection = rpc<[], ConnectionTest>("test_connection");
export const listPlatforms = rpc<[], Platform[]>("list_platforms");
export const listCollections = rpc<[], Collection[]>("list_collections");
export const saveSelection = rpc<[platformIds: number[], collectionIds: number[]], Empty>(
  "save_selection",
);
export const startSync = rpc<[], SyncStarted>("start_sync");
export const getSyncProgress = rpc<[], SyncProgress>("get_sync_progress");
export const cancelSync = rpc<[], Empty>("cancel_sync");
/** `size`: the most changes (add + update + remove) to hand out. */
export const nextSyncChunk = rpc<[size: number], SyncChunk>("next_sync_chunk");
export const reportSyncChunk = rpc<[leaseId: string, results: ShortcutOutcome[]], ChunkReport>(
  "report_sync_chunk",
);
export const getArtwork = rpc<[romId: number], Artwork>("get_artwork");
export const queueDownloads = rpc<[romIds: number[]], Download[]>("queue_downloads");
export const getDownloads = rpc<[], Download[]>("get_downloads");
export const pauseDownload = rpc<[romId: number], Download>("pause_download");
export const resumeDownload = rpc<[romId: number], Download>("resume_download");
export const cancelDownload = rpc<[romId: number], Download>("cancel_download");
export const uninstall = rpc<[romId: number], Uninstalled>("uninstall");
export const listInstalled = rpc<[], InstalledList>("list_installed");
export const getFreeSpace = rpc<[], FreeSpace>("get_free_space");
export const getSettings = rpc<[], Settings>("get_settings");
/** Rejects with `invalid_input` (nothing saved) for a bad value; resolves with the new settings. */
export const setSettings = rpc<[patch: SettingsPatch], Settings>("set_settings");

/* ------------------------------------------------------------------- bios */

/** `missing_on_server`: missing here and downloadable from RomM; `missing`: a required
 * file that is missing here and not on the server. Our md5 decides; RomM's
 * `is_verified` is only shown (`server_verified`). */
export type FirmwareStatus =
  | "verified"
  | "wrong_hash"
  | "missing_on_server"
  | "missing"
  | "optional_missing";

export interface FirmwareFile {
  file_name: string;
  /** Relative to the target's bios folder (`dc/dc_boot.bin`). */
  path: string;
  required: boolean;
  status: FirmwareStatus;
  on_server: boolean;
  firmware_id: number | null;
  /** Our md5 of the local file (null: no file). */
  md5: string | null;
  /** The server file's size in bytes (null: not on the server). */
  size_bytes: number | null;
  server_verified: boolean | null;
  expected_md5s: string[];
  description: string;
  /** True when RomDeck placed this file (it may delete it without force). */
  placed: boolean;
}

export interface PlatformFirmware {
  platform_slug: string;
  platform_name: string;
  system: string;
  needs_firmware: boolean;
  /** The games can boot: every required file verified, and one of `any_of` verified. */
  ready: boolean;
  /** Paths of which at least one is needed (`["*"]`: any file), empty when none. */
  any_of: string[];
  files: FirmwareFile[];
}

export interface FirmwareFetch {
  platform_slug: string;
  path: string;
  outcome: "downloaded" | "skipped" | "failed";
  status: FirmwareStatus;
  message: string;
  error_code: ErrorCode | null;
  backup_path: string | null;
}

export interface FirmwareDownloads {
  results: FirmwareFetch[];
}

export interface FirmwareProgress {
  /** Relative to the bios folder. */
  path: string;
  bytes_done: number;
  bytes_total: number | null;
}

export interface FirmwareDeleted {
  path: string;
  /** Set when a file RomDeck had not placed was force-deleted: it was moved here. */
  backup_path: string | null;
}

/** `platformSlug` null: every platform of the server. */
export const listFirmware = rpc<[platformSlug: string | null], PlatformFirmware[]>(
  "list_firmware",
);
/** `fileNames` empty: every missing (or wrong) file the server has. */
export const downloadFirmware = rpc<
  [platformSlug: string | null, fileNames: string[]],
  FirmwareDownloads
>("download_firmware");
/** `path` relative to the bios folder; `force` deletes a file RomDeck did not place. */
export const deleteFirmware = rpc<[path: string, force: boolean], FirmwareDeleted>(
  "delete_firmware",
);

/* ------------------------------------------------------------------ saves */

/** Where one save file stands: the three-way verdict of domain/save_sync.py
 * (offline: judged from the local file and the last sync alone). */
export type SaveState = "synced" | "upload" | "download" | "conflict";

export interface SaveFile {
  file_name: string;
  state: SaveState;
  /** ISO-8601 times (the local file's mtime; RomM's `updated_at`); null when that side
   * has no copy, or RomM was not reachable. */
  local_updated_at: string | null;
  server_updated_at: string | null;
}

export interface GameSaves {
  rom_id: number;
  /** The installed file's name without its extension. */
  name: string;
  /** ISO-8601 time of the last completed save sync of this game; null if never. */
  last_sync_at: string | null;
  /** Why the last sync must be retried (server unreachable, timed out); null if nothing is. */
  pending: string | null;
  /** RomM could not be asked: server times are null. */
  offline: boolean;
  files: SaveFile[];
}

export interface SaveBackup {
  id: number;
  rom_id: number;
  file_name: string;
  /** ISO-8601 time the copy was set aside. */
  created_at: string;
  size_bytes: number;
  /** Why it was kept: "download", "restore" or "conflict". */
  reason: string;
}

/** Every installed game (null) or one; asks RomM for its newest saves. */
export const listSaves = rpc<[romId: number | null], GameSaves[]>("list_saves");
/** Syncs one game, or (null) the pending ones and every installed game; answers their status.
 * Rejects with `invalid_input` while save sync is off. */
export const syncSaves = rpc<[romId: number | null], GameSaves[]>("sync_saves");
export const resolveSaveConflict = rpc<
  [romId: number, fileName: string, choice: "local" | "server"],
  GameSaves
>("resolve_save_conflict");
export const listSaveBackups = rpc<[romId: number], SaveBackup[]>("list_save_backups");
export const restoreSaveBackup = rpc<[backupId: number], GameSaves>("restore_save_backup");
/* ------------------------------------------------------------ bulk import */

/** Where a bulk import is (`preparing` and the two after it run in the detached helper). */
export type BulkImportState =
  | "idle"
  | "preparing"
  | "waiting_for_steam_exit"
  | "writing"
  | "done"
  | "failed"
  | "timed_out";

/** `get_bulk_import`: the last bulk import, read from its record (also after Steam restarted). */
export interface BulkImport {
  job_id: string | null;
  state: BulkImportState;
  /** In words: what it is doing, or how it ended. */
  message: string;
  /** Shortcuts the import adds (known once prepared). */
  count: number;
  counts: { added: number; updated: number; removed: number; covers: number; failed: number };
  /** The first problems, in words (at most 20). */
  failures: string[];
  started_at: string | null;
  finished_at: string | null;
  /** Seconds from Steam gone to everything written (the window Steam had to stay shut). */
  write_seconds?: number;
  /** Shortcuts the sync waiting for the panel would still create (0 when none waits). */
  pending_adds: number;
}

export interface BulkImportStarted {
  job_id: string;
  count: number;
  state: BulkImportState;
}

/** `steamUser`: the Steam account id (userdata folder) to write; "" = the only user. */
export const startBulkImport = rpc<[steamUser: string], BulkImportStarted>("start_bulk_import");
export const getBulkImport = rpc<[], BulkImport>("get_bulk_import");
/** One game's playtime (seconds; times ISO UTC). `offline`: RomM could not be asked,
 * so `server_seconds` is 0 and the total is ours only. */
export interface GamePlaytime {
  rom_id: number;
  name: string;
  total_seconds: number;
  local_seconds: number;
  server_seconds: number;
  sessions: number;
  last_played_at: string | null;
  queued: number;
  refused: number;
  offline: boolean;
}

/** What one delivery of queued play sessions did (`queued` -1: unknown). */
export interface PlaytimeDelivery {
  delivered: number;
  refused: number;
  queued: number;
  batches: number;
  error: string;
  error_code: string;
}

/** `romId` null: every game with a session, most recently played first. */
export const getPlaytime = rpc<[romId: number | null], GamePlaytime[]>("get_playtime");
/** Send the queued play sessions to RomM now. */
export const syncPlaytime = rpc<[], PlaytimeDelivery>("sync_playtime");
