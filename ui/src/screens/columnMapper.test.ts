// @vitest-environment happy-dom
// The column mapper's template rows: the output type goes to the draft's
// `type` key, the core's samples of the first rows show live, and a row that
// does not render or convert shows why.

import { describe, expect, it } from "vitest";
import type { DraftInspection, SyncDraft } from "../bindings";
import { $, $$, choose, type } from "../testing/dom";
import { inspection } from "../testing/inspection";
import { columnMapper } from "./columnMapper";

function draft(columns?: SyncDraft["sync"]["columns"]): SyncDraft {
  return {
    source: { type: "sqlite", path: "shop.db" },
    model: { id: "orders", name: "orders", sql: "select * from orders", primary_key: "id" },
    destination: { type: "folder", path: "out" },
    sync: { id: "orders", mode: "all", format: "json", filename: "orders.json", columns },
  };
}

/** The core's inspection of the mapper's model: three columns, the header it maps to. */
function inspectionOf(extra: Partial<DraftInspection> = {}): DraftInspection {
  return inspection({
    model_columns: [
      { name: "id", declared_type: "INTEGER", observed_type: "integer" },
      { name: "first name", declared_type: "TEXT", observed_type: "text" },
      { name: "qty", declared_type: "TEXT", observed_type: "text" },
    ],
    header: ["id", "qty"],
    ...extra,
  });
}

function mount(d: SyncDraft) {
  let changes = 0;
  const m = columnMapper(d, () => changes++);
  document.body.replaceChildren(m.el);
  return { m, changes: () => changes };
}

describe("column mapper templates", () => {
  it("offers the output type and writes it to the draft's `type` key", () => {
    const d = draft([{ from: "id" }, { template: "{{ qty }}", to: "qty", type: "integer" }]);
    const { changes } = mount(d);
    const sel = $<HTMLSelectElement>("column-output-type")!;
    expect(sel.value).toBe("integer");
    expect([...sel.options].map((o) => o.value)).toEqual(["text", "integer", "float", "boolean", "json"]);
    choose(sel, "json");
    expect(d.sync.columns![1]).toEqual({ template: "{{ qty }}", to: "qty", type: "json" });
    // Text is the default: not written.
    choose(sel, "text");
    expect(d.sync.columns![1]).toEqual({ template: "{{ qty }}", to: "qty" });
    expect(changes()).toBe(2);
    // A new template row starts as text, with its own type select.
    $("column-add-template")!.click();
    const rows = $$("column-row");
    type($<HTMLInputElement>("column-template", rows[2])!, "{{ row | tojson }}");
    choose($<HTMLSelectElement>("column-output-type", rows[2])!, "json");
    expect(d.sync.columns![2]).toEqual({ template: "{{ row | tojson }}", type: "json" });
    // Only template rows have one.
    expect($("column-output-type", rows[0])).toBeNull();
  });

  it("shows each template's value for the first rows, and lists what templates can use", () => {
    const d = draft([{ from: "id" }, { template: "{{ qty }}", to: "qty", type: "integer" }]);
    const { m } = mount(d);
    m.onInspect(inspectionOf()); // the model's columns arrive: the rows render with them
    const tpl = $<HTMLInputElement>("column-template")!;
    tpl.focus();
    m.onInspect(inspectionOf({ template_samples: [{ index: 1, values: ["2", "10", null], error: null }] }));
    const row = $$("column-row")[1];
    expect($$("column-sample", row).map((e) => e.textContent)).toEqual(["2", "10", "NULL"]);
    expect($("column-sample-error", row)).toBeNull();
    // Filled in place: the template keeps the focus while typing.
    expect(document.activeElement).toBe(tpl);
    m.onInspect(inspectionOf({ template_samples: [{ index: 1, values: ["4", "20", null], error: null }] }));
    expect($$("column-sample", row).map((e) => e.textContent)).toEqual(["4", "20", "NULL"]);
    expect(document.activeElement).toBe(tpl);
    // The help names the variables and filters.
    const help = $("template-help")!.textContent!;
    for (const w of ["{{ id }}", "{{ qty }}", 'row["first name"]', "model.id", "sync.id", "run.started_at", "tojson", "dateformat", "default"])
      expect(help).toContain(w);
    expect(help).not.toContain("{{ first name }}");
  });

  it("shows a sample's error", () => {
    const d = draft([{ template: "{{ qty }} items", to: "qty", type: "integer" }]);
    const { m } = mount(d);
    m.onInspect(
      inspectionOf({
        template_samples: [{ index: 0, values: [], error: 'row 1: rendered "2 items", which is not an integer; fix the template or set type = "text"' }],
      }),
    );
    expect($("column-sample-error")!.textContent).toContain('rendered "2 items", which is not an integer');
    expect($$("column-sample")).toEqual([]);
    // Fixed: the error goes.
    m.onInspect(inspectionOf({ template_samples: [{ index: 0, values: ["2"], error: null }] }));
    expect($("column-sample-error")).toBeNull();
    expect($$("column-sample").map((e) => e.textContent)).toEqual(["2"]);
  });
});
