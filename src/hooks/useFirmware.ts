import { useCallback, useState } from "react";

import { downloadFirmware, type FirmwareFetch, listFirmware, type PlatformFirmware } from "../backend-pending";
import { useAction, useResource } from "./useResource";

/** BIOS status per selected platform (`list_firmware(null)`); `download` fetches the named files, then re-reads. */
export function useFirmware() {
  const firmware = useResource<PlatformFirmware[]>(() => listFirmware(null));
  const action = useAction();
  const { run } = action;
  const { refresh } = firmware;
  const [failures, setFailures] = useState<FirmwareFetch[]>([]);
  const download = useCallback(
    async (platformSlug: string, fileNames: string[]) => {
      const answer = await run(() => downloadFirmware(platformSlug, fileNames));
      if (answer === undefined) return;
      setFailures(answer.results.filter((r) => r.error_code !== null));
      await refresh();
    },
    [run, refresh],
  );
  return {
    platforms: firmware.data,
    loading: firmware.loading,
    error: firmware.error ?? action.error,
    busy: action.busy,
    /** Files of the last download that failed, each with its message. */
    failures,
    download,
  };
}
