import { ButtonItem, PanelSectionRow, ProgressBarWithInfo } from "@decky/ui";

import type { BackendError, SyncProgress } from "../backend";

export interface SyncControlsProps {
  /** False when no server is configured: the button is then disabled. */
  canSync: boolean;
  progress: SyncProgress | null;
  error: BackendError | null;
  starting: boolean;
  onSync: () => void;
}

/** Percentage 0–100 of `done` over `total`, or undefined when the total is not known yet. */
export function percentDone(progress: SyncProgress): number | undefined {
  if (progress.total <= 0) return undefined;
  return Math.min(100, Math.round((progress.done / progress.total) * 100));
}

function lastOutcome(progress: SyncProgress | null, error: BackendError | null): string | null {
  if (error) return `Sync failed: ${error.message}`;
  if (progress?.error) return `Sync failed: ${progress.error.message}`;
  if (progress?.summary && progress.message) return progress.message;
  return null;
}

/** The "Sync now" button, the running sync's progress bar, and how the last sync ended. */
export function SyncControls({ canSync, progress, error, starting, onSync }: SyncControlsProps) {
  const running = progress?.running ?? false;
  const percent = progress ? percentDone(progress) : undefined;
  const outcome = running ? null : lastOutcome(progress, error);
  return (
    <>
      <PanelSectionRow>
        <ButtonItem layout="below" disabled={!canSync || running || starting} onClick={onSync}>
          {running ? "Syncing…" : "Sync now"}
        </ButtonItem>
      </PanelSectionRow>
      {running && progress && (
        <PanelSectionRow>
          <ProgressBarWithInfo
            nProgress={percent}
            indeterminate={percent === undefined}
            sOperationText={progress.message || progress.step}
          />
        </PanelSectionRow>
      )}
      {outcome && (
        <PanelSectionRow>
          <div role="alert">{outcome}</div>
        </PanelSectionRow>
      )}
    </>
  );
}
