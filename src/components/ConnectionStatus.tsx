import { PanelSectionRow } from "@decky/ui";

import type { BackendError, Status } from "../backend";

export interface ConnectionStatusProps {
  status: Status | null;
  error: BackendError | null;
  loading: boolean;
}

/** One line of text saying whether RomDeck is connected to a RomM server, and to which. */
export function describeStatus({ status, error, loading }: ConnectionStatusProps): string {
  if (error) return `Status unavailable: ${error.message}`;
  if (!status) return loading ? "Checking connection…" : "Status unavailable.";
  if (!status.configured) return "Not signed in to a RomM server.";
  const version = status.server_version ? ` (RomM ${status.server_version})` : "";
  return `Connected to ${status.url}${version}`;
}

/** Shows the connection status from `useStatus`. */
export function ConnectionStatus(props: ConnectionStatusProps) {
  return (
    <PanelSectionRow>
      <div role="status">{describeStatus(props)}</div>
    </PanelSectionRow>
  );
}
