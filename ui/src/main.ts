// Dropsync's UI: the Syncs list and a sync's Check / Preview / Run / History.
// All engine facts (columns, files, counts, errors) come from the core.

import { load, type Store } from "@tauri-apps/plugin-store";
import { api, onRunProgress, onSyncsChanged } from "./api";
import { barGeometry, chartSummary, ROW_KINDS } from "./chart";
import { clear, h } from "./dom";
import {
  countsSummary,
  errorTitle,
  formatBytes,
  formatCount,
  formatDuration,
  formatLocalTime,
  MODE_HELP,
  progressFraction,
  progressLabel,
  relativeTime,
  STATUS_LABEL,
  toApiError,
  zoneLabel,
} from "./format";
import type { ApiError, RunProgress, RunReport, SyncSummary, WorkspaceInfo } from "./types";

type Tab = "check" | "preview" | "run" | "history";
const TABS: { id: Tab; label: string }[] = [
  { id: "check", label: "Check" },
  { id: "preview", label: "Preview" },
  { id: "run", label: "Run now" },
  { id: "history", label: "History" },
];

const root = document.getElementById("app")!;
let info: WorkspaceInfo | null = null;
let prefs: Store | null = null;
let view: { name: "list" } | { name: "sync"; file: string; tab: Tab } = { name: "list" };
/** Live progress of runs started from the app, by file. */
const progress = new Map<string, RunProgress>();
/** Re-renders the open run panel on progress, if one is shown. */
let onProgress: (() => void) | null = null;
/** A run the next Run tab starts at once (History's Retry), by file. */
let pendingRun: string | null = null;

// ---------- shared pieces ----------

function errorBox(e: ApiError): HTMLElement {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", {}, errorTitle(e.code)),
    h("p", {}, e.message),
    h("small", { class: "muted" }, `code: ${e.code}`),
  );
}

function loading(what: string): HTMLElement {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), what);
}

function statusBadge(s: SyncSummary["lastStatus"], running = false): HTMLElement {
  if (running) return h("span", { class: "badge running" }, "Running");
  if (!s) return h("span", { class: "badge none" }, "Never run");
  return h("span", { class: `badge ${s}` }, STATUS_LABEL[s]);
}

function table(headers: string[], rows: (Node | string)[][], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", tabindex: 0 },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

/** Runs `load` and shows loading, then its result or its error, in `el`. */
async function fill<T>(el: HTMLElement, what: string, load: () => Promise<T>, show: (v: T) => Node) {
  clear(el, loading(what));
  try {
    const v = await load();
    clear(el, show(v));
  } catch (e) {
    clear(el, errorBox(toApiError(e)));
  }
}

// ---------- Syncs list ----------

async function trayNotice(): Promise<HTMLElement | null> {
  if (!prefs) return null;
  const seen = await prefs.get<boolean>("trayNoticeDismissed").catch(() => false);
  if (seen) return null;
  const box = h(
    "div",
    { class: "notice", role: "note" },
    h("p", {}, "Closing this window keeps Dropsync running in the tray, so scheduled syncs keep running. Quit from the tray menu."),
  );
  box.append(
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          box.remove();
          await prefs?.set("trayNoticeDismissed", true);
          await prefs?.save();
        },
      },
      "Got it",
    ),
  );
  return box;
}

