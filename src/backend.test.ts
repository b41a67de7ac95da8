import { describe, expect, it } from "vitest";

import {
  BackendError,
  getStatus,
  loginPassword,
  nextSyncChunk,
  queueDownloads,
  reportSyncChunk,
  type Status,
  unwrap,
} from "./backend";
import { answerOk, backendMock } from "./test-setup";

const status: Status = {
  configured: true,
  url: "https://romm.example",
  server_version: "4.4.0",
  last_sync: null,
  sync_running: false,
};

describe("unwrap", () => {
  it("returns the data of an ok result", () => {
    expect(unwrap({ ok: true, data: { committed: 3 } })).toEqual({ committed: 3 });
  });

  it("throws a BackendError carrying the code and message of an error result", () => {
    const failing = () =>
      unwrap({ ok: false, error: { code: "auth_rejected", message: "Wrong password." } });
    expect(failing).toThrow(BackendError);
    expect(failing).toThrow(
      expect.objectContaining({ code: "auth_rejected", message: "Wrong password." }),
    );
  });

  it("treats a reply without an ok flag as an internal error", () => {
    const malformed = { data: 1 } as unknown as Parameters<typeof unwrap>[0];
    expect(() => unwrap(malformed)).toThrow(expect.objectContaining({ code: "internal" }));
  });
});

describe("backend callables", () => {
  it("resolve with the data the backend sent", async () => {
    answerOk("get_status", status);
    await expect(getStatus()).resolves.toEqual(status);
  });

  it("pass their arguments to the backend method of the same name, in order", async () => {
    const login = answerOk("login_password", { url: "https://romm.example", server_version: "4.4.0" });
    await loginPassword("https://romm.example", "ann", "secret", false);
    expect(login).toHaveBeenCalledWith("https://romm.example", "ann", "secret", false);
  });

  it("reject with the backend's error code when the result is not ok", async () => {
    backendMock("next_sync_chunk").mockResolvedValue({
      ok: false,
      error: { code: "not_configured", message: "Sign in to RomM first." },
    });
    await expect(nextSyncChunk(50)).rejects.toMatchObject({
      name: "BackendError",
      code: "not_configured",
      message: "Sign in to RomM first.",
    });
  });

  it("turn a failed Decky call into an internal BackendError", async () => {
    backendMock("report_sync_chunk").mockRejectedValue(new Error("socket closed"));
    const report = reportSyncChunk("1-1", [{ rom_id: 7, appid: 123 }]);
    await expect(report).rejects.toBeInstanceOf(BackendError);
    await expect(report).rejects.toMatchObject({ code: "internal", message: "socket closed" });
  });

  it("queue downloads with the list of ROM ids and return their states", async () => {
    const queued = answerOk("queue_downloads", [
      {
        rom_id: 20,
        name: "Super Metroid",
        state: "queued",
        bytes_done: 0,
        bytes_total: null,
        rate_bytes_per_s: 0,
        eta_seconds: null,
        error_code: "",
        error_message: "",
      },
    ]);
    const downloads = await queueDownloads([20]);
    expect(queued).toHaveBeenCalledWith([20]);
    expect(downloads.map((d) => d.state)).toEqual(["queued"]);
  });
});
