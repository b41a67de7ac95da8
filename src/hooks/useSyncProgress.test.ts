import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { SyncProgress } from "../backend";
import { answerOk, backendMock } from "../test-setup";
import { useSyncProgress } from "./useSyncProgress";

function progress(overrides: Partial<SyncProgress>): { ok: true; data: SyncProgress } {
  const base: SyncProgress = {
    running: false,
    step: "",
    done: 0,
    total: 0,
    message: "",
    summary: null,
    error: null,
    remaining: 0,
  };
  return { ok: true, data: { ...base, ...overrides } };
}

/** Lets pending promise callbacks and the state updates they cause run. */
async function settle(): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

async function advance(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe("useSyncProgress", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads the progress once on mount and does not poll when no sync runs", async () => {
    const poll = answerOk("get_sync_progress", progress({ running: false }).data);
    const { result } = renderHook(() => useSyncProgress(1000));
    await settle();
    await advance(5000);

    expect(result.current.progress?.running).toBe(false);
    expect(poll).toHaveBeenCalledTimes(1);
  });

  it("starts a sync, polls every interval while it runs, and stops when it ends", async () => {
    const poll = backendMock("get_sync_progress")
      .mockResolvedValueOnce(progress({ running: false }))
      .mockResolvedValueOnce(progress({ running: true, step: "roms", done: 1, total: 4 }))
      .mockResolvedValueOnce(progress({ running: true, step: "roms", done: 3, total: 4 }))
      .mockResolvedValue(progress({ running: false, done: 4, total: 4, summary: { added: 4 } }));
    const start = answerOk("start_sync", { run_id: 9 });
    const { result } = renderHook(() => useSyncProgress(1000));
    await settle();

    await act(() => result.current.start());
    expect(start).toHaveBeenCalledTimes(1);
    expect(result.current.progress).toMatchObject({ running: true, done: 1 });

    await advance(1000);
    expect(result.current.progress).toMatchObject({ running: true, done: 3 });

    await advance(1000);
    expect(result.current.progress).toMatchObject({ running: false, summary: { added: 4 } });

    await advance(5000);
    expect(poll).toHaveBeenCalledTimes(4);
  });

  it("reports a refused start as an error and does not poll again", async () => {
    const poll = answerOk("get_sync_progress", progress({ running: false }).data);
    backendMock("start_sync").mockResolvedValue({
      ok: false,
      error: { code: "busy", message: "A sync is already running." },
    });
    const { result } = renderHook(() => useSyncProgress(1000));
    await settle();

    await act(() => result.current.start());

    expect(result.current.error).toMatchObject({ code: "busy" });
    expect(result.current.starting).toBe(false);
    expect(poll).toHaveBeenCalledTimes(1);
  });

  it("stops polling after unmount", async () => {
    const poll = answerOk("get_sync_progress", progress({ running: true, total: 10 }).data);
    const { unmount } = renderHook(() => useSyncProgress(1000));
    await settle();
    unmount();
    await advance(5000);

    expect(poll).toHaveBeenCalledTimes(1);
  });
});
