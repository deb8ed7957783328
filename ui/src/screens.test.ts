// @vitest-environment happy-dom
// The screens in a DOM with the commands mocked: what the user does reaches
// the commands with the right arguments, and what they answer is shown.

import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DraftInspection, SyncDraft } from "./bindings";
import { $, $$, until, type, choose } from "./testing/dom";
import { prefs } from "./prefs";

const calls: { cmd: string; args: unknown[] }[] = [];
const log = (cmd: string, ...args: unknown[]) => calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });

let oauthListener: ((url: string) => void) | null = null;
let openSyncListener: ((file: string) => void) | null = null;
let resolveConnect: ((v: unknown) => void) | null = null;

function inspect(d: SyncDraft): DraftInspection {
  const f = d.sync.filename ?? "";
  const bad = f.includes("{bad}");
  const cols = [
    { name: "id", declared_type: "INTEGER", observed_type: "integer" },
    { name: "email", declared_type: "TEXT", observed_type: "text" },
  ];
  const header = d.sync.columns ? d.sync.columns.map((c) => c.to ?? c.from ?? "?") : cols.map((c) => c.name);
  return {
    error: bad ? { field: "[sync] filename", message: "unknown variable {bad}" } : null,
    filename: { resolved: bad ? null : f.replace("{YYYY}", "2026"), error: bad ? "unknown variable {bad}" : null },
    files: bad ? [] : [f.replace("{YYYY}", "2026")],
    model_columns: cols,
    model_error: null,
    header,
    header_error: null,
    next_runs: d.sync.schedule === "every 15m" ? ["2026-03-01T10:15:00Z", "2026-03-01T10:30:00Z", "2026-03-01T10:45:00Z"] : [],
    schedule_error: null,
    destination_error: d.destination.type === "folder" && d.destination.path === "missing" ? "the folder /ws/missing does not exist; create it, or runs will fail" : null,
    missing_folder: d.destination.type === "folder" && d.destination.path === "missing" ? "/ws/missing" : null,
    alert_problems: [],
    overwrite_warning: null,
    overwrite_fixes: [],
    extension_warning: null,
  };
}

