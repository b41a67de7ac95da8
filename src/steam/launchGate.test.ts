import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Download } from "../backend";
import { type GameActionApps, romIdFromLaunchOptions, startLaunchGate } from "./launchGate";
import type { ShortcutDetails } from "./steamApi";

function download(state: Download["state"]): Download {
  return {
    rom_id: 12,
    name: "Chrono Trigger",
    state,
    bytes_done: 0,
    bytes_total: null,
    rate_bytes_per_s: 0,
    eta_seconds: null,
    error_code: "",
    error_message: "",
  };
}

function setup(options: Record<number, string>, installed: boolean) {
  let start: ((id: number, appId: string, action: string) => void) | undefined;
  let downloadListener: ((d: Download) => void) | undefined;
  const apps: GameActionApps & { cancelled: number[] } = {
    cancelled: [],
    RegisterForGameActionStart(callback) {
      start = callback;
      return { unregister: () => (start = undefined) };
    },
    CancelGameAction(id) {
      this.cancelled.push(id);
    },
    RegisterForAppDetails(appId, callback: (d: ShortcutDetails) => void) {
      const timer = setTimeout(() => {
        if (appId in options) {
          callback({ strDisplayName: "", strShortcutExe: "", strShortcutStartDir: "", strLaunchOptions: options[appId] });
        }
      }, 10);
      return { unregister: () => clearTimeout(timer) };
    },
  };
  const toast = vi.fn();
  const queueDownload = vi.fn(async () => download("queued"));
  const stop = startLaunchGate({
    apps,
    isInstalled: async () => installed,
    queueDownload,
    toast,
    onDownload: (listener) => {
      downloadListener = listener;
      return () => (downloadListener = undefined);
    },
  });
  return {
    apps,
    toast,
    queueDownload,
    stop,
    launch: (id: number, appId: number, action = "LaunchApp") => start?.(id, String(appId), action),
    emit: (d: Download) => downloadListener?.(d),
    registered: () => start !== undefined,
  };
}

describe("launch gate", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reads the rom id of a RomDeck shortcut's launch options", () => {
    expect(romIdFromLaunchOptions("romdeck:12")).toBe(12);
    expect(romIdFromLaunchOptions("PROTON_LOG=1 romdeck:7")).toBe(7);
    expect(romIdFromLaunchOptions("-fullscreen")).toBeNull();
    expect(romIdFromLaunchOptions("notromdeck:12")).toBeNull();
  });

  it("stops the launch of a ROM not installed, queues it, and toasts now and when ready", async () => {
    const gate = setup({ 2147483649: "romdeck:12" }, false);

    gate.launch(5, 2147483649);
    await vi.runAllTimersAsync();

    expect(gate.apps.cancelled).toEqual([5]);
    expect(gate.queueDownload).toHaveBeenCalledWith(12);
    expect(gate.toast).toHaveBeenLastCalledWith("Downloading", expect.stringContaining("Chrono Trigger is not installed yet"));

    gate.emit(download("downloading"));
    expect(gate.toast).toHaveBeenCalledTimes(1);
    gate.emit(download("installed"));
    expect(gate.toast).toHaveBeenLastCalledWith("Ready to play", "Chrono Trigger is installed. Press Play again.");
    gate.emit(download("installed"));
    expect(gate.toast).toHaveBeenCalledTimes(2);
  });

  it("lets an installed ROM, a foreign shortcut and other actions launch untouched", async () => {
    const installed = setup({ 1: "romdeck:12" }, true);
    installed.launch(1, 1);
    const foreign = setup({ 2: "-windowed" }, false);
    foreign.launch(2, 2);
    foreign.launch(3, 2, "InstallApp");
    await vi.runAllTimersAsync();

    for (const gate of [installed, foreign]) {
      expect(gate.apps.cancelled).toEqual([]);
      expect(gate.queueDownload).not.toHaveBeenCalled();
      expect(gate.toast).not.toHaveBeenCalled();
    }
  });

  it("unregisters when stopped", () => {
    const gate = setup({}, false);
    gate.stop();
    expect(gate.registered()).toBe(false);
  });
});
