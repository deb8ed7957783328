// Shapes of what the Rust commands return (serde of the core's types).

export type ErrorCode =
  | "config"
  | "source"
  | "query"
  | "primary_key"
  | "mapping"
  | "filename"
  | "destination"
  | "io"
  | "state"
  | "busy"
  | "cancelled"
  | "reconnect_needed"
  | "dropbox"
  | "internal"
  | "not_found"
  | "invalid_argument"
  | "no_app_key";

export interface ApiError {
  code: ErrorCode;
  message: string;
}

export type Mode = "all" | "insert" | "diff";
export type RunStatus = "running" | "success" | "failed" | "interrupted";

export interface WorkspaceInfo {
  workspace: string;
  stateDir: string;
  demoCreated: boolean;
  startupError: ApiError | null;
}

export interface SyncSummary {
  file: string;
  syncId: string | null;
  model: string | null;
  mode: Mode | null;
  format: string | null;
  destination: string | null;
  schedule: string | null;
  nextRun: string | null;
  lastRun: string | null;
  lastStatus: RunStatus | null;
  running: boolean;
  error: string | null;
}

export interface ColumnInfo {
  name: string;
  declared_type: string | null;
  observed_type: string;
  /** The source declares it (part of) its table's primary key (SQLite, MySQL). */
  primary_key?: boolean;
}

export interface CheckReport {
  sync_id: string;
  source: string;
  destination: string;
  columns: ColumnInfo[];
  output_columns: string[];
  primary_key: string[];
  rows: number;
  files: string[];
  schedule: string;
  next_runs: string[];
  alerts: string[];
  /** Problems that do not stop a run (a filename that repeats between runs, a mismatched extension). */
  warnings?: string[];
}

export interface FilePreview {
  columns: string[];
  rows: string[][];
  text: string;
}

export interface FileReport {
  path: string;
  kind: string;
  rows: number;
  bytes: number;
  skipped: boolean;
  preview?: FilePreview;
  /** A later run wrote the same path in the same destination: this file's rows are no longer there. */
  overwritten_by?: number | null;
}

export interface RunReport {
  run_id: number;
  sync_id: string;
  mode: Mode;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  /**
   * `changed`: rows whose synced (mapped) values changed. `source_changed`: rows whose source
   * row changed at all (Diff mode; 0 when not known, e.g. records from older versions).
   */
  rows: { queried: number; added: number; changed: number; removed: number; source_changed?: number };
  files: FileReport[];
  error: string | null;
  error_code: string | null;
}

export type Stage =
  | { stage: "reading"; rows: number }
  | { stage: "comparing"; partition: number; partitions: number }
  | { stage: "writing"; fileName: string }
  | { stage: "delivering"; bytes: number; total: number }
  | { stage: "committing" };

export type RunProgress = Stage & { file: string };

// ---------------------------------------------------------------------------
// Editing. A SyncDraft is the sync TOML file, key for key (snake_case as in
// the file): what `load_draft` reads and `save_draft` writes. Relative paths
// stay relative to the workspace folder, as in the file.

export interface SourceDraft {
  /** A file ("sqlite", "csv") or a database server ("postgres", "mysql"). */
  type: "sqlite" | "csv" | "postgres" | "mysql";
  /** sqlite / csv: the file (relative to the workspace folder) */
  path?: string;
  /** csv only: "," ";" "|" "~" or "\t" */
  delimiter?: string;
  /** csv only: the file's first line names the columns (default true) */
  header?: boolean;
  /**
   * postgres / mysql: the server, e.g. "postgres://user@host:5432/db?sslmode=require"
   * or "mysql://user@host:3306/db". It may hold a password (`user:secret@`),
   * which the UI never displays (see catalog's `redactUrl`).
   */
  url?: string;
  /** postgres / mysql: where the password comes from, "env:NAME" or "keyring" (never the password itself) */
  password?: string;
  /** postgres / mysql: how long to wait for the server, e.g. "10s" (default 10s) */
  connect_timeout?: string;
  /** postgres / mysql: the server cancels a query running longer, e.g. "30m" (default none) */
  statement_timeout?: string;
  /** postgres / mysql: the run fails when the server sends nothing for this long mid-query, e.g. "5m" (default 90s, or statement_timeout + 30s) */
  read_timeout?: string;
}

export interface ModelDraft {
  id?: string;
  name: string;
  /** every source but csv (sqlite, postgres, mysql); a csv source takes no query */
  sql?: string;
  primary_key: string | string[];
}

export interface DestinationDraft {
  type: "folder" | "dropbox";
  /** folder: a local path; dropbox: "/exports" or "/" */
  path: string;
  /** dropbox only: which connected account (email or account id) */
  account?: string;
}

/** One `[[sync.columns]]`: exactly one of from / value / template. */
export interface ColumnDraft {
  from?: string;
  value?: string | number | boolean;
  template?: string;
  to?: string;
}

export interface CsvDraft {
  delimiter?: string;
  header?: boolean;
  bom?: boolean;
}

export type Format = "csv" | "json" | "ndjson";

