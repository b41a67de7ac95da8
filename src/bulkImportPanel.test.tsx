import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { BulkImport, SyncProgress } from "./backend";
import plugin from "./index";
import { answerOk } from "./test-setup";

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

const offered: BulkImport = {
  job_id: null,
  state: "idle",
  message: "",
  count: 0,
  counts: { added: 0, updated: 0, removed: 0, covers: 0, failed: 0 },
  failures: [],
  started_at: null,
  finished_at: null,
  pending_adds: 3000,
};

function scriptPanel(): void {
  answerOk("get_status", { configured: true, url: "https://romm.example", server_version: "4.4.0", last_sync: null, sync_running: true });
  answerOk("list_platforms", [{ id: 1, slug: "snes", name: "SNES", rom_count: 3000, selected: true }]);
  answerOk("list_collections", []);
  answerOk("get_downloads", []);
  answerOk("list_installed", { installs: [], bytes_by_platform: {}, total_bytes: 0 });
  answerOk("get_free_space", { free_bytes: 1024 });
  answerOk("list_firmware", []);
  answerOk("list_saves", []);
  answerOk("get_settings", { emulation: { target: "auto", roms_root: null, templates: {} }, tls: { verify: true, ca_file: null }, saves: { sync: true, states: false } });
  answerOk("get_sync_progress", atApply);
  answerOk("get_bulk_import", offered);
}

// Outside Steam the panel's applier cannot reach Steam's objects and says so: that message
// is the sign that the chunked apply started.
const APPLIER_RAN = /Steam's client objects are not available/;

describe("the panel with a sync too big for one Steam session", () => {
  it("offers the bulk import and keeps the chunked apply waiting until declined", async () => {
    scriptPanel();
    render(plugin().content ?? <></>);

    expect(await screen.findByText("Import 3000 games while Steam restarts")).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(screen.queryByText(APPLIER_RAN)).toBeNull();

    fireEvent.click(screen.getByText("Add them in small batches instead"));

    await waitFor(() => expect(screen.getByText(APPLIER_RAN)).toBeTruthy());
    expect(screen.queryByText("Import 3000 games while Steam restarts")).toBeNull();
  });
});
