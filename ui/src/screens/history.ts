// A sync's History tab: runs in local time, a rows-per-run chart, Reset
// snapshot and Mark as delivered (each with an inline confirmation) and
// Retry on failed runs.

import { api } from "../api";
import { historyChart } from "../chart";
import { h } from "../dom";
import { errorTitle, formatBytes, formatCount, formatDuration, formatLocalTime, sourceChangeNote, zoneLabel } from "../format";
import type { RunReport } from "../bindings";
import { join, parent, webUrl } from "../dropboxPath";
import { openExternal } from "../pickers";
import { empty, fill, inlineConfirm, statusBadge, table } from "../ui";

/** "Reset snapshot" with an in-page confirmation (Cancel / Reset; Escape cancels). */
function resetControl(file: string): HTMLElement {
  return inlineConfirm({
    label: "Reset snapshot…",
    question: "Forget the snapshot of this sync? The next run then delivers every row as added. The run history is kept.",
    confirmLabel: "Reset",
    testid: "reset-snapshot",
    id: "reset-confirm",
    working: "Resetting the snapshot…",
    onConfirm: async () => {
      const r = await api.resetSnapshot(file, false);
      return h(
        "p",
        { class: "ok" },
        `✓ Snapshot reset (${formatCount(r.rows_forgotten)} rows forgotten). The next run delivers every row as added.`,
      );
    },
  });
}

/** "Mark as delivered": the model's current rows count as delivered, no file is written. */
function markDeliveredControl(file: string): HTMLElement {
  return inlineConfirm({
    label: "Mark as delivered…",
    question:
      "Take the model's current rows as delivered, without writing any file? Use it after fixing files by hand or moving the sync to a new folder: the next run then sends only what changes from now.",
    confirmLabel: "Mark as delivered",
    testid: "mark-delivered",
    id: "mark-delivered-confirm",
    working: "Reading the model…",
    onConfirm: async () => {
      const r = await api.resetSnapshot(file, true);
      return h(
        "p",
        { class: "ok" },
        `✓ ${formatCount(r.rows_marked)} rows taken as delivered; no file was written. The next run sends only what changes from now.`,
      );
    },
  });
}

/** Where a sync delivers in Dropbox, or null (a local folder, or the file does not load). */
async function dropboxFolder(file: string): Promise<string | null> {
  try {
    const d = await api.loadDraft(file);
    return d.destination.type === "dropbox" ? d.destination.path : null;
  } catch {
    return null;
  }
}

/** A delivered file, with a link to its folder on Dropbox when it went there. */
function deliveredFile(f: RunReport["files"][number], folder: string | null): HTMLElement {
  const at = folder === null || f.skipped ? null : parent(join(folder, f.path));
  // A later run wrote the same path: the rows counted here are gone from it.
  const by = f.overwritten_by ?? null;
  const facts = ` ${formatCount(f.rows)} rows, ${f.skipped ? "skipped" : formatBytes(f.bytes)}`;
  return h(
    "li",
    by === null ? {} : { class: "overwritten", "data-testid": "history-file-overwritten" },
    h("code", {}, f.path),
    f.deleted_by_retention ? h("span", { class: "muted small", "data-testid": "history-file-deleted" }, " deleted by retention ") : null,
    by === null
      ? facts
      : [
          " ",
          h("s", { class: "muted", title: "No longer in the file: a later run replaced it" }, facts.trim()),
          " ",
          h("span", { class: "muted" }, `overwritten by run #${by}`),
        ],
    at === null
      ? null
      : [" ", h("button", { type: "button", class: "link small", "data-testid": "history-open-folder", title: webUrl(at), onclick: () => void openExternal(webUrl(at)) }, "Open folder in Dropbox")],
  );
}

/** Rows changed in the synced columns, and in the source when that is more. */
function changedCell(r: RunReport): HTMLElement | string {
  const note = sourceChangeNote(r);
  if (note === null) return formatCount(r.rows.changed);
  return h("span", {}, formatCount(r.rows.changed), h("div", { class: "muted small", "data-testid": "history-source-changed" }, note));
}

export function showHistory(panel: HTMLElement, file: string, retryRun: (file: string) => void) {
  let folder: string | null = null;
  const load = async () => {
    const [runs, f] = await Promise.all([api.syncHistory(file, 100), dropboxFolder(file)]);
    folder = f;
    return runs;
  };
  void fill(panel, "Loading history…", load, (runs) => {
    if (runs.length === 0)
      return h("div", {}, empty("No runs yet", "Use Run now, or wait for the schedule."), markDeliveredControl(file));
    return h(
      "div",
      {},
      h("div", { class: "row" }, resetControl(file), markDeliveredControl(file)),
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
          changedCell(r),
          formatCount(r.rows.removed),
          r.files.length === 0 && r.status === "success" && r.rows.queried > 0
            ? h("span", { class: "muted small" }, "no file written (marked as delivered, or nothing to send)")
            : h("ul", { class: "plain" }, r.files.map((f) => deliveredFile(f, folder))),
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

