import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { BackendError } from "../backend";
import type { Settings } from "../backend-pending";
import { useSettings } from "../hooks/useSettings";
import { answerOk, backendMock } from "../test-setup";
import { SettingsSection, type SettingsSectionProps } from "./SettingsSection";

const settings: Settings = {
  emulation: { target: "auto", roms_root: null, bios_root: null, templates: {} },
  tls: { verify: true, ca_file: null },
  saves: { sync: true, states: false },
};

function props(overrides: Partial<SettingsSectionProps>): SettingsSectionProps {
  return { settings, loading: false, loadError: null, saveError: null, saving: false, onSave: vi.fn(), ...overrides };
}

describe("SettingsSection", () => {
  it("shows a spinner while loading and the load error in words", () => {
    render(<SettingsSection {...props({ settings: null, loading: true, loadError: new BackendError("internal", "Settings unreadable.") })} />);
    expect(screen.getByRole("status")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("Settings unreadable.");
  });

  it("sends only the changed field when the target changes", () => {
    const onSave = vi.fn();
    render(<SettingsSection {...props({ onSave })} />);
    fireEvent.change(screen.getByLabelText("Emulators"), { target: { value: "emudeck" } });
    expect(onSave).toHaveBeenCalledWith({ emulation: { target: "emudeck" } });
  });

  it("asks for the ROMs folder of a custom target", () => {
    const onSave = vi.fn();
    const custom = { ...settings, emulation: { ...settings.emulation, target: "custom" as const } };
    render(<SettingsSection {...props({ settings: custom, onSave })} />);
    fireEvent.change(screen.getByLabelText("ROMs folder"), { target: { value: "/run/media/sd/roms " } });
    fireEvent.click(screen.getByText("Save ROMs folder"));
    expect(onSave).toHaveBeenCalledWith({ emulation: { roms_root: "/run/media/sd/roms" } });
  });

  it("turns TLS verification off and clears an empty CA file to null", () => {
    const onSave = vi.fn();
    render(<SettingsSection {...props({ onSave })} />);
    fireEvent.click(screen.getByLabelText("Verify the server's TLS certificate"));
    fireEvent.click(screen.getByText("Save CA file"));
    expect(onSave.mock.calls).toEqual([[{ tls: { verify: false } }], [{ tls: { ca_file: null } }]]);
  });

  it("turns save sync off and save states on, one key each", () => {
    const onSave = vi.fn();
    render(<SettingsSection {...props({ onSave })} />);
    fireEvent.click(screen.getByLabelText("Sync saves"));
    fireEvent.click(screen.getByLabelText("Sync save states"));
    expect(onSave.mock.calls).toEqual([[{ saves: { sync: false } }], [{ saves: { states: true } }]]);
  });
});

describe("useSettings", () => {
  it("shows the settings the backend answers after a save", async () => {
    answerOk("get_settings", settings);
    const saved = { ...settings, tls: { verify: false, ca_file: null } };
    const set = answerOk("set_settings", saved);
    const { result } = renderHook(() => useSettings());
    await act(async () => {});
    await act(() => result.current.save({ tls: { verify: false } }));
    expect(set).toHaveBeenCalledWith({ tls: { verify: false } });
    expect(result.current.settings?.tls.verify).toBe(false);
  });

  it("keeps the old settings and reports a refused save", async () => {
    answerOk("get_settings", settings);
    backendMock("set_settings").mockResolvedValue({ ok: false, error: { code: "invalid_input", message: "No such folder." } });
    const { result } = renderHook(() => useSettings());
    await act(async () => {});
    await act(() => result.current.save({ emulation: { roms_root: "/nope" } }));
    expect(result.current.saveError?.message).toBe("No such folder.");
    expect(result.current.settings).toEqual(settings);
  });
});
