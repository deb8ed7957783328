// App preferences in the plugin-store file prefs.json: saved sources and
// models, and notices already dismissed. Works (in memory) without the store.

import { load, type Store } from "@tauri-apps/plugin-store";
import type { SavedModel, SavedSource } from "./catalog";

let store: Store | null = null;
const memory = new Map<string, unknown>();

export async function openPrefs(): Promise<void> {
  store = await load("prefs.json", { autoSave: false, defaults: {} }).catch(() => null);
}

async function get<T>(key: string, fallback: T): Promise<T> {
  if (!store) return (memory.get(key) as T) ?? fallback;
  const v = await store.get<T>(key).catch(() => undefined);
  return v ?? fallback;
}

async function set(key: string, value: unknown): Promise<void> {
  if (!store) {
    memory.set(key, value);
    return;
  }
  await store.set(key, value);
  await store.save();
}

export const prefs = {
  /** Set by the tray's "Pause schedules" (the Rust side owns it). */
  schedulesPaused: () => get<boolean>("schedulesPaused", false),
  trayNoticeDismissed: () => get<boolean>("trayNoticeDismissed", false),
  dismissTrayNotice: () => set("trayNoticeDismissed", true),
  /** The first-start "Get started" steps were put away. */
  gettingStartedDismissed: () => get<boolean>("gettingStartedDismissed", false),
  dismissGettingStarted: () => set("gettingStartedDismissed", true),
  sources: () => get<SavedSource[]>("sources", []),
  setSources: (s: SavedSource[]) => set("sources", s),
  models: () => get<SavedModel[]>("models", []),
  setModels: (m: SavedModel[]) => set("models", m),
};
