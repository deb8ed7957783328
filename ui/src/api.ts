// The Rust commands, typed. Every rejection is `{code, message}`.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { toApiError } from "./format";
import type {
  AlertDelivery,
  CheckReport,
  DraftInspection,
  DropboxAccount,
  DropboxListing,
  DropboxSetup,
  KeyCheck,
  ModelProbe,
  RunProgress,
  RunReport,
  SourceDraft,
  SourceTest,
  SyncDraft,
  SyncSummary,
  WorkspaceInfo,
  WorkspaceModel,
} from "./types";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toApiError(e);
  }
}

export const api = {
  workspaceInfo: () => call<WorkspaceInfo>("workspace_info"),
  /** Shows the workspace folder in the file manager. */
  openWorkspaceFolder: () => call<void>("open_workspace_folder"),
  /** Makes `path` the workspace and restarts the app on it. */
  chooseWorkspace: (path: string) => call<void>("choose_workspace", { path }),
  listSyncs: () => call<SyncSummary[]>("list_syncs"),
  checkSync: (file: string) => call<CheckReport>("check_sync", { file }),
  previewSync: (file: string, rows: number) => call<RunReport>("preview_sync", { file, rows }),
  runSync: (file: string) => call<RunReport>("run_sync", { file }),
  cancelRun: (file: string) => call<boolean>("cancel_run", { file }),
  syncHistory: (file: string, limit: number) =>
    call<RunReport[]>("sync_history", { file, limit }),
  resetSnapshot: (file: string) => call<{ rowsForgotten: number }>("reset_snapshot", { file }),

  // Editing syncs. `file` is a workspace file name such as "orders.toml".
  /** A new sync's starting point (the demo database as its source when there is one). */
  newDraft: () => call<SyncDraft>("new_draft"),
  loadDraft: (file: string) => call<SyncDraft>("load_draft", { file }),
  /** Live feedback; cheap enough to call on every (debounced) edit. `file`: the file being edited, if any. */
  inspectDraft: (draft: SyncDraft, file: string | null) =>
    call<DraftInspection>("inspect_draft", { draft, file }),
  /** Validates and writes the file (new: `<sync.id>.toml`; edit: the same file). Returns the file name. */
  saveDraft: (draft: SyncDraft, file: string | null) => call<string>("save_draft", { draft, file }),
  deleteSync: (file: string) => call<void>("delete_sync", { file }),
  /** Creates a local destination folder; relative paths resolve against the workspace. Returns its absolute path. */
  createLocalFolder: (path: string) => call<string>("create_local_folder", { path }),
  /** Sends a test message to alert `index` of the draft. */
  testAlert: (draft: SyncDraft, index: number) =>
    call<AlertDelivery[]>("test_alert", { draft, index }),

  // Sources and models. Relative paths resolve against the workspace folder.
  testSource: (source: SourceDraft) => call<SourceTest>("test_source", { source }),
  probeModel: (source: SourceDraft, sql: string | null, limit: number) =>
    call<ModelProbe>("probe_model", { source, sql, limit }),
  checkPrimaryKey: (source: SourceDraft, sql: string | null, primaryKey: string[]) =>
    call<KeyCheck>("check_primary_key", { source, sql, primaryKey }),
  workspaceModels: () => call<WorkspaceModel[]>("workspace_models"),

  // Dropbox.
  dropboxAccounts: () => call<DropboxAccount[]>("dropbox_accounts"),
  /** The app key in force and what to register in the Dropbox App Console. */
  dropboxSetup: () => call<DropboxSetup>("dropbox_setup"),
  /** Forgets the remembered app key, to enter another. */
  dropboxForgetAppKey: () => call<void>("dropbox_forget_app_key"),
  /**
   * Opens the system browser and resolves when the account is connected (emits "oauth-url" first).
   * `appKey`: a key the user just entered; it is remembered once Dropbox accepts it.
   */
  dropboxConnect: (appKey?: string) => call<DropboxAccount>("dropbox_connect", { appKey: appKey ?? null }),
  /** The code Dropbox shows, pasted while a connection waits for it (its redirect port was taken). */
  dropboxSubmitCode: (code: string) => call<void>("dropbox_submit_code", { code }),
  dropboxCancelConnect: () => call<void>("dropbox_cancel_connect"),
  dropboxDisconnect: (accountId: string) => call<void>("dropbox_disconnect", { accountId }),
  dropboxList: (path: string, account: string | null) =>
    call<DropboxListing>("dropbox_list", { path, account }),
  dropboxCreateFolder: (path: string, account: string | null) =>
    call<void>("dropbox_create_folder", { path, account }),
};

export function onRunProgress(f: (p: RunProgress) => void): Promise<UnlistenFn> {
  return listen<RunProgress>("run-progress", (e) => f(e.payload));
}

export function onSyncsChanged(f: () => void): Promise<UnlistenFn> {
  return listen("syncs-changed", () => f());
}

/** The tray's entry for a sync was clicked: show that sync (the window is already shown). */
export function onOpenSync(f: (file: string) => void): Promise<UnlistenFn> {
  return listen<{ file: string }>("open-sync", (e) => f(e.payload.file));
}

/** The tray's "Pause schedules" was toggled (true: paused). */
export function onSchedulesPaused(f: (paused: boolean) => void): Promise<UnlistenFn> {
  return listen<boolean>("schedules-paused", (e) => f(e.payload));
}

/**
 * The authorization address, sent when `dropboxConnect` starts (show it in case no browser opens).
 * `pasteCode`: the redirect cannot reach Dropsync, so the user pastes the code Dropbox shows.
 */
export function onOAuthUrl(f: (url: string, pasteCode: boolean) => void): Promise<UnlistenFn> {
  return listen<{ url: string; pasteCode?: boolean }>("oauth-url", (e) => f(e.payload.url, e.payload.pasteCode === true));
}
