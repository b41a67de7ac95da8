/**
 * Applies the backend's shortcut plan to Steam while Steam runs (Game Mode).
 *
 * The plan comes in leased chunks from `next_sync_chunk` (contracts.md §1); for
 * each chunk the applier removes, updates and creates shortcuts through
 * `SteamClient.Apps`, sets portrait art from `get_artwork`, files shortcuts into
 * RomDeck's collections, and reports every outcome with `report_sync_chunk`,
 * so an interrupted sync resumes where it stopped. It stops, with a message for
 * the user, when this Steam boot's creation budget ({@link CreationBudget}) is
 * spent.
 *
 * Shortcuts it created that the backend will never own (`orphans` in the report: the
 * ROM was committed under another app id, or is no longer wanted) are removed again,
 * and so are those a restarted backend kept uncommitted once it has nothing left to
 * hand out. Only shortcuts this applier created are ever removed that way.
 */
import type { Artwork, ChunkReport, ShortcutChange, ShortcutOutcome, SyncChunk } from "../backend";
import { CreationBudget } from "./budget";
import { syncRommCollections } from "./collections";
import type { ShortcutDetails, SteamApps, SteamEnv, Unregisterable } from "./steamApi";

/** The backend calls the applier needs (bound to src/backend.ts in production). */
export interface PlanSource {
  nextSyncChunk(size: number): Promise<SyncChunk>;
  reportSyncChunk(leaseId: string, results: ShortcutOutcome[]): Promise<ChunkReport>;
  getArtwork(romId: number): Promise<Artwork>;
}

export interface ApplyOptions {
  /** Most changes asked for per chunk. */
  chunkSize?: number;
  /** Wait after AddShortcut before setting properties, ms (Steam ignores early Set* calls). */
  settleMs?: number;
  /** How long to wait for RegisterForAppDetails to show the properties, ms. */
  readBackTimeoutMs?: number;
  /** Pause between chunks, ms, so Steam's renderer keeps up. */
  chunkPauseMs?: number;
  /** Attempts at report_sync_chunk before the run stops. */
  reportAttempts?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ApplyProgress) => void;
}

export interface ApplyProgress {
  created: number;
  updated: number;
  removed: number;
  /** Changes Steam refused or did not confirm (reported with `error`). */
  failed: number;
  /** Changes the backend still had after the last chunk. */
  remaining: number;
  /** Shortcuts this applier created and removed again because nothing owns them. */
  orphansRemoved?: number;
}

/** How a run ended; `message` says why in words when it did not simply finish. */
export interface ApplyResult extends ApplyProgress {
  status: "done" | "budget" | "cancelled" | "failed";
  message: string;
}

const DEFAULTS = {
  chunkSize: 20,
  settleMs: 500,
  readBackTimeoutMs: 2000,
  chunkPauseMs: 250,
  reportAttempts: 3,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function unquote(path: string): string {
  return path.length >= 2 && path.startsWith('"') && path.endsWith('"') ? path.slice(1, -1) : path;
}

function matches(details: ShortcutDetails, spec: ShortcutChange): boolean {
  return (
    details.strDisplayName === spec.app_name &&
    unquote(details.strShortcutExe ?? "") === unquote(spec.exe) &&
    unquote(details.strShortcutStartDir ?? "") === unquote(spec.start_dir) &&
    (details.strLaunchOptions ?? "") === spec.launch_options
  );
}

/** Resolves true once Steam reports `spec`'s properties for `appId`, false after `timeoutMs`. */
export function readBack(
  apps: SteamApps,
  appId: number,
  spec: ShortcutChange,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    let finished = false;
    let registration: Unregisterable | undefined;
    const finish = (ok: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      registration?.unregister();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    registration = apps.RegisterForAppDetails(appId, (details) => {
      if (matches(details, spec)) finish(true);
    });
    if (finished) registration.unregister();
  });
}

function message(error: unknown): string {
  return error instanceof Error && error.message ? error.message : String(error);
}

export function budgetMessage(budget: CreationBudget, remaining: number): string {
  return (
    `Steam has had ${budget.used} shortcuts created since it started; more in this session ` +
    `could crash Steam (each costs it about 1 MB of memory). Restart Steam and press Sync ` +
    `again to apply the remaining ${remaining}.`
  );
}

/**
 * Runs plans against one Steam. Keep one instance per plugin load: it remembers
 * the app ids of shortcuts it created whose report did not reach the backend,
 * so a retried chunk updates them instead of creating duplicates.
 */
