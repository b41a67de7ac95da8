import { ButtonItem, DropdownItem, PanelSection, PanelSectionRow, Spinner, TextField, ToggleField } from "@decky/ui";
import { useEffect, useState } from "react";

import type { BackendError } from "../backend";
import type { EmulationTarget, Settings, SettingsPatch } from "../backend-pending";
import { errorWords } from "../format";

export interface SettingsSectionProps {
  settings: Settings | null;
  loading: boolean;
  loadError: BackendError | null;
  saveError: BackendError | null;
  saving: boolean;
  onSave: (patch: SettingsPatch) => void;
}

const TARGETS: { data: EmulationTarget; label: string }[] = [
  { data: "auto", label: "Detect (RetroDECK, then EmuDeck)" },
  { data: "retrodeck", label: "RetroDECK" },
  { data: "emudeck", label: "EmuDeck" },
  { data: "custom", label: "Custom ROMs folder" },
];

/** The "Settings" section: emulation target (with the custom ROMs root) and TLS. */
export function SettingsSection({ settings, loading, loadError, saveError, saving, onSave }: SettingsSectionProps) {
  const [romsRoot, setRomsRoot] = useState(settings?.emulation.roms_root ?? "");
  const [caFile, setCaFile] = useState(settings?.tls.ca_file ?? "");
  useEffect(() => {
    setRomsRoot(settings?.emulation.roms_root ?? "");
    setCaFile(settings?.tls.ca_file ?? "");
  }, [settings]);

  return (
    <PanelSection title="Settings">
      {loading && !settings && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      {settings && (
        <>
          <PanelSectionRow>
            <DropdownItem
              label="Emulators"
              rgOptions={TARGETS}
              selectedOption={settings.emulation.target}
              onChange={(option) => onSave({ emulation: { target: option.data as EmulationTarget } })}
            />
          </PanelSectionRow>
          {settings.emulation.target === "custom" && (
            <>
              <PanelSectionRow>
                <TextField label="ROMs folder" value={romsRoot} onChange={(e) => setRomsRoot(e.target.value)} />
              </PanelSectionRow>
              <PanelSectionRow>
                <ButtonItem
                  layout="below"
                  disabled={saving || romsRoot.trim() === ""}
                  onClick={() => onSave({ emulation: { roms_root: romsRoot.trim() } })}
                >
                  Save ROMs folder
                </ButtonItem>
              </PanelSectionRow>
            </>
          )}
          <PanelSectionRow>
            <ToggleField
              label="Verify the server's TLS certificate"
              checked={settings.tls.verify}
              disabled={saving}
              onChange={(verify) => onSave({ tls: { verify } })}
            />
          </PanelSectionRow>
          <PanelSectionRow>
            <ToggleField
              label="Sync saves"
              checked={settings.saves.sync}
              disabled={saving}
              onChange={(sync) => onSave({ saves: { sync } })}
            />
          </PanelSectionRow>
          <PanelSectionRow>
            <ToggleField
              label="Sync save states"
              checked={settings.saves.states}
              disabled={saving || !settings.saves.sync}
              onChange={(states) => onSave({ saves: { states } })}
            />
          </PanelSectionRow>
          <PanelSectionRow>
            <TextField label="CA file (PEM)" value={caFile} onChange={(e) => setCaFile(e.target.value)} />
          </PanelSectionRow>
          <PanelSectionRow>
            <ButtonItem
              layout="below"
              disabled={saving}
              onClick={() => onSave({ tls: { ca_file: caFile.trim() === "" ? null : caFile.trim() } })}
            >
              {saving ? "Saving…" : "Save CA file"}
            </ButtonItem>
          </PanelSectionRow>
        </>
      )}
      {(saveError ?? loadError) && (
        <PanelSectionRow>
          <div role="alert">{errorWords((saveError ?? loadError) as BackendError)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