function syncRow(s: SyncSummary): HTMLElement {
  const open = () => navigate({ name: "sync", file: s.file, tab: "check" });
  if (s.error) {
    return h(
      "tr",
      { class: "broken" },
      h("td", {}, h("button", { type: "button", class: "link", onclick: open }, s.file)),
      h("td", { colspan: 5 }, h("span", { class: "badge failed" }, "Does not load"), " ", s.error),
    );
  }
  return h(
    "tr",
    { "data-testid": `sync-${s.syncId ?? s.file}` },
    h(
      "td",
      {},
      h("button", { type: "button", class: "link", onclick: open, "aria-label": `Open sync ${s.syncId}` }, s.syncId ?? s.file),
      h("div", { class: "muted small" }, s.file, s.model ? ` · model ${s.model}` : ""),
    ),
    h("td", { title: s.mode ? MODE_HELP[s.mode] : "" }, s.mode ?? "–", s.format ? h("span", { class: "muted" }, ` · ${s.format}`) : null),
    h("td", {}, s.destination ?? "–"),
    h("td", {}, s.schedule ?? "–"),
    h(
      "td",
      {},
      s.nextRun ? [formatLocalTime(s.nextRun), h("div", { class: "muted small" }, relativeTime(s.nextRun))] : h("span", { class: "muted" }, "manual"),
    ),
    h(
      "td",
      { "data-testid": "last-status" },
      statusBadge(s.lastStatus, s.running),
      s.lastRun ? h("div", { class: "muted small" }, formatLocalTime(s.lastRun)) : null,
    ),
  );
}

async function renderList() {
  const body = h("div", {});
  const notice = await trayNotice();
  const page = h(
    "main",
    { id: "main" },
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, "Syncs"),
      h("button", { type: "button", onclick: () => render() }, "Refresh"),
    ),
    info ? h("p", { class: "muted small" }, "Workspace: ", h("code", {}, info.workspace), ` · times in ${zoneLabel()}`) : null,
    info?.startupError ? errorBox(info.startupError) : null,
    info?.demoCreated
      ? h("p", { class: "notice" }, "This is a demo workspace: a sample shop database and syncs to a local folder. Try Preview and Run now on any of them.")
      : null,
    notice,
    body,
  );
  clear(root, page);
  await fill(body, "Loading syncs…", api.listSyncs, (syncs) => {
    if (syncs.length === 0) {
      return h(
        "div",
        { class: "empty" },
        h("h2", {}, "No syncs yet"),
        h("p", {}, "A sync is a TOML file in the workspace folder. Put one there (the same file `dropsync run` takes) and it appears here."),
      );
    }
    return syncTable(syncs);
  });
}

function syncTable(syncs: SyncSummary[]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "syncs" },
      h("caption", { class: "sr-only" }, "Syncs in the workspace"),
      h(
        "thead",
        {},
        h("tr", {}, ["Sync", "Mode", "Destination", "Schedule", "Next run", "Last run"].map((x) => h("th", { scope: "col" }, x))),
      ),
      h("tbody", {}, syncs.map(syncRow)),
    ),
  );
}

// ---------- one sync ----------

function renderSync(file: string, tab: Tab) {
  const panel = h("section", { id: "panel", role: "tabpanel", "aria-labelledby": `tab-${tab}`, tabindex: 0 });
  const tabs = h(
    "div",
    { role: "tablist", "aria-label": "Sync views", class: "tabs" },
    TABS.map((t) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          id: `tab-${t.id}`,
          "aria-selected": String(t.id === tab),
          "aria-controls": "panel",
          tabindex: t.id === tab ? 0 : -1,
          onclick: () => navigate({ name: "sync", file, tab: t.id }),
          onkeydown: (e: Event) => {
            const k = (e as KeyboardEvent).key;
            const i = TABS.findIndex((x) => x.id === tab);
            const next = k === "ArrowRight" ? (i + 1) % TABS.length : k === "ArrowLeft" ? (i + TABS.length - 1) % TABS.length : -1;
            if (next >= 0) {
              navigate({ name: "sync", file, tab: TABS[next].id });
              document.getElementById(`tab-${TABS[next].id}`)?.focus();
            }
          },
        },
        t.label,
      ),
    ),
  );
  clear(
    root,
    h(
      "main",
      { id: "main" },
      h("nav", {}, h("button", { type: "button", class: "link", onclick: () => navigate({ name: "list" }) }, "← All syncs")),
      h("header", { class: "page-head" }, h("h1", {}, file)),
      tabs,
      panel,
    ),
  );
  onProgress = null;
  switch (tab) {
    case "check":
      return showCheck(panel, file);
    case "preview":
      return showPreview(panel, file);
    case "run":
      return showRun(panel, file);
    case "history":
      return showHistory(panel, file);
  }
}

