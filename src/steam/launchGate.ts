/**
 * The launch gate: a RomDeck shortcut started while its ROM is not installed
 * is stopped before Steam reports a failed launch; the download is queued and
 * the user gets a toast now and another when the game is ready to play.
 *
 * A RomDeck shortcut is recognised by its launch options, `romdeck:<rom id>`
 * (domain/launch_protocol.py), read through RegisterForAppDetails.
 */
import type { Download } from "../backend";
import type { ShortcutDetails, Unregisterable } from "./steamApi";

/** The parts of `SteamClient.Apps` the gate uses. */
export interface GameActionApps {
  RegisterForGameActionStart(
    callback: (gameActionId: number, appId: string, action: string) => void,
  ): Unregisterable;
  CancelGameAction(gameActionId: number): void;
  RegisterForAppDetails(appId: number, callback: (details: ShortcutDetails) => void): Unregisterable;
}

export interface LaunchGateDeps {
  apps: GameActionApps;
  /** True when the ROM is installed (list_installed). */
  isInstalled(romId: number): Promise<boolean>;
  /** Queues the ROM's download (queue_downloads). */
  queueDownload(romId: number): Promise<Download>;
  toast(title: string, body: string): void;
  /** Calls `listener` for every download_progress event; returns the unsubscribe. */
  onDownload(listener: (download: Download) => void): () => void;
  /** How long to wait for the shortcut's details, ms. */
  detailsTimeoutMs?: number;
}

const ROM_ID = /(?:^|\s)romdeck:(\d+)(?:\s|$)/;

/** The ROM id in a shortcut's launch options, or null when it is not a RomDeck shortcut. */
export function romIdFromLaunchOptions(options: string): number | null {
  const found = ROM_ID.exec(options);
  return found ? Number(found[1]) : null;
}

function launchOptions(apps: GameActionApps, appId: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let done = false;
    let registration: Unregisterable | undefined;
    const finish = (value: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      registration?.unregister();
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    registration = apps.RegisterForAppDetails(appId, (details) => finish(details.strLaunchOptions ?? ""));
    if (done) registration.unregister();
  });
}

/** Starts the gate; returns a function that stops it. */
export function startLaunchGate(deps: LaunchGateDeps): () => void {
  const waiting = new Map<number, string>();
  const timeoutMs = deps.detailsTimeoutMs ?? 1000;

  const onStart = async (gameActionId: number, appIdText: string, action: string): Promise<void> => {
    if (action !== "LaunchApp") return;
    const appId = Number(appIdText);
    const options = await launchOptions(deps.apps, appId, timeoutMs);
    const romId = options === null ? null : romIdFromLaunchOptions(options);
    if (romId === null || (await deps.isInstalled(romId))) return;
    deps.apps.CancelGameAction(gameActionId);
    try {
      const queued = await deps.queueDownload(romId);
      waiting.set(romId, queued.name);
      deps.toast("Downloading", `${queued.name} is not installed yet: its download has started (progress in RomDeck).`);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      deps.toast("Could not download the game", text);
    }
  };

  const registration = deps.apps.RegisterForGameActionStart((id, appId, action) => {
    void onStart(id, appId, action);
  });
  const unsubscribe = deps.onDownload((download) => {
    const name = waiting.get(download.rom_id);
    if (name === undefined) return;
    if (download.state === "installed") {
      waiting.delete(download.rom_id);
      deps.toast("Ready to play", `${name} is installed. Press Play again.`);
    } else if (download.state === "failed" || download.state === "cancelled") {
      waiting.delete(download.rom_id);
      deps.toast("Download stopped", download.error_message || `${name} was not downloaded.`);
    }
  });
  return () => {
    registration.unregister();
    unsubscribe();
  };
}
