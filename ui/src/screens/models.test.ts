// @vitest-environment happy-dom
// The Models screens with the commands mocked: models of two databases stay
// apart, saving offers to update the sync files using the model, the key is
// preselected, and saving despite a failed key check or a missing file asks.

import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SyncDraft, WorkspaceModel } from "../bindings";
import { $, $$, until, type, choose } from "../testing/dom";

const mock = vi.hoisted(() => ({
  calls: [] as { cmd: string; args: unknown[] }[],
  keyOk: true,
  workspace: [] as unknown[],
  /** Columns the probe says the table declares as its primary key. */
  declaredKey: [] as string[],
}));
const log = (cmd: string, ...args: unknown[]) => mock.calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });

const DEMO = { type: "sqlite" as const, path: "demo.db" };
const WAREHOUSE = { type: "postgres" as const, url: "postgres://report@db.example.com/shop", password: "keyring" };
const demoModel = { id: "customers", name: "Customers", sql: "select * from customers", primary_key: "customer_id" };
const WORKSPACE: WorkspaceModel[] = [
  { file: "a.toml", sync_id: "a", source: DEMO, model: demoModel },
  { file: "b.toml", sync_id: "b", source: DEMO, model: demoModel },
];

function draftOf(file: string): SyncDraft {
  const w = (mock.workspace as WorkspaceModel[]).find((x) => x.file === file)!;
  return {
    source: { ...w.source },
    model: { ...w.model },
    destination: { type: "folder", path: "out" },
    sync: { id: w.sync_id ?? undefined, mode: "all", format: "csv", filename: "x.csv", columns: [{ from: "customer_id" }] },
  };
}

vi.mock("../api", () => ({
  api: {
    workspaceInfo: async () => ({ workspace: "/ws", state_dir: "/st", demo_created: false, startup_error: null }),
    listSyncs: async () => [],
    syncHistory: async () => [],
    workspaceModels: async () => mock.workspace,
    loadDraft: async (file: string) => draftOf(file),
    saveDraft: async (d: SyncDraft, file: string | null) => {
      log("saveDraft", d, file);
      return file;
    },
    checkSync: async (file: string) => {
      log("checkSync", file);
      if (file === "b.toml") throw { code: "primary_key", message: "customer_id is NULL in row 7" };
      return { rows: 3 };
    },
    testSource: async (s: { path?: string }) => {
      log("testSource", s);
      return s.path === "missing.db"
        ? { ok: false, message: "the database file does not exist; check [source] path", tables: [] }
        : { ok: true, message: "fine", tables: [] };
    },
    probeModel: async (s: unknown, sql: string | null, limit: number) => {
      log("probeModel", s, sql, limit);
      return {
        columns: [
          { name: "email", declared_type: "TEXT", observed_type: "text", primary_key: mock.declaredKey.includes("email") },
          { name: "id", declared_type: "INTEGER", observed_type: "integer", primary_key: mock.declaredKey.includes("id") },
        ],
        rows: [["a@x", "1"], ["b@x", "2"]],
        more: false,
      };
    },
    checkPrimaryKey: async (s: unknown, sql: string | null, key: string[]) => {
      log("checkPrimaryKey", s, sql, key);
      return mock.keyOk ? { ok: true, rows: 2, message: null } : { ok: false, rows: 2, message: "id is not unique: 1 appears twice" };
    },
  },
  onRunProgress: async () => () => {},
  onSyncsChanged: async () => () => {},
  onSchedulesPaused: async () => () => {},
  onOpenSync: async () => () => {},
  onOAuthUrl: async () => () => {},
}));

let nav: typeof import("../nav");
let prefs: typeof import("../prefs")["prefs"];

function go(v: import("../nav").View) {
  nav.navigate(v);
  $("leave-confirm")?.click();
}

/** Opens a new model on source `sourceIndex` of the menu, named `name`, with SQL, and runs it. */
async function newModel(name: string, sourceValue: string) {
  go({ name: "model", id: null });
  const sel = await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
  choose(sel, sourceValue);
  type($<HTMLInputElement>("model-name")!, name);
  type(await until(() => $<HTMLTextAreaElement>("model-sql"), "the SQL box"), "select email, id from customers");
  $("model-run")!.click();
  await until(() => $("model-results")!.querySelector("table"), "the results");
}

/** The menu value of the source described as `text`. */
function sourceOption(text: string): string {
  return [...$<HTMLSelectElement>("model-source")!.options].find((o) => o.textContent!.includes(text))!.value;
}

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  await import("../main");
  nav = await import("../nav");
  prefs = (await import("../prefs")).prefs;
  await until(() => $("nav-syncs"), "the sidebar");
});

beforeEach(async () => {
  mock.workspace = JSON.parse(JSON.stringify(WORKSPACE));
  mock.keyOk = true;
  mock.declaredKey = [];
  await prefs.setModels([]);
  await prefs.setSources([{ name: "Warehouse", source: WAREHOUSE }]);
});

