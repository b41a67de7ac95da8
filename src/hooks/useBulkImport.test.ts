import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { BulkImport, SyncProgress } from "../backend";
import type { SteamSession } from "../steam/steamApi";
import { answerOk, backendMock } from "../test-setup";
import { useBulkImport } from "./useBulkImport";

const idle: BulkImport = {
  job_id: null,
  state: "idle",
  message: "",
  count: 0,
  counts: { added: 0, updated: 0, removed: 0, covers: 0, failed: 0 },
  failures: [],
  started_at: null,
  finished_at: null,
  pending_adds: 0,
};

const atApply: SyncProgress = {
  running: true,
  step: "apply",
  done: 0,
  total: 3000,
  message: "Adding shortcuts to Steam",
  summary: null,
  error: null,
  remaining: 3000,
};

function fakeSession(): SteamSession & { restarts: boolean[] } {
  const restarts: boolean[] = [];
  return {
    restarts,
    user: { StartRestart: (force: boolean) => void restarts.push(force) },
    steamId64: () => "76561197972611406",
  };
}

function hook(progress: SyncProgress | null, session = fakeSession(), left = 500) {
  return renderHook(({ p }) => useBulkImport(p, { pollMs: 20, session: () => session, budget: () => left }), {
    initialProps: { p: progress },
  });
}

describe("useBulkImport", () => {
  it("holds the chunked apply until it knows the adds, then offers a big sync", async () => {
    let answer: (value: unknown) => void = () => undefined;
    backendMock("get_bulk_import").mockImplementation(
      () => new Promise((resolve) => (answer = resolve)),
    );
    const { result } = hook(atApply);
    expect(result.current.hold).toBe(true);
    expect(result.current.offer).toBeNull();

    await act(async () => answer({ ok: true, data: { ...idle, pending_adds: 3000 } }));
    answerOk("get_bulk_import", { ...idle, pending_adds: 3000 });

    await waitFor(() => expect(result.current.offer).toBe(3000));
    expect(result.current.hold).toBe(true);
  });

  it("lets a small sync through without an offer", async () => {
    answerOk("get_bulk_import", { ...idle, pending_adds: 120 });
    const { result } = hook(atApply);
    await waitFor(() => expect(result.current.hold).toBe(false));
    expect(result.current.offer).toBeNull();
  });

  it("offers fewer adds when this Steam session's budget is nearly spent", async () => {
    answerOk("get_bulk_import", { ...idle, pending_adds: 120 });
    const { result } = hook(atApply, fakeSession(), 50);
    await waitFor(() => expect(result.current.offer).toBe(120));
  });

  it("declining releases the chunked apply", async () => {
    answerOk("get_bulk_import", { ...idle, pending_adds: 3000 });
    const { result } = hook(atApply);
    await waitFor(() => expect(result.current.offer).toBe(3000));
    act(() => result.current.decline());
    expect(result.current.offer).toBeNull();
    expect(result.current.hold).toBe(false);
  });

  it("starts for the signed-in Steam user and restarts Steam once when the helper is ready", async () => {
    const session = fakeSession();
    const reads = backendMock("get_bulk_import").mockResolvedValue({ ok: true, data: { ...idle, pending_adds: 3000 } });
    const start = answerOk("start_bulk_import", { job_id: "j1", count: 3000, state: "preparing" });
    const { result, rerender } = hook(atApply, session);
    await waitFor(() => expect(result.current.offer).toBe(3000));

    const waiting = { ...idle, job_id: "j1", state: "waiting_for_steam_exit", count: 3000, message: "Ready" };
    reads.mockResolvedValue({ ok: true, data: { ...idle, job_id: "j1", state: "preparing", count: 3000 } });
    await act(() => result.current.start());
    expect(start).toHaveBeenCalledWith("12345678");
    rerender({ p: { ...atApply, running: false, remaining: 0 } }); // the backend stopped the chunked sync
    expect(result.current.hold).toBe(true);
    expect(session.restarts).toEqual([]);

    reads.mockImplementation(async () => ({ ok: true, data: { ...waiting } })); // a new object per poll
    await waitFor(() => expect(session.restarts).toEqual([false]));
    await new Promise((resolve) => setTimeout(resolve, 80)); // more polls, same job
    expect(session.restarts).toEqual([false]);
  });

  it("shows how the last import ended when the panel reopens after the restart", async () => {
    answerOk("get_bulk_import", {
      ...idle,
      job_id: "j1",
      state: "timed_out",
      message: "Steam did not close within 120 seconds, so nothing was written.",
      finished_at: "2026-12-02T05:00:00+00:00",
    });
    const session = fakeSession();
    const { result } = hook(null, session);
    await waitFor(() => expect(result.current.bulk?.state).toBe("timed_out"));
    expect(result.current.hold).toBe(false);
    expect(session.restarts).toEqual([]);
  });

  it("says why it could not start", async () => {
    answerOk("get_bulk_import", { ...idle, pending_adds: 3000 });
    backendMock("start_bulk_import").mockResolvedValue({
      ok: false,
      error: { code: "steam_not_found", message: "No Steam user 1 here." },
    });
    const { result } = hook(atApply);
    await waitFor(() => expect(result.current.offer).toBe(3000));
    await act(() => result.current.start());
    expect(result.current.error).toMatchObject({ code: "steam_not_found" });
    vi.restoreAllMocks();
  });
});
