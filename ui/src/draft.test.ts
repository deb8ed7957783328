import { describe, expect, it } from "vitest";
import {
  alertIndexOf,
  applyModel,
  buildSchedule,
  columnIndexOf,
  columnsToRows,
  errorSummary,
  insertAt,
  keyList,
  keyValue,
  moveItem,
  parseSchedule,
  rowsToColumns,
  sectionOf,
  splitList,
  suggestSyncId,
  syncIdChanged,
  tidyDraft,
} from "./draft";
import type { SyncDraft } from "./bindings";

const draft = (): SyncDraft => ({
  source: { type: "sqlite", path: "demo.db" },
  model: { id: "customers", name: "Customers", sql: "select 1", primary_key: "id" },
  destination: { type: "folder", path: "out" },
  sync: { id: "c", mode: "diff", format: "csv", filename: "{YYYY}.csv" },
});

describe("schedule", () => {
  it("parses the three kinds", () => {
    expect(parseSchedule(undefined)).toEqual({ kind: "manual" });
    expect(parseSchedule("manual")).toEqual({ kind: "manual" });
    expect(parseSchedule("every 15m")).toEqual({ kind: "every", n: 15, unit: "m" });
    expect(parseSchedule(" every 2 h ")).toEqual({ kind: "every", n: 2, unit: "h" });
    expect(parseSchedule("0 0 * * * *")).toEqual({ kind: "cron", expr: "0 0 * * * *" });
    expect(parseSchedule("every 1h30m")).toEqual({ kind: "cron", expr: "every 1h30m" });
  });
  it("builds the file's text and round-trips", () => {
    expect(buildSchedule({ kind: "manual" })).toBeUndefined();
    expect(buildSchedule({ kind: "every", n: 15, unit: "m" })).toBe("every 15m");
    expect(buildSchedule({ kind: "every", n: 2.7, unit: "d" })).toBe("every 2d");
    expect(buildSchedule({ kind: "cron", expr: " 0 */5 * * * * " })).toBe("0 */5 * * * *");
    for (const s of ["every 6h", "every 1d", "0 0 9 * * Mon-Fri"]) expect(buildSchedule(parseSchedule(s))).toBe(s);
  });
});

