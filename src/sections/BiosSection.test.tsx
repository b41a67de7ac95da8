import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { BackendError } from "../backend";
import type { PlatformFirmware } from "../backend-pending";
import { useFirmware } from "../hooks/useFirmware";
import { answerOk } from "../test-setup";
import { BiosSection, type BiosSectionProps } from "./BiosSection";

const psx: PlatformFirmware = {
  platform_slug: "psx",
  platform_name: "PlayStation",
  system: "psx",
  needs_firmware: true,
  ready: false,
  any_of: [],
  files: [
    { file_name: "scph5501.bin", path: "/bios/scph5501.bin", required: true, status: "missing", on_server: true, firmware_id: 3, md5: "490f666e", size_bytes: 524288, server_verified: true, expected_md5s: ["490f666e"], description: "PS1 BIOS (EU)", placed: false },
    { file_name: "scph5500.bin", path: "/bios/scph5500.bin", required: false, status: "missing_on_server", on_server: false, firmware_id: null, md5: null, size_bytes: null, server_verified: null, expected_md5s: [], description: "PS1 BIOS (JP)", placed: false },
  ],
};
const snes: PlatformFirmware = { platform_slug: "snes", platform_name: "SNES", system: "snes", needs_firmware: false, ready: true, any_of: [], files: [] };

function props(overrides: Partial<BiosSectionProps>): BiosSectionProps {
  return { platforms: [psx, snes], loading: false, error: null, busy: false, failures: [], onDownload: vi.fn(), ...overrides };
}

describe("BiosSection", () => {
  it("shows a spinner while loading", () => {
    render(<BiosSection {...props({ platforms: null, loading: true })} />);
    expect(screen.getByRole("status")).toBeTruthy();
  });

  it("says when no platform needs a BIOS", () => {
    render(<BiosSection {...props({ platforms: [snes] })} />);
    expect(screen.getByText("None of your platforms needs a BIOS.")).toBeTruthy();
  });

  it("shows each file's status and downloads only what the server has", () => {
    const onDownload = vi.fn();
    render(<BiosSection {...props({ onDownload })} />);
    const box = screen.getByLabelText("bios psx");
    expect(box.textContent).toContain("PlayStation: BIOS missing");
    expect(box.textContent).toContain("scph5500.bin: missing, not on the server");
    fireEvent.click(screen.getByText("Download 1 file for PlayStation"));
    expect(onDownload).toHaveBeenCalledWith("psx", ["scph5501.bin"]);
  });

  it("shows an error in words", () => {
    render(<BiosSection {...props({ error: new BackendError("server_unreachable", "Timed out.") })} />);
    expect(screen.getByRole("alert").textContent).toBe("RomM could not be reached. Timed out.");
  });
});

describe("useFirmware", () => {
  it("lists all platforms, then re-reads after a download", async () => {
    const list = answerOk("list_firmware", [psx]);
    const failed = { platform_slug: "psx", path: "/bios/scph5501.bin", outcome: "failed", status: "missing" as const, message: "Wrong checksum from the server.", error_code: "hash_mismatch", backup_path: null };
    const download = answerOk("download_firmware", { results: [failed] });
    const { result } = renderHook(() => useFirmware());
    await act(async () => {});
    expect(list).toHaveBeenCalledWith(null);
    await act(() => result.current.download("psx", ["scph5501.bin"]));
    expect(download).toHaveBeenCalledWith("psx", ["scph5501.bin"]);
    expect(list).toHaveBeenCalledTimes(2);
    expect(result.current.failures).toEqual([failed]);
    render(<BiosSection {...props({ failures: result.current.failures })} />);
    expect(screen.getByRole("alert").textContent).toBe("scph5501.bin: Wrong checksum from the server.");
  });
});