export class ShortcutApplier {
  private readonly steam: SteamEnv;
  private readonly source: PlanSource;
  private readonly budget: CreationBudget;
  /** rom id -> app id Steam assigned, for creations not yet committed by the backend. */
  private readonly unreported = new Map<number, number>();
  /** App ids of every shortcut this applier created: the only ones it removes as orphans. */
  private readonly created = new Set<number>();
  /** Rom ids of `unreported` creations a backend without a plan kept (see ChunkReport.kept). */
  private readonly kept = new Set<number>();

  constructor(steam: SteamEnv, source: PlanSource, budget = new CreationBudget()) {
    this.steam = steam;
    this.source = source;
    this.budget = budget;
  }

  /** Applies chunks until the backend has none left, the budget is spent, `signal` aborts, or a backend call fails. */
  async run(options: ApplyOptions = {}): Promise<ApplyResult> {
    const opts = { ...DEFAULTS, ...options };
    const tally: ApplyProgress = { created: 0, updated: 0, removed: 0, failed: 0, remaining: 0, orphansRemoved: 0 };
    const end = (status: ApplyResult["status"], text = ""): ApplyResult => ({
      ...tally,
      status,
      message: text,
    });
    const failedThisRun = new Map<number, string>();
    for (let first = true; ; first = false) {
      if (opts.signal?.aborted) return end("cancelled", "Sync cancelled.");
      if (this.budget.left === 0) return end("budget", budgetMessage(this.budget, tally.remaining));
      if (!first) await sleep(opts.chunkPauseMs);
      let chunk: SyncChunk;
      try {
        chunk = await this.source.nextSyncChunk(Math.min(opts.chunkSize, this.budget.left));
      } catch (error) {
        return end("failed", `Could not get the next changes from RomDeck: ${message(error)}`);
      }
      tally.remaining = chunk.remaining;
      if (chunk.lease_id === null) {
        if (chunk.remaining === 0 && chunk.planned) await this.dropKept(tally);
        return end("done");
      }
      const handedOut = [...chunk.remove, ...chunk.update, ...chunk.add].map((c) => c.rom_id);
      if (handedOut.every((romId) => failedThisRun.has(romId))) {
        const [firstError] = failedThisRun.values();
        return end("failed", `Steam refused ${failedThisRun.size} change(s); the first: ${firstError}`);
      }
      const { results, stoppedBy } = await this.applyChunk(chunk, opts, tally);
      const reported = await this.report(chunk.lease_id, results, opts.reportAttempts, tally);
      if (reported !== null) {
        return end("failed", `Steam has the changes but RomDeck could not record them: ${reported}`);
      }
      for (const result of results) if (result.error) failedThisRun.set(result.rom_id, result.error);
      opts.onProgress?.({ ...tally });
      if (stoppedBy === "budget") {
        const unapplied = chunk.add.length + chunk.update.length + chunk.remove.length - results.length;
        return end("budget", budgetMessage(this.budget, tally.remaining + unapplied));
      }
      if (stoppedBy === "cancelled") return end("cancelled", "Sync cancelled.");
    }
  }

