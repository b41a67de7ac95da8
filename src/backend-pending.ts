/**
 * Bindings for callables of contracts.md §3 whose Python side lands in other
 * branches (settings, bios, saves). They live here, outside the names
 * `scripts/check_callables.py` reads in backend.ts, until main.py has them;
 * at merge they move into backend.ts unchanged.
 */
import { rpc } from "./backend";

/* ---------------------------------------------------------------- settings */

export type EmulationTarget = "auto" | "retrodeck" | "emudeck" | "custom";

export interface Settings {
  emulation: {
    target: EmulationTarget;
    /** ROMs folder for the "custom" target; null otherwise. */
    roms_root: string | null;
    /** Launch command template per RetroDECK/EmuDeck system. */
    templates: Record<string, string>;
  };
  tls: {
    verify: boolean;
    /** Path of a PEM CA bundle to trust; null for the system's. */
    ca_file: string | null;
  };
}

export interface SettingsPatch {
  emulation?: Partial<Settings["emulation"]>;
  tls?: Partial<Settings["tls"]>;
}

export const getSettings = rpc<[], Settings>("get_settings");
export const setSettings = rpc<[patch: SettingsPatch], Settings>("set_settings");

/* -------------------------------------------------------------------- bios */

export type FirmwareStatus =
  | "verified"
  | "wrong_hash"
  | "missing_on_server"
  | "missing"
  | "optional_missing";

export interface FirmwareFile {
  file_name: string;
  path: string;
  required: boolean;
  status: FirmwareStatus;
  on_server: boolean;
  firmware_id: number | null;
  md5: string | null;
  size_bytes: number | null;
}

export interface PlatformFirmware {
  platform_slug: string;
  platform_name: string;
  needs_firmware: boolean;
  /** The bios branch also sends whether the games can boot (its own any-of rules). */
  ready?: boolean;
  files: FirmwareFile[];
}

export const listFirmware = rpc<[platformSlug: string | null], PlatformFirmware[]>("list_firmware");
/** One file's download outcome, as the bios branch's `download_firmware` answers. */
export interface FirmwareFetch {
  platform_slug: string;
  path: string;
  outcome: string;
  status: FirmwareStatus;
  message: string;
  error_code: string | null;
  backup_path: string | null;
}

export const downloadFirmware = rpc<
  [platformSlug: string | null, fileNames: string[]],
  { results: FirmwareFetch[] }
>("download_firmware");
export const deleteFirmware = rpc<[path: string, force: boolean], Record<string, unknown>>(
  "delete_firmware",
);

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
