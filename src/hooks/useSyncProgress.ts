import { useCallback, useEffect, useState } from "react";

import {
  asBackendError,
  type BackendError,
  cancelSync,
  getSyncProgress,
  startSync,
  type SyncProgress,
} from "../backend";

export interface SyncProgressState {
  /** Last progress read; null until the first answer. */
  progress: SyncProgress | null;
  /** Why starting or polling failed; null after a successful call. */
  error: BackendError | null;
  /** True while `start_sync` is in flight. */
  starting: boolean;
  /** Starts a sync (`start_sync`), then polls its progress until it stops running. */
  start: () => Promise<void>;
  /** Asks the backend to stop the running sync (`cancel_sync`). */
  cancel: () => Promise<void>;
}

/**
 * Progress of the backend's library sync (`get_sync_progress`).
 *
 * Reads it once on mount (a sync may already be running), then again every
 * `pollMs` milliseconds while `running` is true. A failed poll stops polling
 * and sets `error`; the next `start()` resumes it.
 */
export function useSyncProgress(pollMs = 1000): SyncProgressState {
  const [progress, setProgress] = useState<SyncProgress | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [starting, setStarting] = useState(false);
  const [pollRound, setPollRound] = useState(0);

  useEffect(() => {
    let active = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const next = await getSyncProgress();
        if (!active) return;
        setProgress(next);
        setError(null);
        if (next.running) timer = setTimeout(() => void poll(), pollMs);
      } catch (err) {
        if (active) setError(asBackendError(err));
      }
    };
    void poll();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [pollRound, pollMs]);

  const start = useCallback(async () => {
    setStarting(true);
    try {
      await startSync();
      setError(null);
      setPollRound((round) => round + 1);
    } catch (err) {
      setError(asBackendError(err));
    } finally {
      setStarting(false);
    }
  }, []);

  const cancel = useCallback(async () => {
    try {
      await cancelSync();
      setPollRound((round) => round + 1);
    } catch (err) {
      setError(asBackendError(err));
    }
  }, []);

  return { progress, error, starting, start, cancel };
}
