/**
 * RomDeck's Steam collections: one per platform or RomM collection, named by the
 * shortcut's tags that start with {@link ROMM_PREFIX} ("RomM: SNES").
 *
 * Only collections whose name starts with the prefix are ever read for
 * membership, changed or created; the user's own collections, Favorites and
 * Hidden (system collections are not in `userCollections`) are never touched.
 */
import type { AppStore, CollectionStore, SteamCollection } from "./steamApi";

export const ROMM_PREFIX = "RomM: ";

/** The tags of `tags` that name a RomDeck collection. */
export function rommCollectionNames(tags: readonly string[]): string[] {
  return [...new Set(tags.filter((tag) => tag.startsWith(ROMM_PREFIX) && tag.length > ROMM_PREFIX.length))];
}

function isOurs(collection: SteamCollection): boolean {
  return collection.displayName.startsWith(ROMM_PREFIX);
}

/**
 * Puts each app id in exactly the RomDeck collections its tags name (an empty
 * list takes it out of all of them), creating missing collections.
 *
 * `memberships`: app id -> tags. Apps without an overview (not yet known to
 * Steam) are skipped and returned. Each changed collection is saved once.
 * Errors of `Save()` propagate.
 */
export async function syncRommCollections(
  store: CollectionStore,
  appStore: AppStore,
  memberships: ReadonlyMap<number, readonly string[]>,
): Promise<{ skipped: number[] }> {
  const byName = new Map<string, SteamCollection>();
  for (const collection of store.userCollections) {
    if (isOurs(collection)) byName.set(collection.displayName, collection);
  }
  const changed = new Set<SteamCollection>();
  const skipped: number[] = [];
  for (const [appId, tags] of memberships) {
    const overview = appStore.GetAppOverviewByAppID(appId);
    if (!overview) {
      skipped.push(appId);
      continue;
    }
    const wanted = new Set(rommCollectionNames(tags));
    for (const [name, collection] of byName) {
      if (!wanted.has(name) && collection.apps.has(appId)) {
        collection.AsDragDropCollection().RemoveApps([overview]);
        changed.add(collection);
      }
    }
    for (const name of wanted) {
      const existing = byName.get(name);
      if (existing) {
        if (!existing.apps.has(appId)) {
          existing.AsDragDropCollection().AddApps([overview]);
          changed.add(existing);
        }
        continue;
      }
      const created = store.NewUnsavedCollection(name, undefined, [overview]);
      if (!created) throw new Error(`Steam refused to create the collection "${name}".`);
      byName.set(name, created);
      changed.add(created);
    }
  }
  for (const collection of changed) await collection.Save();
  return { skipped };
}
