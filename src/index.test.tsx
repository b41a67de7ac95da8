import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

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

function scriptConnected(): void {
  answerOk("get_status", connected);
  answerOk("test_connection", { server_version: "4.4.0", platforms: 1 });
  answerOk("list_platforms", [{ id: 1, slug: "snes", name: "SNES", rom_count: 3, selected: true }]);
  answerOk("list_collections", []);
  answerOk("get_downloads", []);
  answerOk("list_installed", { installs: [], bytes_by_platform: {}, total_bytes: 0 });
  answerOk("get_free_space", { free_bytes: 1024 });
  answerOk("list_firmware", []);
  answerOk("list_saves", []);
  answerOk("get_bulk_import", {
    job_id: null, state: "idle", message: "", count: 0, failures: [], started_at: null, finished_at: null,
    counts: { added: 0, updated: 0, removed: 0, covers: 0, failed: 0 }, pending_adds: 0,
  });
  answerOk("get_settings", {
    emulation: { target: "auto", roms_root: null, templates: {} },
    tls: { verify: true, ca_file: null },
    saves: { sync: true, states: false },
  });
}

function renderPanel() {
  return render(plugin().content ?? <></>);
}

describe("RomDeck panel", () => {
  it("is registered under the plugin's name", () => {
    expect(plugin().name).toBe("RomDeck");
  });

  it("starts the launch gate inside Steam and stops it on dismount", () => {
    const unregister = vi.fn();
    const register = vi.fn(() => ({ unregister }));
    vi.stubGlobal("SteamClient", { Apps: { RegisterForGameActionStart: register } });
    try {
      const loaded = plugin();
      expect(register).toHaveBeenCalledTimes(1);
      loaded.onDismount?.();
      expect(unregister).toHaveBeenCalledTimes(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("shows every section once signed in", async () => {
    scriptConnected();
    answerOk("get_sync_progress", idle);
    renderPanel();

    expect(await screen.findByText("RomM 4.4.0")).toBeTruthy();
    for (const name of ["RomM server", "Library", "Downloads", "Saves", "BIOS", "Settings"]) {
      expect(screen.getByRole("region", { name })).toBeTruthy();
    }
  });

  it("asks the server for its version when the status has none, and says why it is unreachable", async () => {
    scriptConnected();
    answerOk("get_status", { ...connected, server_version: null });
    answerOk("get_sync_progress", idle);
    const { unmount } = renderPanel();
    expect(await screen.findByText("RomM 4.4.0")).toBeTruthy();
    unmount();

    backendMock("test_connection").mockResolvedValue({
      ok: false,
      error: { code: "tls_failure", message: "Certificate expired on 2026-11-01." },
    });
    renderPanel();
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The server's TLS certificate was not accepted. Certificate expired on 2026-11-01.",
    );
  });

  it("offers sign-in and hides the library until a server is configured", async () => {
    answerOk("get_status", { ...connected, configured: false, url: "", server_version: null });
    answerOk("get_settings", {
      emulation: { target: "auto", roms_root: null, templates: {} },
      tls: { verify: true, ca_file: null },
      saves: { sync: true, states: false },
    });
    renderPanel();

    expect(await screen.findByText("Get a sign-in code")).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Library" })).toBeNull();
  });

  it("calls start_sync when Sync is clicked and shows the sync's progress", async () => {
    scriptConnected();
    backendMock("get_sync_progress")
      .mockResolvedValueOnce({ ok: true, data: idle })
      .mockResolvedValue({
        ok: true,
        data: { ...idle, running: true, step: "roms", done: 5, total: 20, message: "Reading ROMs" },
      });
    const start = answerOk("start_sync", { run_id: 1 });
    renderPanel();
    const button = await screen.findByRole<HTMLButtonElement>("button", { name: "Sync" });
    await waitFor(() => expect(button.disabled).toBe(false));

    fireEvent.click(button);

    const bar = await screen.findByRole("progressbar");
    expect(start).toHaveBeenCalledTimes(1);
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(bar.textContent).toBe("Reading ROMs");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Syncing…" }).disabled).toBe(true);
  });

  it("shows why a sync could not start", async () => {
    scriptConnected();
    answerOk("get_sync_progress", idle);
    backendMock("start_sync").mockResolvedValue({
      ok: false,
      error: { code: "steam_not_found", message: "No Steam user was found." },
    });
    renderPanel();
    const button = await screen.findByRole<HTMLButtonElement>("button", { name: "Sync" });
    await waitFor(() => expect(button.disabled).toBe(false));

    fireEvent.click(button);

    expect((await screen.findByRole("alert")).textContent).toBe("No Steam user was found.");
  });
});