function dl(items: [string, Node | string][]): HTMLElement {
  return h("dl", { class: "facts" }, items.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function showCheck(panel: HTMLElement, file: string) {
  void fill(panel, "Checking the sync (reads the model, writes nothing)…", () => api.checkSync(file), (c) =>
    h(
      "div",
      {},
      h("p", { class: "ok" }, "✓ The sync is valid: keys are present and unique, the mapping and the filename resolve."),
      dl([
        ["Source", c.source],
        ["Destination", c.destination],
        ["Rows now", formatCount(c.rows)],
        ["Primary key", c.primary_key.join(", ")],
        ["Files a run writes", h("ul", {}, c.files.map((f) => h("li", {}, h("code", {}, f))))],
        ["Schedule", c.schedule],
        ["Next runs", c.next_runs.length ? c.next_runs.map(formatLocalTime).join(" · ") : "manual"],
        ["Alerts", c.alerts.length ? c.alerts.join(", ") : "none"],
      ]),
      h("h2", {}, "Columns in the files"),
      h("p", {}, c.output_columns.flatMap((name, i) => [i ? ", " : "", h("code", {}, name)])),
      h("h2", {}, "Columns the model returns"),
      table(
        ["Column", "Declared type", "Seen in the data"],
        c.columns.map((col) => [col.name, col.declared_type ?? "–", col.observed_type]),
      ),
    ),
  );
}

function showPreview(panel: HTMLElement, file: string) {
  void fill(panel, "Computing the files a run would write now…", () => api.previewSync(file, 20), (r) => {
    if (r.files.length === 0) return h("p", { class: "empty" }, "A run now would write no files.");
    return h(
      "div",
      {},
      h("p", {}, `A run now would write ${r.files.length} file(s) — ${countsSummary(r)}. Nothing is delivered by a preview.`),
      r.files.map((f) =>
        h(
          "article",
          { class: "file" },
          h(
            "h2",
            {},
            h("code", {}, f.path),
            " ",
            h("span", { class: "muted small" }, `${f.kind} · ${formatCount(f.rows)} rows${f.skipped ? " · skipped (empty)" : ""}`),
          ),
          f.preview
            ? [
                f.preview.rows.length
                  ? table(f.preview.columns, f.preview.rows, `First ${f.preview.rows.length} of ${formatCount(f.rows)} rows`)
                  : h("p", { class: "muted" }, "No rows."),
                h("details", {}, h("summary", {}, "Raw file text"), h("pre", { tabindex: 0 }, f.preview.text)),
              ]
            : null,
        ),
      ),
    );
  });
}

function runResult(r: RunReport): HTMLElement {
  return h(
    "div",
    { class: r.status === "success" ? "ok" : "", "data-testid": "run-result" },
    h("p", {}, statusBadge(r.status), ` Run #${r.run_id}: ${countsSummary(r)} in ${formatDuration(r.started_at, r.finished_at)}.`),
    r.error ? errorBox({ code: (r.error_code as ApiError["code"]) ?? "internal", message: r.error }) : null,
    r.files.length ? table(["File", "Kind", "Rows", "Size"], r.files.map((f) => [f.path, f.kind, formatCount(f.rows), f.skipped ? "skipped" : formatBytes(f.bytes)])) : null,
  );
}

function showRun(panel: HTMLElement, file: string) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Run progress" });
  const label = h("p", { class: "muted", role: "status" });
  const out = h("div", {});
  let expected: number | null = null;
  const runBtn = h("button", { type: "button", class: "primary" }, "Run now");
  const cancelBtn = h("button", { type: "button", disabled: true }, "Cancel");
  const update = () => {
    const p = progress.get(file);
    if (!p) return;
    bar.value = progressFraction(p, expected);
    label.textContent = progressLabel(p);
  };
  onProgress = update;
  runBtn.addEventListener("click", async () => {
    runBtn.disabled = true;
    cancelBtn.disabled = false;
    clear(out);
    bar.value = 0;
    label.textContent = "Starting…";
    // The last run's row count makes the reading stage move.
    expected = await api.syncHistory(file, 1).then((h) => h[0]?.rows.queried ?? null, () => null);
    try {
      const r = await api.runSync(file);
      bar.value = r.status === "success" ? 1 : bar.value;
      label.textContent = r.status === "success" ? "Done." : "The run did not complete; nothing was delivered.";
      clear(out, runResult(r));
    } catch (e) {
      label.textContent = "";
      clear(out, errorBox(toApiError(e)));
    } finally {
      progress.delete(file);
      runBtn.disabled = false;
      cancelBtn.disabled = true;
    }
  });
  cancelBtn.addEventListener("click", async () => {
    cancelBtn.disabled = true;
    label.textContent = "Cancelling…";
    await api.cancelRun(file).catch(() => false);
  });
  clear(
    panel,
    h(
      "div",
      {},
      h("p", {}, "Runs the sync once now: queries the model, writes the files, delivers them, and advances the snapshot only if every file arrived."),
      h("div", { class: "actions" }, runBtn, cancelBtn),
      bar,
      label,
      out,
    ),
  );
  if (pendingRun === file) {
    pendingRun = null;
    runBtn.click();
  }
}

/** Starts a run of `file` the way Run now does, on the Run tab. */
function retryRun(file: string) {
  pendingRun = file;
  navigate({ name: "sync", file, tab: "run" });
  document.getElementById("tab-run")?.focus();
}

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Node[]) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** Rows per run as stacked bars, with the same facts as text for screen readers. */
function historyChart(runs: RunReport[]): HTMLElement {
  const W = 600;
  const H = 120;
  const { bars, max } = barGeometry(runs, { width: W, height: H, gap: 0.3 });
  const summary = chartSummary(runs);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary, preserveAspectRatio: "none" },
    svg("title", {}, document.createTextNode(summary)),
    svg("line", { x1: 0, y1: H, x2: W, y2: H, class: "chart-axis" }),
    ...bars.flatMap((b) =>
      b.segments.map((seg) =>
        svg(
          "rect",
          { x: b.x, y: seg.y, width: b.width, height: seg.height, class: `bar bar-${seg.kind}`, "data-run": b.runId },
          svg("title", {}, document.createTextNode(`Run #${b.runId}: ${formatCount(seg.value)} ${seg.kind}`)),
        ),
      ),
    ),
  );
  return h(
    "figure",
    { class: "chart-box", "data-testid": "history-chart" },
    chart,
    h(
      "figcaption",
      { class: "muted small" },
      `Rows per run, oldest on the left (tallest: ${formatCount(max)}). `,
      ROW_KINDS.map((k) => h("span", { class: "legend" }, h("span", { class: `swatch bar-${k}`, "aria-hidden": "true" }), k)),
    ),
  );
}

