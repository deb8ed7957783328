// The Models and Connections screens' lists: models and sources saved in the
// app's preferences merged with those the workspace's sync files use. Pure.

import { keyList } from "./draft";
import type { ColumnInfo, ModelDraft, SourceDraft, WorkspaceModel } from "./bindings";

export interface SavedSource {
  name: string;
  source: SourceDraft;
}

export interface SavedModel {
  id: string;
  name: string;
  source: SourceDraft;
  sql?: string | null;
  primary_key: string | string[];
}

export interface SourceEntry {
  name: string;
  source: SourceDraft;
  /** Kept in the app's preferences (editable, removable). */
  saved: boolean;
  /** Sync files whose source this is. */
  usedBy: string[];
}

export interface ModelEntry {
  /** Identity: the source and the id (see `modelKey`); two databases may each have a "customers". */
  key: string;
  id: string;
  name: string;
  source: SourceDraft;
  sql?: string | null;
  primary_key: string | string[];
  saved: boolean;
  /** Sync files (with sync ids) using a model of this id on this source. */
  usedBy: ModelUse[];
}

export interface ModelUse {
  file: string;
  sync_id: string | null;
  /** The file's own copy of the model (its name, SQL or key) differs from this entry's. */
  differs: boolean;
}

/** The server engines and their labels; the core also reads "postgresql" and "mariadb". */
const ENGINES: Record<string, { type: "postgres" | "mysql"; label: string; port: number }> = {
  postgres: { type: "postgres", label: "PostgreSQL", port: 5432 },
  postgresql: { type: "postgres", label: "PostgreSQL", port: 5432 },
  mysql: { type: "mysql", label: "MySQL", port: 3306 },
  mariadb: { type: "mysql", label: "MySQL", port: 3306 },
};

function engineOf(type: string) {
  return Object.hasOwn(ENGINES, type) ? ENGINES[type] : undefined;
}

/** A database server (named by `url`) rather than a file (named by `path`). */
export function isDatabase(s: Pick<SourceDraft, "type">): boolean {
  return engineOf(s.type) !== undefined;
}

/** The type as the UI names it: "postgresql" -> "postgres", "mariadb" -> "mysql". */
export function canonicalType(type: string): SourceDraft["type"] {
  return engineOf(type)?.type ?? (type as SourceDraft["type"]);
}

/** Whether the source takes a SQL query: every type but csv. */
export function takesSql(s: Pick<SourceDraft, "type">): boolean {
  return s.type !== "csv";
}

/** The path of a file source or the URL of a server (may hold a password: do not show it). */
export function sourceLocation(s: SourceDraft): string {
  return (isDatabase(s) ? s.url : s.path) ?? "";
}

/** A source has been chosen: a path for a file, a URL for a server. */
export function hasLocation(s: SourceDraft): boolean {
  return sourceLocation(s).trim() !== "";
}

interface UrlParts {
  scheme: string;
  /** user (without any password), as written */
  user: string;
  /** whether the URL holds a password */
  password: boolean;
  hostPort: string;
  /** path after the host, e.g. "/db" */
  path: string;
  /** "?…#…", as written */
  rest: string;
}

