import { ButtonItem, PanelSection, PanelSectionRow, Spinner } from "@decky/ui";

import type { BackendError } from "../backend";
import type { FirmwareFetch, FirmwareFile, FirmwareStatus, PlatformFirmware } from "../backend-pending";
import { errorWords } from "../format";

export interface BiosSectionProps {
  platforms: PlatformFirmware[] | null;
  loading: boolean;
  error: BackendError | null;
  busy: boolean;
  /** Files of the last download that failed. */
  failures: FirmwareFetch[];
  onDownload: (platformSlug: string, fileNames: string[]) => void;
}

const STATUS_WORDS: Record<FirmwareStatus, string> = {
  verified: "present",
  wrong_hash: "present, wrong file",
  missing_on_server: "missing, not on the server",
  missing: "missing",
  optional_missing: "optional, missing",
};

/** Files RomDeck can fetch: missing or wrong, and on the server. */
export function downloadable(files: FirmwareFile[]): FirmwareFile[] {
  return files.filter((f) => f.on_server && (f.status === "missing" || f.status === "wrong_hash" || f.status === "optional_missing"));
}

function Platform({ platform, busy, onDownload }: { platform: PlatformFirmware; busy: boolean; onDownload: BiosSectionProps["onDownload"] }) {
  const needed = platform.files.filter((f) => f.required);
  const ready = platform.ready ?? needed.every((f) => f.status === "verified");
  const fetchable = downloadable(platform.files);
  return (
    <PanelSectionRow>
      <div aria-label={`bios ${platform.platform_slug}`}>
        <b>{platform.platform_name}</b>: {ready ? "ready" : "BIOS missing"}
        <ul>
          {platform.files.map((f) => (
            <li key={f.file_name}>
              {f.file_name}: {STATUS_WORDS[f.status]}
            </li>
          ))}
        </ul>
        {fetchable.length > 0 && (
          <ButtonItem layout="below" disabled={busy} onClick={() => onDownload(platform.platform_slug, fetchable.map((f) => f.file_name))}>
            Download {fetchable.length} file{fetchable.length === 1 ? "" : "s"} for {platform.platform_name}
          </ButtonItem>
        )}
      </div>
    </PanelSectionRow>
  );
}

/** The "BIOS" section: firmware status per platform that needs it, and download of what is missing. */
export function BiosSection({ platforms, loading, error, busy, failures, onDownload }: BiosSectionProps) {
  const needing = (platforms ?? []).filter((p) => p.needs_firmware);
  return (
    <PanelSection title="BIOS">
      {loading && !platforms && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      {platforms && needing.length === 0 && (
        <PanelSectionRow>
          <div>None of your platforms needs a BIOS.</div>
        </PanelSectionRow>
      )}
      {needing.map((p) => (
        <Platform key={p.platform_slug} platform={p} busy={busy} onDownload={onDownload} />
      ))}
      {failures.map((f) => (
        <PanelSectionRow key={f.path}>
          <div role="alert">
            {f.path.split("/").pop()}: {f.message}
          </div>
        </PanelSectionRow>
      ))}
      {error && (
        <PanelSectionRow>
          <div role="alert">{errorWords(error)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
