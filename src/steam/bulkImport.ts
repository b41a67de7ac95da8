import { DEFAULT_CREATION_LIMIT } from "./budget";

/** Shortcut creations past which the panel offers a bulk import instead (one Steam session). */
export const BULK_IMPORT_THRESHOLD = DEFAULT_CREATION_LIMIT;

/**
 * The one place that decides whether a sync is offered as "Import N games while Steam
 * restarts": when it would create more shortcuts than are still safe in this Steam
 * session — more than `threshold` (500) or than the creation budget has left.
 */
export function shouldOfferBulkImport(
  pendingAdds: number,
  budgetLeft: number,
  threshold: number = BULK_IMPORT_THRESHOLD,
): boolean {
  return pendingAdds > Math.max(0, Math.min(threshold, budgetLeft));
}

const STEAM_ID64_BASE = 76561197960265728n;

/**
 * The Steam account id (the `userdata/<id>` folder, 32 bits) from the 64-bit SteamID
 * Steam's frontend holds; "" when it is missing or not a SteamID.
 */
export function accountIdFromSteamId64(steamId64: string | undefined | null): string {
  if (!steamId64 || !/^\d+$/.test(steamId64)) return "";
  const id = BigInt(steamId64);
  if (id < STEAM_ID64_BASE) return "";
  return (id & 0xffffffffn).toString();
}
