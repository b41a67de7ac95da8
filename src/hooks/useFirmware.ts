import { useCallback } from "react";

import { downloadFirmware, listFirmware, type PlatformFirmware } from "../backend-pending";
import { useAction, useResource } from "./useResource";

/** BIOS status per selected platform (`list_firmware(null)`); `download` fetches the named files, then re-reads. */
export function useFirmware() {
  const firmware = useResource<PlatformFirmware[]>(() => listFirmware(null));
  const action = useAction();
  const { run } = action;
  const { refresh } = firmware;
  const download = useCallback(
    async (platformSlug: string, fileNames: string[]) => {
      if ((await run(() => downloadFirmware(platformSlug, fileNames))) !== undefined) await refresh();
    },
    [run, refresh],
  );
  return {
    platforms: firmware.data,
    loading: firmware.loading,
    error: firmware.error ?? action.error,
    busy: action.busy,
    download,
  };
}
