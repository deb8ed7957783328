// The front end's own logic, free of the DOM and of Tauri: formatting,
// error messages and progress math. Unit-tested in format.test.ts.

import type { ApiError, Code, Mode, RunReport, RunStatus, Progress } from "./bindings";

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB"; decimal-free below 10 of a unit above bytes. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  let unit = 0;
  let v = n;
  while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  if (unit === 0) return `${v} B`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${BYTE_UNITS[unit]}`;
}

/** 12345 -> "12,345" (locale-independent, for stable tests). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A UTC instant shown in local time: "2026-03-01 11:07:05". */
export function formatLocalTime(iso: string | null | undefined, tzOffsetMinutes?: number): string {
  if (!iso) return "–";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "–";
  // tzOffsetMinutes (minutes east of UTC) is for tests; by default the OS zone.
  const d =
    tzOffsetMinutes === undefined ? t : new Date(t.getTime() + tzOffsetMinutes * 60_000);
  const get =
    tzOffsetMinutes === undefined
      ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
      : [
          d.getUTCFullYear(),
          d.getUTCMonth() + 1,
          d.getUTCDate(),
          d.getUTCHours(),
          d.getUTCMinutes(),
          d.getUTCSeconds(),
        ];
  const [y, mo, da, h, mi, s] = get;
  return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
}

/** The zone local times are shown in, e.g. "UTC+01:00". */
export function zoneLabel(offsetMinutesEast = -new Date().getTimezoneOffset()): string {
  const sign = offsetMinutesEast < 0 ? "-" : "+";
  const m = Math.abs(offsetMinutesEast);
  return `UTC${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** "in 5 min", "3 h ago", "now". */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "";
  const diff = Math.round((t - now) / 1000);
  const abs = Math.abs(diff);
  if (abs < 45) return "now";
  const [v, u] =
    abs < 3600
      ? [Math.round(abs / 60), "min"]
      : abs < 86400 * 2
        ? [Math.round(abs / 3600), "h"]
        : [Math.round(abs / 86400), "d"];
  return diff > 0 ? `in ${v} ${u}` : `${v} ${u} ago`;
}

/** A run's duration: "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(startIso: string, endIso: string | null): string {
  if (!endIso) return "–";
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
}

export const MODE_HELP: Record<Mode, string> = {
  all: "All: one file with every row, every run.",
  insert: "Insert: one file with the rows that are new since the last run.",
  diff: "Diff: three files with the rows added, changed and removed since the last run.",
};

export const STATUS_LABEL: Record<RunStatus, string> = {
  running: "Running",
  success: "Succeeded",
  failed: "Failed",
  interrupted: "Interrupted",
};

const CODE_TITLE: Record<Code, string> = {
  config: "The sync file has a problem",
  source: "The source cannot be read",
  query: "The model's query failed",
  primary_key: "The primary key is not usable",
  mapping: "The column mapping has a problem",
  filename: "The filename template has a problem",
  destination: "The destination cannot be written",
  io: "A file or folder cannot be used",
  state: "Dropsync's state store has a problem",
  out_of_step: "The snapshot this sync compares with is not the one it delivered",
  busy: "This sync is already running",
  cancelled: "The run was cancelled",
  interrupted: "The run was interrupted (Dropsync or the computer stopped)",
  reconnect_needed: "Dropbox needs to be connected again",
  dropbox: "Dropbox could not be used",
  internal: "Something went wrong inside Dropsync",
  not_found: "The sync file is gone",
  invalid_argument: "Dropsync received a request it does not understand",
  no_app_key: "Dropbox access is not set up yet",
};

function isApiError(e: unknown): e is ApiError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as ApiError).code === "string" &&
    typeof (e as ApiError).message === "string"
  );
}

/** Any thrown value as `{code, message}`: commands reject with that shape. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) {
    return CODE_TITLE[e.code] ? e : { code: "internal", message: e.message };
  }
  if (e instanceof Error) return { code: "internal", message: e.message };
  return { code: "internal", message: String(e) };
}

/** A headline for an error code; the message below it says what to do. */
export function errorTitle(code: Code | string | null | undefined): string {
  return (code && CODE_TITLE[code as Code]) || CODE_TITLE.internal;
}