vi.mock("./api", () => ({
  api: {
    workspaceInfo: async () => ({ workspace: "/ws", state_dir: "/st", demo_created: false, startup_error: null }),
    listSyncs: async () => [],
    newDraft: async () => ({
      source: { type: "sqlite", path: "demo.db" },
      model: { id: "customers", name: "customers", sql: "select * from customers", primary_key: "id" },
      destination: { type: "folder", path: "out" },
      sync: { id: "new-sync", mode: "all", format: "csv", filename: "{YYYY}.csv" },
    }),
    loadDraft: async (file: string) => {
      if (file !== "orders.toml") throw { code: "not_found", message: "gone" };
      return {
        source: { type: "sqlite", path: "demo.db" },
        model: { id: "orders", name: "orders", sql: "select * from orders", primary_key: "id" },
        destination: { type: "dropbox", path: "/Exports", account: "me@example.com" },
        sync: { id: "orders", mode: "insert", format: "json", filename: "{YYYY}.json", schedule: "0 0 6 * * *" },
      };
    },
    inspectDraft: async (d: SyncDraft, file: string | null) => {
      log("inspectDraft", d, file);
      return inspect(d);
    },
    saveDraft: async (d: SyncDraft, file: string | null) => {
      log("saveDraft", d, file);
      return `${d.sync.id}.toml`;
    },
    checkSync: async () => new Promise(() => {}),
    syncHistory: async () => [
      {
        run_id: 3,
        sync_id: "orders",
        mode: "insert",
        status: "success",
        started_at: "2026-03-01T10:00:00Z",
        finished_at: "2026-03-01T10:00:02Z",
        rows: { queried: 5, added: 5, changed: 0, removed: 0 },
        files: [{ path: "2026/orders.json", kind: "all", rows: 5, bytes: 300, skipped: false }],
        error: null,
        error_code: null,
      },
    ],
    deleteSync: async (file: string) => log("deleteSync", file),
    createLocalFolder: async (path: string) => {
      log("createLocalFolder", path);
      return `/ws/${path}`;
    },
    testAlert: async (d: SyncDraft, index: number) => {
      log("testAlert", d, index);
      return [{ kind: "test", channel: "slack", ok: false, attempts: 2, error: "HTTP 404: no such webhook", at: "2026-03-01T10:00:00Z" }];
    },
    workspaceModels: async () => [],
    dropboxAccounts: async () => [{ account_id: "dbid:1", email: "me@example.com", name: "Me", store: "keyring", state: "connected", message: null }],
    dropboxList: async (path: string, account: string | null) => {
      log("dropboxList", path, account);
      if (path === "/Missing" && !calls.some((c) => c.cmd === "dropboxCreateFolder" && c.args[0] === "/Missing"))
        throw { code: "destination", message: "the folder or file does not exist" };
      if (path === "/")
        return {
          path,
          entries: [
            { name: "report.csv", path: "/report.csv", kind: "file", size: 2048, modified: null },
            { name: "Exports", path: "/Exports", kind: "folder", size: null, modified: null },
          ],
        };
      return { path, entries: [] };
    },
    dropboxCreateFolder: async (path: string, account: string | null) => log("dropboxCreateFolder", path, account),
    dropboxConnect: () =>
      new Promise((res) => {
        resolveConnect = res;
        setTimeout(() => oauthListener?.("https://www.dropbox.com/oauth2/authorize?x=1"), 0);
      }),
    dropboxCancelConnect: async () => {},
    dropboxSetup: async () => ({ app_key: "abc123", key_source: "remembered", redirect_uri: "http://127.0.0.1:53682/dropsync/oauth/callback", scopes: ["files.content.write"], app_console: "https://www.dropbox.com/developers/apps" }),
    testSource: async (s: unknown) => {
      log("testSource", s);
      return { ok: true, message: "SQLite 3.46, 2 tables", tables: ["customers", "orders"] };
    },
    probeModel: async (s: unknown, sql: string | null, limit: number) => {
      log("probeModel", s, sql, limit);
      return { columns: [{ name: "id", declared_type: "INTEGER", observed_type: "integer" }, { name: "email", declared_type: null, observed_type: "text" }], rows: [["1", null]], more: true };
    },
    checkPrimaryKey: async (s: unknown, sql: string | null, key: string[]) => {
      log("checkPrimaryKey", s, sql, key);
      return { ok: true, rows: 2500, message: null };
    },
  },
  onRunProgress: async () => () => {},
  onSyncsChanged: async () => () => {},
  onSchedulesPaused: async () => () => {},
  onOpenSync: async (f: (file: string) => void) => {
    openSyncListener = f;
    return () => (openSyncListener = null);
  },
  onOAuthUrl: async (f: (u: string) => void) => {
    oauthListener = f;
    return () => (oauthListener = null);
  },
}));

/** Navigates, leaving an edited screen without saving. */
function go(v: import("./nav").View) {
  nav.navigate(v);
  $("leave-confirm")?.click();
}

const lastInspected = () => calls.filter((c) => c.cmd === "inspectDraft").at(-1)!.args[0] as SyncDraft;

let nav: typeof import("./nav");

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  await import("./main");
  nav = await import("./nav");
  await until(() => $("nav-syncs"), "the sidebar");
});

afterEach(() => {
  calls.length = 0;
});

describe("tray", () => {
  it("opens a sync's history from its tray entry, with a link to its Dropbox folder", async () => {
    go({ name: "list" });
    openSyncListener!("orders.toml");
    await until(() => document.querySelector("h1")?.textContent === "orders.toml", "the sync page");
    const link = await until(() => $("history-open-folder"), "the folder link");
    expect(link.title).toBe("https://www.dropbox.com/home/Exports/2026");
    go({ name: "list" });
  });
});

