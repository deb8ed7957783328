// The Rust commands, typed. Every rejection is `{code, message}`.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { toApiError } from "./format";
import type { CheckReport, RunProgress, RunReport, SyncSummary, WorkspaceInfo } from "./types";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toApiError(e);
  }
}

export const api = {
  workspaceInfo: () => call<WorkspaceInfo>("workspace_info"),
  listSyncs: () => call<SyncSummary[]>("list_syncs"),
  checkSync: (file: string) => call<CheckReport>("check_sync", { file }),
  previewSync: (file: string, rows: number) => call<RunReport>("preview_sync", { file, rows }),
  runSync: (file: string) => call<RunReport>("run_sync", { file }),
  cancelRun: (file: string) => call<boolean>("cancel_run", { file }),
  syncHistory: (file: string, limit: number) =>
    call<RunReport[]>("sync_history", { file, limit }),
  resetSnapshot: (file: string) => call<{ rowsForgotten: number }>("reset_snapshot", { file }),
};

export function onRunProgress(f: (p: RunProgress) => void): Promise<UnlistenFn> {
  return listen<RunProgress>("run-progress", (e) => f(e.payload));
}

export function onSyncsChanged(f: () => void): Promise<UnlistenFn> {
  return listen("syncs-changed", () => f());
}