function splitUrl(url: string): UrlParts | null {
  const m = /^\s*([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*?)\s*$/.exec(url);
  if (!m) return null;
  const afterScheme = m[2];
  const q = afterScheme.search(/[?#]/);
  const main = q < 0 ? afterScheme : afterScheme.slice(0, q);
  const rest = q < 0 ? "" : afterScheme.slice(q);
  // The last "@" ends the user part, even when an unescaped password holds "/" or "@".
  const at = main.lastIndexOf("@");
  const userInfo = at < 0 ? "" : main.slice(0, at);
  const hostAndPath = at < 0 ? main : main.slice(at + 1);
  const colon = userInfo.indexOf(":");
  const slash = hostAndPath.indexOf("/");
  return {
    scheme: m[1],
    user: colon < 0 ? userInfo : userInfo.slice(0, colon),
    password: colon >= 0,
    hostPort: slash < 0 ? hostAndPath : hostAndPath.slice(0, slash),
    path: slash < 0 ? "" : hostAndPath.slice(slash),
    rest,
  };
}

/** Query parameters that could carry a secret (the core refuses them, but they may be typed). */
const SECRET_PARAM = /^(password|passwd|pass|pwd|secret)$/i;

/**
 * The URL without any password: "postgres://u:secret@h/db" -> "postgres://u@h/db".
 * Text that is not a URL is kept only up to any "@" (it might hold a password).
 */
export function redactUrl(url: string): string {
  const p = splitUrl(url);
  if (!p) {
    const at = url.lastIndexOf("@");
    return at < 0 ? url.trim() : `…${url.slice(at).trim()}`;
  }
  let rest = p.rest;
  if (rest.startsWith("?")) {
    const hash = rest.indexOf("#");
    const query = hash < 0 ? rest.slice(1) : rest.slice(1, hash);
    const kept = query.split("&").filter((kv) => kv !== "" && !SECRET_PARAM.test(kv.split("=")[0]));
    rest = (kept.length ? `?${kept.join("&")}` : "") + (hash < 0 ? "" : rest.slice(hash));
  }
  return `${p.scheme}://${p.user ? `${p.user}@` : ""}${p.hostPort}${p.path}${rest}`;
}

/** Whether the URL holds a password (`user:secret@`). */
export function urlHasPassword(url: string | null | undefined): boolean {
  return !!url && !!splitUrl(url)?.password;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** "postgres://u:pw@db.example.com/shop" -> { user: "u", host: "db.example.com", port: 5432, database: "shop" }. */
export function serverParts(s: SourceDraft): { user: string; host: string; port: number; database: string } | null {
  const engine = engineOf(s.type);
  const p = engine && s.url ? splitUrl(s.url) : null;
  if (!engine || !p || !p.hostPort) return null;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(p.hostPort);
  const host = (hp ? hp[1] : p.hostPort).replace(/^\[|\]$/g, "");
  const port = hp?.[2] ? Number(hp[2]) : engine.port;
  return { user: decode(p.user), host, port, database: decode(p.path.replace(/^\//, "")) };
}

/** Identity of a source: two entries with the same key are one source. Holds no password. */
export function sourceKey(s: SourceDraft): string {
  const engine = engineOf(s.type);
  if (engine) return `${engine.type}:${redactUrl(s.url ?? "")}`;
  return `${s.type}:${s.path ?? ""}`;
}

/** "data/shop.db" -> "shop.db". */
export function baseName(path: string | null | undefined): string {
  if (!path) return "(no path)";
  const parts = path.split(/[\\/]/).filter((p) => p !== "");
  return parts[parts.length - 1] ?? path;
}

/** A default name: the file's name, or "host/database" for a server. */
export function sourceName(s: SourceDraft): string {
  if (!isDatabase(s)) return baseName(s.path);
  const p = serverParts(s);
  if (!p) return s.url?.trim() ? redactUrl(s.url) : "(no URL)";
  return p.database ? `${p.host}/${p.database}` : p.host;
}

/** One line for lists and menus; never shows a password. */
export function describeSource(s: SourceDraft): string {
  if (s.type === "csv") {
    const d = s.delimiter === "\t" ? "tab" : (s.delimiter ?? ",");
    return `CSV ${s.path ?? ""} (delimiter ${d}${s.header === false ? ", no header" : ""})`;
  }
  const engine = engineOf(s.type);
  if (engine) {
    const p = serverParts(s);
    if (!p) return `${engine.label} ${s.url?.trim() ? redactUrl(s.url) : "(no URL)"}`;
    return `${engine.label} ${p.user ? `${p.user}@` : ""}${p.host}:${p.port}/${p.database}`;
  }
  return `SQLite ${s.path ?? ""}`;
}

export function mergeSources(saved: SavedSource[], workspace: WorkspaceModel[]): SourceEntry[] {
  const out = new Map<string, SourceEntry>();
  for (const s of saved) out.set(sourceKey(s.source), { name: s.name, source: s.source, saved: true, usedBy: [] });
  for (const w of workspace) {
    const k = sourceKey(w.source);
    let e = out.get(k);
    if (!e) {
      e = { name: sourceName(w.source), source: w.source, saved: false, usedBy: [] };
      out.set(k, e);
    }
    if (!e.usedBy.includes(w.file)) e.usedBy.push(w.file);
  }
  return [...out.values()];
}

export function modelIdOf(m: Pick<ModelDraft, "id" | "name">): string {
  return m.id && m.id !== "" ? m.id : m.name;
}

/**
 * A model's identity: its source and its id. Models are never merged by id
 * alone: "customers" on the demo database and "customers" on a server are two models.
 */
export function modelKey(m: { id?: string; name?: string; source: SourceDraft }): string {
  return `${sourceKey(m.source)}#${modelIdOf({ id: m.id, name: m.name ?? "" })}`;
}

/** Whether two copies of a model say the same: name, SQL (as written, ends trimmed) and key. */
export function sameModel(a: Pick<ModelDraft, "name" | "sql" | "primary_key">, b: Pick<ModelDraft, "name" | "sql" | "primary_key">): boolean {
  return (
    a.name === b.name &&
    (a.sql ?? "").trim() === (b.sql ?? "").trim() &&
    JSON.stringify(keyList(a.primary_key)) === JSON.stringify(keyList(b.primary_key))
  );
}

export function mergeModels(saved: SavedModel[], workspace: WorkspaceModel[]): ModelEntry[] {
  const out = new Map<string, ModelEntry>();
  for (const m of saved) out.set(modelKey(m), { ...m, key: modelKey(m), saved: true, usedBy: [] });
  for (const w of workspace) {
    const id = modelIdOf(w.model);
    const key = modelKey({ id, source: w.source });
    let e = out.get(key);
    if (!e) {
      e = {
        key,
        id,
        name: w.model.name,
        source: w.source,
        sql: w.model.sql,
        primary_key: w.model.primary_key,
        saved: false,
        usedBy: [],
      };
      out.set(key, e);
    }
    e.usedBy.push({ file: w.file, sync_id: w.sync_id, differs: !sameModel(e, w.model) });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || sourceName(a.source).localeCompare(sourceName(b.source)));
}

/** A model whose id is taken by `key` on the same source gets "id-2", "id-3"… */
export function freeModelId(id: string, source: SourceDraft, models: { key: string }[], except?: string): string {
  const taken = new Set(models.map((m) => m.key).filter((k) => k !== except));
  if (!taken.has(modelKey({ id, source }))) return id;
  for (let n = 2; ; n++) if (!taken.has(modelKey({ id: `${id}-${n}`, source }))) return `${id}-${n}`;
}

/** Models that share an id with another model (on another source): lists say which database each is on. */
export function sharedIds(models: { id: string }[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const m of models) (seen.has(m.id) ? shared : seen).add(m.id);
  return shared;
}

/** `list` with `item` in place of the entry matching `same`, or appended. */
export function upsert<T>(list: T[], item: T, same: (x: T) => boolean): T[] {
  const i = list.findIndex(same);
  if (i < 0) return [...list, item];
  const out = list.slice();
  out[i] = item;
  return out;
}

/** A model id from a name: "Orders by day" -> "orders-by-day". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Declared integer types (SQLite's rowid alias is "INTEGER"; servers name theirs int4, bigint…). */
const INTEGER_TYPE = /^(integer|int|bigint|smallint|int2|int4|int8|serial|bigserial)$/i;

/**
 * The key to preselect when none is chosen, or null: a column declared as an
 * integer that is named like a key ("id", or "…_id" as the first column) and
 * is present and unique in the rows shown. The probe reports declared types
 * but not which column the table declares as its PRIMARY KEY, so this is a
 * guess for the user to confirm (Check key reads every row).
 */
export function guessKey(columns: ColumnInfo[], rows: (string | null)[][]): string | null {
  const uniqueIn = (i: number) => {
    const seen = new Set<string>();
    for (const r of rows) {
      const v = r[i];
      if (v === null || v === undefined || seen.has(v)) return false;
      seen.add(v);
    }
    return true;
  };
  const rank = (c: ColumnInfo, i: number): number | null => {
    if (!c.declared_type || !INTEGER_TYPE.test(c.declared_type.trim())) return null;
    if (/^id$/i.test(c.name)) return 0;
    if (i === 0 && /(_id|Id)$/.test(c.name)) return 1;
    return null;
  };
  const ranked = columns
    .map((c, i) => ({ c, i, r: rank(c, i) }))
    .filter((x): x is { c: ColumnInfo; i: number; r: number } => x.r !== null && uniqueIn(x.i))
    .sort((a, b) => a.r - b.r || a.i - b.i);
  return ranked[0]?.c.name ?? null;
}
