import { useCallback, useEffect, useRef, useState } from "react";

import { getArtwork, nextSyncChunk, reportSyncChunk, type SyncProgress } from "../backend";
import { type ApplyProgress, type ApplyResult, ShortcutApplier } from "../steam/applier";
import { steamFromWindow } from "../steam/steamApi";

let shared: ShortcutApplier | null = null;

/** The plugin's one applier over Steam's real objects (throws outside Steam). */
function applier(): ShortcutApplier {
  shared ??= new ShortcutApplier(steamFromWindow(), { nextSyncChunk, reportSyncChunk, getArtwork });
  return shared;
}

/**
 * Applies the backend's planned shortcut changes to Steam whenever the sync
 * progress says some remain (also when the panel is reopened mid-sync).
 * A run that stopped (budget spent, Steam refused, cancelled) is not retried
 * until `retry()`; `cancel()` stops the running one between shortcuts.
 */
export function useApplyPlan(progress: SyncProgress | null, make: () => ShortcutApplier = applier) {
  const [applying, setApplying] = useState(false);
  const [live, setLive] = useState<ApplyProgress | null>(null);
  const [result, setResult] = useState<ApplyResult | null>(null);
  const abort = useRef<AbortController | null>(null);
  const startedFor = useRef<SyncProgress | null>(null);
  const stopped = result !== null && result.status !== "done";
  const pending = (progress?.remaining ?? 0) > 0;

  useEffect(() => {
    // One run per progress reading: a finished run is not restarted on the same stale reading.
    if (!pending || applying || stopped || startedFor.current === progress) return;
    startedFor.current = progress;
    const controller = new AbortController();
    abort.current = controller;
    setApplying(true);
    void (async () => {
      let outcome: ApplyResult;
      try {
        outcome = await make().run({ signal: controller.signal, onProgress: setLive });
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        outcome = { status: "failed", message: text, created: 0, updated: 0, removed: 0, failed: 0, remaining: 0 };
      }
      setResult(outcome);
      setApplying(false);
    })();
  }, [progress, pending, applying, stopped, make]);

  useEffect(() => () => abort.current?.abort(), []);

  const cancel = useCallback(() => abort.current?.abort(), []);
  const retry = useCallback(() => setResult(null), []);
  return { applying, live, result, cancel, retry };
}
