// @vitest-environment happy-dom
// The Run now tab follows the core's "run-progress" events while it is shown,
// and stops when another screen is.

import { beforeAll, describe, expect, it, vi } from "vitest";
import type { RunProgress, RunReport } from "../bindings";
import { until } from "../testing/dom";

const mock = vi.hoisted(() => ({
  emit: null as ((p: RunProgress) => void) | null,
  finish: null as ((r: RunReport) => void) | null,
}));

vi.mock("../api", () => ({
  api: {
    workspaceInfo: async () => ({ workspace: "/ws", state_dir: "/st", demo_created: false, startup_error: null }),
    listSyncs: async () => [],
    loadDraft: async () => {
      throw { code: "not_found", message: "gone" };
    },
    checkSync: () => new Promise(() => {}),
    syncHistory: async () => [],
    workspaceModels: async () => [],
    runSync: () => new Promise<RunReport>((resolve) => (mock.finish = resolve)),
  },
  onRunProgress: async (f: (p: RunProgress) => void) => {
    mock.emit = f;
    return () => {};
  },
  onSyncsChanged: async () => () => {},
  onSchedulesPaused: async () => () => {},
  onOpenSync: async () => () => {},
  onOAuthUrl: async () => () => {},
}));

let nav: typeof import("../nav");

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  await import("../main");
  nav = await import("../nav");
  await until(() => mock.emit && document.querySelector("[data-testid='nav-syncs']"), "the app");
});

describe("Run now", () => {
  it("shows the progress of its file's run, and stops listening once the screen changes", async () => {
    nav.navigate({ name: "sync", file: "orders.toml", tab: "run" });
    const runBtn = await until(() => [...document.querySelectorAll<HTMLButtonElement>("#panel button")].find((b) => b.textContent === "Run now"), "Run now");
    const label = document.querySelector<HTMLElement>("#panel [role='status']")!;
    runBtn.click();
    await until(() => mock.finish, "the run to start");

    mock.emit!({ file: "other.toml", progress: { stage: "reading", rows: 7 } });
    expect(label.textContent).toBe("Starting…");
    mock.emit!({ file: "orders.toml", progress: { stage: "reading", rows: 5 } });
    expect(label.textContent).toBe("Reading rows: 5");

    nav.navigate({ name: "sync", file: "orders.toml", tab: "check" });
    mock.emit!({ file: "orders.toml", progress: { stage: "writing", file: "orders.csv" } });
    expect(label.textContent).toBe("Reading rows: 5");
  });
});
