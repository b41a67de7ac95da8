import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { BackendError } from "../backend";
import type { GameSaves } from "../backend";
import { useSaves } from "../hooks/useSaves";
import { answerOk } from "../test-setup";
import { pendingWords, SavesSection, type SavesSectionProps } from "./SavesSection";

const game: GameSaves = {
  rom_id: 4,
  name: "Pokémon Emerald",
  last_sync_at: "2026-11-30T21:04:00Z",
  pending: null,
  offline: false,
  files: [
    { file_name: "Pokemon Emerald.srm", state: "conflict", local_updated_at: "2026-11-30T22:00:00Z", server_updated_at: "2026-11-30T21:30:00Z" },
    { file_name: "Pokemon Emerald.rtc", state: "upload", local_updated_at: "2026-11-30T22:00:00Z", server_updated_at: null },
  ],
};

function props(overrides: Partial<SavesSectionProps>): SavesSectionProps {
  return {
    games: [game],
    loading: false,
    error: null,
    busy: false,
    backups: null,
    onSyncNow: vi.fn(),
    onResolve: vi.fn(),
    onShowBackups: vi.fn(),
    onRestore: vi.fn(),
    ...overrides,
  };
}

describe("SavesSection", () => {
  it("shows a spinner while loading and says when there are no saves", () => {
    const { unmount } = render(<SavesSection {...props({ games: null, loading: true })} />);
    expect(screen.getByRole("status")).toBeTruthy();
    unmount();
    render(<SavesSection {...props({ games: [] })} />);
    expect(screen.getByText("No saves yet: play an installed game first.")).toBeTruthy();
  });

  it("shows pending work and the last sync, and resolves a conflict both ways", () => {
    const onResolve = vi.fn();
    render(<SavesSection {...props({ onResolve })} />);
    const box = screen.getByLabelText("saves 4");
    expect(box.textContent).toContain("Pokémon Emerald: 1 conflict, 1 to upload");
    expect(box.textContent).toContain("Last sync 2026-11-30 21:04");
    expect(screen.getByRole("alert").textContent).toBe("Pokemon Emerald.srm changed here and on RomM.");
    fireEvent.click(screen.getByText("Keep this Deck's"));
    fireEvent.click(screen.getByText("Keep RomM's"));
    expect(onResolve.mock.calls).toEqual([
      [4, "Pokemon Emerald.srm", "local"],
      [4, "Pokemon Emerald.srm", "server"],
    ]);
  });

  it("lists backups and restores one", () => {
    const onRestore = vi.fn();
    const backups = { romId: 4, items: [{ id: 31, rom_id: 4, file_name: "Pokemon Emerald.srm", created_at: "2026-11-29T10:00:00Z", size_bytes: 131072, reason: "download" }] };
    render(<SavesSection {...props({ backups, onRestore })} />);
    expect(screen.getByText("Pokemon Emerald.srm, 2026-11-29 10:00 (128 KB)")).toBeTruthy();
    fireEvent.click(screen.getByText("Restore"));
    expect(onRestore).toHaveBeenCalledWith(31);
  });

  it("says when RomM was not reachable and what is left pending", () => {
    const offline = { ...game, offline: true, pending: "timed out before launch" };
    render(<SavesSection {...props({ games: [offline] })} />);
    const box = screen.getByLabelText("saves 4");
    expect(box.textContent).toContain("RomM not reachable");
    expect(box.textContent).toContain("Will sync at the next chance (timed out before launch).");
  });

  it("shows an error in words", () => {
    render(<SavesSection {...props({ games: [], error: new BackendError("auth_rejected", "Token expired.") })} />);
    expect(screen.getByRole("alert").textContent).toBe("RomM rejected the sign-in. Token expired.");
  });

  it("words a game with nothing pending", () => {
    expect(pendingWords({ ...game, files: [] })).toBe("up to date");
  });

  it("never calls a game in conflict up to date", () => {
    expect(pendingWords(game)).toBe("1 conflict, 1 to upload");
    expect(pendingWords({ ...game, files: [game.files[0]] })).toBe("1 conflict");
  });
});

describe("useSaves", () => {
  it("replaces a game with the reply of a resolved conflict", async () => {
    answerOk("list_saves", [game]);
    const resolved = { ...game, files: [{ ...game.files[0], state: "synced" as const }] };
    const resolve = answerOk("resolve_save_conflict", resolved);
    const { result } = renderHook(() => useSaves());
    await act(async () => {});
    await act(() => result.current.resolve(4, "Pokemon Emerald.srm", "server"));
    expect(resolve).toHaveBeenCalledWith(4, "Pokemon Emerald.srm", "server");
    expect(result.current.games?.[0].files[0].state).toBe("synced");
  });
});
