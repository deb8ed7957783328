// The Syncs screen: every sync file of the workspace with its mode,
// destination, schedule, next run and last status.

import { h } from "../dom";
import { formatLocalTime, MODE_HELP, relativeTime, toApiError, zoneLabel } from "../format";
import { currentView, navigate, refresh } from "../nav";
import { prefs } from "../prefs";
import type { SyncSummary, WorkspaceInfo } from "../bindings";
import { api } from "../api";
import { pickFolder } from "../pickers";
import { busy, button, empty, errorBox, fill, page, statusBadge } from "../ui";

async function trayNotice(): Promise<HTMLElement | null> {
  const seen = await prefs.trayNoticeDismissed().catch(() => false);
  if (seen) return null;
  const box = h(
    "div",
    { class: "notice", role: "note" },
    h("p", {}, "Closing this window keeps Dropsync running in the tray, so scheduled syncs keep running. Quit from the tray menu."),
  );
  box.append(
    button("Got it", "tray-notice-dismiss", async () => {
      box.remove();
      await prefs.dismissTrayNotice();
    }),
  );
  return box;
}

/** Where the sync files live, with Open (file manager) and Change (a folder of the user's). */
function workspaceLine(info: WorkspaceInfo): HTMLElement {
  const problem = h("span", { class: "warn small", role: "alert" });
  const change = button("Change…", "workspace-change", async () => {
    const dir = await pickFolder().catch(() => null);
    if (!dir) return;
    problem.textContent = "";
    await busy(change, "Restarting…", () => api.chooseWorkspace(dir)).catch((e) => {
      problem.textContent = toApiError(e).message;
    });
  }, "link");
  return h(
    "p",
    { class: "muted small workspace-line", "data-testid": "workspace-line" },
    "Sync files are in ",
    h("code", { "data-testid": "workspace-path" }, info.workspace),
    " ",
    button("Open folder", "workspace-open", () => void api.openWorkspaceFolder().catch((e) => (problem.textContent = toApiError(e).message)), "link"),
    " · ",
    change,
    ` · times in ${zoneLabel()} `,
    problem,
  );
}

/** What to do next on a fresh install: the demo, Dropbox, one's own database. Shown until put away. */
async function gettingStarted(info: WorkspaceInfo): Promise<HTMLElement | null> {
  if (await prefs.gettingStartedDismissed().catch(() => false)) return null;
  const box = h(
    "section",
    { class: "card getting-started", "data-testid": "getting-started", "aria-labelledby": "gs-h" },
    h("div", { class: "section-head" }, h("h2", { id: "gs-h" }, "Get started")),
    h(
      "ol",
      { class: "steps" },
      h(
        "li",
        {},
        h("strong", {}, "Try the demo. "),
        info.demo_created
          ? "This is a demo workspace: the syncs below read a sample shop database and write to a local folder. Open one and press Preview, then Run now."
          : "Open a sync below and press Preview to see its files exactly as a run writes them, then Run now.",
      ),
      h(
        "li",
        {},
        h("strong", {}, "Connect Dropbox. "),
        "Under ",
        button("Connections", "getting-started-connections", () => navigate({ name: "connections" }), "link"),
        ", set up Dropbox access once; then a sync can deliver to any Dropbox folder.",
      ),
      h(
        "li",
        {},
        h("strong", {}, "Add your own database. "),
        "Add a SQLite, CSV, PostgreSQL or MySQL source under Connections, write a query under ",
        button("Models", "getting-started-models", () => navigate({ name: "models" }), "link"),
        ", then press New sync.",
      ),
    ),
  );
  box.querySelector(".section-head")!.append(
    button("Hide", "getting-started-dismiss", async () => {
      box.remove();
      await prefs.dismissGettingStarted();
    }),
  );
  return box;
}

/**
 * A destination short enough for its column: "folder /home/me/…/out/diff" ->
 * "folder …/out/diff": the last path parts that fit in `max` characters (at
 * least the last one). The full text goes in a tooltip.
 */
export function shortDestination(d: string, max = 24): string {
  if (d.length <= max) return d;
  const sp = d.indexOf(" ");
  const kind = sp < 0 ? "" : d.slice(0, sp + 1);
  const path = sp < 0 ? d : d.slice(sp + 1);
  const sep = path.includes("\\") && !path.includes("/") ? "\\" : "/";
  const parts = path.split(sep).filter((p) => p !== "");
  let tail = parts.pop() ?? "";
  while (parts.length && `${kind}…${sep}${parts[parts.length - 1]}${sep}${tail}`.length <= max) tail = `${parts.pop()}${sep}${tail}`;
  return parts.length ? `${kind}…${sep}${tail}` : d;
}