afterEach(() => {
  mock.calls.length = 0;
});

describe("models of two databases", () => {
  it("saving \"Customers\" on another database leaves the demo's customers model alone; the list says which database each is on", async () => {
    go({ name: "model", id: null });
    await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    await newModel("Customers", sourceOption("PostgreSQL"));
    // The declared INTEGER id column is preselected as the key (no key was chosen).
    expect($<HTMLInputElement>("model-key-id")!.checked).toBe(true);
    expect($<HTMLInputElement>("model-key-email")!.checked).toBe(false);
    expect($("model-key-guess")!.textContent).toContain("Preselected id");
    expect($<HTMLInputElement>("model-id")!.value).toBe("customers");
    $("model-save")!.click();
    await until(() => $("model-status")!.textContent?.startsWith("✓ Saved"), "saved");
    expect(await prefs.models()).toEqual([
      { id: "customers", name: "Customers", source: WAREHOUSE, sql: "select email, id from customers", primary_key: "id" },
    ]);

    go({ name: "models" });
    const items = await until(() => ($$("model-item").length === 2 ? $$("model-item") : null), "two models");
    expect(items.map((i) => i.dataset.modelId)).toEqual(["customers", "customers"]);
    const [demo, mine] = [items.find((i) => i.textContent!.includes("demo.db"))!, items.find((i) => i.textContent!.includes("PostgreSQL"))!];
    expect($("model-database", demo)!.textContent).toBe("on demo.db");
    expect($("model-database", mine)!.textContent).toBe("on db.example.com/shop");
    // The demo's files still use the demo's model; the new one is used by none.
    expect($$("model-used-by", demo).map((b) => b.dataset.file)).toEqual(["a.toml", "b.toml"]);
    expect(demo.textContent).toContain("From the workspace");
    expect($$("model-used-by", mine)).toEqual([]);
    expect(mine.textContent).toContain("not used by any sync");

    // Each opens its own model.
    $("model-open", demo)!.click();
    await until(() => $<HTMLTextAreaElement>("model-sql")?.value === "select * from customers", "the demo's model");
    go({ name: "models" });
    (await until(() => $$("model-item").find((i) => i.textContent!.includes("PostgreSQL")), "the list"));
    $("model-open", $$("model-item").find((i) => i.textContent!.includes("PostgreSQL"))!)!.click();
    await until(() => $<HTMLTextAreaElement>("model-sql")?.value === "select email, id from customers", "the new model");
  });

  it("a new model may not take an id another model on the same source has: it suggests a free one", async () => {
    go({ name: "model", id: null });
    await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    await newModel("Customers", sourceOption("demo.db"));
    $("model-save")!.click();
    await until(() => $("model-use-free-id"), "the free id");
    expect($("model-status")!.textContent).toContain('demo.db already has a model with the id "customers"');
    expect(await prefs.models()).toEqual([]);
    $("model-use-free-id")!.click();
    expect($<HTMLInputElement>("model-id")!.value).toBe("customers-2");
    $("model-save")!.click();
    await until(() => $("model-status")!.textContent?.startsWith("✓ Saved"), "saved");
    expect((await prefs.models()).map((m) => m.id)).toEqual(["customers-2"]);
  });
});

describe("one truth: saving a model used by sync files", () => {
  it("lists the files with an older copy and updates them through the draft commands, then checks each", async () => {
    go({ name: "models" });
    const demo = await until(() => $$("model-item").find((i) => i.textContent!.includes("demo.db")), "the demo model");
    $("model-open", demo)!.click();
    const sql = await until(() => $<HTMLTextAreaElement>("model-sql"), "the editor");
    expect($("model-uses")!.textContent).toBe(""); // nothing differs yet
    type(sql, "select * from customers where active");
    $("model-save")!.click();
    await until(() => $("model-update-syncs"), "the offer to update");
    expect($("model-status")!.textContent).not.toContain("keep their own copy");
    expect($$("model-use").map((b) => [b.dataset.file, b.dataset.differs])).toEqual([
      ["a.toml", "true"],
      ["b.toml", "true"],
    ]);
    expect($("model-uses")!.textContent).toContain("(older copy)");
    expect(mock.calls.some((c) => c.cmd === "saveDraft")).toBe(false); // only on request

    $("model-update-syncs")!.click();
    await until(() => $("model-update-summary")!.textContent, "the outcome");
    const saves = mock.calls.filter((c) => c.cmd === "saveDraft");
    expect(saves.map((c) => c.args[1])).toEqual(["a.toml", "b.toml"]);
    const [d] = saves[0].args as [SyncDraft];
    expect(d.model).toEqual({ id: "customers", name: "Customers", sql: "select * from customers where active", primary_key: "customer_id" });
    expect(d.source).toEqual(DEMO);
    expect(d.sync.columns).toEqual([{ from: "customer_id" }]); // the rest of the file as it was
    expect(mock.calls.filter((c) => c.cmd === "checkSync").map((c) => c.args[0])).toEqual(["a.toml", "b.toml"]);
    const results = $$("model-update-result");
    expect(results.map((r) => [r.dataset.file, r.dataset.ok])).toEqual([
      ["a.toml", "true"],
      ["b.toml", "false"],
    ]);
    expect(results[1].textContent).toContain("updated, but its check fails: customer_id is NULL in row 7");
    expect($("model-update-summary")!.textContent).toBe("1 of 2 could not be updated or fail their check; see below.");
  });

  it("opening a saved model that sync files hold an older copy of offers the update at once", async () => {
    await prefs.setModels([{ id: "customers", name: "Customers", source: DEMO, sql: "select 1", primary_key: "customer_id" }]);
    mock.workspace = [WORKSPACE[0]];
    go({ name: "models" });
    const item = await until(() => $$("model-item")[0], "the list");
    expect(item.textContent).toContain("(older copy)");
    $("model-open", item)!.click();
    await until(() => $("model-update-syncs"), "the offer");
    expect($("model-update-syncs")!.textContent).toBe("Update this sync");
    $("model-update-syncs")!.click();
    await until(() => $("model-update-summary")!.textContent?.startsWith("✓"), "updated");
    expect((mock.calls.find((c) => c.cmd === "saveDraft")!.args[0] as SyncDraft).model.sql).toBe("select 1");
  });
});

