// @vitest-environment happy-dom
// Overwrites: the editor shows the core's warning that a filename repeats
// between runs (with one-click fixes) and that an extension is not the
// format's; History shows files a later run overwrote as such.

import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DraftInspection, RunReport, SyncDraft } from "../bindings";
import { $, $$, until } from "../testing/dom";
import { inspection } from "../testing/inspection";

const inspected: SyncDraft[] = [];

/** What the core answers, reduced to the fields these screens read. */
function inspect(d: SyncDraft): DraftInspection {
  const f = d.sync.filename ?? "";
  const repeats = d.sync.mode !== "all" && !f.includes("{HH}{mm}") && !f.includes("{sync.run.id}");
  return inspection({
    filename: { resolved: f.replace("{YYYY}-{MM}-{DD}", "2026-03-01"), error: null },
    files: [f],
    overwrite_warning: repeats
      ? "the filename can repeat between runs: the scheduled runs at 2026-03-01 10:15 and 2026-03-01 10:30 UTC both write `2026-03-01.csv`"
      : null,
    overwrite_fixes: repeats
      ? [
          { adds: "{HH}{mm}", template: "{YYYY}-{MM}-{DD}_{HH}{mm}.csv" },
          { adds: "{sync.run.id}", template: "{YYYY}-{MM}-{DD}_{sync.run.id}.csv" },
        ]
      : [],
    extension_warning: f.endsWith(".xlsx") ? "the filename ends in `.xlsx` but the format is CSV" : null,
  });
}

const run = (id: number, files: RunReport["files"]): RunReport => ({
  run_id: id,
  sync_id: "orders",
  mode: "insert",
  status: "success",
  started_at: `2026-03-01T10:${String(id * 15).padStart(2, "0")}:00Z`,
  finished_at: `2026-03-01T10:${String(id * 15).padStart(2, "0")}:01Z`,
  rows: { queried: 9, added: files[0]?.rows ?? 0, changed: 0, removed: 0 },
  files,
  error: null,
  error_code: null,
});

vi.mock("../api", () => ({
  api: {
    newDraft: async () => ({
      source: { type: "sqlite", path: "demo.db" },
      model: { id: "orders", name: "orders", sql: "select * from orders", primary_key: "id" },
      destination: { type: "folder", path: "out" },
      sync: { id: "orders", mode: "insert", format: "csv", filename: "{YYYY}-{MM}-{DD}.csv", schedule: "every 15m" },
    }),
    loadDraft: async () => ({
      source: { type: "sqlite", path: "demo.db" },
      model: { id: "orders", name: "orders", sql: "select * from orders", primary_key: "id" },
      destination: { type: "folder", path: "out" },
      sync: { id: "orders", mode: "insert" },
    }),
    workspaceModels: async () => [],
    listSyncs: async () => [],
    inspectDraft: async (d: SyncDraft) => {
      inspected.push(JSON.parse(JSON.stringify(d)));
      return inspect(d);
    },
    dropboxAccounts: async () => [],
    syncHistory: async () => [
      { ...run(2, [{ path: "2026-03-01.csv", kind: "added", rows: 3, bytes: 90, skipped: false }]), mode: "diff", rows: { queried: 9, added: 3, changed: 2, removed: 0, source_changed: 6 } },
      run(1, [{ path: "2026-03-01.csv", kind: "added", rows: 5, bytes: 150, skipped: false, overwritten_by: 2 }]),
    ],
  },
}));

beforeAll(() => {
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  inspected.length = 0;
});

describe("sync editor: a filename that repeats between runs", () => {
  it("warns near the filename and inserts {HH}{mm} or {sync.run.id} on request", async () => {
    const { renderEditor } = await import("./editor");
    await renderEditor(null);
    const note = await until(() => ($("overwrite-warning")?.textContent?.includes("can repeat") ? $("overwrite-warning") : null), "the overwrite warning");
    // Shown in the filename section, next to the field.
    expect(note.closest("section")?.querySelector("[data-testid='filename-input']")).not.toBeNull();
    expect(note.textContent).toContain("10:15 and 2026-03-01 10:30 UTC both write `2026-03-01.csv`");
    const fixes = $$("overwrite-fix");
    expect(fixes.map((b) => b.dataset.adds)).toEqual(["{HH}{mm}", "{sync.run.id}"]);
    expect(fixes[0].textContent).toBe("Add {HH}{mm}");

    fixes[0].click();
    expect($<HTMLInputElement>("filename-input")!.value).toBe("{YYYY}-{MM}-{DD}_{HH}{mm}.csv");
    // The fixed name is inspected again and the warning goes away.
    await until(() => inspected.some((d) => d.sync.filename === "{YYYY}-{MM}-{DD}_{HH}{mm}.csv"), "a new inspection");
    await until(() => $("overwrite-warning")?.textContent === "", "the warning to clear");
    expect($$("overwrite-fix")).toHaveLength(0);
  });

  it("offers {sync.run.id} too, and warns about an extension that is not the format", async () => {
    const { renderEditor } = await import("./editor");
    await renderEditor(null);
    const input = await until(() => $<HTMLInputElement>("filename-input"), "the filename field");
    await until(() => $$("overwrite-fix").length === 2, "the fixes");
    $$("overwrite-fix")[1].click();
    expect(input.value).toBe("{YYYY}-{MM}-{DD}_{sync.run.id}.csv");
    await until(() => inspected.some((d) => d.sync.filename === "{YYYY}-{MM}-{DD}_{sync.run.id}.csv"), "a new inspection");

    input.value = "{sync.run.id}.xlsx";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    const ext = await until(() => ($("extension-warning")?.textContent ? $("extension-warning") : null), "the extension warning");
    expect(ext.textContent).toContain("ends in `.xlsx` but the format is CSV");
    expect($("overwrite-warning")!.textContent).toBe("");
    // A warning does not block saving.
    expect($<HTMLButtonElement>("save-sync")!.disabled).toBe(false);
  });
});

describe("history: files a later run overwrote", () => {
  it("shows 'overwritten by run #N' with the old row count struck, not as if still there", async () => {
    const { showHistory } = await import("./history");
    const panel = document.createElement("div");
    document.body.append(panel);
    showHistory(panel, "orders.toml", () => {});
    const gone = await until(() => $("history-file-overwritten", panel), "the overwritten file");
    expect(gone.textContent).toContain("overwritten by run #2");
    const struck = gone.querySelector("s")!;
    expect(struck.textContent).toBe("5 rows, 150 B");
    // The latest run's file is shown plainly.
    const files = [...panel.querySelectorAll("ul.plain li")];
    const latest = files.find((li) => li !== gone)!;
    expect(latest.textContent).toContain("3 rows, 90 B");
    expect(latest.querySelector("s")).toBeNull();
    expect(latest.textContent).not.toContain("overwritten");
    expect($$("history-file-overwritten", panel)).toHaveLength(1);
  });

  it("tells rows changed in the source apart from rows changed in the synced columns", async () => {
    const { showHistory } = await import("./history");
    const panel = document.createElement("div");
    document.body.append(panel);
    showHistory(panel, "orders.toml", () => {});
    const note = await until(() => $("history-source-changed", panel), "the source note");
    expect(note.textContent).toBe("6 rows changed in the source; 2 changed in the columns this sync sends");
    expect($$("history-source-changed", panel)).toHaveLength(1);
  });
});
