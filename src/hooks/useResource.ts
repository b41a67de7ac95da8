import { useCallback, useEffect, useRef, useState } from "react";

import { asBackendError, type BackendError } from "../backend";

export interface Resource<T> {
  /** Last value read; null until the first answer. */
  data: T | null;
  /** Why the last read failed; null after a successful one. */
  error: BackendError | null;
  /** True while a read is in flight. */
  loading: boolean;
  /** Reads again. */
  refresh: () => Promise<void>;
  /** Replaces the value (with what an action's reply or an event says it is now). */
  set: (update: T | ((previous: T | null) => T)) => void;
}

/**
 * One backend resource read with `load` on mount and on `refresh()`; results
 * arriving after unmount are dropped. `pollMs` re-reads on an interval while
 * `shouldPoll(data)` holds.
 */
export function useResource<T>(
  load: () => Promise<T>,
  options: { pollMs?: number; shouldPoll?: (data: T) => boolean } = {},
): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [loading, setLoading] = useState(true);
  const mounted = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const { pollMs, shouldPoll } = options;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      const next = await loadRef.current();
      if (!mounted.current) return;
      setData(next);
      setError(null);
    } catch (err) {
      if (mounted.current) setError(asBackendError(err));
    } finally {
      if (mounted.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const polling = pollMs !== undefined && data !== null && (shouldPoll?.(data) ?? true);
  useEffect(() => {
    if (!polling) return;
    const timer = setInterval(() => void refresh(), pollMs);
    return () => clearInterval(timer);
  }, [polling, pollMs, refresh]);

  return { data, error, loading, refresh, set: setData as Resource<T>["set"] };
}

/** Runs one action at a time: `busy` while it runs, `error` if it failed (cleared on the next run). */
export function useAction(): {
  busy: boolean;
  error: BackendError | null;
  run: <R>(action: () => Promise<R>) => Promise<R | undefined>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);
  const run = useCallback(async <R,>(action: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (err) {
      setError(asBackendError(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
