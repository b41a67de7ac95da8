import { useCallback } from "react";

import { type Collection, listCollections, listPlatforms, type Platform, saveSelection } from "../backend";
import { useAction, useResource } from "./useResource";

/**
 * What to sync: RomM's platforms (`list_platforms`) and collections
 * (`list_collections`) with their ROM counts and whether each is selected.
 * `toggle` saves the new selection (`save_selection`) and shows it at once.
 */
export function useLibrary() {
  const platforms = useResource<Platform[]>(listPlatforms);
  const collections = useResource<Collection[]>(listCollections);
  const action = useAction();
  const { run } = action;

  const toggle = useCallback(
    async (kind: "platform" | "collection", id: number, selected: boolean) => {
      const nextPlatforms = (platforms.data ?? []).map((p) =>
        kind === "platform" && p.id === id ? { ...p, selected } : p,
      );
      const nextCollections = (collections.data ?? []).map((c) =>
        kind === "collection" && c.id === id ? { ...c, selected } : c,
      );
      const ids = (items: { id: number; selected: boolean }[]) => items.filter((i) => i.selected).map((i) => i.id);
      const saved = await run(() => saveSelection(ids(nextPlatforms), ids(nextCollections)));
      if (saved === undefined) return;
      platforms.set(nextPlatforms);
      collections.set(nextCollections);
    },
    [platforms, collections, run],
  );

  return {
    platforms: platforms.data,
    collections: collections.data,
    loading: platforms.loading || collections.loading,
    error: platforms.error ?? collections.error ?? action.error,
    saving: action.busy,
    toggle,
    refresh: async () => {
      await Promise.all([platforms.refresh(), collections.refresh()]);
    },
  };
}
