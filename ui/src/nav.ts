// Which screen is shown, and how to go to another. Screens call `navigate`;
// main.ts installs the renderer.

import { createStore } from "./store";
import type { SourceDraft, ModelDraft } from "./bindings";

export type Tab = "check" | "preview" | "run" | "history";

export type View =
  | { name: "list" }
  | { name: "sync"; file: string; tab: Tab }
  /** The sync editor: `file` null for a new sync; `preset` fills a new draft's model. */
  | { name: "editor"; file: string | null; preset?: { source: SourceDraft; model: ModelDraft } }
  | { name: "models" }
  /** The model editor: `id` of a listed model, or null for a new one. */
  | { name: "model"; id: string | null }
  | { name: "connections" };

export type Area = "syncs" | "models" | "connections";

export function areaOf(v: View): Area {
  if (v.name === "models" || v.name === "model") return "models";
  if (v.name === "connections") return "connections";
  return "syncs";
}

// Which view is shown, who draws it (main.ts) and the open screen's guard, in one place.
const state = createStore<{
  view: View;
  renderer: (v: View) => void | Promise<void>;
  /** Asked before leaving a screen (the editor's unsaved changes); false stays. */
  leaveGuard: ((target: View) => boolean) | null;
}>({ view: { name: "list" }, renderer: () => {}, leaveGuard: null });

export function currentView(): View {
  return state.get().view;
}

export function setRenderer(f: (v: View) => void | Promise<void>): void {
  state.set({ renderer: f });
}

export function setLeaveGuard(f: ((target: View) => boolean) | null): void {
  state.set({ leaveGuard: f });
}

export function navigate(v: View): void {
  const { leaveGuard } = state.get();
  if (leaveGuard && !leaveGuard(v)) return;
  state.set({ leaveGuard: null, view: v });
  void state.get().renderer(v);
}

/** Re-renders the current screen. */
export function refresh(): void {
  const { renderer, view } = state.get();
  void renderer(view);
}
