/**
 * The small slice of Steam's frontend globals that RomDeck uses, typed so tests
 * substitute a stand-in (`fakeSteam.ts`) for the real objects.
 *
 * - {@link SteamApps}: `SteamClient.Apps` (shortcut creation, properties, artwork, read-back).
 * - {@link CollectionStore}: `window.collectionStore` (untyped in @decky/ui; members as
 *   Steam's client uses them, research/steam-collections.md §5).
 * - {@link AppStore}: `window.appStore`, for the app overviews collections take.
 */

/** What `RegisterForAppDetails` reports about a shortcut (subset of Steam's AppDetails). */
export interface ShortcutDetails {
  strDisplayName: string;
  strShortcutExe: string;
  strShortcutStartDir: string;
  strLaunchOptions: string;
}

export interface Unregisterable {
  unregister(): void;
}

/** `SteamClient.Apps`, the methods RomDeck calls. Set* calls give no success signal. */
export interface SteamApps {
  /** Creates a shortcut; resolves with the app id Steam assigned (final: never recomputed). */
  AddShortcut(name: string, exe: string, startDir: string, launchOptions: string): Promise<number>;
  SetShortcutName(appId: number, name: string): void;
  SetShortcutExe(appId: number, exe: string): void;
  SetShortcutStartDir(appId: number, startDir: string): void;
  SetAppLaunchOptions(appId: number, launchOptions: string): void;
  /** assetType 0 = portrait capsule (600×900), 1 hero, 2 logo, 3 wide, 4 icon. */
  SetCustomArtworkForApp(
    appId: number,
    base64: string,
    format: "png" | "jpg",
    assetType: number,
  ): Promise<unknown>;
  RemoveShortcut(appId: number): void;
  RegisterForAppDetails(
    appId: number,
    callback: (details: ShortcutDetails) => void,
  ): Unregisterable;
}

/** One of Steam's collections as `collectionStore.userCollections` lists it. */
export interface SteamCollection {
  id: string;
  displayName: string;
  apps: { has(appId: number): boolean };
  AsDragDropCollection(): {
    AddApps(overviews: unknown[]): void;
    RemoveApps(overviews: unknown[]): void;
  };
  Save(): Promise<void>;
}

/** `window.collectionStore`, the members RomDeck calls. */
export interface CollectionStore {
  /** The user's own collections; system ones (Favorites, Hidden, ...) are not in it. */
  userCollections: SteamCollection[];
  NewUnsavedCollection(
    name: string,
    filter: undefined,
    overviews: unknown[],
  ): SteamCollection | undefined;
}

/** `window.appStore`: the overview object collections take for an app id. */
export interface AppStore {
  GetAppOverviewByAppID(appId: number): unknown;
}

/** The three Steam objects the shortcut executor needs. */
export interface SteamEnv {
  apps: SteamApps;
  collections: CollectionStore;
  appStore: AppStore;
}

interface SteamGlobals {
  SteamClient?: { Apps?: SteamApps };
  collectionStore?: CollectionStore;
  appStore?: AppStore;
}

/**
 * Steam's real objects from the page's globals (inside Steam's renderer).
 * Throws an Error naming what is missing when run outside Steam.
 */
export function steamFromWindow(scope: unknown = globalThis): SteamEnv {
  const g = scope as SteamGlobals;
  const apps = g.SteamClient?.Apps;
  if (!apps || !g.collectionStore || !g.appStore) {
    throw new Error("Steam's client objects are not available (is this running inside Steam?).");
  }
  return { apps, collections: g.collectionStore, appStore: g.appStore };
}

/** `SteamClient.User`: the member the bulk import calls. */
export interface SteamUserApi {
  /** Quits Steam and starts it again (`force` false: Steam may ask to finish first). */
  StartRestart(force: boolean): void;
}

/** What the bulk import needs of Steam: a restart, and whose library it is. */
export interface SteamSession {
  user: SteamUserApi;
  /** The signed-in user's 64-bit SteamID as Steam's frontend holds it; "" when unknown. */
  steamId64(): string;
}

interface SessionGlobals {
  SteamClient?: { User?: SteamUserApi };
  App?: { m_CurrentUser?: { strSteamID?: string } };
}

/** Steam's real `SteamClient.User` and `App.m_CurrentUser`. Throws outside Steam. */
export function steamSessionFromWindow(scope: unknown = globalThis): SteamSession {
  const g = scope as SessionGlobals;
  const user = g.SteamClient?.User;
  if (!user) throw new Error("Steam's client objects are not available (is this running inside Steam?).");
  return { user, steamId64: () => g.App?.m_CurrentUser?.strSteamID ?? "" };
}