describe("saving asks first", () => {
  it("when the key check failed", async () => {
    go({ name: "model", id: null });
    await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    await newModel("People", sourceOption("demo.db"));
    mock.keyOk = false;
    $("model-check-key")!.click();
    await until(() => $("key-result")!.querySelector("[data-ok='false']"), "the failed check");
    $("model-save")!.click();
    const ask = await until(() => ($("model-save-question")!.hidden ? null : $("model-save-question")), "the question");
    expect(ask.textContent).toContain("The key check failed");
    expect(ask.textContent).toContain("1 appears twice");
    expect(await prefs.models()).toEqual([]);
    expect(document.activeElement?.getAttribute("data-testid")).toBe("model-save-cancel");
    ask.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(ask.hidden).toBe(true);
    expect(document.activeElement?.getAttribute("data-testid")).toBe("model-save");
    expect(await prefs.models()).toEqual([]);

    $("model-save")!.click();
    await until(() => !$("model-save-question")!.hidden, "the question again");
    $("model-save-confirm")!.click();
    await until(() => $("model-status")!.textContent?.startsWith("✓ Saved"), "saved anyway");
    expect((await prefs.models()).map((m) => m.id)).toEqual(["people"]);
  });

  it("does not ask once the key passes its check", async () => {
    go({ name: "model", id: null });
    await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    await newModel("Orders", sourceOption("demo.db"));
    $("model-check-key")!.click();
    await until(() => $("key-result")!.querySelector("[data-ok='true']"), "the check");
    $("model-save")!.click();
    await until(() => $("model-status")!.textContent?.startsWith("✓ Saved"), "saved");
    expect($("model-save-question")!.hidden).toBe(true);
  });

  it("when the source's file does not exist", async () => {
    go({ name: "model", id: null });
    const sel = await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    choose(sel, "custom");
    type($<HTMLInputElement>("source-path")!, "missing.db");
    type($<HTMLInputElement>("model-name")!, "Ghost");
    type(await until(() => $<HTMLTextAreaElement>("model-sql"), "the SQL box"), "select 1 as id");
    $("model-run")!.click();
    await until(() => $("model-results")!.querySelector("table"), "the results");
    $("model-save")!.click();
    const ask = await until(() => ($("model-save-question")!.hidden ? null : $("model-save-question")), "the question");
    expect(ask.textContent).toContain("The source cannot be opened now: the database file does not exist");
    expect(mock.calls.find((c) => c.cmd === "testSource")!.args[0]).toEqual({ type: "sqlite", path: "missing.db" });
    $("model-save-confirm")!.click();
    await until(() => $("model-status")!.textContent?.startsWith("✓ Saved"), "saved anyway");
    expect((await prefs.models())[0].source).toEqual({ type: "sqlite", path: "missing.db" });
  });
});

describe("the key a table declares", () => {
  it("is preselected over a guessed id column", async () => {
    mock.declaredKey = ["email"];
    go({ name: "model", id: null });
    await until(() => $<HTMLSelectElement>("model-source"), "the model editor");
    await newModel("By email", sourceOption("demo.db"));
    expect($<HTMLInputElement>("model-key-email")!.checked).toBe(true);
    expect($<HTMLInputElement>("model-key-id")!.checked).toBe(false);
    expect($("model-key-guess")!.textContent).toContain("the table declares it its primary key");
  });
});