export interface SyncSettingsDraft {
  id?: string;
  mode: Mode;
  format?: Format;
  filename?: string;
  filename_offset?: number;
  skip_empty_files?: boolean;
  csv?: CsvDraft;
  /** absent: every column as the model returns it */
  columns?: ColumnDraft[];
  /** "manual", "every 15m", or a 6-field cron "0 0 * * * *" (UTC) */
  schedule?: string;
  schedule_start?: string;
}

/** Secrets may be literal or "env:NAME". */
export type AlertDraft =
  | { type: "slack"; webhook_url: string }
  | { type: "pagerduty"; routing_key: string; events_url?: string; severity?: string }
  | { type: "sms"; account_sid: string; auth_token: string; from: string; to: string[]; api_url?: string }
  | { type: "email"; smtp_url: string; password?: string; from: string; to: string[] };

export interface AlertWhenDraft {
  run_longer_than?: string;
  removed_more_than_percent?: number;
}

export interface SyncDraft {
  source: SourceDraft;
  model: ModelDraft;
  destination: DestinationDraft;
  sync: SyncSettingsDraft;
  alerts?: AlertDraft[];
  alert_when?: AlertWhenDraft;
}

/** A problem with one field of a draft; `field` as the file names it, e.g. "[sync] filename". */
export interface FieldError {
  field: string;
  message: string;
}

/** Live feedback on a draft while it is edited; every part is computed by the core. */
export interface DraftInspection {
  /** The first problem that stops the file from loading, or null when it would save. */
  error: FieldError | null;
  /** The filename template resolved now (offset applied), or why it does not resolve. */
  filename: { resolved: string | null; error: string | null };
  /** The files a run would write now (one for all/insert, three for diff). */
  files: string[];
  /** The model's columns (from the source, without reading rows), or why they are unknown. */
  modelColumns: ColumnInfo[] | null;
  modelError: string | null;
  /** The output header after the column mapping, or why the mapping fails. */
  header: string[] | null;
  headerError: string | null;
  /** The next three scheduled runs (UTC ISO 8601); empty for manual. */
  nextRuns: string[];
  scheduleError: string | null;
  /** Why a run could not deliver now though the file is valid (missing folder, no Dropbox account). */
  destinationError: string | null;
  /** The missing local folder (absolute), offered to "Create folder". */
  missingFolder: string | null;
  /** Alert channels that could not send now (e.g. an unset env: variable); they do not block saving. */
  alertProblems: string[];
  /** Insert/Diff: the filename can repeat between two runs, so a later run overwrites an earlier one's changes. */
  overwriteWarning?: string | null;
  /** Filename templates that avoid the repeat, e.g. with {HH}{mm} or {sync.run.id} added. */
  overwriteFixes?: FilenameFix[];
  /** The filename's extension is not the format's (e.g. ".xlsx" with CSV). Does not block saving. */
  extensionWarning?: string | null;
}

/** A filename template that fixes a warning: `adds` (e.g. "{HH}{mm}") put before the extension. */
export interface FilenameFix {
  adds: string;
  template: string;
}

/** Result of running a model's query for the Models screen. */
export interface ModelProbe {
  columns: ColumnInfo[];
  /** The first rows as display text; null for SQL NULL. */
  rows: (string | null)[][];
  /** More rows exist beyond those returned. */
  more: boolean;
}

/** Primary key check over every row of the model. */
export interface KeyCheck {
  ok: boolean;
  /** Rows read (when the check got through them all). */
  rows: number | null;
  /** What is wrong (NULL keys with row numbers, duplicates with examples), or null. */
  message: string | null;
}

export interface SourceTest {
  ok: boolean;
  /** e.g. "SQLite 3.46, 4 tables" or the error that names the fix */
  message: string;
  /** sqlite, postgres, mysql: tables and views; csv: the header's column names */
  tables: string[];
}

/** A model as found in the workspace's sync files. */
export interface WorkspaceModel {
  file: string;
  syncId: string | null;
  source: SourceDraft;
  model: ModelDraft;
}

export type AccountState = "connected" | "reconnect_needed" | "unreachable";

/** What connecting Dropbox needs: the app key in force and what to register for it. */
export interface DropboxSetup {
  /** Public by design (PKCE has no secret); null when none is known. */
  appKey: string | null;
  keySource: "environment" | "remembered" | "built_in" | null;
  /** The redirect URI to add in the App Console, exactly. */
  redirectUri: string;
  /** The permissions to tick on the app's Permissions tab. */
  scopes: string[];
  appConsole: string;
}

export interface DropboxAccount {
  accountId: string;
  email: string;
  name: string;
  /** Where the refresh token is kept: "keyring" or "file" */
  store: string;
  state: AccountState;
  /** Why the state is not "connected", with what to do. */
  message: string | null;
}

export interface DropboxEntry {
  name: string;
  /** Full path as Dropbox displays it, e.g. "/Exports/orders.csv" */
  path: string;
  kind: "folder" | "file";
  size: number | null;
  modified: string | null;
}

export interface DropboxListing {
  path: string;
  entries: DropboxEntry[];
}

export interface AlertDelivery {
  /** failure | recovery | warning | test */
  kind: string;
  /** e.g. "slack", "sms +15550002222", "email ops@example.com" */
  channel: string;
  ok: boolean;
  attempts: number;
  error: string | null;
  at: string;
}
