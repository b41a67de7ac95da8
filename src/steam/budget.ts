/**
 * How many shortcuts RomDeck may still create in this boot of Steam.
 *
 * Steam's renderer grows by about 1 MB per created shortcut and has crashed
 * near 2,000 creations in one boot (DESIGN.md), so creation stops at a limit
 * well under that. The count lives on the page's global object, which lasts as
 * long as Steam's renderer does (a plugin reload keeps it; a Steam restart
 * clears it).
 */
export const DEFAULT_CREATION_LIMIT = 500;

const KEY = "__romdeckShortcutsCreatedThisBoot";

export class CreationBudget {
  readonly limit: number;
  private readonly scope: Record<string, unknown>;

  /** `limit`: shortcuts allowed per Steam boot; `scope`: where the count is kept. */
  constructor(limit = DEFAULT_CREATION_LIMIT, scope: object = globalThis) {
    this.limit = limit;
    this.scope = scope as Record<string, unknown>;
  }

  /** Shortcuts created through RomDeck since Steam started. */
  get used(): number {
    const value = this.scope[KEY];
    return typeof value === "number" ? value : 0;
  }

  /** Creations still allowed in this boot (never negative). */
  get left(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** Counts one created shortcut. */
  spend(): void {
    this.scope[KEY] = this.used + 1;
  }
}
