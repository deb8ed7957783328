// A stand-in for the Tauri runtime so the UI runs in a plain browser with
// made-up data: `npm run dev`, then open /dev/mock.html. For looking at the
// screens while the Rust side is elsewhere; not part of the app's build.

/* eslint-disable @typescript-eslint/no-explicit-any */
import type { DraftInspection, SyncDraft } from "../src/bindings";
import { inspection } from "../src/testing/inspection";

const callbacks = new Map<number, (x: unknown) => void>();
const listeners = new Map<string, number[]>();
let nextId = 1;
let cancelConnect: (() => void) | null = null;

function emit(event: string, payload: unknown) {
  for (const id of listeners.get(event) ?? []) callbacks.get(id)?.({ event, id, payload });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const COLS = [
  { name: "customer_id", declared_type: "INTEGER", observed_type: "integer" },
  { name: "first_name", declared_type: "TEXT", observed_type: "text" },
  { name: "last_name", declared_type: "TEXT", observed_type: "text" },
  { name: "email", declared_type: "TEXT", observed_type: "text" },
  { name: "region", declared_type: "TEXT", observed_type: "text" },
];

const DRAFT: SyncDraft = {
  source: { type: "sqlite", path: "demo/shop.db" },
  model: { id: "customers", name: "customers", sql: "select * from customers", primary_key: "customer_id" },
  destination: { type: "folder", path: "out/diff" },
  sync: {
    id: "demo-customers-diff",
    mode: "diff",
    format: "csv",
    filename: "run-{sync.run.id}/customers.csv",
    csv: { delimiter: ";", bom: true },
    columns: [
      { from: "customer_id" },
      { template: "{{ first_name }} {{ last_name }}", to: "full_name" },
      { from: "email", to: "Email" },
      { from: "region" },
    ],
    schedule: "every 15m",
  },
  alerts: [{ type: "slack", webhook_url: "env:SLACK_WEBHOOK" }],
};

function inspect(d: SyncDraft): DraftInspection {
  const f = d.sync.filename ?? "";
  const m = /\{([^}]*)\}/g;
  const known = ["YYYY", "YY", "MM", "DD", "HH", "mm", "ss", "ms", "X", "x", "model.id", "model.name", "sync.id", "sync.run.id"];
  const unknown = [...f.matchAll(m)].map((x) => x[1]).find((v) => !known.includes(v));
  const resolved = unknown !== undefined ? null : f.replace("{YYYY}", "2026").replace("{MM}", "03").replace("{DD}", "01").replace("{sync.run.id}", "3").replace("{model.id}", d.model.id ?? d.model.name).replace("{sync.id}", d.sync.id ?? "");
  const fnErr = unknown !== undefined ? `unknown variable {${unknown}}; use one of {YYYY} {MM} {DD} …` : f === "" ? "the filename is empty" : null;
  const dir = d.destination.path.replace(/\/$/, "");
  const files = resolved ? (d.sync.mode === "diff" ? ["added", "changed", "removed"].map((k) => `${dir}/${resolved.replace(/(\.[^.]*)$/, `_${k}$1`)}`) : [`${dir}/${resolved}`]) : [];
  const names = d.sync.columns ? d.sync.columns.map((c) => c.to ?? c.from ?? "?") : COLS.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  const sched = d.sync.schedule ?? "manual";
  const schedErr = sched === "manual" || /^every \d+[smhd]$/.test(sched) || sched.split(/\s+/).length === 6 ? null : `"${sched}": a cron expression has 6 fields (second minute hour day month weekday)`;
  const base = Date.now();
  const nextRuns = sched === "manual" || schedErr ? [] : [1, 2, 3].map((i) => new Date(Math.ceil(base / 900000) * 900000 + (i - 1) * 900000).toISOString());
  const error = fnErr
    ? { field: "[sync] filename", message: fnErr }
    : dup
      ? { field: `[[sync.columns]] #${names.lastIndexOf(dup) + 1}`, message: `output name "${dup}" is used twice` }
      : schedErr
        ? { field: "[sync] schedule", message: schedErr }
        : !d.destination.path
          ? { field: "[destination] path", message: "missing; choose a folder" }
          : null;
  return inspection({
    error,
    filename: { resolved, error: fnErr },
    files,
    model_columns: COLS,
    header: dup ? null : names,
    header_error: dup ? `output name "${dup}" is used twice` : null,
    next_runs: nextRuns,
    schedule_error: schedErr,
  });
}

const DBX: Record<string, { name: string; kind: "folder" | "file"; size: number | null }[]> = {
  "/": [
    { name: "Exports", kind: "folder", size: null },
    { name: "Reports", kind: "folder", size: null },
    { name: "notes.txt", kind: "file", size: 1834 },
  ],
  "/Exports": [
    { name: "2026", kind: "folder", size: null },
    { name: "customers_added.csv", kind: "file", size: 182_334 },
  ],
};

