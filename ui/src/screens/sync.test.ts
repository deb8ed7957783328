// @vitest-environment happy-dom
// The Syncs list and one sync's Check tab, with the commands mocked.

import { beforeAll, describe, expect, it, vi } from "vitest";
import type { CheckReport, SyncSummary } from "../bindings";
import { $, until } from "../testing/dom";

const mock = vi.hoisted(() => ({
  syncs: [] as unknown[],
  check: null as unknown,
  history: [] as unknown[],
  opened: 0,
}));

vi.mock("../api", () => ({
  api: {
    workspaceInfo: async () => ({ workspace: "/ws", state_dir: "/st", demo_created: false, startup_error: null }),
    listSyncs: async () => mock.syncs,
    checkSync: async () => mock.check,
    loadDraft: async () => {
      throw { code: "not_found", message: "gone" };
    },
    syncHistory: async () => mock.history,
    workspaceModels: async () => [],
    openWorkspaceFolder: async () => {
      mock.opened += 1;
    },
  },
  onRunProgress: async () => () => {},
  onSyncsChanged: async () => () => {},
  onSchedulesPaused: async () => () => {},
  onOpenSync: async () => () => {},
  onOAuthUrl: async () => () => {},
}));

let nav: typeof import("../nav");
let format: typeof import("../format");

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  await import("../main");
  nav = await import("../nav");
  format = await import("../format");
  await until(() => $("nav-syncs"), "the sidebar");
});

describe("Check tab", () => {
  it("shows every next run in local time (not shifted by its position in the list)", async () => {
    const runs = ["2026-03-01T21:15:00Z", "2026-03-01T21:30:00Z", "2026-03-01T21:45:00Z"];
    mock.check = {
      sync_id: "orders",
      source: "sqlite demo.db",
      destination: "folder out",
      columns: [{ name: "id", declared_type: "INTEGER", observed_type: "integer" }],
      output_columns: ["id"],
      primary_key: ["id"],
      rows: 3,
      files: ["out/x.csv"],
      schedule: "every 15m",
      next_runs: runs,
      alerts: [],
      diff_engine: "source: PostgreSQL compares the rows, snapshot in \"dropsync\".\"ds_orders\"",
      warnings: ["a filename that repeats"],
    } satisfies CheckReport;
    nav.navigate({ name: "sync", file: "orders.toml", tab: "check" });
    const list = await until(() => $("check-next-runs"), "the next runs");
    const shown = [...list.querySelectorAll("li")].map((li) => li.textContent ?? "");
    expect(shown).toHaveLength(3);
    expect($("check-warnings")!.textContent).toContain("a filename that repeats");
    expect(document.body.textContent).toContain("PostgreSQL compares the rows");
    runs.forEach((r, i) => expect(shown[i].startsWith(format.formatLocalTime(r))).toBe(true));
    // 15 minutes apart, as the schedule says.
    const minutes = shown.map((s) => Number(/ \d\d:(\d\d):/.exec(s)![1]));
    expect(minutes).toEqual([15, 30, 45]);
  });
});

describe("Syncs list", () => {
  const long: SyncSummary = {
    file: "customers-with-a-rather-long-name-diff.toml",
    sync_id: "customers-with-a-rather-long-name-diff",
    model: "customers",
    mode: "diff",
    format: "csv",
    destination: "folder /home/someone/.local/share/dropsync/workspace/out/customers/diff",
    schedule: "0 0 6 * * *",
    next_run: "2026-03-02T06:00:00Z",
    last_run: "2026-03-01T06:00:00Z",
    last_status: "success",
    running: false,
    error: null,
  };

  it("fits the window: fixed column widths, long destinations shortened with the full text in a tooltip", async () => {
    mock.syncs = [long];
    nav.navigate({ name: "list" });
    const row = await until(() => $(`sync-${long.sync_id}`), "the sync row");
    const table = row.closest("table")!;
    expect(table.classList.contains("syncs")).toBe(true);
    // Column widths are set by a colgroup (table-layout: fixed in style.css), one per header.
    expect(table.querySelectorAll("colgroup col").length).toBe(table.querySelectorAll("thead th").length);
    const dest = row.querySelector<HTMLElement>("[data-testid='sync-destination']")!;
    expect(dest.title).toBe(long.destination);
    expect(dest.textContent!.length).toBeLessThan(long.destination!.length);
    expect(dest.textContent).toContain("customers/diff");
    // The last run's time is in a tooltip as well as on the page.
    const last = $("last-status", row)!;
    expect(last.textContent).toContain("Succeeded");
    expect(last.querySelector("[title]")!.getAttribute("title")).toContain(format.formatLocalTime(long.last_run));
  });
});

describe("History chart", () => {
  const run = (run_id: number, status: string, added: number, mode = "insert") => ({
    run_id,
    sync_id: "orders",
    mode,
    status,
    started_at: `2026-03-0${run_id}T10:00:00Z`,
    finished_at: `2026-03-0${run_id}T10:00:02Z`,
    rows: { queried: added, added: mode === "all" ? 0 : added, changed: 0, removed: 0 },
    files: [],
    error: status === "failed" ? "the source cannot be read" : null,
    error_code: status === "failed" ? "source" : null,
  });

  it("shows small runs next to large ones, empty and failed runs, and numbers each run", async () => {
    mock.history = [run(4, "success", 3), run(3, "failed", 0), run(2, "success", 0), run(1, "success", 12_000)];
    nav.navigate({ name: "sync", file: "orders.toml", tab: "history" });
    const chart = await until(() => $("history-chart"), "the chart");
    expect(chart.dataset.scale).toBe("log");
    expect(chart.textContent).toContain("log scale");
    const groups = [...chart.querySelectorAll<SVGGElement>("g.run")];
    expect(groups.map((g) => g.getAttribute("data-run"))).toEqual(["1", "2", "3", "4"]);
    // Each run is numbered under its bar and has a tooltip with its time and status.
    expect(groups.map((g) => g.querySelector(".chart-label")?.textContent)).toEqual(["#1", "#2", "#3", "#4"]);
    expect(groups[2].querySelector("title")!.textContent).toContain("Run #3 · Failed · ");
    expect(groups[2].querySelector("title")!.textContent).toContain("the source cannot be read");
    // The failed run carries a marker; the empty one a stub; the 3-row run a visible bar with its count.
    expect(groups[2].querySelector(".chart-marker")).not.toBeNull();
    expect(groups[1].querySelector(".bar-stub")).not.toBeNull();
    const small = groups[3].querySelector<SVGRectElement>(".bar-added")!;
    expect(Number(small.getAttribute("height"))).toBeGreaterThan(10);
    expect(groups[3].querySelector(".chart-count")!.textContent).toBe("3");
  });
});

describe("first start", () => {
  it("says what to do next and where the sync files are, and opens that folder", async () => {
    mock.syncs = [];
    nav.navigate({ name: "connections" });
    nav.navigate({ name: "list" });
    const steps = await until(() => $("getting-started"), "the Get started steps");
    expect(steps.textContent).toContain("Try the demo");
    expect(steps.textContent).toContain("Connect Dropbox");
    expect(steps.textContent).toContain("Add your own database");
    expect($("workspace-path")!.textContent).toBe("/ws");
    $("workspace-open")!.click();
    await until(() => mock.opened === 1, "the folder opened");
    $("getting-started-dismiss")!.click();
    expect($("getting-started")).toBeNull();
    nav.navigate({ name: "connections" });
    nav.navigate({ name: "list" });
    await until(() => $("workspace-line"), "the Syncs screen again");
    expect($("getting-started")).toBeNull();
  });
});
