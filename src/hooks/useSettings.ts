import { useCallback } from "react";

import { getSettings, type Settings, type SettingsPatch, setSettings } from "../backend-pending";
import { useAction, useResource } from "./useResource";

/** RomDeck's settings (`get_settings`); `save(patch)` sends a partial change (`set_settings`) and shows the reply. */
export function useSettings() {
  const settings = useResource<Settings>(getSettings);
  const action = useAction();
  const { run } = action;
  const { set } = settings;
  const save = useCallback(
    async (patch: SettingsPatch) => {
      const next = await run(() => setSettings(patch));
      if (next) set(next);
    },
    [run, set],
  );
  return {
    settings: settings.data,
    loading: settings.loading,
    loadError: settings.error,
    saveError: action.error,
    saving: action.busy,
    save,
  };
}
