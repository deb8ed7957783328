// One sync: the Check, Preview, Run now and History tabs, and Edit.

import { api } from "../api";
import { clear, h } from "../dom";
import { countsSummary, formatBytes, formatCount, formatDuration, nextRunsLocal, progressFraction, progressLabel, toApiError } from "../format";
import { navigate, type Tab } from "../nav";
import type { ApiError, RunProgress, RunReport } from "../bindings";
import { button, dl, errorBox, fill, page, statusBadge, table } from "../ui";
import { showHistory } from "./history";
import { webUrl } from "../dropboxPath";
import { openExternal } from "../pickers";
import { createStore } from "../store";

const TABS: { id: Tab; label: string }[] = [
  { id: "check", label: "Check" },
  { id: "preview", label: "Preview" },
  { id: "run", label: "Run now" },
  { id: "history", label: "History" },
];

// Outlives the screen: progress events arrive whichever screen is shown.
const state = createStore<{
  /** Live progress of runs started from the app, by file. */
  progress: ReadonlyMap<string, RunProgress>;
  /** A run the next Run tab starts at once (History's Retry), by file. */
  pendingRun: string | null;
  /** Stops the open run panel's progress subscription; null when none is shown. */
  unwatchRun: (() => void) | null;
}>({ progress: new Map(), pendingRun: null, unwatchRun: null });

/** Called for every "run-progress" event. */
export function runProgressed(p: RunProgress): void {
  state.set({ progress: new Map(state.get().progress).set(p.file, p) });
}

/** The run panel stops listening when another screen is shown. */
export function leaveSync(): void {
  state.get().unwatchRun?.();
  state.set({ unwatchRun: null });
}

/** "Open in Dropbox" for a sync delivering to Dropbox (hidden otherwise or while unknown). */
function openDestination(file: string): HTMLElement {
  const slot = h("span", {});
  void api.loadDraft(file).then(
    (d) => {
      if (d.destination.type !== "dropbox") return;
      const url = webUrl(d.destination.path);
      clear(slot, button("Open in Dropbox", "open-in-dropbox", () => void openExternal(url), undefined, { title: url }));
    },
    () => {},
  );
  return slot;
}

export function renderSync(file: string, tab: Tab) {
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
  page(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("button", { type: "button", class: "link", "data-testid": "back-to-syncs", onclick: () => navigate({ name: "list" }) }, "← All syncs")),
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, file),
      h("div", { class: "actions tight" }, openDestination(file), button("Edit", "edit-sync", () => navigate({ name: "editor", file }))),
    ),
    tabs,
    panel,
  );
  leaveSync();
  switch (tab) {
    case "check":
      return showCheck(panel, file);
    case "preview":
      return showPreview(panel, file);
    case "run":
      return showRun(panel, file);
    case "history":
      return showHistory(panel, file, retryRun);
  }
}

function showCheck(panel: HTMLElement, file: string) {
  void fill(panel, "Checking the sync (reads the model, writes nothing)…", () => api.checkSync(file), (c) =>
    h(
      "div",
      {},
      h("p", { class: "ok" }, "✓ The sync is valid: keys are present and unique, the mapping and the filename resolve."),
      c.warnings.length ? h("ul", { class: "warn", "data-testid": "check-warnings" }, c.warnings.map((w) => h("li", {}, w))) : null,
      dl([
        ["Source", c.source],
        ["Destination", c.destination],
        ["Rows now", formatCount(c.rows)],
        ["Primary key", c.primary_key.join(", ")],
        ["Files a run writes", h("ul", {}, c.files.map((f) => h("li", {}, h("code", {}, f))))],
        ["Schedule", c.schedule],
        // (each run through nextRunsLocal: `map(formatLocalTime)` would pass the index as a zone offset)
        ["Next runs", c.next_runs.length ? h("ul", { "data-testid": "check-next-runs" }, nextRunsLocal(c.next_runs).map((t) => h("li", {}, t))) : "manual"],
        ["Alerts", c.alerts.length ? c.alerts.join(", ") : "none"],
        ...(c.diff_engine === "local" ? [] : [["Compared by", c.diff_engine] as [string, string]]),
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
    const p = state.get().progress.get(file);
    if (!p) return;
    bar.value = progressFraction(p.progress, expected);
    label.textContent = progressLabel(p.progress);
  };
  leaveSync();
  // Redrawn on progress only: a Retry or another panel's leaving is no progress.
  const unwatchRun = state.subscribe((s, prev) => {
    if (s.progress !== prev.progress) update();
  });
  state.set({ unwatchRun });
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
      const progress = new Map(state.get().progress);
      progress.delete(file);
      state.set({ progress });
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
  if (state.get().pendingRun === file) {
    state.set({ pendingRun: null });
    runBtn.click();
  }
}

/** Starts a run of `file` the way Run now does, on the Run tab. */
function retryRun(file: string) {
  state.set({ pendingRun: file });
  navigate({ name: "sync", file, tab: "run" });
  document.getElementById("tab-run")?.focus();
}