/** "Reset snapshot" with an in-page confirmation (Cancel / Reset; Escape cancels). */
function resetControl(file: string): HTMLElement {
  const message = h("div", { role: "status", "data-testid": "reset-message" });
  const start = h("button", { type: "button", "data-testid": "reset-snapshot", "aria-expanded": "false", "aria-controls": "reset-confirm" }, "Reset snapshot…");
  const cancel = h("button", { type: "button", "data-testid": "reset-cancel" }, "Cancel");
  const confirm = h("button", { type: "button", class: "danger", "data-testid": "reset-confirm-button" }, "Reset");
  const box = h(
    "div",
    { id: "reset-confirm", class: "confirm", role: "group", "aria-labelledby": "reset-confirm-text", hidden: true },
    h("p", { id: "reset-confirm-text" }, "Forget the snapshot of this sync? The next run then delivers every row as added. The run history is kept."),
    h("div", { class: "actions" }, cancel, confirm),
  );
  const close = (focusStart: boolean) => {
    box.hidden = true;
    start.setAttribute("aria-expanded", "false");
    start.disabled = false;
    if (focusStart) start.focus();
  };
  start.addEventListener("click", () => {
    clear(message);
    box.hidden = false;
    start.setAttribute("aria-expanded", "true");
    start.disabled = true;
    cancel.focus();
  });
  cancel.addEventListener("click", () => close(true));
  box.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") close(true);
  });
  confirm.addEventListener("click", async () => {
    cancel.disabled = true;
    confirm.disabled = true;
    clear(message, loading("Resetting the snapshot…"));
    try {
      const r = await api.resetSnapshot(file);
      clear(
        message,
        h(
          "p",
          { class: "ok" },
          `✓ Snapshot reset (${formatCount(r.rowsForgotten)} rows forgotten). The next run delivers every row as added.`,
        ),
      );
    } catch (e) {
      clear(message, errorBox(toApiError(e)));
    } finally {
      cancel.disabled = false;
      confirm.disabled = false;
      close(true);
    }
  });
  return h("div", { class: "reset" }, h("div", { class: "actions" }, start), box, message);
}