describe("sync editor", () => {
  it("says when the local folder is missing and creates it on request", async () => {
    go({ name: "list" });
    (await until(() => $("new-sync"), "the Syncs list")).click();
    const path = await until(() => $<HTMLInputElement>("dest-folder-path"), "the editor");
    type(path, "missing");
    await until(() => $("dest-warning")!.textContent?.includes("does not exist"), "the missing-folder warning");
    // Valid all the same: the file can be saved, the folder made later.
    expect($<HTMLButtonElement>("save-sync")!.disabled).toBe(false);
    $("dest-create-folder")!.click();
    await until(() => calls.some((c) => c.cmd === "createLocalFolder"), "the folder created");
    expect(calls.find((c) => c.cmd === "createLocalFolder")!.args).toEqual(["missing"]);
    go({ name: "list" });
  });

  it("shows the resolved filename live, blocks Save on an error, and saves the draft", async () => {
    $("new-sync")!.click();
    const input = await until(() => $<HTMLInputElement>("filename-input"), "the editor");
    await until(() => $("filename-resolved")!.textContent?.includes("2026.csv"), "the first inspection");
    expect($<HTMLButtonElement>("save-sync")!.disabled).toBe(false);

    type(input, "{bad}.csv");
    await until(() => $("filename-error")!.textContent === "unknown variable {bad}", "the filename error");
    expect($<HTMLButtonElement>("save-sync")!.disabled).toBe(true);
    expect($("draft-error")!.textContent).toContain("File name");
    expect($("section-error-filename")!.textContent).toBe(""); // said once, under the field
    expect($("filename-input")!.closest("section")!.classList.contains("has-error")).toBe(true);

    // A variable inserts at the caret.
    type(input, "x-.csv");
    input.setSelectionRange(2, 2);
    $$("filename-var").find((b) => b.dataset.var === "{YYYY}")!.click();
    expect(input.value).toBe("x-{YYYY}.csv");
    await until(() => $("filename-resolved")!.textContent?.includes("x-2026.csv"), "the new name");
    expect($("filename-error")!.textContent).toBe("");

    choose($<HTMLInputElement>("draft-mode-diff")!);
    choose($<HTMLSelectElement>("schedule-kind")!, "every");
    await until(() => $$("next-runs li").length === 0 && $("next-runs")!.children.length === 3, "three next runs");
    expect(lastInspected().sync.schedule).toBe("every 15m");

    $<HTMLButtonElement>("save-sync")!.click();
    await until(() => calls.some((c) => c.cmd === "saveDraft"), "save");
    const [saved, file] = calls.find((c) => c.cmd === "saveDraft")!.args as [SyncDraft, string | null];
    expect(file).toBeNull();
    expect(saved.sync).toMatchObject({ mode: "diff", filename: "x-{YYYY}.csv", schedule: "every 15m" });
    await until(() => document.querySelector("h1")?.textContent === "new-sync.toml", "the sync page");
    expect($("edit-sync")).not.toBeNull();
  });

  it("sets Parquet, parts, a manifest and retention in the Format section", async () => {
    go({ name: "list" });
    (await until(() => $("new-sync"), "the Syncs list")).click();
    const format = await until(() => $<HTMLSelectElement>("draft-format"), "the editor");
    expect($("gzip")).not.toBeNull();
    choose($<HTMLInputElement>("gzip")!);
    choose(format, "parquet");
    expect($("gzip")).toBeNull();
    choose($<HTMLSelectElement>("parquet-compression")!, "zstd");
    type($<HTMLInputElement>("max-rows-per-file")!, "100000");
    type($<HTMLInputElement>("max-mb-per-file")!, "50");
    choose($<HTMLInputElement>("manifest-on")!);
    type($<HTMLInputElement>("keep-runs")!, "30");
    $<HTMLButtonElement>("save-sync")!.click();
    await until(() => calls.some((c) => c.cmd === "saveDraft"), "save");
    const [saved] = calls.find((c) => c.cmd === "saveDraft")!.args as [SyncDraft, string | null];
    expect(saved.sync).toMatchObject({
      format: "parquet",
      compression: null,
      parquet_compression: "zstd",
      max_rows_per_file: 100000,
      max_bytes_per_file: 50_000_000,
      manifest: "{model.name}-{YYYY}{MM}{DD}-{HH}{mm}{ss}.manifest.json",
      retention: { keep_runs: 30 },
    });
    go({ name: "list" });
  });

  it("browses Dropbox folders and uses one", async () => {
    go({ name: "editor", file: null });
    const radio = await until(() => $<HTMLInputElement>("dest-type-dropbox"), "the editor");
    choose(radio);
    await until(() => $$("dbx-entry").length === 2, "the root listing");
    const [folder, file] = $$("dbx-entry");
    expect([folder.dataset.kind, file.dataset.kind]).toEqual(["folder", "file"]);
    expect(file.textContent).toContain("2.0 KB");
    expect($<HTMLSelectElement>("dest-dropbox-account")!.value).toBe("me@example.com");
    folder.click();
    await until(() => $("dbx-empty"), "the empty folder");
    expect(calls.some((c) => c.cmd === "dropboxList" && c.args[0] === "/Exports" && c.args[1] === "me@example.com")).toBe(true);
    expect($$("dbx-breadcrumb-1")[0].textContent).toBe("Exports");

    type($<HTMLInputElement>("dbx-new-folder-name")!, "a/b");
    $("dbx-new-folder-create")!.click();
    expect($("dbx-new-folder-error")!.textContent).toMatch(/cannot contain/);
    type($<HTMLInputElement>("dbx-new-folder-name")!, "2026");
    $("dbx-new-folder-create")!.click();
    await until(() => calls.some((c) => c.cmd === "dropboxCreateFolder"), "create folder");
    expect(calls.find((c) => c.cmd === "dropboxCreateFolder")!.args).toEqual(["/Exports/2026", "me@example.com"]);

    $("dbx-use-folder")!.click();
    expect($("dest-dropbox-path")!.textContent).toContain("/Exports");
    await until(() => lastInspected().destination.path === "/Exports", "the draft's new path");
    expect(lastInspected().destination).toMatchObject({ type: "dropbox", account: "me@example.com" });

    $("dbx-breadcrumb-0")!.click();
    await until(() => $$("dbx-entry").length === 2, "the root again");

    nav.navigate({ name: "list" });
    $("leave-confirm")?.click();
    await until(() => $("new-sync"), "the list");
  });

  it("offers to create a missing Dropbox folder", async () => {
    go({ name: "editor", file: null });
    choose(await until(() => $<HTMLInputElement>("dest-type-dropbox"), "the editor"));
    await until(() => $$("dbx-entry").length === 2, "the root listing");
    // A browser opened on a folder that is not there (as a file's old path can be).
    const { folderBrowser } = await import("./screens/folderBrowser");
    const fb = folderBrowser({ account: () => "me@example.com", initial: "/Missing", onUse: () => {} });
    document.body.append(fb.el);
    fb.reload();
    const make = await until(() => $("dbx-create-missing", fb.el), "the offer to create it");
    expect($("dbx-error", fb.el)!.textContent).toContain("does not exist");
    make.click();
    await until(() => $("dbx-empty", fb.el), "the new empty folder");
    expect(calls.find((c) => c.cmd === "dropboxCreateFolder")!.args).toEqual(["/Missing", "me@example.com"]);
    fb.el.remove();
  });

  it("maps columns: choose, reorder, constant", async () => {
    go({ name: "editor", file: null });
    await until(() => $("columns-mode-pick"), "the editor");
    await until(() => calls.some((c) => c.cmd === "inspectDraft"), "the first inspection");
    await until(() => $("output-header")!.textContent === "idemail", "the header");
    choose($<HTMLInputElement>("columns-mode-pick")!);
    expect($$("column-row").length).toBe(2);
    $$("column-down")[0].click();
    await until(() => JSON.stringify(lastInspected().sync.columns) === JSON.stringify([{ from: "email" }, { from: "id" }]), "reordered columns");
    $("column-add-constant")!.click();
    const row = $$("column-row")[2];
    type($<HTMLInputElement>("column-value", row)!, "shop");
    type($<HTMLInputElement>("column-to", row)!, "origin");
    await until(() => $("output-header")!.textContent === "emailidorigin", "the new header");
    $$("column-remove")[0].click();
    await until(() => lastInspected().sync.columns?.length === 2, "a removed row");
    choose($<HTMLInputElement>("columns-mode-all")!);
    await until(() => lastInspected().sync.columns === undefined, "all columns");
  });
});

