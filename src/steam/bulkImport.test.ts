import { describe, expect, it } from "vitest";

import { accountIdFromSteamId64, BULK_IMPORT_THRESHOLD, shouldOfferBulkImport } from "./bulkImport";

describe("shouldOfferBulkImport", () => {
  it.each([
    // pending adds, budget left this Steam session, offered?
    [0, 500, false],
    [500, 500, false],
    [501, 500, true],
    [3000, 500, true],
    [300, 200, true], // 300 shortcuts were already made this session
    [200, 200, false],
    [1, 0, true], // budget spent: even one more is offered as a bulk import
    [600, 10_000, true], // never more than the threshold, whatever the budget says
  ])("%i adds with %i left -> %s", (adds, left, offered) => {
    expect(shouldOfferBulkImport(adds, left)).toBe(offered);
  });

  it("uses 500 by default, as the issue asks", () => {
    expect(BULK_IMPORT_THRESHOLD).toBe(500);
  });
});

describe("accountIdFromSteamId64", () => {
  it("keeps the low 32 bits, the userdata folder name", () => {
    expect(accountIdFromSteamId64("76561197972611406")).toBe("12345678");
  });

  it.each(["", "abc", "12345", undefined, null])("gives '' for %s", (value) => {
    expect(accountIdFromSteamId64(value)).toBe("");
  });
});
