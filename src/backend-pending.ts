/**
 * Re-exports for the sections that import from this module: settings, BIOS and saves
 * are all bound in backend.ts now (the saves callables have landed in main.py).
 */

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
/* The saves callables have landed in main.py; they are bound in backend.ts. */
export {
  listSaveBackups,
  listSaves,
  resolveSaveConflict,
  restoreSaveBackup,
  syncSaves,
} from "./backend";
export type { GameSaves, SaveBackup, SaveFile, SaveState } from "./backend";
