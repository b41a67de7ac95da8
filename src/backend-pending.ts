/**
 * Bindings for the saves callables of contracts.md §3, whose Python side has not
 * landed in main.py yet (the saves service exists; its callables do not). They live
 * here, outside the names `scripts/check_callables.py` reads in backend.ts, until
 * main.py has them. Settings and BIOS are bound in backend.ts and re-exported here
 * for the sections that import them from this module.
 */
import { rpc } from "./backend";

export {
  deleteFirmware,
  downloadFirmware,
  getSettings,
  listFirmware,
  setSettings,
} from "./backend";
export type {
  FirmwareFetch,
  FirmwareFile,
  FirmwareStatus,
  PlatformFirmware,
  Settings,
  SettingsPatch,
} from "./backend";
export type EmulationTarget = import("./backend").Settings["emulation"]["target"];

/* ------------------------------------------------------------------- saves */
/*
 * Contract §3 fixes only the names of the saves callables; these shapes are the
 * panel's proposal (the saves branch has no callables yet). The coordinator
 * reconciles them with the saves helper's report at merge.
 */

/** Where one save file stands: the three-way verdict of domain/save_sync.py. */
export type SaveState = "synced" | "upload" | "download" | "conflict";

export interface SaveFile {
  file_name: string;
  state: SaveState;
  /** ISO-8601 times; null when that side has no copy. */
  local_updated_at: string | null;
  server_updated_at: string | null;
}

export interface GameSaves {
  rom_id: number;
  name: string;
  /** ISO-8601 time of the last completed save sync of this game; null if never. */
  last_sync_at: string | null;
  files: SaveFile[];
}

export interface SaveBackup {
  id: number;
  rom_id: number;
  file_name: string;
  /** ISO-8601 time the copy was set aside. */
  created_at: string;
  size_bytes: number;
}

export const listSaves = rpc<[romId: number | null], GameSaves[]>("list_saves");
export const syncSaves = rpc<[romId: number | null], GameSaves[]>("sync_saves");
export const resolveSaveConflict = rpc<
  [romId: number, fileName: string, choice: "local" | "server"],
  GameSaves
>("resolve_save_conflict");
export const listSaveBackups = rpc<[romId: number], SaveBackup[]>("list_save_backups");
export const restoreSaveBackup = rpc<[backupId: number], GameSaves>("restore_save_backup");
