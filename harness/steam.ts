/**
 * The harness's stand-in for Steam's client objects: `SteamClient.Apps`,
 * `collectionStore` and `appStore`, built on the test double of
 * src/steam/fakeSteam.ts, plus what the launch gate uses (game actions).
 * The page lists what the panel did to it in its "Steam library" box.
 */
import { FakeCollection, FakeSteam, fakeSteamEnv } from "../src/steam/fakeSteam";
import type { SteamEnv } from "../src/steam/steamApi";

type GameActionListener = (gameActionId: number, appId: string, action: string) => void;

/** What became of one press of Play in the stand-in library. */
export interface Launch {
  appId: number;
  outcome: "started" | "cancelled by RomDeck";
}

export class HarnessSteam extends FakeSteam {
  private readonly actionListeners = new Set<GameActionListener>();
  private nextAction = 1;
  private readonly cancelled = new Set<number>();
  readonly launches: Launch[] = [];

  RegisterForGameActionStart(callback: GameActionListener) {
    this.actionListeners.add(callback);
    return { unregister: () => this.actionListeners.delete(callback) };
  }

  CancelGameAction(gameActionId: number): void {
    this.calls.push(["CancelGameAction", gameActionId]);
    this.cancelled.add(gameActionId);
  }

  /** Presses Play on `appId`: game-action listeners run; after `settleMs` the launch counts as started unless cancelled. */
  play(appId: number, settleMs = 1500): Promise<Launch> {
    const id = this.nextAction++;
    for (const listener of this.actionListeners) listener(id, String(appId), "LaunchApp");
    return new Promise((resolve) => {
      setTimeout(() => {
        const launch: Launch = { appId, outcome: this.cancelled.has(id) ? "cancelled by RomDeck" : "started" };
        this.launches.push(launch);
        resolve(launch);
      }, settleMs);
    });
  }
}

/** The stand-in Steam: one of the user's own collections exists before RomDeck runs (it must stay untouched). */
export function makeSteam(): { steam: HarnessSteam; collections: FakeCollection[]; env: SteamEnv } {
  const steam = new HarnessSteam();
  const collections = [new FakeCollection("uc-own", "Couch co-op (the user's own)", [10, 20])];
  return { steam, collections, env: fakeSteamEnv(steam, collections) };
}

/** Puts the stand-in on the page's globals where the panel looks for Steam's objects. */
export function installSteam(env: SteamEnv, steam: HarnessSteam): void {
  const g = globalThis as Record<string, unknown>;
  g.SteamClient = { Apps: steam };
  g.collectionStore = env.collections;
  g.appStore = env.appStore;
}