describe("models", () => {
  it("runs the query, shows types, checks the chosen key", async () => {
    go({ name: "model", id: null });
    const sql = await until(() => $<HTMLTextAreaElement>("model-sql"), "the model editor");
    type(sql, "select id, email from customers");
    sql.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }));
    await until(() => $("model-results")!.querySelector("table"), "the results");
    expect(calls.find((c) => c.cmd === "probeModel")!.args.slice(1)).toEqual(["select id, email from customers", 100]);
    expect($$("column-type").map((e) => e.textContent)).toEqual(["INTEGER / integer", "text"]);
    expect($("model-more")).not.toBeNull();
    choose($<HTMLInputElement>("model-key-id")!);
    $("model-check-key")!.click();
    await until(() => $("key-result")!.textContent?.includes("2,500"), "the key check");
    expect(calls.find((c) => c.cmd === "checkPrimaryKey")!.args[2]).toEqual(["id"]);
    // Leaving with unsaved changes asks first.
    $("nav-syncs")!.click();
    expect($("leave-confirm")).not.toBeNull();
    $("leave-stay")!.click();
    expect($("model-sql")).not.toBeNull();
  });
});

describe("connections", () => {
  it("connects Dropbox showing the address, and tests a source", async () => {
    $("nav-connections")!.click();
    $("leave-confirm")?.click();
    await until(() => $$("dropbox-account").length === 1, "the account list");
    $("dropbox-connect")!.click();
    await until(() => ($("dropbox-oauth-url") as HTMLInputElement | null)?.value.startsWith("https://www.dropbox.com/oauth2"), "the OAuth address");
    expect($("dropbox-waiting")!.textContent).toContain("Waiting for you to allow access");
    resolveConnect!({ account_id: "dbid:2", email: "two@example.com", name: "Two", store: "file", state: "connected", message: null });
    await until(() => $("dropbox-connect-result")?.textContent?.includes("two@example.com"), "connected");

    $("source-add")!.click();
    type($<HTMLInputElement>("source-path")!, "data/shop.db");
    $("source-test")!.click();
    await until(() => $("source-test-result"), "the test result");
    expect($("source-test-result")!.textContent).toContain("customers");
    expect(calls.find((c) => c.cmd === "testSource")!.args[0]).toEqual({ type: "sqlite", path: "data/shop.db" });
  });
});

