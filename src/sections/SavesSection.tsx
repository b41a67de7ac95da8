import { ButtonItem, PanelSection, PanelSectionRow, Spinner } from "@decky/ui";

import type { BackendError } from "../backend";
import type { GameSaves, SaveBackup } from "../backend";
import { errorWords, formatBytes } from "../format";

export interface SavesSectionProps {
  games: GameSaves[] | null;
  loading: boolean;
  error: BackendError | null;
  busy: boolean;
  /** The backups listed for one game, if asked for. */
  backups: { romId: number; items: SaveBackup[] } | null;
  onSyncNow: () => void;
  onResolve: (romId: number, fileName: string, choice: "local" | "server") => void;
  onShowBackups: (romId: number) => void;
  onRestore: (backupId: number) => void;
}

/** "1 conflict, 2 to upload, 1 to download" or "up to date". */
export function pendingWords(game: GameSaves): string {
  const count = (state: string) => game.files.filter((f) => f.state === state).length;
  const conflicts = count("conflict");
  const parts = [
    [conflicts, conflicts === 1 ? "conflict" : "conflicts"],
    [count("upload"), "to upload"],
    [count("download"), "to download"],
  ].filter(([n]) => (n as number) > 0);
  return parts.length ? parts.map(([n, w]) => `${n} ${w}`).join(", ") : "up to date";
}

function Game({ game, props }: { game: GameSaves; props: SavesSectionProps }) {
  const conflicts = game.files.filter((f) => f.state === "conflict");
  const shown = props.backups?.romId === game.rom_id ? props.backups.items : null;
  return (
    <PanelSectionRow>
      <div aria-label={`saves ${game.rom_id}`}>
        <b>{game.name}</b>: {pendingWords(game)}
        <div>{game.last_sync_at ? `Last sync ${game.last_sync_at.slice(0, 16).replace("T", " ")}` : "Never synced"}</div>
        {game.offline && <div>RomM not reachable: showing this Deck's side only.</div>}
        {game.pending && <div>Will sync at the next chance ({game.pending}).</div>}
        {conflicts.map((f) => (
          <div key={f.file_name}>
            <div role="alert">{f.file_name} changed here and on RomM.</div>
            <ButtonItem layout="inline" disabled={props.busy} onClick={() => props.onResolve(game.rom_id, f.file_name, "local")}>
              Keep this Deck's
            </ButtonItem>
            <ButtonItem layout="inline" disabled={props.busy} onClick={() => props.onResolve(game.rom_id, f.file_name, "server")}>
              Keep RomM's
            </ButtonItem>
          </div>
        ))}
        <ButtonItem layout="inline" disabled={props.busy} onClick={() => props.onShowBackups(game.rom_id)}>
          Backups
        </ButtonItem>
        {shown && shown.length === 0 && <div>No backups of this game's saves.</div>}
        {shown?.map((b) => (
          <ButtonItem
            key={b.id}
            layout="inline"
            label={`${b.file_name}, ${b.created_at.slice(0, 16).replace("T", " ")} (${formatBytes(b.size_bytes)})`}
            disabled={props.busy}
            onClick={() => props.onRestore(b.id)}
          >
            Restore
          </ButtonItem>
        ))}
      </div>
    </PanelSectionRow>
  );
}

/** The "Saves" section: sync now, per game what is pending and when it last synced, conflicts, backups. */
export function SavesSection(props: SavesSectionProps) {
  const { games } = props;
  return (
    <PanelSection title="Saves">
      {props.loading && !games && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      <PanelSectionRow>
        <ButtonItem layout="below" disabled={props.busy} onClick={props.onSyncNow}>
          {props.busy ? "Syncing saves…" : "Sync saves now"}
        </ButtonItem>
      </PanelSectionRow>
      {games && games.length === 0 && (
        <PanelSectionRow>
          <div>No saves yet: play an installed game first.</div>
        </PanelSectionRow>
      )}
      {games?.map((game) => (
        <Game key={game.rom_id} game={game} props={props} />
      ))}
      {props.error && (
        <PanelSectionRow>
          <div role="alert">{errorWords(props.error)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
