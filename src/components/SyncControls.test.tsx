import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { SyncProgress } from "../backend";
import { percentDone, SyncControls } from "./SyncControls";

const running: SyncProgress = {
  running: true,
  step: "platforms",
  done: 0,
  total: 0,
  message: "",
  summary: null,
  error: null,
  remaining: 0,
};

describe("percentDone", () => {
  it.each([
    [0, 0, undefined],
    [0, 8, 0],
    [1, 3, 33],
    [8, 8, 100],
    [9, 8, 100],
  ])("is %s of %s -> %s", (done, total, expected) => {
    expect(percentDone({ ...running, done, total })).toBe(expected);
  });
});

describe("SyncControls", () => {
  it("shows an indeterminate bar named after the step while the total is unknown", () => {
    render(<SyncControls canSync progress={running} error={null} starting={false} onSync={() => {}} />);

    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBeNull();
    expect(bar.textContent).toBe("platforms");
  });

  it("reports the error of a sync that ended in failure", () => {
    const failed: SyncProgress = {
      ...running,
      running: false,
      error: { code: "server_unreachable", message: "RomM did not answer." },
    };
    render(<SyncControls canSync progress={failed} error={null} starting={false} onSync={() => {}} />);

    expect(screen.getByRole("alert").textContent).toBe("Sync failed: RomM did not answer.");
    expect(screen.queryByRole("progressbar")).toBeNull();
  });
});
