import { ButtonItem, PanelSectionRow, Spinner } from "@decky/ui";

import type { BackendError, BulkImport } from "../backend";
import { errorWords } from "../format";

export interface BulkImportRowsProps {
  bulk: BulkImport | null;
  /** Games to offer importing while Steam restarts; null: no offer. */
  offer: number | null;
  starting: boolean;
  error: BackendError | null;
  onStart: () => void;
  onDecline: () => void;
}

const RUNNING: Partial<Record<BulkImport["state"], string>> = {
  preparing: "Preparing the import",
  waiting_for_steam_exit: "Restarting Steam",
  writing: "Writing your games into Steam",
};

/** The Library section's bulk import rows: the offer, the import under way, how it ended. */
export function BulkImportRows({ bulk, offer, starting, error, onStart, onDecline }: BulkImportRowsProps) {
  const running = bulk ? RUNNING[bulk.state] : undefined;
  const ended = bulk && (bulk.state === "done" || bulk.state === "failed" || bulk.state === "timed_out");
  return (
    <>
      {offer !== null && (
        <>
          <PanelSectionRow>
            <div>
              This sync adds {offer} games, more than Steam can safely take while it runs. RomDeck can
              write them while Steam restarts.
            </div>
          </PanelSectionRow>
          <PanelSectionRow>
            <ButtonItem layout="below" disabled={starting} onClick={onStart}>
              Import {offer} games while Steam restarts
            </ButtonItem>
          </PanelSectionRow>
          <PanelSectionRow>
            <ButtonItem layout="below" disabled={starting} onClick={onDecline}>
              Add them in small batches instead
            </ButtonItem>
          </PanelSectionRow>
        </>
      )}
      {bulk && running && (
        <PanelSectionRow>
          <div aria-label="bulk import">
            <Spinner /> {running}: {bulk.message}
          </div>
        </PanelSectionRow>
      )}
      {bulk && ended && (
        <PanelSectionRow>
          <div aria-label="last bulk import" role={bulk.state === "done" ? undefined : "alert"}>
            {bulk.state === "done" ? "Bulk import: " : "Bulk import stopped: "}
            {bulk.message}
            {bulk.failures.slice(0, 3).map((failure) => (
              <div key={failure}>{failure}</div>
            ))}
          </div>
        </PanelSectionRow>
      )}
      {error && (
        <PanelSectionRow>
          <div role="alert">{errorWords(error)}</div>
        </PanelSectionRow>
      )}
    </>
  );
}