describe("column mapper rows", () => {
  it("round-trips the three kinds and keeps constants' types", () => {
    const cols = [
      { from: "id" },
      { from: "email", to: "Email" },
      { value: 42, to: "n" },
      { value: true, to: "flag" },
      { value: "x", to: "s" },
      { template: "{{ a }} {{ b }}", to: "ab" },
    ];
    const rows = columnsToRows(cols);
    expect(rows.map((r) => r.kind)).toEqual(["from", "from", "value", "value", "value", "template"]);
    expect(rowsToColumns(rows)).toEqual(cols);
  });
  it("keeps a typed constant a string when it no longer parses", () => {
    const rows = columnsToRows([{ value: 1, to: "n" }]);
    rows[0].value = "one";
    expect(rowsToColumns(rows)).toEqual([{ value: "one", to: "n" }]);
  });
  it("trims output names and drops empty ones", () => {
    const rows = columnsToRows([{ from: "a", to: "  " }, { from: "b", to: " B " }]);
    expect(rowsToColumns(rows)).toEqual([{ from: "a" }, { from: "b", to: "B" }]);
  });
  it("moves rows within bounds", () => {
    expect(moveItem([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(moveItem([1, 2, 3], 2, -1)).toEqual([1, 3, 2]);
    const l = [1, 2, 3];
    expect(moveItem(l, 0, -1)).toBe(l);
    expect(moveItem(l, 2, 1)).toBe(l);
    expect(moveItem(l, 5, 1)).toBe(l);
  });
});

describe("primary key", () => {
  it("normalizes single and composite keys", () => {
    expect(keyList("id")).toEqual(["id"]);
    expect(keyList(["a", "b"])).toEqual(["a", "b"]);
    expect(keyList("")).toEqual([]);
    expect(keyValue(["id"])).toBe("id");
    expect(keyValue(["a", "b"])).toEqual(["a", "b"]);
  });
});

describe("field errors", () => {
  it("map to form sections", () => {
    expect(sectionOf("[sync] filename")).toBe("filename");
    expect(sectionOf("[sync] filename_offset")).toBe("filename");
    expect(sectionOf("[source] path")).toBe("model");
    expect(sectionOf("[model] primary_key")).toBe("model");
    expect(sectionOf("[[sync.columns]] #2")).toBe("columns");
    expect(sectionOf("[destination] path")).toBe("destination");
    expect(sectionOf("[sync] schedule")).toBe("schedule");
    expect(sectionOf("[sync] schedule_start")).toBe("schedule");
    expect(sectionOf("[[alerts]] #1 webhook_url")).toBe("alerts");
    expect(sectionOf("[alert_when] run_longer_than")).toBe("alerts");
    expect(sectionOf("[sync.csv] delimiter")).toBe("format");
    expect(sectionOf("[sync] format")).toBe("format");
    expect(sectionOf("[sync] mode")).toBe("mode");
    expect(sectionOf("[sync] id")).toBe("general");
    expect(sectionOf("")).toBe("general");
  });
  it("point at column and alert rows", () => {
    expect(columnIndexOf("[[sync.columns]] #2")).toBe(1);
    expect(columnIndexOf("[sync] filename")).toBeNull();
    expect(alertIndexOf("[[alerts]] #3 to")).toBe(2);
  });
  it("summarize with the section", () => {
    expect(errorSummary({ field: "[sync] filename", message: "unknown {day}" })).toBe("File name: [sync] filename: unknown {day}");
  });
});

describe("drafts", () => {
  it("apply a model without touching the sync settings", () => {
    const d = draft();
    const out = applyModel(d, { type: "csv", path: "x.csv" }, { name: "X", primary_key: ["a", "b"] });
    expect(out.source).toEqual({ type: "csv", path: "x.csv" });
    expect(out.model.primary_key).toEqual(["a", "b"]);
    expect(out.sync).toEqual(d.sync);
    expect(d.source.path).toBe("demo.db");
  });
  it("notice a changed sync id only on existing files", () => {
    const d = draft();
    expect(syncIdChanged(null, d)).toBe(false);
    expect(syncIdChanged("c", d)).toBe(false);
    d.sync.id = "c2";
    expect(syncIdChanged("c", d)).toBe(true);
  });
  it("tidy empty optional parts", () => {
    const d = draft();
    d.alerts = [];
    d.alert_when = { run_longer_than: "", removed_more_than_percent: undefined };
    d.destination.account = "a@b";
    d.sync.format = "json";
    d.sync.csv = { delimiter: ";" };
    const t = tidyDraft(d);
    expect(t.alerts).toBeUndefined();
    expect(t.alert_when).toBeUndefined();
    expect(t.destination.account).toBeUndefined();
    expect(t.sync.csv).toBeUndefined();
    expect(d.alerts).toEqual([]);
    const e = draft();
    e.sync.csv = {};
    expect(tidyDraft(e).sync.csv).toBeUndefined();
    e.sync.csv = { bom: false };
    expect(tidyDraft(e).sync.csv).toEqual({ bom: false });
  });
});

describe("text helpers", () => {
  it("insert at the caret or replace the selection", () => {
    expect(insertAt("ab", 1, 1, "{X}")).toEqual({ text: "a{X}b", caret: 4 });
    expect(insertAt("abcd", 1, 3, "-")).toEqual({ text: "a-d", caret: 2 });
    expect(insertAt("ab", null, null, "!")).toEqual({ text: "ab!", caret: 3 });
  });
  it("split lists on commas and lines", () => {
    expect(splitList("a@x, b@y\n c@z ,")).toEqual(["a@x", "b@y", "c@z"]);
  });
});

describe("suggestSyncId", () => {
  it("takes the model id, or the next free number", () => {
    expect(suggestSyncId("orders", { syncIds: [], files: [] })).toBe("orders");
    expect(suggestSyncId("orders", { syncIds: ["orders"], files: ["orders-2.toml"] })).toBe("orders-3");
    expect(suggestSyncId("Big Spenders!", { syncIds: [null], files: [] })).toBe("big-spenders");
    expect(suggestSyncId("", { syncIds: [], files: [] })).toBe("sync");
  });
});
