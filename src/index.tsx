import { addEventListener, definePlugin, removeEventListener, toaster } from "@decky/api";
import { staticClasses } from "@decky/ui";
import { useEffect, useRef } from "react";

import { type Download, EVENTS, listInstalled, queueDownloads } from "./backend";
import { RomDeckIcon } from "./components/RomDeckIcon";
import { SectionBoundary } from "./components/SectionBoundary";
import { useApplyPlan } from "./hooks/useApplyPlan";
import { useBulkImport } from "./hooks/useBulkImport";
import { useConnection } from "./hooks/useConnection";
import { useDownloads, useInstalled } from "./hooks/useDownloads";
import { useFirmware } from "./hooks/useFirmware";
import { useLibrary } from "./hooks/useLibrary";
import { useSaves } from "./hooks/useSaves";
import { useSettings } from "./hooks/useSettings";
import { useSyncProgress } from "./hooks/useSyncProgress";
import { BiosSection } from "./sections/BiosSection";
import { ConnectionSection } from "./sections/ConnectionSection";
import { DownloadsSection } from "./sections/DownloadsSection";
import { LibrarySection } from "./sections/LibrarySection";
import { SavesSection } from "./sections/SavesSection";
import { SettingsSection } from "./sections/SettingsSection";
import { type GameActionApps, startLaunchGate } from "./steam/launchGate";

/* Each container wires one section to its hooks; sections never call the backend. */

function Library({ onSyncEnded }: { onSyncEnded: () => void }) {
  const library = useLibrary();
  const sync = useSyncProgress();
  const bulk = useBulkImport(sync.progress);
  // The chunked apply waits while a bulk import is decided, offered or under way.
  const apply = useApplyPlan(bulk.hold ? null : sync.progress);
  const running = (sync.progress?.running ?? false) || apply.applying;
  const wasRunning = useRef(running);
  useEffect(() => {
    if (wasRunning.current && !running) onSyncEnded();
    wasRunning.current = running;
  }, [running, onSyncEnded]);
  return (
    <LibrarySection
      platforms={library.platforms}
      collections={library.collections}
      loading={library.loading}
      error={library.error}
      onToggle={(kind, id, selected) => void library.toggle(kind, id, selected)}
      progress={sync.progress}
      syncError={sync.error}
      starting={sync.starting}
      onSync={() => {
        apply.retry();
        void sync.start();
      }}
      onCancel={() => {
        apply.cancel();
        void sync.cancel();
      }}
      applying={apply.applying}
      applied={apply.live}
      applyResult={apply.result}
      bulk={{
        bulk: bulk.bulk,
        offer: bulk.offer,
        starting: bulk.starting,
        error: bulk.error,
        onStart: () => {
          apply.cancel();
          void bulk.start();
        },
        onDecline: bulk.decline,
      }}
    />
  );
}

function Downloads() {
  const queue = useDownloads();
  const installed = useInstalled();
  return (
    <DownloadsSection
      downloads={queue.downloads}
      installed={installed.installed}
      freeBytes={installed.freeBytes}
      loading={queue.loading}
      error={queue.error ?? installed.error}
      busy={installed.busy}
      onPause={(id) => void queue.pause(id)}
      onResume={(id) => void queue.resume(id)}
      onCancel={(id) => void queue.cancel(id)}
      onUninstall={(id) => void installed.uninstall(id)}
    />
  );
}

function Bios() {
  const firmware = useFirmware();
  return (
    <BiosSection
      platforms={firmware.platforms}
      loading={firmware.loading}
      error={firmware.error}
      busy={firmware.busy}
      failures={firmware.failures}
      onDownload={(slug, files) => void firmware.download(slug, files)}
    />
  );
}

function Saves() {
  const s = useSaves();
  return (
    <SavesSection
      games={s.games}
      loading={s.loading}
      error={s.error}
      busy={s.busy}
      backups={s.backups}
      onSyncNow={() => void s.syncNow()}
      onResolve={(romId, file, choice) => void s.resolve(romId, file, choice)}
      onShowBackups={(romId) => void s.showBackups(romId)}
      onRestore={(id) => void s.restore(id)}
    />
  );
}

function Settings() {
  const s = useSettings();
  return (
    <SettingsSection
      settings={s.settings}
      loading={s.loading}
      loadError={s.loadError}
      saveError={s.saveError}
      saving={s.saving}
      onSave={(patch) => void s.save(patch)}
    />
  );
}

/** The quick-access panel: connection first; library, downloads, saves and BIOS once signed in; settings always. */
function Content() {
  const c = useConnection();
  const configured = c.status?.configured ?? false;
  return (
    <>
      <ConnectionSection
        status={c.status}
        loading={c.loading}
        error={c.error}
        busy={c.busy}
        actionError={c.actionError}
        device={c.device}
        phase={c.phase}
        onDevice={(url, verify) => void c.startDevice(url, verify)}
        onCancelDevice={c.cancelDevice}
        onPassword={(url, user, password, verify) => void c.loginPassword(url, user, password, verify)}
        onToken={(url, token, verify) => void c.loginToken(url, token, verify)}
        onLogout={() => void c.logout()}
      />
      {configured && (
        <SectionBoundary title="Library">
          <Library onSyncEnded={() => void c.refresh()} />
        </SectionBoundary>
      )}
      {configured && (
        <SectionBoundary title="Downloads">
          <Downloads />
        </SectionBoundary>
      )}
      {configured && (
        <SectionBoundary title="Saves">
          <Saves />
        </SectionBoundary>
      )}
      {configured && (
        <SectionBoundary title="BIOS">
          <Bios />
        </SectionBoundary>
      )}
      <SectionBoundary title="Settings">
        <Settings />
      </SectionBoundary>
    </>
  );
}

/** Starts the launch gate over Steam's real objects; a no-op outside Steam. Returns the stop. */
function startGate(): () => void {
  const apps = (globalThis as { SteamClient?: { Apps?: GameActionApps } }).SteamClient?.Apps;
  if (!apps) return () => {};
  return startLaunchGate({
    apps,
    isInstalled: async (romId) => (await listInstalled()).installs.some((i) => i.rom_id === romId),
    queueDownload: async (romId) => {
      const queued = (await queueDownloads([romId])).find((d) => d.rom_id === romId);
      if (!queued) throw new Error("RomDeck did not queue the download.");
      return queued;
    },
    toast: (title, body) => toaster.toast({ title, body }),
    onDownload: (listener) => {
      const registered = addEventListener<[Download]>(EVENTS.downloadProgress, listener);
      return () => removeEventListener(EVENTS.downloadProgress, registered);
    },
  });
}

export default definePlugin(() => {
  const stopGate = startGate();
  return {
    name: "RomDeck",
    titleView: <div className={staticClasses.Title}>RomDeck</div>,
    content: <Content />,
    icon: <RomDeckIcon />,
    onDismount: stopGate,
  };
});
