// The Models and Connections screens' lists: models and sources saved in the
// app's preferences merged with those the workspace's sync files use. Pure.

import type { ModelDraft, SourceDraft, WorkspaceModel } from "./types";

export interface SavedSource {
  name: string;
  source: SourceDraft;
}

export interface SavedModel {
  id: string;
  name: string;
  source: SourceDraft;
  sql?: string;
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
  id: string;
  name: string;
  source: SourceDraft;
  sql?: string;
  primary_key: string | string[];
  saved: boolean;
  /** Sync files (with sync ids) using a model of this id. */
  usedBy: { file: string; syncId: string | null }[];
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
export function urlHasPassword(url: string | undefined): boolean {
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
export function baseName(path: string | undefined): string {
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

export function mergeModels(saved: SavedModel[], workspace: WorkspaceModel[]): ModelEntry[] {
  const out = new Map<string, ModelEntry>();
  for (const m of saved) out.set(m.id, { ...m, saved: true, usedBy: [] });
  for (const w of workspace) {
    const id = modelIdOf(w.model);
    let e = out.get(id);
    if (!e) {
      e = {
        id,
        name: w.model.name,
        source: w.source,
        sql: w.model.sql,
        primary_key: w.model.primary_key,
        saved: false,
        usedBy: [],
      };
      out.set(id, e);
    }
    e.usedBy.push({ file: w.file, syncId: w.syncId });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
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
