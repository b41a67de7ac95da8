/**
 * Test stand-ins for Steam's client objects and the backend's chunk protocol.
 * They record every call and can be told to fail; nothing here ships.
 */
import type { Artwork, ChunkReport, ShortcutChange, ShortcutOutcome, SyncChunk } from "../backend";
import type { PlanSource } from "./applier";
import type { ShortcutDetails, SteamApps, SteamCollection, SteamEnv } from "./steamApi";

export type Call = [method: string, ...args: unknown[]];

interface FakeShortcut extends ShortcutDetails {
  appId: number;
}

/** A Steam that keeps shortcuts in memory and answers RegisterForAppDetails after `detailsDelayMs`. */
export class FakeSteam implements SteamApps {
  readonly calls: Call[] = [];
  readonly shortcuts = new Map<number, FakeShortcut>();
  readonly artwork = new Map<number, string>();
  /** Makes the n-th AddShortcut call (1-based) reject. */
  failAddOn = new Set<number>();
  /** Makes AddShortcut reject for these names while they are in the set. */
  failNames = new Set<string>();
  /** App ids whose Set* calls Steam silently ignores (read-back never matches). */
  ignoreSetsFor = new Set<number>();
  detailsDelayMs = 50;
  private nextId = 0x80000001;
  private adds = 0;

  async AddShortcut(name: string, exe: string, startDir: string, launchOptions: string): Promise<number> {
    this.calls.push(["AddShortcut", name, exe, startDir, launchOptions]);
    this.adds += 1;
    if (this.failAddOn.has(this.adds) || this.failNames.has(name)) throw new Error("AddShortcut failed");
    const appId = this.nextId++;
    // Steam ignores most of AddShortcut's arguments.
    this.shortcuts.set(appId, {
      appId,
      strDisplayName: "",
      strShortcutExe: exe,
      strShortcutStartDir: "",
      strLaunchOptions: "",
    });
    return appId;
  }

  private set(appId: number, field: keyof ShortcutDetails, method: string, value: string): void {
    this.calls.push([method, appId, value]);
    const shortcut = this.shortcuts.get(appId);
    if (shortcut && !this.ignoreSetsFor.has(appId)) shortcut[field] = value;
  }

  SetShortcutName(appId: number, name: string): void {
    this.set(appId, "strDisplayName", "SetShortcutName", name);
  }
  SetShortcutExe(appId: number, exe: string): void {
    this.set(appId, "strShortcutExe", "SetShortcutExe", `"${exe.replace(/^"|"$/g, "")}"`);
  }
  SetShortcutStartDir(appId: number, dir: string): void {
    this.set(appId, "strShortcutStartDir", "SetShortcutStartDir", dir);
  }
  SetAppLaunchOptions(appId: number, options: string): void {
    this.set(appId, "strLaunchOptions", "SetAppLaunchOptions", options);
  }
  async SetCustomArtworkForApp(appId: number, base64: string, format: string, assetType: number) {
    this.calls.push(["SetCustomArtworkForApp", appId, base64, format, assetType]);
    this.artwork.set(appId, base64);
  }
  RemoveShortcut(appId: number): void {
    this.calls.push(["RemoveShortcut", appId]);
    this.shortcuts.delete(appId);
  }
  RegisterForAppDetails(appId: number, callback: (details: ShortcutDetails) => void) {
    this.calls.push(["RegisterForAppDetails", appId]);
    const timer = setTimeout(() => {
      const shortcut = this.shortcuts.get(appId);
      if (shortcut) callback({ ...shortcut });
    }, this.detailsDelayMs);
    return { unregister: () => clearTimeout(timer) };
  }

  methods(): string[] {
    return this.calls.map(([method]) => method);
  }
}

/** One collection of the fake collectionStore; records Save() and membership changes. */
export class FakeCollection implements SteamCollection {
  readonly id: string;
  displayName: string;
  readonly members: Set<number>;
  saves = 0;
  touched = 0;

  constructor(id: string, displayName: string, members: number[] = []) {
    this.id = id;
    this.displayName = displayName;
    this.members = new Set(members);
  }

  get apps() {
    return { has: (appId: number) => this.members.has(appId) };
  }

  AsDragDropCollection() {
    return {
      AddApps: (overviews: unknown[]) => {
        this.touched += 1;
        for (const o of overviews) this.members.add((o as { appid: number }).appid);
      },
      RemoveApps: (overviews: unknown[]) => {
        this.touched += 1;
        for (const o of overviews) this.members.delete((o as { appid: number }).appid);
      },
    };
  }

  async Save(): Promise<void> {
    this.saves += 1;
  }
}

