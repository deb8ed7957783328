// The Rust commands and events, typed by the generated `bindings.ts`.
// Every rejection is `{code, message}`.

import type { UnlistenFn } from "@tauri-apps/api/event";
import { commands, events, type RunProgress } from "./bindings";
import { toApiError } from "./format";

type Commands = typeof commands;

/**
 * The generated command wrappers, each rejecting with an `ApiError` (a
 * failure of the IPC itself becomes `{code: "internal"}`), so that screens
 * catch one shape. Names, arguments and types are the generated ones.
 */
export const api = Object.fromEntries(
  Object.entries(commands).map(([name, f]) => [
    name,
    async (...args: unknown[]) => {
      try {
        return await (f as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        throw toApiError(e);
      }
    },
  ]),
) as Commands;

export function onRunProgress(f: (p: RunProgress) => void): Promise<UnlistenFn> {
  return events.runProgress.listen((e) => f(e.payload));
}

export function onSyncsChanged(f: () => void): Promise<UnlistenFn> {
  return events.syncsChanged.listen(() => f());
}

/** The tray's entry for a sync was clicked: show that sync (the window is already shown). */
export function onOpenSync(f: (file: string) => void): Promise<UnlistenFn> {
  return events.openSync.listen((e) => f(e.payload.file));
}

/** The tray's "Pause schedules" was toggled (true: paused). */
export function onSchedulesPaused(f: (paused: boolean) => void): Promise<UnlistenFn> {
  return events.schedulesPaused.listen((e) => f(e.payload));
}

/**
 * The authorization address, sent when `dropboxConnect` starts (show it in case no browser opens).
 * `pasteCode`: the redirect cannot reach Dropsync, so the user pastes the code Dropbox shows.
 */
export function onOAuthUrl(f: (url: string, pasteCode: boolean) => void): Promise<UnlistenFn> {
  return events.oauthUrl.listen((e) => f(e.payload.url, e.payload.paste_code));
}
