import { PanelSection } from "@decky/ui";

import { ConnectionStatus, type ConnectionStatusProps } from "./ConnectionStatus";
import { SyncControls, type SyncControlsProps } from "./SyncControls";

export interface RommPanelProps {
  connection: ConnectionStatusProps;
  sync: Omit<SyncControlsProps, "canSync">;
}

/** The "RomM" section of the quick-access panel: connection status and sync controls. */
export function RommPanel({ connection, sync }: RommPanelProps) {
  return (
    <PanelSection title="RomM">
      <ConnectionStatus {...connection} />
      <SyncControls {...sync} canSync={connection.status?.configured ?? false} />
    </PanelSection>
  );
}
