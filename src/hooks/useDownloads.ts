import { addEventListener, removeEventListener } from "@decky/api";
import { useCallback, useEffect } from "react";

import {
  cancelDownload,
  type Download,
  EVENTS,
  type FreeSpace,
  getDownloads,
  getFreeSpace,
  type InstalledList,
  listInstalled,
  pauseDownload,
  resumeDownload,
  uninstall,
} from "../backend";
import { useAction, useResource } from "./useResource";

function merge(list: Download[], item: Download): Download[] {
  const at = list.findIndex((d) => d.rom_id === item.rom_id);
  if (at < 0) return [...list, item];
  const next = [...list];
  next[at] = item;
  return next;
}

/**
 * The download queue: read with `get_downloads` on mount (so a reopened panel
 * shows downloads in flight), then kept live by `download_progress` events.
 */
export function useDownloads() {
  const queue = useResource<Download[]>(getDownloads);
  const action = useAction();
  const { set } = queue;
  const { run } = action;

  useEffect(() => {
    const listener = addEventListener<[Download]>(EVENTS.downloadProgress, (item) => {
      set((previous) => merge(previous ?? [], item));
    });
    return () => {
      removeEventListener(EVENTS.downloadProgress, listener);
    };
  }, [set]);

  const act = useCallback(
    async (call: (romId: number) => Promise<Download>, romId: number) => {
      const item = await run(() => call(romId));
      if (item) set((previous) => merge(previous ?? [], item));
    },
    [run, set],
  );

  return {
    downloads: queue.data,
    loading: queue.loading,
    error: queue.error ?? action.error,
    pause: (romId: number) => act(pauseDownload, romId),
    resume: (romId: number) => act(resumeDownload, romId),
    cancel: (romId: number) => act(cancelDownload, romId),
  };
}

/**
 * Installed games with their sizes (`list_installed`) and the free space (`get_free_space`),
 * read again when a `download_progress` event says a download was installed.
 */
export function useInstalled() {
  const installed = useResource<InstalledList>(listInstalled);
  const space = useResource<FreeSpace>(getFreeSpace);
  const action = useAction();
  const { run } = action;
  const refreshInstalled = installed.refresh;
  const refreshSpace = space.refresh;

  // A download that finishes adds an installed game and takes disk space: read both again.
  useEffect(() => {
    const listener = addEventListener<[Download]>(EVENTS.downloadProgress, (item) => {
      if (item.state === "installed") void Promise.all([refreshInstalled(), refreshSpace()]);
    });
    return () => {
      removeEventListener(EVENTS.downloadProgress, listener);
    };
  }, [refreshInstalled, refreshSpace]);

  const remove = useCallback(
    async (romId: number) => {
      if ((await run(() => uninstall(romId))) === undefined) return;
      await Promise.all([refreshInstalled(), refreshSpace()]);
    },
    [run, refreshInstalled, refreshSpace],
  );

  return {
    installed: installed.data,
    freeBytes: space.data?.free_bytes ?? null,
    loading: installed.loading,
    error: installed.error ?? space.error ?? action.error,
    busy: action.busy,
    uninstall: remove,
  };
}
