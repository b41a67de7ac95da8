import { useCallback, useEffect, useRef, useState } from "react";

import {
  type DeviceLogin,
  deviceLoginPoll,
  deviceLoginStart,
  loginPassword,
  loginToken,
  logout,
  testConnection,
  type ConnectionTest,
  type BackendError,
  asBackendError,
} from "../backend";
import { useAction } from "./useResource";
import { useStatus } from "./useStatus";

export type DevicePhase = "idle" | "waiting" | "denied" | "expired";

/**
 * The connection to RomM: status (`get_status`) and the sign-in actions.
 *
 * `startDevice(url)` asks for a device code (`device_login_start`) and polls
 * `device_login_poll` every `interval` seconds until the user approves it on
 * the RomM web page (status is then re-read), denies it, or it expires.
 */
export function useConnection() {
  const status = useStatus();
  const action = useAction();
  const [device, setDevice] = useState<DeviceLogin | null>(null);
  const [phase, setPhase] = useState<DevicePhase>("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const { refresh } = status;
  const { run } = action;
  const [check, setCheck] = useState<{ result: ConnectionTest | null; error: BackendError | null }>({
    result: null,
    error: null,
  });
  const configured = status.status?.configured ?? false;
  const url = status.status?.url;

  // Once configured, ask the server itself (test_connection): its version, or why it cannot be reached.
  useEffect(() => {
    if (!configured) return;
    let active = true;
    testConnection().then(
      (result) => active && setCheck({ result, error: null }),
      (error: unknown) => active && setCheck({ result: null, error: asBackendError(error) }),
    );
    return () => {
      active = false;
    };
  }, [configured, url]);

  const stopPolling = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
  }, []);
  useEffect(() => stopPolling, [stopPolling]);

  const poll = useCallback(
    (intervalS: number) => {
      timer.current = setTimeout(async () => {
        const answer = await run(() => deviceLoginPoll());
        if (!answer) return;
        if (answer.status === "approved") {
          setDevice(null);
          setPhase("idle");
          await refresh();
        } else if (answer.status === "access_denied") setPhase("denied");
        else if (answer.status === "expired_token") setPhase("expired");
        else poll(answer.status === "slow_down" ? intervalS + 5 : intervalS);
      }, intervalS * 1000);
    },
    [run, refresh],
  );

  const startDevice = useCallback(
    async (url: string, verifyTls: boolean) => {
      stopPolling();
      const login = await run(() => deviceLoginStart(url, verifyTls));
      if (!login) return;
      setDevice(login);
      setPhase("waiting");
      poll(login.interval);
    },
    [run, poll, stopPolling],
  );

  const cancelDevice = useCallback(() => {
    stopPolling();
    setDevice(null);
    setPhase("idle");
  }, [stopPolling]);

  const signedIn = useCallback(
    async (login: () => Promise<unknown>) => {
      if ((await run(login)) !== undefined) await refresh();
    },
    [run, refresh],
  );

  return {
    ...status,
    status:
      status.status && check.result
        ? { ...status.status, server_version: status.status.server_version ?? check.result.server_version }
        : status.status,
    error: status.error ?? check.error,
    busy: action.busy,
    actionError: action.error,
    device,
    phase,
    startDevice,
    cancelDevice,
    loginPassword: (url: string, user: string, password: string, verifyTls: boolean) =>
      signedIn(() => loginPassword(url, user, password, verifyTls)),
    loginToken: (url: string, token: string, verifyTls: boolean) =>
      signedIn(() => loginToken(url, token, verifyTls)),
    logout: () => signedIn(() => logout()),
  };
}
