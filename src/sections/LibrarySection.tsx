import { ButtonItem, PanelSection, PanelSectionRow, ProgressBarWithInfo, Spinner, ToggleField } from "@decky/ui";

import type { BackendError, Collection, Platform, SyncProgress } from "../backend";
import { errorWords } from "../format";
import type { ApplyProgress, ApplyResult } from "../steam/applier";
import { BulkImportRows, type BulkImportRowsProps } from "./BulkImportRows";

export interface LibrarySectionProps {
  platforms: Platform[] | null;
  collections: Collection[] | null;
  loading: boolean;
  error: BackendError | null;
  onToggle: (kind: "platform" | "collection", id: number, selected: boolean) => void;
  progress: SyncProgress | null;
  syncError: BackendError | null;
  starting: boolean;
  onSync: () => void;
  onCancel: () => void;
  /** The shortcut applier: running, its live counts, how its last run ended. */
  applying: boolean;
  applied: ApplyProgress | null;
  applyResult: ApplyResult | null;
  /** The bulk import (offer, progress, last result); left out: no bulk import rows. */
  bulk?: BulkImportRowsProps;
}

const SUMMARY_FIELDS: [key: string, words: string][] = [
  ["added", "added"],
  ["updated", "updated"],
  ["removed", "removed"],
  ["covers", "covers"],
  ["failed", "failed"],
];

/** "12 added, 3 updated, 1 removed, 12 covers" from a sync summary's numeric fields. */
export function summaryWords(summary: Record<string, unknown>): string {
  const parts = SUMMARY_FIELDS.filter(([key]) => typeof summary[key] === "number").map(
    ([key, words]) => `${summary[key] as number} ${words}`,
  );
  return parts.length > 0 ? parts.join(", ") : "Nothing changed";
}

function percent(progress: SyncProgress): number | undefined {
  return progress.total > 0 ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : undefined;
}

function Choices({ items, kind, onToggle }: {
  items: (Platform | Collection)[];
  kind: "platform" | "collection";
  onToggle: LibrarySectionProps["onToggle"];
}) {
  return (
    <>
      {items.map((item) => (
        <PanelSectionRow key={`${kind}-${item.id}`}>
          <ToggleField
            label={`${item.name} (${item.rom_count})`}
            checked={item.selected}
            onChange={(checked) => onToggle(kind, item.id, checked)}
          />
        </PanelSectionRow>
      ))}
    </>
  );
}

/** The "Library" section: what to sync, Sync with its progress, and how the last sync ended. */
export function LibrarySection(props: LibrarySectionProps) {
  const { platforms, collections, progress, applyResult } = props;
  const running = (progress?.running ?? false) || props.applying;
  const problem = props.syncError ?? props.error;
  const anySelected = [...(platforms ?? []), ...(collections ?? [])].some((i) => i.selected);
  const bulkState = props.bulk?.bulk?.state;
  const importing = bulkState === "preparing" || bulkState === "waiting_for_steam_exit" || bulkState === "writing";
  const stopReason = applyResult && applyResult.status !== "done" ? applyResult.message : null;
  const refused =
    applyResult && applyResult.status === "done" && applyResult.failed > 0
      ? `Steam did not take ${applyResult.failed} shortcut change(s); the next sync tries them again.`
      : null;
  return (
    <PanelSection title="Library">
      {props.loading && !platforms && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      {platforms && platforms.length === 0 && (
        <PanelSectionRow>
          <div>This RomM server has no platforms yet.</div>
        </PanelSectionRow>
      )}
      {platforms && <Choices items={platforms} kind="platform" onToggle={props.onToggle} />}
      {collections && collections.length > 0 && (
        <>
          <PanelSectionRow>
            <div style={{ fontSize: "12px", fontWeight: "bold", textTransform: "uppercase", opacity: 0.7 }}>
              Collections
            </div>
          </PanelSectionRow>
          <Choices items={collections} kind="collection" onToggle={props.onToggle} />
        </>
      )}
      <PanelSectionRow>
        <ButtonItem
          layout="below"
          disabled={running || importing || props.starting || !anySelected}
          onClick={props.onSync}
        >
          {running ? "Syncing…" : "Sync"}
        </ButtonItem>
      </PanelSectionRow>
      {running && (
        <>
          <PanelSectionRow>
            <ProgressBarWithInfo
              nProgress={progress ? percent(progress) : undefined}
              indeterminate={!progress || percent(progress) === undefined}
              sOperationText={
                props.applying && props.applied
                  ? `Adding to Steam: ${props.applied.created + props.applied.updated} done, ${props.applied.remaining} to go`
                  : progress?.message || progress?.step || "Starting…"
              }
            />
          </PanelSectionRow>
          <PanelSectionRow>
            <ButtonItem layout="below" onClick={props.onCancel}>
              Cancel sync
            </ButtonItem>
          </PanelSectionRow>
        </>
      )}
      {props.bulk && <BulkImportRows {...props.bulk} />}
      {!running && progress?.summary && (
        <PanelSectionRow>
          <div aria-label="last sync">Last sync: {summaryWords(progress.summary)}</div>
        </PanelSectionRow>
      )}
      {!running && progress?.error && (
        <PanelSectionRow>
          <div role="alert">Sync failed: {progress.error.message}</div>
        </PanelSectionRow>
      )}
      {stopReason && (
        <PanelSectionRow>
          <div role="alert">{stopReason}</div>
        </PanelSectionRow>
      )}
      {refused && (
        <PanelSectionRow>
          <div role="alert">{refused}</div>
        </PanelSectionRow>
      )}
      {problem && (
        <PanelSectionRow>
          <div role="alert">{errorWords(problem)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