/** A time for a narrow column: the local time, how far away in the line below, the zone in a tooltip. */
function when(iso: string): Node[] {
  const local = formatLocalTime(iso);
  const rel = relativeTime(iso);
  return [
    h("span", { class: "when", title: `${local} (${zoneLabel()})${rel ? `, ${rel}` : ""}` }, local),
    rel ? h("div", { class: "muted small" }, rel) : null,
  ].filter((x): x is HTMLElement => x !== null);
}

function syncRow(s: SyncSummary): HTMLElement {
  const open = () => navigate({ name: "sync", file: s.file, tab: "check" });
  if (s.error) {
    return h(
      "tr",
      { class: "broken", "data-testid": `sync-file-${s.file}` },
      h("td", { class: "name" }, h("button", { type: "button", class: "link", onclick: open, title: s.file }, s.file)),
      h(
        "td",
        { colspan: 5 },
        h("span", { class: "badge failed" }, "Does not load"),
        " ",
        s.error,
        " ",
        h("button", { type: "button", class: "link", onclick: () => navigate({ name: "editor", file: s.file }) }, "Edit"),
      ),
    );
  }
  const about = `${s.file}${s.model ? ` · model ${s.model}` : ""}`;
  return h(
    "tr",
    { "data-testid": `sync-${s.sync_id ?? s.file}` },
    h(
      "td",
      { class: "name" },
      h("button", { type: "button", class: "link", onclick: open, "aria-label": `Open sync ${s.sync_id}`, title: s.sync_id ?? s.file }, s.sync_id ?? s.file),
      h("div", { class: "muted small clip", title: about }, s.file),
      s.model ? h("div", { class: "muted small clip", title: about }, `model ${s.model}`) : null,
    ),
    h("td", { title: s.mode ? MODE_HELP[s.mode] : "" }, s.mode ?? "–", s.format ? h("div", { class: "muted small" }, s.format) : null),
    h(
      "td",
      {},
      s.destination
        ? h("div", { class: "clip", title: s.destination, "data-testid": "sync-destination" }, shortDestination(s.destination))
        : "–",
    ),
    h("td", { title: s.schedule ?? "" }, s.schedule ?? "–"),
    h("td", {}, s.next_run ? when(s.next_run) : h("span", { class: "muted" }, "manual")),
    h(
      "td",
      { "data-testid": "last-status" },
      statusBadge(s.last_status, s.running),
      s.last_run ? h("div", { class: "small" }, when(s.last_run)) : null,
    ),
  );
}

/** Column widths (percent) of the Syncs table, which is laid out fixed so it never outgrows the window. */
const COLUMNS: [string, number][] = [
  ["Sync", 23],
  ["Mode", 9],
  ["Destination", 24],
  ["Schedule", 12],
  ["Next run", 16],
  ["Last run", 16],
];

function syncTable(syncs: SyncSummary[]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "syncs" },
      h("caption", { class: "sr-only" }, "Syncs in the workspace"),
      h("colgroup", {}, COLUMNS.map(([, w]) => h("col", { style: `width: ${w}%` }))),
      h(
        "thead",
        {},
        h("tr", {}, COLUMNS.map(([x]) => h("th", { scope: "col" }, x))),
      ),
      h("tbody", {}, syncs.map(syncRow)),
    ),
  );
}

export async function renderSyncs(info: WorkspaceInfo | null): Promise<void> {
  const body = h("div", {});
  const notice = await trayNotice();
  const paused = await prefs.schedulesPaused().catch(() => false);
  // The user may have opened another screen meanwhile.
  if (currentView().name !== "list") return;
  page(
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, "Syncs"),
      h(
        "div",
        { class: "actions tight" },
        button("Refresh", "syncs-refresh", refresh),
        button("New sync", "new-sync", () => navigate({ name: "editor", file: null }), "primary"),
      ),
    ),
    info ? workspaceLine(info) : null,
    info ? await gettingStarted(info) : null,
    info?.startup_error ? errorBox(info.startup_error) : null,
    notice,
    paused
      ? h("p", { class: "warn", role: "status", "data-testid": "schedules-paused" }, "Schedules are paused: scheduled syncs do not run until you resume them from the tray menu. Run now still works.")
      : null,
    body,
  );
  await fill(body, "Loading syncs…", api.listSyncs, (syncs) => {
    if (syncs.length === 0) {
      return empty(
        "No syncs yet",
        "A sync sends a model's rows to Dropbox or a folder as CSV or JSON, on demand or on a schedule.",
        h("p", {}, button("Create your first sync", "new-sync-empty", () => navigate({ name: "editor", file: null }), "primary")),
      );
    }
    return syncTable(syncs);
  });
}
