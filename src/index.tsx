import { definePlugin } from "@decky/api";
import { staticClasses } from "@decky/ui";
import { useEffect, useRef } from "react";

import { RomDeckIcon } from "./components/RomDeckIcon";
import { RommPanel } from "./components/RommPanel";
import { useStatus } from "./hooks/useStatus";
import { useSyncProgress } from "./hooks/useSyncProgress";

/** Wires the hooks to the presentational panel; the status is re-read when a sync ends. */
function Content() {
  const connection = useStatus();
  const sync = useSyncProgress();
  const running = sync.progress?.running ?? false;
  const wasRunning = useRef(running);
  const { status, error, loading, refresh } = connection;

  useEffect(() => {
    if (wasRunning.current && !running) void refresh();
    wasRunning.current = running;
  }, [running, refresh]);

  return (
    <RommPanel
      connection={{ status, error, loading }}
      sync={{
        progress: sync.progress,
        error: sync.error,
        starting: sync.starting,
        onSync: () => void sync.start(),
      }}
    />
  );
}

export default definePlugin(() => ({
  name: "RomDeck",
  titleView: <div className={staticClasses.Title}>RomDeck</div>,
  content: <Content />,
  icon: <RomDeckIcon />,
}));
