// Pure conversions between a SyncDraft and the editor's form state: the
// schedule, the column mapper's rows, the primary key, which form section a
// core field error belongs to, and a model applied to a draft. No DOM.

import type { ChannelSpec, ColumnDraft, FieldError, ModelDraft, OutputType, SourceDraft, SyncDraft } from "./bindings";

// ---------- schedule ----------

export type ScheduleUnit = "s" | "m" | "h" | "d";
export const SCHEDULE_UNITS: { unit: ScheduleUnit; label: string }[] = [
  { unit: "s", label: "seconds" },
  { unit: "m", label: "minutes" },
  { unit: "h", label: "hours" },
  { unit: "d", label: "days" },
];

export type ScheduleForm =
  | { kind: "manual" }
  | { kind: "every"; n: number; unit: ScheduleUnit }
  | { kind: "cron"; expr: string };

/** "every 15m" -> {every, 15, m}; "manual"/absent -> manual; anything else is a cron expression. */
export function parseSchedule(s: string | null | undefined): ScheduleForm {
  const t = (s ?? "").trim();
  if (t === "" || t === "manual") return { kind: "manual" };
  const m = /^every\s+(\d+)\s*([smhd])$/.exec(t);
  if (m) return { kind: "every", n: Number(m[1]), unit: m[2] as ScheduleUnit };
  return { kind: "cron", expr: t };
}

/** The form back to the file's text; manual is written as absent (undefined). */
export function buildSchedule(f: ScheduleForm): string | undefined {
  switch (f.kind) {
    case "manual":
      return undefined;
    case "every":
      return `every ${Number.isFinite(f.n) ? Math.trunc(f.n) : 0}${f.unit}`;
    case "cron":
      return f.expr.trim();
  }
}

// ---------- column mapper ----------

export type MapKind = "from" | "value" | "template";

/** One row of the column mapper; all three inputs are kept so switching kind loses nothing. */
export interface MapRow {
  kind: MapKind;
  from: string;
  value: string;
  /** The constant's type as loaded, so 42 stays a number and true a boolean. */
  valueType: "string" | "number" | "boolean";
  template: string;
  /** A template's output `type`; "text" (the default) is not written. */
  type: OutputType;
  to: string;
}

export const OUTPUT_TYPES: OutputType[] = ["text", "integer", "float", "boolean", "json"];

export function emptyRow(kind: MapKind, from = ""): MapRow {
  return { kind, from, value: "", valueType: "string", template: "", type: "text", to: kind === "from" ? "" : "" };
}

export function columnsToRows(cols: ColumnDraft[] | null | undefined): MapRow[] {
  return (cols ?? []).map((c) => {
    const row = emptyRow("from");
    row.to = c.to ?? "";
    if (c.template != null) {
      row.kind = "template";
      row.template = c.template;
      if (c.type && OUTPUT_TYPES.includes(c.type)) row.type = c.type;
    } else if (c.value != null) {
      row.kind = "value";
      row.value = String(c.value);
      row.valueType = typeof c.value as MapRow["valueType"];
    } else {
      row.from = c.from ?? "";
    }
    return row;
  });
}

function constant(r: MapRow): string | number | boolean {
  if (r.valueType === "number" && r.value.trim() !== "" && Number.isFinite(Number(r.value))) return Number(r.value);
  if (r.valueType === "boolean" && (r.value === "true" || r.value === "false")) return r.value === "true";
  return r.value;
}

export function rowsToColumns(rows: MapRow[]): ColumnDraft[] {
  return rows.map((r) => {
    const to = r.to.trim() === "" ? undefined : r.to.trim();
    const c: ColumnDraft =
      r.kind === "from" ? { from: r.from } : r.kind === "value" ? { value: constant(r) } : { template: r.template };
    if (to !== undefined) c.to = to;
    if (r.kind === "template" && r.type !== "text") c.type = r.type;
    return c;
  });
}

/** A copy of `list` with item `i` moved by `delta` (clamped); the same list when it cannot move. */
export function moveItem<T>(list: T[], i: number, delta: number): T[] {
  const j = Math.min(list.length - 1, Math.max(0, i + delta));
  if (i < 0 || i >= list.length || i === j) return list;
  const out = list.slice();
  const [x] = out.splice(i, 1);
  out.splice(j, 0, x);
  return out;
}

// ---------- primary key ----------

export function keyList(k: string | string[] | undefined): string[] {
  if (k === undefined) return [];
  return (Array.isArray(k) ? k : [k]).filter((x) => x !== "");
}

/** One column as a string (as the file usually writes it), several as a list. */
export function keyValue(cols: string[]): string | string[] {
  return cols.length === 1 ? cols[0] : cols;
}

// ---------- field errors -> sections ----------

export type Section =
  | "model"
  | "mode"
  | "format"
  | "destination"
  | "filename"
  | "columns"
  | "schedule"
  | "alerts"
  | "general";

export const SECTION_LABEL: Record<Section, string> = {
  model: "Model",
  mode: "Mode",
  format: "Format",
  destination: "Destination",
  filename: "File name",
  columns: "Columns",
  schedule: "Schedule",
  alerts: "Alerts",
  general: "Sync",
};

