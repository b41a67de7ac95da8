/**
 * The harness page: the real panel (src/index.tsx) at the quick-access width,
 * beside a "Steam library" box showing what it did to the stand-in Steam.
 * The walker (harness/walk.mjs) drives it; a person can use it too.
 */
import { type ReactNode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

import plugin from "../src/index";
import { makeSteam, installSteam, type HarnessSteam } from "./steam";
import { onToast, type ToastData, toasts } from "./stubs/decky-api";
import type { FakeCollection } from "../src/steam/fakeSteam";
import "./qam.css";

const { steam, collections, env } = makeSteam();
installSteam(env, steam);
const loaded = (plugin as unknown as () => { name: string; titleView: ReactNode; content: ReactNode })();

function useTick(ms: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

function useToasts(): ToastData[] {
  const [list, setList] = useState<ToastData[]>([...toasts]);
  useEffect(() => onToast(() => setList([...toasts])), []);
  return list;
}

function Library({ steam, collections }: { steam: HarnessSteam; collections: FakeCollection[] }) {
  useTick(250);
  const [launching, setLaunching] = useState<number | null>(null);
  const shortcuts = [...steam.shortcuts.values()];
  return (
    <section className="steam-box" aria-label="Steam library">
      <h2>Steam library (stand-in)</h2>
      <p className="steam-note">What the panel did through SteamClient.Apps and collectionStore.</p>
      {shortcuts.length === 0 && <p>No shortcuts yet.</p>}
      <ul className="steam-shortcuts">
        {shortcuts.map((s) => {
          const art = steam.artwork.get(s.appId);
          const launch = [...steam.launches].reverse().find((l) => l.appId === s.appId);
          return (
            <li key={s.appId} aria-label={`shortcut ${s.strDisplayName}`}>
              {art ? <img src={`data:image/png;base64,${art}`} alt="" /> : <div className="steam-noart">no art</div>}
              <div>
                <b>{s.strDisplayName || "(unnamed)"}</b>
                <div className="steam-meta">
                  appid {s.appId >>> 0} · {s.strLaunchOptions}
                </div>
                <button
                  type="button"
                  disabled={launching === s.appId}
                  onClick={() => {
                    setLaunching(s.appId);
                    void steam.play(s.appId).finally(() => setLaunching(null));
                  }}
                >
                  Play {s.strDisplayName}
                </button>
                {launch && <span className="steam-meta"> last Play: {launch.outcome}</span>}
              </div>
            </li>
          );
        })}
      </ul>
      <h3>Collections</h3>
      <ul aria-label="collections">
        {collections.map((c) => (
          <li key={c.id}>
            {c.displayName}: {c.members.size} game{c.members.size === 1 ? "" : "s"}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Toasts() {
  const list = useToasts();
  return (
    <section className="steam-box" aria-label="toasts">
      <h3>Toasts</h3>
      {list.length === 0 && <p>None yet.</p>}
      <ol>
        {list.map((t, i) => (
          <li key={i}>
            <b>{t.title}</b>: {t.body}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Page() {
  // Decky unmounts the panel while the quick-access menu is closed; reopening mounts it anew.
  const [open, setOpen] = useState(true);
  return (
    <div className="stage">
      <aside className="qam" aria-label="quick access panel">
        <div className="qam-header">{loaded.titleView}</div>
        {open && <div className="qam-content">{loaded.content}</div>}
      </aside>
      <div className="side">
        <button type="button" className="steam-qam-toggle" onClick={() => setOpen(!open)}>
          {open ? "Close the quick access menu" : "Open the quick access menu"}
        </button>
        <Library steam={steam} collections={collections} />
        <Toasts />
      </div>
    </div>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<Page />);
