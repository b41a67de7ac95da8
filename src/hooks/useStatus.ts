import { useCallback, useEffect, useRef, useState } from "react";

import { asBackendError, type BackendError, getStatus, type Status } from "../backend";

export interface StatusState {
  /** Last status read; null until the first answer. */
  status: Status | null;
  /** Why the last read failed; null after a successful one. */
  error: BackendError | null;
  loading: boolean;
  /** Reads the status again. */
  refresh: () => Promise<void>;
}

/** The backend's connection and sync status (`get_status`), read on mount and on `refresh()`. */
export function useStatus(): StatusState {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [loading, setLoading] = useState(true);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      const next = await getStatus();
      if (!mounted.current) return;
      setStatus(next);
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

  return { status, error, loading, refresh };
}