/** A Steam environment: the fake apps, a collectionStore and an appStore knowing the fake's shortcuts. */
export function fakeSteamEnv(steam: FakeSteam, collections: FakeCollection[]): SteamEnv {
  let created = 0;
  return {
    apps: steam,
    collections: {
      userCollections: collections,
      NewUnsavedCollection(name: string, _filter: undefined, overviews: unknown[]) {
        created += 1;
        const collection = new FakeCollection(`uc-${created}`, name);
        collection.AsDragDropCollection().AddApps(overviews);
        collection.touched = 0;
        collections.push(collection);
        return collection;
      },
    },
    appStore: {
      GetAppOverviewByAppID: (appId: number) =>
        steam.shortcuts.has(appId) || collections.some((c) => c.members.has(appId))
          ? { appid: appId }
          : null,
    },
  };
}

/** A spec for ROM `romId` with sensible defaults. */
export function spec(romId: number, overrides: Partial<ShortcutChange> = {}): ShortcutChange {
  return {
    rom_id: romId,
    app_name: `Game ${romId}`,
    exe: "/home/deck/homebrew/plugins/RomDeck/bin/romdeck-launch",
    start_dir: "/home/deck",
    launch_options: `play ${romId}`,
    tags: ["RomM: SNES"],
    appid: null,
    artwork: false,
    ...overrides,
  };
}

/**
 * The backend side of the chunk protocol, in memory: it hands out pending
 * changes in leases; a change reported with an app id (or removed) and no error
 * is committed, anything else stays pending and is handed out again.
 */
export class FakePlan implements PlanSource {
  readonly pendingAdds: ShortcutChange[];
  readonly pendingRemoves: { rom_id: number; appid: number }[];
  readonly committed = new Map<number, ShortcutOutcome>();
  readonly reports: ShortcutOutcome[][] = [];
  readonly sizes: number[] = [];
  /** Makes the n-th report_sync_chunk call (1-based) reject. */
  failReportOn = new Set<number>();
  /** Answers like a restarted backend that has not planned yet: commits nothing, keeps creations. */
  noPlan = false;
  covers = new Map<number, string>();
  private leases = 0;
  private reportCalls = 0;

  constructor(adds: ShortcutChange[], removes: { rom_id: number; appid: number }[] = []) {
    this.pendingAdds = [...adds];
    this.pendingRemoves = [...removes];
  }

  async nextSyncChunk(size: number): Promise<SyncChunk> {
    this.sizes.push(size);
    const remove = this.pendingRemoves.slice(0, size);
    const add = this.pendingAdds.slice(0, size - remove.length);
    const total = this.pendingAdds.length + this.pendingRemoves.length;
    if (this.noPlan || remove.length + add.length === 0) {
      return { lease_id: null, add: [], update: [], remove: [], remaining: 0, lease_seconds: 0, planned: !this.noPlan };
    }
    this.leases += 1;
    return {
      lease_id: `lease-${this.leases}`,
      add: add.filter((s) => s.appid === null),
      update: add.filter((s) => s.appid !== null) as SyncChunk["update"],
      remove,
      remaining: total - remove.length - add.length,
      lease_seconds: 60,
      planned: true,
    };
  }

  async reportSyncChunk(_leaseId: string, results: ShortcutOutcome[]): Promise<ChunkReport> {
    this.reportCalls += 1;
    if (this.failReportOn.has(this.reportCalls)) throw new Error("report failed");
    this.reports.push(results);
    let committed = 0;
    const orphans: number[] = [];
    const kept: number[] = [];
    for (const result of results) {
      if (result.error) continue;
      const created = !result.removed && result.appid !== null;
      if (created && this.noPlan) {
        kept.push(result.rom_id);
        continue;
      }
      const pending =
        this.pendingAdds.some((s) => s.rom_id === result.rom_id) ||
        this.pendingRemoves.some((r) => r.rom_id === result.rom_id);
      if (!pending && created) {
        // Committed already (another caller reported first) or no longer wanted.
        if (this.committed.get(result.rom_id)?.appid !== result.appid) orphans.push(result.appid as number);
        continue;
      }
      this.committed.set(result.rom_id, result);
      committed += 1;
      const addAt = this.pendingAdds.findIndex((s) => s.rom_id === result.rom_id);
      if (addAt >= 0) this.pendingAdds.splice(addAt, 1);
      const removeAt = this.pendingRemoves.findIndex((r) => r.rom_id === result.rom_id);
      if (removeAt >= 0) this.pendingRemoves.splice(removeAt, 1);
    }
    return { committed, orphans, kept };
  }

  /** Another caller committed this ROM's shortcut first (under `appId`): it is no longer pending. */
  commitElsewhere(romId: number, appId: number): void {
    const addAt = this.pendingAdds.findIndex((s) => s.rom_id === romId);
    if (addAt >= 0) this.pendingAdds.splice(addAt, 1);
    this.committed.set(romId, { rom_id: romId, appid: appId });
  }

  async getArtwork(romId: number): Promise<Artwork> {
    return { png_base64: this.covers.get(romId) ?? null };
  }
}