/**
 * How far a run is, 0..1, from its stage; `expectedRows` (the last run's
 * count) lets the reading stage move. Each stage owns a band of the bar.
 */
export function progressFraction(p: Progress, expectedRows?: number | null): number {
  const band = (lo: number, hi: number, f: number) =>
    lo + (hi - lo) * Math.min(1, Math.max(0, Number.isFinite(f) ? f : 0));
  switch (p.stage) {
    case "reading":
      return band(0, 0.4, expectedRows ? p.rows / expectedRows : 0);
    case "comparing":
      return band(0.4, 0.6, p.partitions ? p.partition / p.partitions : 0);
    case "writing":
      return 0.65;
    case "delivering":
      return band(0.7, 0.95, p.total ? p.bytes / p.total : 1);
    case "committing":
      return 0.97;
  }
}

/** One line saying what the run is doing. */
export function progressLabel(p: Progress): string {
  switch (p.stage) {
    case "reading":
      return `Reading rows: ${formatCount(p.rows)}`;
    case "comparing":
      return `Comparing with the last delivery: part ${Math.min(p.partition + 1, p.partitions)} of ${p.partitions}`;
    case "writing":
      return `Writing ${p.file}`;
    case "delivering":
      return `Delivering: ${formatBytes(p.bytes)} of ${formatBytes(p.total)}`;
    case "committing":
      return "Saving the snapshot";
  }
}

/**
 * Diff mode, when a mapping leaves columns out: "5 rows changed in the source; 3 changed in
 * the columns this sync sends". Null when the source changed no more rows than the synced
 * columns did (every column synced), or when it is not known (older records count 0).
 */
export function sourceChangeNote(r: Pick<RunReport, "mode" | "rows">): string | null {
  const source = r.rows.source_changed ?? 0;
  const { changed } = r.rows;
  if (r.mode !== "diff" || source <= changed) return null;
  const rows = source === 1 ? "row" : "rows";
  return `${formatCount(source)} ${rows} changed in the source; ${changed === 0 ? "none" : formatCount(changed)} changed in the columns this sync sends`;
}

/** "+12 ~3 −1" style summary of a run's counts, by mode. */
export function countsSummary(r: Pick<RunReport, "mode" | "rows">): string {
  const { queried, added, changed, removed } = r.rows;
  if (r.mode === "all") return `${formatCount(queried)} rows`;
  if (r.mode === "insert") return `${formatCount(added)} added of ${formatCount(queried)}`;
  const note = sourceChangeNote(r);
  return `${formatCount(added)} added, ${formatCount(changed)} changed, ${formatCount(removed)} removed${note ? ` (${note})` : ""}`;
}

/** What a person can do about an error, by code (shown under its message), or null. */
export function errorHint(code: Code | string | null | undefined): { text: string; go?: "connections" | "models" } | null {
  switch (code) {
    case "reconnect_needed":
      return { text: "Open Connections and reconnect the Dropbox account.", go: "connections" };
    case "dropbox":
      return { text: "The message above says what Dropbox answered; accounts are under Connections.", go: "connections" };
    case "source":
      return { text: "Check the source's path and test it under Connections.", go: "connections" };
    case "query":
      return { text: "Open the model under Models and run its SQL to see the error there.", go: "models" };
    case "primary_key":
      return { text: "Choose a unique, non-empty key column under Models (Check key).", go: "models" };
    case "busy":
      return { text: "Wait for the running run to finish, then try again." };
    default:
      return null;
  }
}

/** Next scheduled runs (UTC) as local times with how far away they are. */
export function nextRunsLocal(runs: string[], now: number = Date.now(), tzOffsetMinutes?: number): string[] {
  return runs.map((r) => {
    const rel = relativeTime(r, now);
    return `${formatLocalTime(r, tzOffsetMinutes)}${rel ? ` (${rel})` : ""}`;
  });
}
