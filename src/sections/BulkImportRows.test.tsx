import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { BulkImport } from "../backend";
import { BulkImportRows, type BulkImportRowsProps } from "./BulkImportRows";

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

function props(over: Partial<BulkImportRowsProps> = {}): BulkImportRowsProps {
  return { bulk: idle, offer: null, starting: false, error: null, onStart: vi.fn(), onDecline: vi.fn(), ...over };
}

describe("BulkImportRows", () => {
  it("offers importing the games while Steam restarts, or in small batches", () => {
    const onStart = vi.fn();
    const onDecline = vi.fn();
    render(<BulkImportRows {...props({ offer: 3000, onStart, onDecline })} />);
    fireEvent.click(screen.getByText("Import 3000 games while Steam restarts"));
    expect(onStart).toHaveBeenCalled();
    fireEvent.click(screen.getByText("Add them in small batches instead"));
    expect(onDecline).toHaveBeenCalled();
  });

  it("shows nothing when there is no offer and no import", () => {
    const { container } = render(<BulkImportRows {...props()} />);
    expect(container.textContent).toBe("");
  });

  it("says Steam is restarting while the helper waits", () => {
    const bulk = { ...idle, state: "waiting_for_steam_exit" as const, message: "Ready to import 3000 games" };
    render(<BulkImportRows {...props({ bulk })} />);
    expect(screen.getByLabelText("bulk import").textContent).toContain("Restarting Steam: Ready to import 3000 games");
  });

  it("reports a finished import with its message", () => {
    const bulk = { ...idle, state: "done" as const, message: "Imported 3000 games into Steam." };
    render(<BulkImportRows {...props({ bulk })} />);
    expect(screen.getByLabelText("last bulk import").textContent).toContain("Imported 3000 games");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says why nothing was written when Steam did not close", () => {
    const bulk = {
      ...idle,
      state: "timed_out" as const,
      message: "Steam did not close within 120 seconds, so nothing was written.",
    };
    render(<BulkImportRows {...props({ bulk })} />);
    expect(screen.getByRole("alert").textContent).toContain("nothing was written");
  });
});

describe("LibrarySection with a bulk import", () => {
  it("keeps Sync disabled while an import runs, and shows the import in the section", async () => {
    const { LibrarySection } = await import("./LibrarySection");
    const bulk = { ...idle, state: "preparing" as const, message: "Preparing the import" };
    render(
      <LibrarySection
        platforms={[{ id: 1, slug: "snes", name: "SNES", rom_count: 12, selected: true }]}
        collections={[]}
        loading={false}
        error={null}
        onToggle={vi.fn()}
        progress={null}
        syncError={null}
        starting={false}
        onSync={vi.fn()}
        onCancel={vi.fn()}
        applying={false}
        applied={null}
        applyResult={null}
        bulk={props({ bulk })}
      />,
    );
    expect((screen.getByText("Sync").closest("button") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByLabelText("bulk import").textContent).toContain("Preparing the import");
  });
});
