import { useCallback, useEffect, useRef, useState } from "react";

import {
  asBackendError,
  type BackendError,
  type BulkImport,
  type BulkImportState,
  getBulkImport,
  startBulkImport,
  type SyncProgress,
} from "../backend";
import { CreationBudget } from "../steam/budget";
import { accountIdFromSteamId64, shouldOfferBulkImport } from "../steam/bulkImport";
import { type SteamSession, steamSessionFromWindow } from "../steam/steamApi";

const ACTIVE: ReadonlySet<BulkImportState> = new Set(["preparing", "waiting_for_steam_exit", "writing"]);

export interface BulkImportView {
  /** The last bulk import as the backend recorded it; null until read. */
  bulk: BulkImport | null;
  /** Games to offer importing while Steam restarts; null when there is no offer. */
  offer: number | null;
  /** True while the chunked apply must wait (deciding, offered, or a bulk import runs). */
  hold: boolean;
  starting: boolean;
  error: BackendError | null;
  /** Starts the bulk import (`start_bulk_import`) for the signed-in Steam user. */
  start: () => Promise<void>;
  /** Declines the offer: the chunked apply goes ahead (and stops at Steam's budget). */
  decline: () => void;
}

/**
 * The bulk import (`get_bulk_import`, `start_bulk_import`).
 *
 * Reads it on mount (the panel reopened after Steam restarted shows how it ended) and
 * when a sync reaches its apply step, then decides with {@link shouldOfferBulkImport};
 * polls every `pollMs` while an import runs; when the helper is ready
 * (`waiting_for_steam_exit`) asks Steam to restart, once per job.
 */
export function useBulkImport(
  progress: SyncProgress | null,
  options: { pollMs?: number; session?: () => SteamSession; budget?: () => number } = {},
): BulkImportView {
  const { pollMs = 1000, session = steamSessionFromWindow, budget = () => new CreationBudget().left } = options;
  const [bulk, setBulk] = useState<BulkImport | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [starting, setStarting] = useState(false);
  const [declined, setDeclined] = useState(false);
  const [checkedApply, setCheckedApply] = useState(false);
  const restarted = useRef<string | null>(null);
  const mounted = useRef(true);
  const atApply = !!progress?.running && progress.step === "apply" && progress.remaining > 0;
  const active = bulk !== null && ACTIVE.has(bulk.state);

  const read = useCallback(async () => {
    try {
      const next = await getBulkImport();
      if (!mounted.current) return;
      setBulk(next);
      setError(null);
    } catch (err) {
      if (mounted.current) setError(asBackendError(err));
    }
  }, []);

  useEffect(() => {
    mounted.current = true;
    void read();
    return () => {
      mounted.current = false;
    };
  }, [read]);

  // A sync reaching its apply step: read the pending adds once, then decide.
  useEffect(() => {
    if (!atApply) {
      setCheckedApply(false);
      setDeclined(false);
      return;
    }
    let live = true;
    void read().then(() => {
      if (live) setCheckedApply(true);
    });
    return () => {
      live = false;
    };
  }, [atApply, read]);

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void read(), pollMs);
    return () => clearInterval(timer);
  }, [active, pollMs, read]);

  // The helper is ready: Steam must exit for it to write (it waits a bounded time).
  useEffect(() => {
    if (bulk?.state !== "waiting_for_steam_exit" || !bulk.job_id || restarted.current === bulk.job_id) return;
    restarted.current = bulk.job_id;
    try {
      session().user.StartRestart(false);
    } catch (err) {
      setError(asBackendError(err));
    }
  }, [bulk, session]);

  const start = useCallback(async () => {
    setStarting(true);
    try {
      let account = "";
      try {
        account = accountIdFromSteamId64(session().steamId64());
      } catch {
        account = ""; // outside Steam: the backend picks the only user, or says why not
      }
      await startBulkImport(account);
      await read();
    } catch (err) {
      if (mounted.current) setError(asBackendError(err));
    } finally {
      if (mounted.current) setStarting(false);
    }
  }, [read, session]);

  const decline = useCallback(() => setDeclined(true), []);

  const offered =
    atApply && checkedApply && !declined && !active && bulk !== null
      ? shouldOfferBulkImport(bulk.pending_adds, budget())
      : false;
  return {
    bulk,
    offer: offered && bulk ? bulk.pending_adds : null,
    hold: active || offered || (atApply && !checkedApply && !declined),
    starting,
    error,
    start,
    decline,
  };
}
