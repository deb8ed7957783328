// The editor's "Format" section: CSV, JSON or NDJSON, the CSV options
// (delimiter, header row, BOM), and skipping empty files.

import { clear, h } from "../../dom";
import type { Format } from "../../bindings";
import { field, option } from "../../ui";
import type { EditorContext } from "./context";

const FORMATS: { id: Format; label: string }[] = [
  { id: "csv", label: "CSV" },
  { id: "json", label: "JSON (one array)" },
  { id: "ndjson", label: "NDJSON (one object per line)" },
];
const DELIMITERS: [string, string][] = [
  [",", "comma ,"],
  [";", "semicolon ;"],
  ["|", "pipe |"],
  ["~", "tilde ~"],
  ["\t", "tab"],
];

export function formatSection(ctx: EditorContext): HTMLElement {
  const { draft, changed } = ctx;
  const formatSel = h("select", { "data-testid": "draft-format" }, FORMATS.map((f) => option(f.id, f.label, (draft.sync.format ?? "csv") === f.id)));
  const csvBox = h("div", {});
  const showCsv = () => {
    if ((draft.sync.format ?? "csv") !== "csv") {
      clear(csvBox);
      return;
    }
    const csv = (draft.sync.csv ??= {});
    const delim = h("select", { "data-testid": "csv-delimiter" }, DELIMITERS.map(([v, l]) => option(v, l, (csv.delimiter ?? ",") === v)));
    delim.addEventListener("change", () => {
      csv.delimiter = delim.value;
      changed();
    });
    const header = h("input", { type: "checkbox", checked: csv.header !== false, "data-testid": "csv-header" });
    header.addEventListener("change", () => {
      csv.header = header.checked;
      changed();
    });
    const bom = h("input", { type: "checkbox", checked: csv.bom === true, "data-testid": "csv-bom" });
    bom.addEventListener("change", () => {
      csv.bom = bom.checked;
      changed();
    });
    clear(
      csvBox,
      h(
        "div",
        { class: "row wrap" },
        field("Delimiter", delim),
        h("label", { class: "check" }, header, " Header row"),
        h("label", { class: "check", title: "Some spreadsheet programs need it to read UTF-8" }, bom, " Byte order mark (BOM)"),
      ),
    );
  };
  showCsv();
  formatSel.addEventListener("change", () => {
    draft.sync.format = formatSel.value as Format;
    showCsv();
    changed();
  });
  const skip = h("input", { type: "checkbox", checked: draft.sync.skip_empty_files === true, "data-testid": "skip-empty-files" });
  skip.addEventListener("change", () => {
    draft.sync.skip_empty_files = skip.checked || undefined;
    changed();
  });
  return ctx.section(
    "format",
    "Format",
    field("File format", formatSel),
    csvBox,
    h("label", { class: "check" }, skip, " Skip empty files (a run with no rows for a file writes nothing for it)"),
  );
}
