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

/** Binds the backend method `name` as a function that unwraps its Result. */
function rpc<Args extends unknown[], T>(name: string): (...args: Args) => Promise<T> {
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
  last_sync: SyncRun | null;
  sync_running: boolean;
}

export interface LoginResult {
  url: string;
  server_version: string;
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
  /** Pass back to `report_sync_chunk`; null (lists empty) when nothing is left to hand out. */
  lease_id: string | null;
  add: ShortcutChange[];
  update: ShortcutUpdate[];
  remove: ShortcutRemoval[];
  /** Changes of the plan not yet reported (this chunk's included). */
  remaining: number;
  /** Seconds the chunk stays reserved for this caller; after that it is handed out again. */
  lease_seconds: number;
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

export type Empty = Record<string, never>;

/** Events the backend emits (`addEventListener(EVENTS.x, ...)`); CI checks them against main.py. */
export const EVENTS = {
  /** A download's status changed or made progress; the payload is one {@link Download}. */
  downloadProgress: "download_progress",
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
export const reportSyncChunk = rpc<
  [leaseId: string, results: ShortcutOutcome[]],
  ChunkReport
>("report_sync_chunk");
export const getArtwork = rpc<[romId: number], Artwork>("get_artwork");
export const queueDownloads = rpc<[romIds: number[]], Download[]>("queue_downloads");
export const getDownloads = rpc<[], Download[]>("get_downloads");
export const pauseDownload = rpc<[romId: number], Download>("pause_download");
export const resumeDownload = rpc<[romId: number], Download>("resume_download");
export const cancelDownload = rpc<[romId: number], Download>("cancel_download");
export const uninstall = rpc<[romId: number], Uninstalled>("uninstall");
export const listInstalled = rpc<[], InstalledList>("list_installed");
export const getFreeSpace = rpc<[], FreeSpace>("get_free_space");
