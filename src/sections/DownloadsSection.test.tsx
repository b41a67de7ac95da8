import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { BackendError, type Download } from "../backend";
import { useDownloads, useInstalled } from "../hooks/useDownloads";
import { answerOk, emitEvent } from "../test-setup";
import { downloadWords, DownloadsSection, type DownloadsSectionProps } from "./DownloadsSection";

const MB = 1024 * 1024;

function download(overrides: Partial<Download>): Download {
  return {
    rom_id: 1,
    name: "Chrono Trigger",
    state: "downloading",
    bytes_done: 12 * MB,
    bytes_total: 40 * MB,
    rate_bytes_per_s: 2 * MB,
    eta_seconds: 14,
    error_code: "",
    error_message: "",
    ...overrides,
  };
}

function props(overrides: Partial<DownloadsSectionProps>): DownloadsSectionProps {
  return {
    downloads: [],
    installed: { installs: [], bytes_by_platform: {}, total_bytes: 0 },
    freeBytes: 5 * 1024 * MB,
    loading: false,
    error: null,
    busy: false,
    onPause: vi.fn(),
    onResume: vi.fn(),
    onCancel: vi.fn(),
    onUninstall: vi.fn(),
    ...overrides,
  };
}

describe("DownloadsSection", () => {
  it("shows a spinner while the queue loads", () => {
    render(<DownloadsSection {...props({ downloads: null, installed: null, freeBytes: null, loading: true })} />);
    expect(screen.getByRole("status")).toBeTruthy();
  });

  it("says when nothing is downloading or installed, and the free space", () => {
    render(<DownloadsSection {...props({})} />);
    expect(screen.getByText("No downloads in progress.")).toBeTruthy();
    expect(screen.getByText("No games installed yet.")).toBeTruthy();
    expect(screen.getByLabelText("free space").textContent).toBe("5.0 GB free");
  });

  it("shows byte progress, rate and ETA, and pauses", () => {
    const onPause = vi.fn();
    render(<DownloadsSection {...props({ downloads: [download({})], onPause })} />);
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("30");
    expect(bar.textContent).toBe("Chrono Trigger: 12 MB of 40 MB · 2.0 MB/s · 14 s left");
    fireEvent.click(screen.getByText("Pause Chrono Trigger"));
    expect(onPause).toHaveBeenCalledWith(1);
  });

  it("offers resume for a paused download and words a failed one", () => {
    const onResume = vi.fn();
    render(<DownloadsSection {...props({ downloads: [download({ state: "paused" })], onResume })} />);
    fireEvent.click(screen.getByText("Resume Chrono Trigger"));
    expect(onResume).toHaveBeenCalledWith(1);
    expect(downloadWords(download({ state: "failed", error_message: "Disk full." }))).toBe("Failed: Disk full.");
  });

  it("lists installed games per platform with sizes and uninstalls one", () => {
    const onUninstall = vi.fn();
    const installed = {
      installs: [
        { rom_id: 7, platform_slug: "snes", system: "snes", root: "/r", launch_path: "/r/snes/Mario.sfc", size_bytes: 4 * MB, installed_at: "" },
      ],
      bytes_by_platform: { snes: 4 * MB },
      total_bytes: 4 * MB,
    };
    render(<DownloadsSection {...props({ installed, onUninstall })} />);
    expect(screen.getByText("snes: 4.0 MB")).toBeTruthy();
    expect(screen.getByText("Mario.sfc (4.0 MB)")).toBeTruthy();
    fireEvent.click(screen.getByText("Uninstall"));
    expect(onUninstall).toHaveBeenCalledWith(7);
  });

  it("shows an error where it happened", () => {
    render(<DownloadsSection {...props({ error: new BackendError("disk_full", "Needs 2 GB, 1 GB free.") })} />);
    expect(screen.getByRole("alert").textContent).toBe("Not enough free space. Needs 2 GB, 1 GB free.");
  });
});

describe("useDownloads", () => {
  it("reads the queue on mount and follows download_progress events", async () => {
    answerOk("get_downloads", [download({ bytes_done: 0 })]);
    const { result } = renderHook(() => useDownloads());
    await act(async () => {});
    expect(result.current.downloads?.[0].bytes_done).toBe(0);

    act(() => {
      emitEvent("download_progress", download({ bytes_done: 20 * MB }));
      emitEvent("download_progress", download({ rom_id: 2, name: "Zelda", state: "queued" }));
    });

    expect(result.current.downloads?.map((d) => [d.rom_id, d.bytes_done])).toEqual([
      [1, 20 * MB],
      [2, 12 * MB],
    ]);
  });

  it("replaces an item with the reply of pause", async () => {
    answerOk("get_downloads", [download({})]);
    answerOk("pause_download", download({ state: "paused" }));
    const { result } = renderHook(() => useDownloads());
    await act(async () => {});
    await act(() => result.current.pause(1));
    expect(result.current.downloads?.[0].state).toBe("paused");
  });
});

describe("useInstalled", () => {
  it("re-reads installs and free space after an uninstall", async () => {
    const list = answerOk("list_installed", { installs: [], bytes_by_platform: {}, total_bytes: 0 });
    const space = answerOk("get_free_space", { free_bytes: 10 });
    answerOk("uninstall", { freed_bytes: 5 });
    const { result } = renderHook(() => useInstalled());
    await act(async () => {});
    await act(() => result.current.uninstall(3));
    expect(list).toHaveBeenCalledTimes(2);
    expect(space).toHaveBeenCalledTimes(2);
  });

  it("re-reads installs and free space when a download is installed, not on progress", async () => {
    const list = answerOk("list_installed", { installs: [], bytes_by_platform: {}, total_bytes: 0 });
    const space = answerOk("get_free_space", { free_bytes: 10 });
    renderHook(() => useInstalled());
    await act(async () => {});
    await act(async () => emitEvent("download_progress", download({})));
    expect(list).toHaveBeenCalledTimes(1);
    await act(async () => emitEvent("download_progress", download({ state: "installed" })));
    expect(list).toHaveBeenCalledTimes(2);
    expect(space).toHaveBeenCalledTimes(2);
  });
});
