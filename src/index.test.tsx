import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Status, SyncProgress } from "./backend";
import plugin from "./index";
import { answerOk, backendMock } from "./test-setup";

const connected: Status = {
  configured: true,
  url: "https://romm.example",
  server_version: "4.4.0",
  last_sync: null,
  sync_running: false,
};

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

function renderPanel() {
  return render(plugin().content ?? <></>);
}

describe("RomDeck panel", () => {
  it("is registered under the plugin's name", () => {
    expect(plugin().name).toBe("RomDeck");
  });

  it("shows the RomM server it is connected to", async () => {
    answerOk("get_status", connected);
    answerOk("get_sync_progress", idle);
    renderPanel();

    expect(await screen.findByText("Connected to https://romm.example (RomM 4.4.0)")).toBeTruthy();
    expect(screen.getByRole("region", { name: "RomM" })).toBeTruthy();
  });

  it("disables Sync now until a server is configured", async () => {
    answerOk("get_status", { ...connected, configured: false, url: "", server_version: null });
    answerOk("get_sync_progress", idle);
    renderPanel();

    await screen.findByText("Not signed in to a RomM server.");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Sync now" }).disabled).toBe(true);
  });

  it("calls start_sync when Sync now is clicked and shows the sync's progress", async () => {
    answerOk("get_status", connected);
    backendMock("get_sync_progress")
      .mockResolvedValueOnce({ ok: true, data: idle })
      .mockResolvedValue({
        ok: true,
        data: { ...idle, running: true, step: "roms", done: 5, total: 20, message: "Reading ROMs" },
      });
    const start = answerOk("start_sync", { run_id: 1 });
    renderPanel();
    const button = await screen.findByRole<HTMLButtonElement>("button", { name: "Sync now" });
    await waitFor(() => expect(button.disabled).toBe(false));

    fireEvent.click(button);

    const bar = await screen.findByRole("progressbar");
    expect(start).toHaveBeenCalledTimes(1);
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(bar.textContent).toBe("Reading ROMs");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Syncing…" }).disabled).toBe(true);
  });

  it("shows why a sync could not start", async () => {
    answerOk("get_status", connected);
    answerOk("get_sync_progress", idle);
    backendMock("start_sync").mockResolvedValue({
      ok: false,
      error: { code: "steam_not_found", message: "No Steam user was found." },
    });
    renderPanel();
    const button = await screen.findByRole<HTMLButtonElement>("button", { name: "Sync now" });
    await waitFor(() => expect(button.disabled).toBe(false));

    fireEvent.click(button);

    expect((await screen.findByRole("alert")).textContent).toBe(
      "Sync failed: No Steam user was found.",
    );
  });
});
