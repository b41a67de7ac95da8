/**
 * Harness stand-in for `@decky/api`: the same names the panel imports, wired to
 * the harness bridge (`scripts/harness_bridge.py`) instead of Decky's socket.
 *
 * - `callable(name)(...args)` POSTs the positional args as a JSON array to
 *   `/call/<name>` and resolves with the Plugin method's return value; it
 *   rejects when the bridge answers non-2xx (the Python method raised), as
 *   Decky's `call` rejects.
 * - `addEventListener(event, fn)` receives `decky.emit(event, *args)` through
 *   the bridge's server-sent events (`/events`), args spread out as in Decky.
 * - `toaster.toast({title, body})` shows the toast in the page's toast box.
 * - `definePlugin(fn)` returns `fn`; the harness page calls it.
 */

type Listener = (...args: unknown[]) => void;

const listeners = new Map<string, Set<Listener>>();
let source: EventSource | null = null;

function connect(): void {
  if (source) return;
  source = new EventSource("/events");
  source.onmessage = (message: MessageEvent<string>) => {
    const { event, args } = JSON.parse(message.data) as { event: string; args: unknown[] };
    for (const listener of listeners.get(event) ?? []) listener(...args);
  };
}

/** A function calling the Plugin method `name` with positional args (as Decky does). */
export function callable<Args extends unknown[], Ret>(name: string): (...args: Args) => Promise<Ret> {
  return async (...args: Args) => {
    const response = await fetch(`/call/${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(args),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(text || `The harness bridge answered ${response.status}.`);
    return JSON.parse(text) as Ret;
  };
}

export function addEventListener<Args extends unknown[]>(event: string, listener: (...args: Args) => void): (...args: Args) => void {
  connect();
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event)?.add(listener as Listener);
  return listener;
}

export function removeEventListener<Args extends unknown[]>(event: string, listener: (...args: Args) => void): void {
  listeners.get(event)?.delete(listener as Listener);
}

export interface ToastData {
  title: string;
  body: string;
}

/** Toasts shown so far (the page renders them; the walker reads them). */
export const toasts: ToastData[] = [];
const toastWatchers = new Set<() => void>();

export function onToast(watcher: () => void): () => void {
  toastWatchers.add(watcher);
  return () => toastWatchers.delete(watcher);
}

export const toaster = {
  toast(data: { title: unknown; body: unknown }): void {
    toasts.push({ title: String(data.title), body: String(data.body) });
    for (const watcher of toastWatchers) watcher();
  },
};

export function definePlugin<T>(fn: T): T {
  return fn;
}
