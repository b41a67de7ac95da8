import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { BackendError, type SyncProgress } from "../backend";
import { useApplyPlan } from "../hooks/useApplyPlan";
import { useLibrary } from "../hooks/useLibrary";
import { ShortcutApplier } from "../steam/applier";
import { CreationBudget } from "../steam/budget";
import { FakePlan, FakeSteam, fakeSteamEnv, spec } from "../steam/fakeSteam";
import { answerOk } from "../test-setup";
import { LibrarySection, type LibrarySectionProps, summaryWords } from "./LibrarySection";

const idle: SyncProgress = {
  running: false,
  step: "",
  done: 0,
  total: 0,
  message: "",
  summary: null,
  error: null,
  remaining: 0,
};

function props(overrides: Partial<LibrarySectionProps>): LibrarySectionProps {
  return {
    platforms: [{ id: 1, slug: "snes", name: "SNES", rom_count: 12, selected: true }],
    collections: [],
    loading: false,
    error: null,
    onToggle: vi.fn(),
    progress: idle,
    syncError: null,
    starting: false,
    onSync: vi.fn(),
    onCancel: vi.fn(),
    applying: false,
    applied: null,
    applyResult: null,
    ...overrides,
  };
}

describe("LibrarySection", () => {
  it("shows a spinner while platforms load", () => {
    render(<LibrarySection {...props({ platforms: null, loading: true })} />);
    expect(screen.getByRole("status")).toBeTruthy();
  });

  it("says when the server has no platforms, and Sync is disabled", () => {
    render(<LibrarySection {...props({ platforms: [] })} />);
    expect(screen.getByText("This RomM server has no platforms yet.")).toBeTruthy();
    expect((screen.getByText("Sync") as HTMLButtonElement).disabled).toBe(true);
  });

  it("lists platforms with ROM counts and toggles one", () => {
    const onToggle = vi.fn();
    render(<LibrarySection {...props({ onToggle })} />);
    fireEvent.click(screen.getByLabelText("SNES (12)"));
    expect(onToggle).toHaveBeenCalledWith("platform", 1, false);
  });

  it("shows the progress bar with the step in words and a cancel button while syncing", () => {
    const onCancel = vi.fn();
    const progress = { ...idle, running: true, step: "roms", message: "Fetching SNES ROMs", done: 1, total: 4 };
    render(<LibrarySection {...props({ progress, onCancel })} />);
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(bar.textContent).toBe("Fetching SNES ROMs");
    fireEvent.click(screen.getByText("Cancel sync"));
    expect(onCancel).toHaveBeenCalled();
  });

  it("shows the last summary and why the applier stopped", () => {
    const progress = { ...idle, summary: { added: 3, updated: 1, removed: 0, covers: 3 } };
    const applyResult = { status: "budget" as const, message: "Restart Steam and press Sync again.", created: 3, updated: 0, removed: 0, failed: 0, remaining: 2 };
    render(<LibrarySection {...props({ progress, applyResult })} />);
    expect(screen.getByLabelText("last sync").textContent).toBe("Last sync: 3 added, 1 updated, 0 removed, 3 covers");
    expect(screen.getByRole("alert").textContent).toBe("Restart Steam and press Sync again.");
  });

  it("counts the changes Steam did not take in a finished run", () => {
    const applyResult = { status: "done" as const, message: "", created: 3, updated: 0, removed: 0, failed: 2, remaining: 0 };
    render(<LibrarySection {...props({ applyResult })} />);
    expect(screen.getByRole("alert").textContent).toBe(
      "Steam did not take 2 shortcut change(s); the next sync tries them again.",
    );
  });

  it("shows a failed listing in words", () => {
    render(<LibrarySection {...props({ platforms: null, error: new BackendError("auth_rejected", "The token was revoked.") })} />);
    expect(screen.getByRole("alert").textContent).toBe("RomM rejected the sign-in. The token was revoked.");
  });

  it("words an empty summary", () => {
    expect(summaryWords({})).toBe("Nothing changed");
  });
});

describe("useLibrary", () => {
  it("saves the selection with the toggled platform", async () => {
    answerOk("list_platforms", [
      { id: 1, slug: "snes", name: "SNES", rom_count: 2, selected: true },
      { id: 2, slug: "gba", name: "GBA", rom_count: 5, selected: false },
    ]);
    answerOk("list_collections", [{ id: 9, name: "Best", rom_count: 1, selected: true }]);
    const save = answerOk("save_selection", {});
    const { result } = renderHook(() => useLibrary());
    await act(async () => {});

    await act(() => result.current.toggle("platform", 2, true));

    expect(save).toHaveBeenCalledWith([1, 2], [9]);
    expect(result.current.platforms?.find((p) => p.id === 2)?.selected).toBe(true);
  });
});

describe("useApplyPlan", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("applies what remains when the panel opens mid-sync, once per progress reading", async () => {
    const plan = new FakePlan([spec(1), spec(2)]);
    const steam = new FakeSteam();
    const applier = new ShortcutApplier(fakeSteamEnv(steam, []), plan, new CreationBudget(500, {}));
    const next = vi.spyOn(plan, "nextSyncChunk");
    const make = () => applier;
    const reading = { ...idle, running: true, remaining: 2 };
    const { result, rerender } = renderHook(({ p }) => useApplyPlan(p, make), { initialProps: { p: reading } });

    await act(() => vi.runAllTimersAsync());

    expect(result.current.result).toMatchObject({ status: "done", created: 2 });
    expect(steam.shortcuts.size).toBe(2);
    const calls = next.mock.calls.length;
    rerender({ p: reading });
    await act(() => vi.runAllTimersAsync());
    expect(next.mock.calls.length).toBe(calls);
  });
});

describe("LibrarySection collections", () => {
  it("lists collections under their own heading, after the platforms", () => {
    render(
      <LibrarySection
        {...props({ collections: [{ id: 9, name: "Steam Deck Picks", rom_count: 3, selected: false }] })}
      />,
    );
    const heading = screen.getByText("Collections");
    const pick = screen.getByLabelText("Steam Deck Picks (3)");
    expect(heading.compareDocumentPosition(pick) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("shows no heading when the server has no collections", () => {
    render(<LibrarySection {...props({ collections: [] })} />);
    expect(screen.queryByText("Collections")).toBeNull();
  });
});