  /** Reports `results`; returns null on success, else the last error's message. */
  private async report(
    leaseId: string,
    results: ShortcutOutcome[],
    attempts: number,
    tally: ApplyProgress,
  ): Promise<string | null> {
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      let answer: ChunkReport;
      try {
        answer = await this.source.reportSyncChunk(leaseId, results);
      } catch (error) {
        last = message(error);
        if (attempt < attempts) await sleep(1000 * attempt);
        continue;
      }
      // A failed change keeps its app id, so the retry reuses the shortcut Steam already has;
      // so does one a backend without a plan kept.
      const kept = new Set(answer.kept ?? []);
      for (const result of results) {
        if (result.error) continue;
        if (kept.has(result.rom_id)) {
          this.kept.add(result.rom_id);
        } else {
          this.unreported.delete(result.rom_id);
          this.kept.delete(result.rom_id);
        }
      }
      for (const appId of answer.orphans ?? []) await this.removeOrphan(appId, tally);
      return null;
    }
    return last;
  }

  /** Removes a shortcut this applier created that nothing owns; a foreign app id is left alone. */
  private async removeOrphan(appId: number, tally: ApplyProgress): Promise<void> {
    if (!this.created.has(appId)) return;
    const outcome = await this.remove(-1, appId);
    if (outcome.error) return; // still ours and still unowned: the next report or run tries again
    this.created.delete(appId);
    for (const [romId, known] of this.unreported) {
      if (known === appId) {
        this.unreported.delete(romId);
        this.kept.delete(romId);
      }
    }
    tally.orphansRemoved = (tally.orphansRemoved ?? 0) + 1;
  }

  /** The backend has nothing left: shortcuts it kept uncommitted will never be asked for. */
  private async dropKept(tally: ApplyProgress): Promise<void> {
    for (const romId of [...this.kept]) {
      const appId = this.unreported.get(romId);
      this.kept.delete(romId);
      if (appId !== undefined) await this.removeOrphan(appId, tally);
    }
  }

  private async applyChunk(
    chunk: SyncChunk,
    opts: typeof DEFAULTS & ApplyOptions,
    tally: ApplyProgress,
  ): Promise<{ results: ShortcutOutcome[]; stoppedBy: "budget" | "cancelled" | null }> {
    const results: ShortcutOutcome[] = [];
    const cancelled = (): boolean => opts.signal?.aborted ?? false;
    for (const removal of chunk.remove) {
      if (cancelled()) return { results, stoppedBy: "cancelled" };
      results.push(await this.remove(removal.rom_id, removal.appid));
      if (results[results.length - 1].error) tally.failed += 1;
      else tally.removed += 1;
    }
    const members = new Map<number, readonly string[]>();
    let stoppedBy: "budget" | "cancelled" | null = null;
    for (const spec of [...chunk.update, ...chunk.add]) {
      if (cancelled()) {
        stoppedBy = "cancelled";
        break;
      }
      const known = spec.appid ?? this.unreported.get(spec.rom_id) ?? null;
      if (known === null && this.budget.left === 0) {
        stoppedBy = "budget";
        break;
      }
      const outcome = await this.apply(spec, known, opts);
      results.push(outcome);
      if (outcome.error) tally.failed += 1;
      else if (known === null) tally.created += 1;
      else tally.updated += 1;
      if (!outcome.error && outcome.appid !== null) members.set(outcome.appid, spec.tags);
    }
    if (members.size > 0) {
      try {
        await syncRommCollections(this.steam.collections, this.steam.appStore, members);
      } catch {
        // Shortcuts stand without their collection; the next sync files them again.
      }
    }
    return { results, stoppedBy };
  }

  private async remove(romId: number, appId: number): Promise<ShortcutOutcome> {
    try {
      await syncRommCollections(this.steam.collections, this.steam.appStore, new Map([[appId, []]]));
      this.steam.apps.RemoveShortcut(appId);
      return { rom_id: romId, appid: appId, removed: true };
    } catch (error) {
      return { rom_id: romId, appid: appId, error: `Steam did not remove the shortcut: ${message(error)}` };
    }
  }

  private async apply(
    spec: ShortcutChange,
    known: number | null,
    opts: typeof DEFAULTS,
  ): Promise<ShortcutOutcome> {
    const apps = this.steam.apps;
    let appId = known;
    if (appId === null) {
      try {
        appId = await apps.AddShortcut(spec.app_name, spec.exe, "", "");
      } catch (error) {
        return { rom_id: spec.rom_id, appid: null, error: `Steam did not create the shortcut: ${message(error)}` };
      }
      if (!Number.isInteger(appId) || appId <= 0) {
        return { rom_id: spec.rom_id, appid: null, error: "Steam did not give the new shortcut an app id." };
      }
      this.budget.spend();
      this.created.add(appId);
      this.unreported.set(spec.rom_id, appId);
      await sleep(opts.settleMs);
    }
    try {
      apps.SetShortcutName(appId, spec.app_name);
      apps.SetShortcutExe(appId, spec.exe);
      apps.SetShortcutStartDir(appId, spec.start_dir);
      apps.SetAppLaunchOptions(appId, spec.launch_options);
    } catch (error) {
      return { rom_id: spec.rom_id, appid: appId, error: `Steam refused the shortcut's settings: ${message(error)}` };
    }
    if (!(await readBack(apps, appId, spec, opts.readBackTimeoutMs))) {
      return {
        rom_id: spec.rom_id,
        appid: appId,
        error: `Steam did not confirm the shortcut's settings within ${opts.readBackTimeoutMs / 1000} s.`,
      };
    }
    const outcome: ShortcutOutcome = { rom_id: spec.rom_id, appid: appId };
    if (spec.artwork) outcome.artwork = await this.setPortrait(appId, spec.rom_id);
    return outcome;
  }

  /** Sets the ROM's cover as portrait art; false when there is none or it failed (asked again next sync). */
  private async setPortrait(appId: number, romId: number): Promise<boolean> {
    try {
      const art = await this.source.getArtwork(romId);
      if (!art.png_base64) return false;
      await this.steam.apps.SetCustomArtworkForApp(appId, art.png_base64, "png", 0);
      return true;
    } catch {
      return false;
    }
  }
}
