import { ButtonItem, PanelSection, PanelSectionRow, ProgressBarWithInfo, Spinner } from "@decky/ui";

import type { BackendError, Download, InstalledList } from "../backend";
import { errorWords, formatBytes, formatDuration } from "../format";

export interface DownloadsSectionProps {
  downloads: Download[] | null;
  installed: InstalledList | null;
  freeBytes: number | null;
  loading: boolean;
  error: BackendError | null;
  busy: boolean;
  onPause: (romId: number) => void;
  onResume: (romId: number) => void;
  onCancel: (romId: number) => void;
  onUninstall: (romId: number) => void;
}

const ACTIVE = new Set<Download["state"]>(["queued", "downloading", "unpacking", "paused", "failed"]);

/** "12 MB of 40 MB · 2.0 MB/s · 14 s left" for a download in flight. */
export function downloadWords(d: Download): string {
  const size = d.bytes_total ? `${formatBytes(d.bytes_done)} of ${formatBytes(d.bytes_total)}` : formatBytes(d.bytes_done);
  if (d.state === "queued") return "Waiting";
  if (d.state === "paused") return `Paused at ${size}`;
  if (d.state === "unpacking") return "Unpacking";
  if (d.state === "failed") return `Failed: ${d.error_message || d.error_code}`;
  const rate = d.rate_bytes_per_s > 0 ? ` · ${formatBytes(d.rate_bytes_per_s)}/s` : "";
  const eta = d.eta_seconds !== null ? ` · ${formatDuration(d.eta_seconds)} left` : "";
  return `${size}${rate}${eta}`;
}

function QueueRow({ d, props }: { d: Download; props: DownloadsSectionProps }) {
  const percent = d.bytes_total ? Math.min(100, Math.round((d.bytes_done / d.bytes_total) * 100)) : undefined;
  return (
    <>
      <PanelSectionRow>
        <ProgressBarWithInfo
          nProgress={percent}
          indeterminate={percent === undefined}
          sOperationText={`${d.name}: ${downloadWords(d)}`}
        />
      </PanelSectionRow>
      <PanelSectionRow>
        {d.state === "paused" || d.state === "failed" ? (
          <ButtonItem layout="inline" disabled={props.busy} onClick={() => props.onResume(d.rom_id)}>
            Resume {d.name}
          </ButtonItem>
        ) : (
          <ButtonItem layout="inline" disabled={props.busy || d.state === "unpacking"} onClick={() => props.onPause(d.rom_id)}>
            Pause {d.name}
          </ButtonItem>
        )}
        <ButtonItem layout="inline" disabled={props.busy} onClick={() => props.onCancel(d.rom_id)}>
          Cancel {d.name}
        </ButtonItem>
      </PanelSectionRow>
    </>
  );
}

/** The "Downloads" section: the queue with byte progress, installed games per platform, free space. */
export function DownloadsSection(props: DownloadsSectionProps) {
  const queue = (props.downloads ?? []).filter((d) => ACTIVE.has(d.state));
  const installed = props.installed;
  const platforms = installed ? Object.keys(installed.bytes_by_platform).sort() : [];
  return (
    <PanelSection title="Downloads">
      {props.loading && !props.downloads && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      {props.downloads && queue.length === 0 && (
        <PanelSectionRow>
          <div>No downloads in progress.</div>
        </PanelSectionRow>
      )}
      {queue.map((d) => (
        <QueueRow key={d.rom_id} d={d} props={props} />
      ))}
      {installed && installed.installs.length === 0 && (
        <PanelSectionRow>
          <div>No games installed yet.</div>
        </PanelSectionRow>
      )}
      {platforms.map((slug) => (
        <PanelSectionRow key={slug}>
          <div>
            <b>
              {slug}: {formatBytes(installed?.bytes_by_platform[slug] ?? 0)}
            </b>
            {installed?.installs
              .filter((i) => i.platform_slug === slug)
              .map((i) => (
                <ButtonItem
                  key={i.rom_id}
                  layout="inline"
                  label={`${i.launch_path.split("/").pop()} (${formatBytes(i.size_bytes)})`}
                  disabled={props.busy}
                  onClick={() => props.onUninstall(i.rom_id)}
                >
                  Uninstall
                </ButtonItem>
              ))}
          </div>
        </PanelSectionRow>
      ))}
      {props.freeBytes !== null && (
        <PanelSectionRow>
          <div aria-label="free space">{formatBytes(props.freeBytes)} free</div>
        </PanelSectionRow>
      )}
      {props.error && (
        <PanelSectionRow>
          <div role="alert">{errorWords(props.error)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