describe("database sources", () => {
  it("adds a PostgreSQL source: URL, password, timeouts; each type keeps its values; the list hides the password", async () => {
    go({ name: "connections" });
    await until(() => $("source-add"), "the Connections screen");
    $("source-add")!.click();
    const form = $("source-form")!;
    const kind = $<HTMLSelectElement>("source-type", form)!;
    expect([...kind.options].map((o) => o.textContent)).toEqual(["SQLite database", "CSV file", "PostgreSQL (and compatible: Redshift, CockroachDB…)", "MySQL / MariaDB"]);
    type($<HTMLInputElement>("source-path", form)!, "data/shop.db");
    choose(kind, "postgres");
    expect($("source-path", form)).toBeNull();
    expect($("source-path-browse", form)).toBeNull();
    const url = $<HTMLInputElement>("source-url", form)!;
    expect(url.placeholder).toMatch(/^postgres:\/\//);
    const password = $<HTMLInputElement>("source-password", form)!;
    expect(password.type).toBe("text");
    expect(password.placeholder).toBe("env:PGPASSWORD or keyring");
    expect(form.textContent).toContain("env:NAME reads an environment variable, keyring the OS credential store");
    expect(form.textContent).not.toContain("put it in the URL"); // Save source refuses a password in the URL
    expect($<HTMLInputElement>("source-connect-timeout", form)!.placeholder).toBe("10s");
    expect($<HTMLInputElement>("source-statement-timeout", form)!.placeholder).toBe("30m");

    // Saving without a URL says what is missing.
    type($<HTMLInputElement>("source-name", form)!, "Warehouse");
    $("source-save", form)!.click();
    expect(form.textContent).toContain("Type the server's URL");

    type(url, "postgres://report@db.example.com:5432/shop?sslmode=require");
    type(password, "env:PGPASSWORD");
    $("source-test", form)!.click();
    await until(() => $("source-test-result", form), "the test result");
    expect(calls.find((c) => c.cmd === "testSource")!.args[0]).toEqual({
      type: "postgres",
      url: "postgres://report@db.example.com:5432/shop?sslmode=require",
      password: "env:PGPASSWORD",
    });

    // Switching type and back keeps each type's values.
    choose(kind, "sqlite");
    expect($<HTMLInputElement>("source-path", form)!.value).toBe("data/shop.db");
    expect($("source-url", form)).toBeNull();
    choose(kind, "postgres");
    expect($<HTMLInputElement>("source-url", form)!.value).toBe("postgres://report@db.example.com:5432/shop?sslmode=require");
    expect($<HTMLInputElement>("source-password", form)!.value).toBe("env:PGPASSWORD");
    type($<HTMLInputElement>("source-statement-timeout", form)!, "30m");
    expect($<HTMLInputElement>("source-read-timeout", form)!.placeholder).toBe("90s");
    type($<HTMLInputElement>("source-read-timeout", form)!, "5m");
    type($<HTMLInputElement>("source-state-schema", form)!, " dropsync ");

    $("source-save", form)!.click();
    const item = await until(() => $$("source-item").find((e) => e.dataset.source?.startsWith("postgres:")), "the saved source");
    expect(item.textContent).toContain("PostgreSQL report@db.example.com:5432/shop");
    const saved = await (await import("./prefs")).prefs.sources();
    expect(saved.find((x) => x.name === "Warehouse")!.source).toEqual({
      type: "postgres",
      url: "postgres://report@db.example.com:5432/shop?sslmode=require",
      password: "env:PGPASSWORD",
      statement_timeout: "30m",
      read_timeout: "5m",
      state_schema: "dropsync",
    });
  });

  it("never saves a password held in the URL, and refuses a password typed as the password key", async () => {
    go({ name: "connections" });
    await until(() => $("source-add"), "the Connections screen");
    $("source-add")!.click();
    const form = $("source-form")!;
    choose($<HTMLSelectElement>("source-type", form)!, "mysql");
    expect($<HTMLInputElement>("source-url", form)!.placeholder).toMatch(/^mysql:\/\//);
    type($<HTMLInputElement>("source-name", form)!, "Sales");
    type($<HTMLInputElement>("source-url", form)!, "mysql://ann:secret@10.0.0.5/sales");
    expect(form.textContent).toContain("This URL holds a password");
    type($<HTMLInputElement>("source-password", form)!, "hunter2");
    $("source-save", form)!.click();
    expect(form.textContent).toContain("never the password itself");
    type($<HTMLInputElement>("source-password", form)!, "");
    // Saved sources are kept in the preferences: a password in the URL is refused, with the fix.
    $("source-save", form)!.click();
    await until(() => form.textContent?.includes("remove the password from the URL and use env:NAME or keyring in the Password field"), "the refusal");
    expect(JSON.stringify(await prefs.sources())).not.toContain("secret");
    expect($$("source-item").some((e) => e.dataset.source?.startsWith("mysql:"))).toBe(false);
    expect(document.activeElement).toBe($("source-url", form));
    type($<HTMLInputElement>("source-url", form)!, "mysql://ann@10.0.0.5/sales");
    type($<HTMLInputElement>("source-password", form)!, "env:SALES_PW");
    $("source-save", form)!.click();
    const item = await until(() => $$("source-item").find((e) => e.dataset.source?.startsWith("mysql:")), "the saved source");
    expect(item.textContent).toContain("MySQL ann@10.0.0.5:3306/sales");
    expect(item.outerHTML).not.toContain("secret");
    expect(JSON.stringify(await prefs.sources())).not.toContain("secret");
  });

  it("runs a model on a PostgreSQL source with its SQL", async () => {
    go({ name: "model", id: null });
    const sel = await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    choose(sel, "custom");
    const form = $("source-form")!;
    choose($<HTMLSelectElement>("source-type", form)!, "postgres");
    type($<HTMLInputElement>("source-url", form)!, "postgres://report@db.example.com/shop");
    type($<HTMLInputElement>("source-password", form)!, "keyring");
    const sql = await until(() => $<HTMLTextAreaElement>("model-sql"), "the SQL box");
    type(sql, "select id, email from customers");
    $("model-run")!.click();
    await until(() => $("model-results")!.querySelector("table"), "the results");
    expect(calls.find((c) => c.cmd === "probeModel")!.args).toEqual([
      { type: "postgres", url: "postgres://report@db.example.com/shop", password: "keyring" },
      "select id, email from customers",
      100,
    ]);
  });
});

describe("sync editor, existing file", () => {
  it("warns about a new id, sends a test alert, uses the keyboard in the folder browser, deletes with confirmation", async () => {
    go({ name: "editor", file: "orders.toml" });
    const id = await until(() => $<HTMLInputElement>("draft-sync-id"), "the editor");
    // (happy-dom mis-reads a select's value from a `selected` option past the second; read the option)
    expect($("schedule-kind")!.querySelector<HTMLOptionElement>("option[selected]")!.value).toBe("cron");
    expect($<HTMLInputElement>("schedule-cron")!.value).toBe("0 0 6 * * *");
    expect($("csv-delimiter")).toBeNull(); // json: no CSV options
    type(id, "orders-2");
    expect($("sync-id-warning")!.textContent).toMatch(/fresh snapshot/);

    // The folder browser opens at the file's folder; arrows move, Backspace goes up.
    await until(() => $("dbx-breadcrumb-1")?.textContent === "Exports" && calls.some((c) => c.cmd === "dropboxList" && c.args[0] === "/Exports"), "the Exports folder");
    await until(() => $("dbx-empty"), "its listing");
    $("dbx-list")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Backspace", bubbles: true }));
    await until(() => $$("dbx-entry").length === 2, "the root");
    expect(document.activeElement?.getAttribute("data-path")).toBe("/Exports");
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement?.getAttribute("data-path")).toBe("/report.csv");
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(document.activeElement?.getAttribute("data-path")).toBe("/Exports");

    $<HTMLSelectElement>("alert-add-type")!.value = "slack";
    $("alert-add")!.click();
    const ch = $("alert-channel")!;
    expect($<HTMLInputElement>("alert-webhook_url", ch)!.type).toBe("password");
    type($<HTMLInputElement>("alert-webhook_url", ch)!, "env:SLACK_URL");
    $("alert-test", ch)!.click();
    await until(() => $("alert-test-result", ch)!.textContent?.includes("HTTP 404"), "the test result");
    const [sent, index] = calls.find((c) => c.cmd === "testAlert")!.args as [SyncDraft, number];
    expect(index).toBe(0);
    expect(sent.alerts).toEqual([{ type: "slack", webhook_url: "env:SLACK_URL" }]);

    $("delete-sync")!.click();
    expect(document.activeElement?.getAttribute("data-testid")).toBe("delete-sync-cancel");
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(document.activeElement?.getAttribute("data-testid")).toBe("delete-sync");
    expect(calls.some((c) => c.cmd === "deleteSync")).toBe(false);
    $("delete-sync")!.click();
    $("delete-sync-confirm")!.click();
    await until(() => calls.some((c) => c.cmd === "deleteSync" && c.args[0] === "orders.toml"), "the delete");
    await until(() => document.querySelector("h1")?.textContent === "Syncs", "the Syncs list");
  });
});

describe("a sync holding an older copy of a saved model", () => {
  it("says so in the editor and updates to the saved model on request", async () => {
    const { prefs } = await import("./prefs");
    await prefs.setModels([
      {
        id: "orders",
        name: "orders",
        sql: "select id, total from orders where paid = 1",
        primary_key: "id",
        source: { type: "sqlite", path: "demo.db" },
      } as never,
    ]);
    go({ name: "editor", file: "orders.toml" });
    const note = await until(() => $("draft-model-older")?.textContent, "the older-copy note");
    expect(note).toContain('older copy of the model "orders"');
    expect($<HTMLSelectElement>("draft-model")!.selectedOptions[0].textContent).toContain("older copy");
    $("draft-model-update")!.click();
    await until(() => lastInspected().model.sql === "select id, total from orders where paid = 1", "the saved model applied");
    expect($("draft-model-older")!.textContent).toBe("");
    await prefs.setModels([]);
  });
});