/** Which part of the form a core field such as "[sync] filename" or "[[sync.columns]] #2" belongs to. */
export function sectionOf(field: string): Section {
  const f = field.trim();
  if (f.startsWith("[source]") || f.startsWith("[model]")) return "model";
  if (f.startsWith("[destination]")) return "destination";
  if (f.startsWith("[[sync.columns]]")) return "columns";
  if (f.startsWith("[sync.csv]")) return "format";
  if (f.startsWith("[[alerts]]") || f.startsWith("[alert_when]") || f.startsWith("[alerts]")) return "alerts";
  const m = /^\[sync\]\s*(\w+)/.exec(f);
  if (m) {
    const key = m[1];
    if (key === "mode") return "mode";
    if (key === "format" || key === "skip_empty_files") return "format";
    if (key === "filename" || key === "filename_offset") return "filename";
    if (key === "schedule" || key === "schedule_start") return "schedule";
    if (key === "columns") return "columns";
    return "general";
  }
  return "general";
}

/** "[[sync.columns]] #2" -> 1 (the row index), otherwise null. */
export function columnIndexOf(field: string): number | null {
  const m = /^\[\[sync\.columns\]\]\s*#(\d+)/.exec(field.trim());
  return m ? Number(m[1]) - 1 : null;
}

/** "[[alerts]] #2 webhook_url" -> 1, otherwise null. */
export function alertIndexOf(field: string): number | null {
  const m = /^\[\[alerts\]\]\s*#(\d+)/.exec(field.trim());
  return m ? Number(m[1]) - 1 : null;
}

export function errorSummary(e: FieldError): string {
  return `${SECTION_LABEL[sectionOf(e.field)]}: ${e.field ? `${e.field}: ` : ""}${e.message}`;
}

// ---------- models, ids, alerts ----------

/** The model id a draft's sync uses: its id, else its name (the core's default). */
export function modelId(m: Pick<ModelDraft, "id" | "name">): string {
  return m.id && m.id !== "" ? m.id : m.name;
}

/** The draft with `source` and `model` replaced (deep copies; the sync settings are kept). */
export function applyModel(d: SyncDraft, source: SourceDraft, model: ModelDraft): SyncDraft {
  return { ...structuredCloneSafe(d), source: structuredCloneSafe(source), model: structuredCloneSafe(model) };
}

/** Whether saving would give an existing file a new sync id (and so a fresh snapshot). */
export function syncIdChanged(originalId: string | null | undefined, draft: SyncDraft): boolean {
  if (originalId === null || originalId === undefined) return false;
  return (draft.sync.id ?? "") !== originalId;
}

export function newAlert(type: ChannelSpec["type"]): ChannelSpec {
  switch (type) {
    case "slack":
      return { type, webhook_url: "" };
    case "pagerduty":
      return { type, routing_key: "" };
    case "sms":
      return { type, account_sid: "", auth_token: "", from: "", to: [] };
    case "email":
      return { type, smtp_url: "", from: "", to: [] };
  }
}

/** "a@x.com, b@y.com" or one per line -> ["a@x.com", "b@y.com"]. */
export function splitList(s: string): string[] {
  return s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** Text with `insert` put in place of [start, end); returns the text and the caret after it. */
export function insertAt(text: string, start: number | null, end: number | null, insert: string): { text: string; caret: number } {
  const s = Math.max(0, Math.min(text.length, start ?? text.length));
  const e = Math.max(s, Math.min(text.length, end ?? s));
  return { text: text.slice(0, s) + insert + text.slice(e), caret: s + insert.length };
}

export const TEMPLATE_VARS = [
  "{YYYY}", "{YY}", "{MM}", "{DD}", "{HH}", "{mm}", "{ss}", "{ms}", "{X}", "{x}",
  "{model.id}", "{model.name}", "{sync.id}", "{sync.run.id}", "{part}",
];

export const TEMPLATE_VAR_HELP: Record<string, string> = {
  "{YYYY}": "year, 4 digits",
  "{YY}": "year, 2 digits",
  "{MM}": "month 01–12",
  "{DD}": "day 01–31",
  "{HH}": "hour 00–23 (UTC)",
  "{mm}": "minute",
  "{ss}": "second",
  "{ms}": "millisecond",
  "{X}": "Unix time, seconds",
  "{x}": "Unix time, milliseconds",
  "{model.id}": "the model's id",
  "{model.name}": "the model's name",
  "{sync.id}": "the sync's id",
  "{sync.run.id}": "the run's number",
  "{part}": "the part's number (1, 2, ...), with Max rows or Max MB per file",
};

function structuredCloneSafe<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export const clone = structuredCloneSafe;

/** Drops empty optional fields the form leaves behind, so the saved file stays minimal. */
export function tidyDraft(d: SyncDraft): SyncDraft {
  const out = clone(d);
  if (out.alerts && out.alerts.length === 0) delete out.alerts;
  if (out.alert_when) {
    const w = out.alert_when;
    if (!w.run_longer_than) delete w.run_longer_than;
    if (w.removed_more_than_percent === undefined || Number.isNaN(w.removed_more_than_percent)) delete w.removed_more_than_percent;
    if (Object.keys(w).length === 0) delete out.alert_when;
  }
  if (out.destination.type !== "dropbox") delete out.destination.account;
  if (out.sync.format !== undefined && out.sync.format !== "csv") delete out.sync.csv;
  if (out.sync.csv && Object.values(out.sync.csv).every((v) => v === undefined)) delete out.sync.csv;
  if (out.model.id === "") delete out.model.id;
  if (out.sync.filename === "") delete out.sync.filename;
  return out;
}

/** A sync id from `base` that no existing sync id or file name takes: "orders", "orders-2", … */
export function suggestSyncId(base: string, taken: { syncIds: (string | null)[]; files: string[] }): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "sync";
  const used = (id: string) => taken.syncIds.includes(id) || taken.files.includes(`${id}.toml`);
  for (let n = 1; ; n++) {
    const id = n === 1 ? clean : `${clean}-${n}`;
    if (!used(id)) return id;
  }
}
