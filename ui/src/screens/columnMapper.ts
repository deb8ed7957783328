// The sync editor's column mapper: every column as the model returns it, or
// chosen rows (a model column, a constant, or a template) each with an output
// name, reordered with buttons or Alt+Arrow keys. A template row has its
// output type and shows its value for the model's first rows, live. The
// header and the samples come from the core's inspection.

import { columnIndexOf, columnsToRows, emptyRow, moveItem, OUTPUT_TYPES, rowsToColumns, type MapKind, type MapRow } from "../draft";
import { clear, h } from "../dom";
import type { ColumnInfo, DraftInspection, OutputType, SyncDraft, TemplateSample } from "../bindings";
import { button, option, uid } from "../ui";

export interface ColumnMapper {
  el: HTMLElement;
  onInspect: (i: DraftInspection) => void;
}

const KIND_LABEL: Record<MapKind, string> = { from: "Model column", value: "Constant", template: "Template" };

const TYPE_LABEL: Record<OutputType, string> = { text: "text", integer: "integer", float: "float", boolean: "boolean", json: "JSON" };

/** What a template can use, shown next to the template rows. */
function templateHelp(cols: ColumnInfo[]): HTMLElement {
  const names = cols.map((c) => c.name);
  const bare = names.filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  const code = (t: string) => h("code", {}, t);
  return h(
    "details",
    { class: "template-help small", "data-testid": "template-help" },
    h("summary", {}, "Template variables and filters"),
    h(
      "ul",
      {},
      h("li", {}, "Columns by name: ", bare.length ? bare.slice(0, 12).flatMap((n, k) => [k ? ", " : "", code(`{{ ${n} }}`)]) : code("{{ column }}"), bare.length > 12 ? ", …" : ""),
      h("li", {}, "Any column, names with spaces too: ", code('{{ row["first name"] }}'), ", or the whole row: ", code("{{ row | tojson }}")),
      h("li", {}, code("model.id"), ", ", code("model.name"), ", ", code("sync.id"), ", ", code("run.id"), ", ", code("run.started_at"), " (RFC 3339)"),
      h(
        "li",
        {},
        "Filters: ",
        code("tojson"),
        ", ",
        code('dateformat("%Y-%m-%d")'),
        " (also ",
        code("datetimeformat"),
        "; ISO 8601 text, naive is UTC), ",
        code('default("n/a")'),
        " (also for NULL), ",
        code("fromjson"),
        ", ",
        code("upper"),
        ", ",
        code("lower"),
        ", ",
        code("trim"),
        ", ",
        code("replace"),
        ", ",
        code("round"),
        ", ",
        code("int"),
        ", ",
        code("float"),
        ", ",
        code("join"),
        ", ",
        code("length"),
      ),
      h("li", {}, "Type: the rendered text becomes an integer, float, boolean or JSON value (empty output is NULL); a value that does not convert fails the run."),
    ),
  );
}
export function columnMapper(draft: SyncDraft, changed: () => void): ColumnMapper {
  let mode: "all" | "pick" = draft.sync.columns ? "pick" : "all";
  let rows: MapRow[] = columnsToRows(draft.sync.columns);
  let modelCols: ColumnInfo[] = [];
  let rowError: { index: number; message: string } | null = null;
  let samples: TemplateSample[] = [];
  /** Each template row's sample box, by row index, filled in place on every inspection. */
  let sampleBoxes = new Map<number, HTMLElement>();

  const name = uid("colmode");
  const allRadio = h("input", { type: "radio", name, value: "all", checked: mode === "all", "data-testid": "columns-mode-all" });
  const pickRadio = h("input", { type: "radio", name, value: "pick", checked: mode === "pick", "data-testid": "columns-mode-pick" });
  const rowsBox = h("div", {});
  const header = h("div", { class: "output-header", "data-testid": "output-header", "aria-live": "polite" });

  const commit = () => {
    draft.sync.columns = mode === "pick" ? rowsToColumns(rows) : undefined;
    changed();
  };

  const setMode = (m: "all" | "pick") => {
    mode = m;
    if (m === "pick" && rows.length === 0) rows = modelCols.map((c) => emptyRow("from", c.name));
    renderRows();
    commit();
  };
  allRadio.addEventListener("change", () => setMode("all"));
  pickRadio.addEventListener("change", () => setMode("pick"));

  function move(i: number, delta: number, focusTestid: string) {
    const next = moveItem(rows, i, delta);
    if (next === rows) return;
    rows = next;
    renderRows();
    commit();
    const j = Math.max(0, Math.min(rows.length - 1, i + delta));
    const row = rowsBox.querySelectorAll<HTMLElement>("[data-testid='column-row']")[j];
    const target = row?.querySelector<HTMLElement>(`[data-testid='${focusTestid}']:not(:disabled)`) ?? row?.querySelector<HTMLElement>("[data-testid='column-to']");
    target?.focus();
  }

  function rowEl(r: MapRow, i: number): HTMLElement {
    const n = i + 1;
    const kind = h(
      "select",
      { "data-testid": "column-kind", "aria-label": `Row ${n}: kind` },
      (Object.keys(KIND_LABEL) as MapKind[]).map((k) => option(k, KIND_LABEL[k], r.kind === k)),
    );
    kind.addEventListener("change", () => {
      r.kind = kind.value as MapKind;
      if (r.kind === "from" && !r.from && modelCols[0]) r.from = modelCols[0].name;
      renderRows();
      commit();
      rowsBox.querySelectorAll<HTMLElement>("[data-testid='column-row']")[i]?.querySelector<HTMLElement>("[data-testid='column-kind']")?.focus();
    });
    let input: HTMLElement;
    if (r.kind === "from") {
      const sel = h("select", { "data-testid": "column-source", "aria-label": `Row ${n}: model column` });
      const names = modelCols.map((c) => c.name);
      if (r.from && !names.includes(r.from)) sel.append(option(r.from, `${r.from} (not in the model)`, true));
      if (!r.from) sel.append(option("", "Choose a column…", true));
      for (const c of modelCols) sel.append(option(c.name, `${c.name}  ·  ${c.declared_type ?? c.observed_type}`, c.name === r.from));
      sel.addEventListener("change", () => {
        r.from = sel.value;
        to.placeholder = r.from || "output name";
        commit();
      });
      input = sel;
    } else if (r.kind === "value") {
      const v = h("input", { type: "text", value: r.value, "data-testid": "column-value", placeholder: "constant value", "aria-label": `Row ${n}: constant value` });
      v.addEventListener("input", () => {
        r.value = v.value;
        commit();
      });
      input = v;
    } else {
      const t = h("input", { type: "text", class: "mono", value: r.template, "data-testid": "column-template", placeholder: "{{ first_name }} {{ last_name }}", "aria-label": `Row ${n}: template` });
      t.addEventListener("input", () => {
        r.template = t.value;
        commit();
      });
      const ty = h(
        "select",
        { "data-testid": "column-output-type", "aria-label": `Row ${n}: output type`, title: "The type the rendered text is written as" },
        OUTPUT_TYPES.map((k) => option(k, TYPE_LABEL[k], r.type === k)),
      );
      ty.addEventListener("change", () => {
        r.type = ty.value as OutputType;
        commit();
      });
      input = h("span", { class: "template-input" }, t, ty);
    }
    const to = h("input", {
      type: "text",
      value: r.to,
      "data-testid": "column-to",
      placeholder: r.kind === "from" ? r.from || "output name" : "output name",
      "aria-label": `Row ${n}: output column name`,
    });
    to.addEventListener("input", () => {
      r.to = to.value;
      commit();
    });
    const up = button("↑", "column-up", () => move(i, -1, "column-up"), "icon", { "aria-label": `Move row ${n} up`, disabled: i === 0 });
    const down = button("↓", "column-down", () => move(i, 1, "column-down"), "icon", { "aria-label": `Move row ${n} down`, disabled: i === rows.length - 1 });
    const remove = button("✕", "column-remove", () => {
      rows = rows.filter((_, k) => k !== i);
      renderRows();
      commit();
      const left = rowsBox.querySelectorAll<HTMLElement>("[data-testid='column-row']");
      (left[Math.min(i, left.length - 1)]?.querySelector<HTMLElement>("[data-testid='column-remove']") ?? addFrom).focus();
    }, "icon", { "aria-label": `Remove row ${n}` });
    const invalid = rowError && rowError.index === i;
    let sampleBox: HTMLElement | null = null;
    if (r.kind === "template") {
      sampleBox = h("div", { class: "template-samples small", "data-testid": "column-samples", "aria-live": "polite" });
      sampleBoxes.set(i, sampleBox);
      fillSamples(sampleBox, i);
    }
    const li = h(
      "li",
      { class: `column-row${invalid ? " invalid" : ""}`, "data-testid": "column-row", "data-index": i },
      h("span", { class: "row-num muted small", "aria-hidden": "true" }, String(n)),
      kind,
      input,
      h("span", { class: "arrow", "aria-hidden": "true" }, "→"),
      to,
      up,
      down,
      remove,
      invalid ? h("div", { class: "field-error small row-error", role: "alert" }, rowError!.message) : null,
      sampleBox,
    );
    li.addEventListener("keydown", (e) => {
      if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        move(i, e.key === "ArrowUp" ? -1 : 1, (document.activeElement as HTMLElement)?.dataset.testid ?? "column-to");
      }
    });
    return li;
  }

  const add = (kind: MapKind) => {
    const used = new Set(rows.filter((r) => r.kind === "from").map((r) => r.from));
    const row = emptyRow(kind, kind === "from" ? (modelCols.find((c) => !used.has(c.name))?.name ?? "") : "");
    rows = [...rows, row];
    renderRows();
    commit();
    const all = rowsBox.querySelectorAll<HTMLElement>("[data-testid='column-row']");
    all[all.length - 1]?.querySelector<HTMLElement>("select[data-testid='column-source'], [data-testid='column-value'], [data-testid='column-template']")?.focus();
  };
  const addFrom = button("+ Model column", "column-add-from", () => add("from"));
  const addConst = button("+ Constant", "column-add-constant", () => add("value"));
  const addTpl = button("+ Template", "column-add-template", () => add("template"));

  /** Row `i`'s template values for the first preview rows, or why it fails. */
  function fillSamples(box: HTMLElement, i: number) {
    const s = samples.find((x) => x.index === i);
    if (!s) {
      clear(box);
      return;
    }
    clear(
      box,
      h("span", { class: "muted" }, "First rows: "),
      ...s.values.map((v) => h("code", { class: `chip${v === null ? " muted" : ""}`, "data-testid": "column-sample" }, v === null ? "NULL" : v)),
      s.error ? h("span", { class: "field-error", "data-testid": "column-sample-error" }, s.error) : null,
    );
  }

  function renderRows() {
    sampleBoxes = new Map();
    if (mode === "all") {
      clear(rowsBox);
      return;
    }
    clear(
      rowsBox,
      rows.length
        ? h("ol", { class: "column-rows", "data-testid": "column-rows" }, rows.map(rowEl))
        : h("p", { class: "muted" }, "No columns chosen: add at least one."),
      h("div", { class: "actions" }, addFrom, addConst, addTpl),
      h("p", { class: "muted small" }, "A template fills {{ column }} from each row, e.g. {{ first_name }} {{ last_name }}. Alt+↑/↓ moves the focused row."),
      rows.some((r) => r.kind === "template") ? templateHelp(modelCols) : null,
    );
  }
  renderRows();

  const el = h(
    "div",
    { class: "mapper" },
    h(
      "fieldset",
      { class: "radios" },
      h("legend", { class: "sr-only" }, "Columns"),
      h("label", { class: "check" }, allRadio, " All columns as the model returns them"),
      h("label", { class: "check" }, pickRadio, " Choose columns"),
    ),
    rowsBox,
    h("div", { class: "field" }, h("div", { class: "label" }, "Output header"), header),
  );

  return {
    el,
    onInspect(i) {
      const names = (i.model_columns ?? []).map((c) => c.name).join("\u0000");
      const before = modelCols.map((c) => c.name).join("\u0000");
      const idx = i.error ? columnIndexOf(i.error.field) : null;
      const newError = idx !== null && i.error ? { index: idx, message: i.error.message } : null;
      const errorChanged = JSON.stringify(newError) !== JSON.stringify(rowError);
      if (i.model_columns) modelCols = i.model_columns;
      rowError = newError;
      samples = i.template_samples ?? [];
      if (mode === "pick" && (names !== before || errorChanged)) {
        // Keep the focus where it was across the re-render.
        const active = document.activeElement as HTMLElement | null;
        const rowIdx = active?.closest<HTMLElement>("[data-testid='column-row']")?.dataset.index;
        const tid = active?.dataset.testid;
        const pos = active instanceof HTMLInputElement ? active.selectionStart : null;
        renderRows();
        if (rowIdx !== undefined && tid) {
          const again = rowsBox.querySelectorAll<HTMLElement>("[data-testid='column-row']")[Number(rowIdx)]?.querySelector<HTMLElement>(`[data-testid='${tid}']`);
          again?.focus();
          if (again instanceof HTMLInputElement && pos !== null) again.setSelectionRange(pos, pos);
        }
      }
      for (const [idx, box] of sampleBoxes) if (box.isConnected) fillSamples(box, idx);
      if (i.header) {
        clear(header, h("p", { class: "chips" }, i.header.map((c) => h("code", { class: "chip" }, c))));
      } else {
        clear(header, h("p", { class: "field-error", "data-testid": "output-header-error" }, i.header_error ?? "Unknown until the model's columns are known."));
      }
    },
  };
}
