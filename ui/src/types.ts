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
  | "invalid_argument";

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
}

export interface RunReport {
  run_id: number;
  sync_id: string;
  mode: Mode;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  rows: { queried: number; added: number; changed: number; removed: number };
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
