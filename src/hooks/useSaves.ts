import { useCallback, useState } from "react";

import {
  type GameSaves,
  listSaveBackups,
  listSaves,
  resolveSaveConflict,
  restoreSaveBackup,
  type SaveBackup,
  syncSaves,
} from "../backend";
import { useAction, useResource } from "./useResource";

function replaceGame(list: GameSaves[] | null, game: GameSaves): GameSaves[] {
  return (list ?? []).map((g) => (g.rom_id === game.rom_id ? game : g));
}

/**
 * Save sync per game (`list_saves(null)`); `syncNow` runs `sync_saves(null)`,
 * `resolve` answers a conflict, `showBackups`/`restore` list and restore the
 * copies kept aside for one game.
 */
export function useSaves() {
  const saves = useResource<GameSaves[]>(() => listSaves(null));
  const action = useAction();
  const [backups, setBackups] = useState<{ romId: number; items: SaveBackup[] } | null>(null);
  const { run } = action;
  const { set } = saves;

  const syncNow = useCallback(async () => {
    const next = await run(() => syncSaves(null));
    if (next) set(next);
  }, [run, set]);

  const resolve = useCallback(
    async (romId: number, fileName: string, choice: "local" | "server") => {
      const game = await run(() => resolveSaveConflict(romId, fileName, choice));
      if (game) set((previous) => replaceGame(previous, game));
    },
    [run, set],
  );

  const showBackups = useCallback(
    async (romId: number) => {
      const items = await run(() => listSaveBackups(romId));
      if (items) setBackups({ romId, items });
    },
    [run],
  );

  const restore = useCallback(
    async (backupId: number) => {
      const game = await run(() => restoreSaveBackup(backupId));
      if (!game) return;
      set((previous) => replaceGame(previous, game));
      setBackups(null);
    },
    [run, set],
  );

  return {
    games: saves.data,
    loading: saves.loading,
    error: saves.error ?? action.error,
    busy: action.busy,
    backups,
    syncNow,
    resolve,
    showBackups,
    restore,
  };
}
