import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { BackendError, type Status } from "../backend";
import { useConnection } from "../hooks/useConnection";
import { answerOk, backendMock } from "../test-setup";
import { ConnectionSection, type ConnectionSectionProps } from "./ConnectionSection";

const signedOut: Status = { configured: false, url: "", server_version: null, last_sync: null, sync_running: false };

function props(overrides: Partial<ConnectionSectionProps>): ConnectionSectionProps {
  return {
    status: signedOut,
    loading: false,
    error: null,
    busy: false,
    actionError: null,
    device: null,
    phase: "idle",
    onDevice: vi.fn(),
    onCancelDevice: vi.fn(),
    onPassword: vi.fn(),
    onToken: vi.fn(),
    onLogout: vi.fn(),
    ...overrides,
  };
}

describe("ConnectionSection", () => {
  it("shows a spinner while the status is first read", () => {
    render(<ConnectionSection {...props({ status: null, loading: true })} />);
    expect(screen.getByRole("status").textContent).toBe("Loading…");
  });

  it("says in words why the server could not be reached", () => {
    const error = new BackendError("server_unreachable", "No answer from https://romm.lan within 10 s.");
    render(<ConnectionSection {...props({ actionError: error })} />);
    expect(screen.getByRole("alert").textContent).toBe(
      "RomM could not be reached. No answer from https://romm.lan within 10 s.",
    );
  });

  it("signs in with username and password", () => {
    const onPassword = vi.fn();
    render(<ConnectionSection {...props({ onPassword })} />);
    fireEvent.change(screen.getByLabelText("RomM server URL"), { target: { value: " https://romm.lan " } });
    fireEvent.change(screen.getByLabelText("Sign in with"), { target: { value: "password" } });
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "ana" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "pw" } });
    fireEvent.click(screen.getByText("Sign in"));
    expect(onPassword).toHaveBeenCalledWith("https://romm.lan", "ana", "pw", true);
  });

  it("shows the user code and a QR code of the verification URL", () => {
    const device = { user_code: "WDJB-MJHT", verification_url: "https://romm.lan/device", expires_in: 600, interval: 5 };
    const { container } = render(<ConnectionSection {...props({ device, phase: "waiting" })} />);
    expect(screen.getByLabelText("user code").textContent).toBe("WDJB-MJHT");
    expect(container.querySelector("svg")).not.toBeNull();
    expect(screen.getByRole("status").textContent).toMatch(/Waiting for you to approve/);
  });

  it("shows the server and its version once connected, with sign out", () => {
    const onLogout = vi.fn();
    const status = { ...signedOut, configured: true, url: "https://romm.lan", server_version: "4.1.0" };
    render(<ConnectionSection {...props({ status, onLogout })} />);
    expect(screen.getByText("RomM 4.1.0")).toBeTruthy();
    fireEvent.click(screen.getByText("Sign out"));
    expect(onLogout).toHaveBeenCalled();
  });

  it("names the signed-in user, and no one when the backend does not know", () => {
    const status = { ...signedOut, configured: true, url: "https://romm.lan", server_version: "4.1.0" };
    const { rerender } = render(<ConnectionSection {...props({ status: { ...status, username: "alice" } })} />);
    expect(screen.getByText("Signed in as alice")).toBeTruthy();
    rerender(<ConnectionSection {...props({ status: { ...status, username: null } })} />);
    expect(screen.queryByText(/Signed in as/)).toBeNull();
  });
});

describe("useConnection device flow", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("polls every interval until approved, then reads the status again", async () => {
    const status = backendMock("get_status")
      .mockResolvedValueOnce({ ok: true, data: signedOut })
      .mockResolvedValue({ ok: true, data: { ...signedOut, configured: true, url: "https://romm.lan" } });
    answerOk("device_login_start", { user_code: "AB", verification_url: "https://romm.lan/device", expires_in: 60, interval: 2 });
    const poll = backendMock("device_login_poll")
      .mockResolvedValueOnce({ ok: true, data: { status: "authorization_pending" } })
      .mockResolvedValue({ ok: true, data: { status: "approved" } });
    function Harness() {
      const c = useConnection();
      return (
        <ConnectionSection
          {...props({ ...c, onDevice: (u, v) => void c.startDevice(u, v), onCancelDevice: c.cancelDevice })}
        />
      );
    }
    render(<Harness />);
    await act(() => vi.advanceTimersByTimeAsync(0));
    fireEvent.change(screen.getByLabelText("RomM server URL"), { target: { value: "https://romm.lan" } });
    fireEvent.click(screen.getByText("Get a sign-in code"));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(screen.getByLabelText("user code").textContent).toBe("AB");

    await act(() => vi.advanceTimersByTimeAsync(1999));
    expect(poll).toHaveBeenCalledTimes(0);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(poll).toHaveBeenCalledTimes(1);
    await act(() => vi.advanceTimersByTimeAsync(2000));

    expect(poll).toHaveBeenCalledTimes(2);
    expect(status).toHaveBeenCalledTimes(2);
    expect(screen.getByText("Sign out")).toBeTruthy();
  });
});
