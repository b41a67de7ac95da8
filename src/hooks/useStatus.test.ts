import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Status } from "../backend";
import { answerOk, backendMock } from "../test-setup";
import { useStatus } from "./useStatus";

const signedOut: Status = {
  configured: false,
  url: "",
  server_version: null,
  last_sync: null,
  sync_running: false,
};

describe("useStatus", () => {
  it("reads the status on mount", async () => {
    answerOk("get_status", signedOut);
    const { result } = renderHook(() => useStatus());
    expect(result.current.loading).toBe(true);

    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.status).toEqual(signedOut);
    expect(result.current.error).toBeNull();
  });

  it("keeps the backend's error code when the read fails", async () => {
    backendMock("get_status").mockResolvedValue({
      ok: false,
      error: { code: "state_error", message: "The state database is locked." },
    });
    const { result } = renderHook(() => useStatus());

    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.status).toBeNull();
    expect(result.current.error).toMatchObject({ code: "state_error" });
  });

  it("clears an earlier error when a refresh succeeds", async () => {
    backendMock("get_status")
      .mockResolvedValueOnce({ ok: false, error: { code: "internal", message: "boom" } })
      .mockResolvedValue({ ok: true, data: signedOut });
    const { result } = renderHook(() => useStatus());
    await waitFor(() => expect(result.current.error).not.toBeNull());

    await act(() => result.current.refresh());

    expect(result.current.error).toBeNull();
    expect(result.current.status).toEqual(signedOut);
  });
});