/** Runs of very different sizes, empty and failed ones among them (History's chart), newest first. */
const HISTORY = Array.from({ length: 14 }, (_, i) => {
  const id = 14 - i;
  const status = id === 9 || id === 13 ? "failed" : "success";
  const added = id === 1 ? 2500 : status === "failed" ? 0 : [3, 0, 12, 41, 0, 7, 180][id % 7];
  const changed = id === 1 ? 0 : id % 3 === 0 ? 5 : 0;
  const started = new Date(Date.UTC(2026, 2, 1, 6 + id)).toISOString();
  return {
    run_id: id,
    sync_id: "demo-customers-diff",
    mode: "diff",
    status,
    started_at: started,
    finished_at: new Date(Date.parse(started) + 1800).toISOString(),
    rows: { queried: 2500, added, changed, removed: id === 6 ? 2 : 0 },
    files: [],
    error: status === "failed" ? "cannot open the database: database is locked" : null,
    error_code: status === "failed" ? "source" : null,
  };
});

async function handle(cmd: string, a: any): Promise<unknown> {
  await wait(120);
  switch (cmd) {
    case "plugin:event|listen": {
      const l = listeners.get(a.event) ?? [];
      l.push(a.handler);
      listeners.set(a.event, l);
      return a.handler;
    }
    case "plugin:event|unlisten":
      return null;
    case "workspace_info":
      return { workspace: "/home/me/.local/share/dropsync/workspace", state_dir: "/home/me/.local/state/dropsync", demo_created: true, startup_error: null };
    case "list_syncs":
      return [
        { file: "customers-diff.toml", sync_id: "demo-customers-diff", model: "customers", mode: "diff", format: "csv", destination: "folder /home/me/.local/share/dropsync/workspace/out/diff", schedule: "every 15m", next_run: new Date(Date.now() + 600000).toISOString(), last_run: null, last_status: null, running: false, error: null },
        { file: "orders-dropbox.toml", sync_id: "orders-dropbox", model: "orders", mode: "insert", format: "json", destination: "dropbox /Exports", schedule: "manual", next_run: null, last_run: new Date(Date.now() - 3600000).toISOString(), last_status: "failed", running: false, error: null },
        // Long names as real workspaces have them (the core sends folders as absolute paths).
        { file: "demo-orders-insert-every-morning.toml", sync_id: "demo-orders-insert-every-morning", model: "orders_with_customers", mode: "insert", format: "ndjson", destination: "dropbox /Exports/Shop/2026/orders-with-customers", schedule: "0 0 6 * * *", next_run: new Date(Date.now() + 8 * 3600000).toISOString(), last_run: new Date(Date.now() - 16 * 3600000).toISOString(), last_status: "success", running: false, error: null },
        { file: "broken.toml", sync_id: null, model: null, mode: null, format: null, destination: null, schedule: null, next_run: null, last_run: null, last_status: null, running: false, error: "[sync] filename: unknown variable {YYY}; use one of {YYYY} {MM} {DD} …" },
      ];
    case "new_draft":
      return { ...JSON.parse(JSON.stringify(DRAFT)), sync: { id: "new-sync", mode: "all", format: "csv", filename: "{model.id}-{YYYY}-{MM}-{DD}.csv" }, alerts: undefined };
    case "load_draft":
      return JSON.parse(JSON.stringify(a.file === "orders-dropbox.toml" ? { ...DRAFT, destination: { type: "dropbox", path: "/Exports", account: "me@example.com" } } : DRAFT));
    case "inspect_draft":
      return inspect(a.draft);
    case "save_draft":
      return `${a.draft.sync.id}.toml`;
    case "delete_sync":
      return null;
    case "test_alert":
      return [{ kind: "test", channel: a.draft.alerts[a.index].type, ok: a.index === 0, attempts: 1, error: a.index === 0 ? null : "HTTP 403 from the webhook: invalid token", at: new Date().toISOString() }];
    case "workspace_models":
      return [
        { file: "customers-diff.toml", sync_id: "demo-customers-diff", source: DRAFT.source, model: DRAFT.model },
        { file: "orders-dropbox.toml", sync_id: "orders-dropbox", source: DRAFT.source, model: { id: "orders", name: "orders", sql: "select * from orders", primary_key: ["order_id", "line"] } },
        { file: "warehouse.toml", sync_id: "warehouse", source: { type: "postgres", url: "postgres://report@db.example.com:5432/shop?sslmode=require", password: "env:PGPASSWORD" }, model: { id: "stock", name: "stock", sql: "select * from stock", primary_key: "sku" } },
      ];
    case "test_source":
      if (a.source.url !== undefined)
        return /@/.test(a.source.url) ? { ok: true, message: "PostgreSQL 16.4, 2 tables", tables: ["public.customers", "public.orders"] } : { ok: false, message: "url names no user; write it as \"postgres://user@host:5432/database\"", tables: [] };
      return a.source.path?.endsWith(".db") ? { ok: true, message: "SQLite 3.46, 2 tables", tables: ["customers", "orders"] } : { ok: false, message: `${a.source.path}: no such file; check the path`, tables: [] };
    case "probe_model":
      if (/error/i.test(a.sql ?? "")) throw { code: "query", message: 'near "error": syntax error' };
      return { columns: COLS, rows: Array.from({ length: 12 }, (_, i) => [String(i + 1), "Ada", i % 3 ? "Lovelace" : null, `ada${i}@example.com`, "EMEA"]), more: true };
    case "check_primary_key":
      return a.primaryKey.includes("customer_id") ? { ok: true, rows: 2500, message: null } : { ok: false, rows: 2500, message: `${a.primaryKey.join(", ")} is not unique: "EMEA" appears 2,500 times` };
    case "dropbox_accounts":
      return [
        { account_id: "dbid:1", email: "me@example.com", name: "Me Example", store: "keyring", state: "connected", message: null },
        { account_id: "dbid:2", email: "old@example.com", name: "Old", store: "file", state: "reconnect_needed", message: "The refresh token was revoked; reconnect to keep delivering." },
      ];
    case "dropbox_connect":
      setTimeout(() => emit("oauth-url", { url: "https://www.dropbox.com/oauth2/authorize?client_id=abc&response_type=code&code_challenge=xyz" }), 200);
      await new Promise<void>((res, rej) => {
        cancelConnect = () => rej({ code: "cancelled", message: "Connecting was cancelled." });
        setTimeout(res, 60_000);
      });
      return { account_id: "dbid:3", email: "new@example.com", name: "New", store: "keyring", state: "connected", message: null };
    case "dropbox_cancel_connect":
      cancelConnect?.();
      return null;
    case "dropbox_setup":
      // ?nokey shows the first-start guide.
      return {
        app_key: location.search.includes("nokey") ? null : "a1b2c3d4e5f6g7h",
        key_source: location.search.includes("nokey") ? null : "remembered",
        redirect_uri: "http://127.0.0.1:53682/dropsync/oauth/callback",
        scopes: ["account_info.read", "files.metadata.read", "files.content.write", "files.content.read"],
        app_console: "https://www.dropbox.com/developers/apps",
      };
    case "dropbox_forget_app_key":
    case "dropbox_submit_code":
    case "open_workspace_folder":
    case "choose_workspace":
      return null;
    case "dropbox_disconnect":
      return null;
    case "dropbox_list": {
      const p = a.path === "" ? "/" : a.path;
      if (p === "/Reports") throw { code: "reconnect_needed", message: "Dropbox refused the token for me@example.com." };
      return { path: p, entries: (DBX[p] ?? []).map((e) => ({ ...e, path: (p === "/" ? "" : p) + "/" + e.name, modified: null })) };
    }
    case "dropbox_create_folder": {
      const parent = a.path.replace(/\/[^/]*$/, "") || "/";
      (DBX[parent] ??= []).push({ name: a.path.split("/").pop(), kind: "folder", size: null });
      return null;
    }
    case "sync_history":
      return HISTORY.slice(0, a.limit);
    case "check_sync":
    case "preview_sync":
      return new Promise(() => {});
    default:
      throw { code: "internal", message: `mock: no command ${cmd}` };
  }
}

(window as any).__TAURI_INTERNALS__ = {
  invoke: (cmd: string, args: any) => handle(cmd, args ?? {}),
  transformCallback: (cb: (x: unknown) => void) => {
    const id = nextId++;
    callbacks.set(id, cb);
    return id;
  },
  unregisterCallback: (id: number) => callbacks.delete(id),
};
(window as any).__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };

// Open a screen from the address: mock.html?models (or #models), #connections, #editor, #editor=customers-diff.toml, #model
const hash = decodeURIComponent(location.search.slice(1) || location.hash.slice(1));
await import("../src/main");
const { navigate } = await import("../src/nav");
await wait(400);
if (hash === "models") navigate({ name: "models" });
else if (hash === "connections") navigate({ name: "connections" });
else if (hash === "model") navigate({ name: "model", id: "customers" });
else if (hash === "history") navigate({ name: "sync", file: "customers-diff.toml", tab: "history" });
else if (hash.startsWith("editor")) navigate({ name: "editor", file: hash.includes("=") ? hash.split("=")[1] : null });
