import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { SectionBoundary } from "./SectionBoundary";

let broken = true;

function Fragile() {
  if (broken) throw new Error("settings.saves is undefined");
  return <div>Saves are fine</div>;
}

describe("SectionBoundary", () => {
  it("keeps a section's failure inside it, says why, and can try again", () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    render(
      <>
        <SectionBoundary title="Saves">
          <Fragile />
        </SectionBoundary>
        <div>Downloads still here</div>
      </>,
    );
    expect(screen.getByRole("alert").textContent).toContain("settings.saves is undefined");
    expect(screen.getByText("Downloads still here")).toBeTruthy();

    broken = false;
    fireEvent.click(screen.getByText("Try again"));
    expect(screen.getByText("Saves are fine")).toBeTruthy();
    quiet.mockRestore();
  });
});
