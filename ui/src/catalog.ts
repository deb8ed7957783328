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

/** Identity of a source: two entries with the same key are one source. */
export function sourceKey(s: SourceDraft): string {
  return `${s.type}:${s.path ?? ""}`;
}

/** "data/shop.db" -> "shop.db". */
export function baseName(path: string | undefined): string {
  if (!path) return "(no path)";
  const parts = path.split(/[\\/]/).filter((p) => p !== "");
  return parts[parts.length - 1] ?? path;
}

export function describeSource(s: SourceDraft): string {
  if (s.type === "csv") {
    const d = s.delimiter === "\t" ? "tab" : (s.delimiter ?? ",");
    return `CSV ${s.path ?? ""} (delimiter ${d}${s.header === false ? ", no header" : ""})`;
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
      e = { name: baseName(w.source.path), source: w.source, saved: false, usedBy: [] };
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
