import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { type ApplyOptions, type ApplyResult, ShortcutApplier } from "./applier";
import { CreationBudget } from "./budget";
import { FakeCollection, FakePlan, FakeSteam, fakeSteamEnv, spec } from "./fakeSteam";

function setup(plan: FakePlan, collections: FakeCollection[] = [], limit = 500) {
  const steam = new FakeSteam();
  const env = fakeSteamEnv(steam, collections);
  const budget = new CreationBudget(limit, {});
  return { steam, env, budget, applier: new ShortcutApplier(env, plan, budget) };
}

async function run(applier: ShortcutApplier, options: ApplyOptions = {}): Promise<ApplyResult> {
  const done = applier.run(options);
  await vi.runAllTimersAsync();
  return done;
}

describe("ShortcutApplier", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks for chunks of the given size and reports each with the app ids Steam assigned", async () => {
    const plan = new FakePlan([1, 2, 3, 4, 5].map((id) => spec(id)));
    const { steam, applier } = setup(plan);

    const result = await run(applier, { chunkSize: 2 });

    expect(result).toMatchObject({ status: "done", created: 5, failed: 0 });
    expect(plan.sizes).toEqual([2, 2, 2, 2]);
    expect(plan.reports.map((r) => r.length)).toEqual([2, 2, 1]);
    const appIds = [...plan.committed.values()].map((r) => r.appid);
    expect(new Set(appIds).size).toBe(5);
    for (const appId of appIds) expect(steam.shortcuts.get(appId as number)?.strLaunchOptions).toMatch(/^play /);
  });

  it("creates with AddShortcut(name, exe, '', ''), then sets the properties only after 500 ms", async () => {
    const plan = new FakePlan([spec(1), spec(2)]);
    const { steam, applier } = setup(plan);

    const done = applier.run();
    await vi.advanceTimersByTimeAsync(499);
    expect(steam.methods()).toEqual(["AddShortcut"]);
    expect(steam.calls[0]).toEqual(["AddShortcut", "Game 1", spec(1).exe, "", ""]);

    await vi.advanceTimersByTimeAsync(1);
    expect(steam.methods()).toEqual([
      "AddShortcut",
      "SetShortcutName",
      "SetShortcutExe",
      "SetShortcutStartDir",
      "SetAppLaunchOptions",
      "RegisterForAppDetails",
    ]);
    // The second shortcut waits for the first one's read-back.
    await vi.advanceTimersByTimeAsync(49);
    expect(steam.methods().filter((m) => m === "AddShortcut")).toHaveLength(1);
    await vi.runAllTimersAsync();
    expect((await done).created).toBe(2);
  });

  it("reports a shortcut whose settings Steam never shows as failed, keeping its app id", async () => {
    const plan = new FakePlan([spec(1)]);
    const { steam, applier } = setup(plan);
    steam.ignoreSetsFor.add(0x80000001);

    const done = applier.run({ readBackTimeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(500 + 1999);
    expect(plan.reports).toHaveLength(0);
    await vi.runAllTimersAsync();
    const result = await done;

    expect(plan.reports[0]).toEqual([
      { rom_id: 1, appid: 0x80000001, error: "Steam did not confirm the shortcut's settings within 2 s." },
    ]);
    expect(result).toMatchObject({ status: "failed", failed: 1, created: 0 });
    expect(result.message).toMatch(/^Steam refused 1 change\(s\); the first: Steam did not confirm/);
    // Handed out again in the same run, it reused the shortcut rather than creating another.
    expect(steam.methods().filter((m) => m === "AddShortcut")).toHaveLength(1);
  });

  it("reports a failure midway and the next run applies only what is left", async () => {
    const plan = new FakePlan([1, 2, 3, 4, 5].map((id) => spec(id)));
    const { steam, applier } = setup(plan);
    steam.failNames.add("Game 3");

    const first = await run(applier, { chunkSize: 5 });
    expect(first).toMatchObject({ status: "failed", created: 4, failed: 1 });
    expect(first.message).toMatch(/AddShortcut failed/);
    expect(plan.reports[0].find((r) => r.rom_id === 3)).toMatchObject({ appid: null, error: /AddShortcut failed/ });

    steam.failNames.clear();
    const second = await run(applier, { chunkSize: 5 });

    expect(second).toMatchObject({ status: "done", created: 1, failed: 0 });
    expect(steam.calls.filter(([m, name]) => m === "AddShortcut" && name === "Game 3")).toHaveLength(2);
    expect(steam.calls.filter(([m]) => m === "AddShortcut")).toHaveLength(6);
    expect(steam.shortcuts.size).toBe(5);
    expect(plan.pendingAdds).toEqual([]);
  });

  it("never creates a shortcut twice when a chunk's report did not reach the backend", async () => {
    const plan = new FakePlan([spec(1), spec(2)]);
    const { steam, applier } = setup(plan);
    plan.failReportOn = new Set([1, 2, 3]);

    const first = await run(applier, { reportAttempts: 3 });
    expect(first.status).toBe("failed");
    expect(first.message).toMatch(/could not record them: report failed/);

    const second = await run(applier);

    expect(second).toMatchObject({ status: "done", created: 0, updated: 2 });
    expect(steam.methods().filter((m) => m === "AddShortcut")).toHaveLength(2);
    expect(steam.shortcuts.size).toBe(2);
    expect(plan.committed.get(1)?.appid).toBe(0x80000001);
  });

  it("retries a failed report and goes on when a later attempt succeeds", async () => {
    const plan = new FakePlan([spec(1)]);
    const { applier } = setup(plan);
    plan.failReportOn = new Set([1]);

    expect((await run(applier)).status).toBe("done");
    expect(plan.committed.has(1)).toBe(true);
  });

  it("files shortcuts into RomM collections and never touches the user's own", async () => {
    const favourites = new FakeCollection("uc-mine", "My favourites", [42]);
    const snesOfMine = new FakeCollection("uc-snes", "SNES", [43]);
    const romm = new FakeCollection("uc-romm", "RomM: SNES");
    const collections = [favourites, snesOfMine, romm];
    const plan = new FakePlan([spec(1), spec(2, { tags: ["RomM: GBA", "Action", "RomM: Best"] })]);
    const { applier } = setup(plan, collections);

    await run(applier);

    const byName = new Map(collections.map((c) => [c.displayName, c]));
    expect([...romm.members]).toEqual([0x80000001]);
    expect([...(byName.get("RomM: GBA")?.members ?? [])]).toEqual([0x80000002]);
    expect([...(byName.get("RomM: Best")?.members ?? [])]).toEqual([0x80000002]);
    expect(byName.has("Action")).toBe(false);
    for (const mine of [favourites, snesOfMine]) {
      expect(mine.touched).toBe(0);
      expect(mine.saves).toBe(0);
    }
    expect([...favourites.members]).toEqual([42]);
  });

  it("moves an updated shortcut between RomM collections and removes a shortcut from them", async () => {
    const mine = new FakeCollection("uc-mine", "Couch games", [7, 8]);
    const snes = new FakeCollection("uc-snes", "RomM: SNES", [7, 8]);
    const collections = [mine, snes];
    const plan = new FakePlan(
      [spec(1, { appid: 7, tags: ["RomM: SFC"] })],
      [{ rom_id: 2, appid: 8 }],
    );
    const { steam, applier } = setup(plan, collections);
    for (const appId of [7, 8]) {
      steam.shortcuts.set(appId, {
        appId,
        strDisplayName: "old",
        strShortcutExe: "",
        strShortcutStartDir: "",
        strLaunchOptions: "",
      });
    }

    const result = await run(applier);

    expect(result).toMatchObject({ updated: 1, removed: 1, created: 0 });
    expect(steam.calls).toContainEqual(["RemoveShortcut", 8]);
    expect(steam.methods()).not.toContain("AddShortcut");
    expect([...snes.members]).toEqual([]);
    expect([...(collections.find((c) => c.displayName === "RomM: SFC")?.members ?? [])]).toEqual([7]);
    expect([...mine.members]).toEqual([7, 8]);
    expect(mine.touched).toBe(0);
  });

  it("sets the portrait from get_artwork as a PNG of asset type 0", async () => {
    const plan = new FakePlan([spec(1, { artwork: true }), spec(2, { artwork: true })]);
    plan.covers.set(1, "iVBORw0KGgo=");
    const { steam, applier } = setup(plan);

    await run(applier);

    expect(steam.calls).toContainEqual(["SetCustomArtworkForApp", 0x80000001, "iVBORw0KGgo=", "png", 0]);
    expect(plan.committed.get(1)?.artwork).toBe(true);
    expect(plan.committed.get(2)?.artwork).toBe(false);
  });

  it("stops before the boot's creation budget is exceeded and says why", async () => {
    const plan = new FakePlan([1, 2, 3, 4, 5].map((id) => spec(id)));
    const { steam, applier } = setup(plan, [], 3);

    const result = await run(applier, { chunkSize: 2 });

    expect(result.status).toBe("budget");
    expect(result.created).toBe(3);
    expect(steam.shortcuts.size).toBe(3);
    expect(result.message).toMatch(/Restart Steam and press Sync again to apply the remaining 2\./);
    expect(plan.sizes).toEqual([2, 1]);

    const again = await run(applier);
    expect(again.status).toBe("budget");
    expect(plan.sizes).toEqual([2, 1]);
  });

  it("still applies removals when asked once the budget is spent only for creations", async () => {
    const plan = new FakePlan([spec(1), spec(2)], [{ rom_id: 9, appid: 99 }]);
    const { steam, applier } = setup(plan, [], 1);

    const result = await run(applier, { chunkSize: 5 });

    expect(result).toMatchObject({ status: "budget", created: 1, removed: 1 });
    expect(steam.calls).toContainEqual(["RemoveShortcut", 99]);
    expect(result.message).toMatch(/remaining 1\./);
  });

  it("stops between shortcuts when cancelled and reports what it did", async () => {
    const plan = new FakePlan([1, 2, 3].map((id) => spec(id)));
    const { applier } = setup(plan);
    const abort = new AbortController();

    const done = applier.run({ signal: abort.signal, chunkSize: 3 });
    await vi.advanceTimersByTimeAsync(520);
    abort.abort();
    await vi.runAllTimersAsync();
    const result = await done;

    expect(result).toMatchObject({ status: "cancelled", created: 1 });
    expect(plan.reports).toEqual([[{ rom_id: 1, appid: 0x80000001 }]]);
  });

  it("removes a shortcut it created when another caller committed the ROM first, never a foreign one", async () => {
    const plan = new FakePlan([spec(1), spec(2)]);
    const { steam, applier } = setup(plan);
    const theirs = { appId: 0x90000001, strDisplayName: "Game 1", strShortcutExe: "", strShortcutStartDir: "", strLaunchOptions: "" };
    const foreign = { ...theirs, appId: 0x12345, strDisplayName: "Not ours" };
    steam.shortcuts.set(theirs.appId, theirs);
    steam.shortcuts.set(foreign.appId, foreign);
    const handOut = plan.nextSyncChunk.bind(plan);
    plan.nextSyncChunk = async (size) => {
      const chunk = await handOut(size);
      // While this chunk is in Steam its lease expires; another caller creates and commits ROM 1.
      if (chunk.lease_id === "lease-1") plan.commitElsewhere(1, theirs.appId);
      return chunk;
    };
    const report = plan.reportSyncChunk.bind(plan);
    plan.reportSyncChunk = async (leaseId, results) => {
      const answer = await report(leaseId, results);
      return { ...answer, orphans: [...answer.orphans, foreign.appId] }; // never ours to remove
    };

    const result = await run(applier);

    expect(result).toMatchObject({ status: "done", created: 2, orphansRemoved: 1 });
    expect(steam.calls).toContainEqual(["RemoveShortcut", 0x80000001]);
    expect(steam.shortcuts.has(0x80000001)).toBe(false);
    expect(steam.calls).not.toContainEqual(["RemoveShortcut", foreign.appId]);
    expect([...steam.shortcuts.keys()].sort()).toEqual([foreign.appId, 0x80000002, theirs.appId].sort());
    expect(plan.committed.get(1)?.appid).toBe(theirs.appId);
  });

  it("keeps a creation a restarted backend did not commit and reuses it when the ROM comes again", async () => {
    const plan = new FakePlan([spec(1)]);
    const { steam, applier } = setup(plan);
    const handOut = plan.nextSyncChunk.bind(plan);
    plan.nextSyncChunk = async (size) => {
      const chunk = await handOut(size);
      plan.noPlan = true; // the backend restarts while the chunk is in Steam
      return chunk;
    };

    const first = await run(applier);
    expect(first).toMatchObject({ status: "done", created: 1, orphansRemoved: 0 });
    expect(plan.committed.size).toBe(0);
    expect(steam.shortcuts.has(0x80000001)).toBe(true);

    plan.nextSyncChunk = handOut;
    plan.noPlan = false; // a new sync planned: ROM 1 is still wanted
    const second = await run(applier);

    expect(second).toMatchObject({ status: "done", created: 0, updated: 1, orphansRemoved: 0 });
    expect(steam.methods().filter((m) => m === "AddShortcut")).toHaveLength(1);
    expect(plan.committed.get(1)?.appid).toBe(0x80000001);
  });

  it("removes a kept creation once a planned backend has nothing left and never asked for it", async () => {
    const plan = new FakePlan([spec(1)]);
    const { steam, applier } = setup(plan);
    const handOut = plan.nextSyncChunk.bind(plan);
    plan.nextSyncChunk = async (size) => {
      const chunk = await handOut(size);
      plan.noPlan = true;
      return chunk;
    };
    await run(applier);

    plan.nextSyncChunk = handOut;
    plan.noPlan = false;
    plan.pendingAdds.splice(0); // the new sync no longer wants ROM 1 (deleted on the server)
    const second = await run(applier);

    expect(second).toMatchObject({ status: "done", orphansRemoved: 1 });
    expect(steam.calls).toContainEqual(["RemoveShortcut", 0x80000001]);
    expect(steam.shortcuts.size).toBe(0);
  });

  it("says so when the backend cannot hand out a chunk", async () => {
    const plan = new FakePlan([spec(1)]);
    plan.nextSyncChunk = async () => {
      throw new Error("RomDeck is not configured.");
    };
    const { applier } = setup(plan);

    const result = await run(applier);

    expect(result).toMatchObject({ status: "failed" });
    expect(result.message).toBe("Could not get the next changes from RomDeck: RomDeck is not configured.");
  });
});