function showHistory(panel: HTMLElement, file: string) {
  void fill(panel, "Loading history…", () => api.syncHistory(file, 100), (runs) => {
    if (runs.length === 0) return h("div", { class: "empty" }, h("h2", {}, "No runs yet"), h("p", {}, "Use Run now, or wait for the schedule."));
    return h(
      "div",
      {},
      resetControl(file),
      historyChart(runs),
      h("p", { class: "muted small" }, `Times in ${zoneLabel()}; stored in UTC.`),
      table(
        ["Run", "Status", "Started", "Duration", "Added", "Changed", "Removed", "Files", "Error"],
        runs.map((r) => [
          `#${r.run_id}`,
          statusBadge(r.status),
          formatLocalTime(r.started_at),
          formatDuration(r.started_at, r.finished_at),
          formatCount(r.rows.added),
          formatCount(r.rows.changed),
          formatCount(r.rows.removed),
          h("ul", { class: "plain" }, r.files.map((f) => h("li", {}, h("code", {}, f.path), ` ${formatCount(f.rows)} rows, ${f.skipped ? "skipped" : formatBytes(f.bytes)}`))),
          r.error || r.status === "failed"
            ? h(
                "div",
                {},
                r.error ? h("details", {}, h("summary", {}, errorTitle(r.error_code)), h("p", {}, r.error)) : null,
                r.status === "failed"
                  ? h("button", { type: "button", "data-testid": "retry", "aria-label": `Retry run #${r.run_id}`, onclick: () => retryRun(file) }, "Retry")
                  : null,
              )
            : "",
        ]),
      ),
    );
  });
}

// ---------- routing ----------

function navigate(v: typeof view) {
  view = v;
  void render();
}

async function render() {
  if (view.name === "list") {
    onProgress = null;
    await renderList();
  } else {
    renderSync(view.file, view.tab);
  }
}

async function start() {
  clear(root, loading("Starting Dropsync…"));
  try {
    info = await api.workspaceInfo();
  } catch (e) {
    clear(root, errorBox(toApiError(e)));
    return;
  }
  prefs = await load("prefs.json", { autoSave: false, defaults: {} }).catch(() => null);
  await onRunProgress((p) => {
    progress.set(p.file, p);
    onProgress?.();
  });
  await onSyncsChanged(() => {
    if (view.name === "list") void renderList();
  });
  await render();
}

void start();
