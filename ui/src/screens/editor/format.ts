// The editor's "Format" section: CSV, JSON, NDJSON or Parquet, the CSV
// options (delimiter, header row, BOM), compression, splitting files into
// parts, a manifest, keeping only the last runs' files, and skipping empty
// files.

import { clear, h } from "../../dom";
import type { Format, ParquetCompression } from "../../bindings";
import { field, option } from "../../ui";
import type { EditorContext } from "./context";

const FORMATS: { id: Format; label: string }[] = [
  { id: "csv", label: "CSV" },
  { id: "json", label: "JSON (one array)" },
  { id: "ndjson", label: "NDJSON (one object per line)" },
  { id: "parquet", label: "Parquet (typed columns, for DuckDB, Spark, pandas)" },
];
const PARQUET_CODECS: { id: ParquetCompression; label: string }[] = [
  { id: "snappy", label: "Snappy (fast, the default)" },
  { id: "zstd", label: "Zstandard (smaller)" },
  { id: "gzip", label: "gzip" },
  { id: "none", label: "None" },
];
const MB = 1_000_000;

/** A number input for an optional whole number: empty means unset. */
function optionalNumber(testid: string, value: number | null | undefined, placeholder: string, set: (n: number | null) => void, changed: () => void): HTMLInputElement {
  const input = h("input", { type: "number", min: 1, step: 1, class: "short", value: value ?? "", placeholder, "data-testid": testid });
  input.addEventListener("input", () => {
    const n = input.value.trim() === "" ? null : Math.floor(Number(input.value));
    set(n !== null && Number.isFinite(n) ? n : null);
    changed();
  });
  return input;
}
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
  const compressBox = h("div", {});
  const showCompression = () => {
    if ((draft.sync.format ?? "csv") === "parquet") {
      draft.sync.compression = null;
      const codec = h("select", { "data-testid": "parquet-compression" }, PARQUET_CODECS.map((c) => option(c.id, c.label, (draft.sync.parquet_compression ?? "snappy") === c.id)));
      codec.addEventListener("change", () => {
        draft.sync.parquet_compression = codec.value === "snappy" ? null : (codec.value as ParquetCompression);
        changed();
      });
      clear(compressBox, field("Compression of the pages", codec));
      return;
    }
    draft.sync.parquet_compression = null;
    const gz = h("input", { type: "checkbox", checked: draft.sync.compression === "gzip", "data-testid": "gzip" });
    gz.addEventListener("change", () => {
      draft.sync.compression = gz.checked ? "gzip" : null;
      changed();
    });
    clear(compressBox, h("label", { class: "check" }, gz, " Compress with gzip (names end in .gz)"));
  };
  showCsv();
  showCompression();
  formatSel.addEventListener("change", () => {
    draft.sync.format = formatSel.value as Format;
    showCsv();
    showCompression();
    changed();
  });
  const maxRows = optionalNumber("max-rows-per-file", draft.sync.max_rows_per_file, "no limit", (n) => (draft.sync.max_rows_per_file = n), changed);
  const maxMb = optionalNumber(
    "max-mb-per-file",
    draft.sync.max_bytes_per_file == null ? null : Math.max(1, Math.round(draft.sync.max_bytes_per_file / MB)),
    "no limit",
    (n) => (draft.sync.max_bytes_per_file = n === null ? null : n * MB),
    changed,
  );
  const manifestOn = h("input", { type: "checkbox", checked: !!draft.sync.manifest, "data-testid": "manifest-on" });
  const manifestName = h("input", {
    type: "text",
    class: "mono wide",
    value: draft.sync.manifest ?? "{model.name}-{YYYY}{MM}{DD}-{HH}{mm}{ss}.manifest.json",
    "data-testid": "manifest-name",
    "aria-label": "Manifest filename",
  });
  const syncManifest = () => {
    manifestName.disabled = !manifestOn.checked;
    draft.sync.manifest = manifestOn.checked ? manifestName.value : null;
  };
  syncManifest();
  manifestOn.addEventListener("change", () => {
    syncManifest();
    changed();
  });
  manifestName.addEventListener("input", () => {
    syncManifest();
    changed();
  });
  const keepRuns = optionalNumber("keep-runs", draft.sync.retention?.keep_runs, "all", (n) => (draft.sync.retention = n === null ? null : { keep_runs: n }), changed);
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
    compressBox,
    h(
      "div",
      { class: "row wrap" },
      field("Max rows per file", maxRows, "Split each file into parts ({part}, or _1, _2 before the extension)."),
      field("Max MB per file", maxMb, "Whichever limit comes first; each part is a complete file."),
    ),
    field(
      "Manifest",
      h("div", { class: "row" }, h("label", { class: "check" }, manifestOn, " Write a manifest after the files"), manifestName),
      "A JSON file listing the run's files (rows, bytes, hash), written last: a consumer can wait for it.",
    ),
    field("Keep files of the last", h("span", {}, keepRuns, " runs"), "Older runs' files are deleted; only files Dropsync delivered, never anything else."),
    h("label", { class: "check" }, skip, " Skip empty files (a run with no rows for a file writes nothing for it)"),
  );
}
