// Dropsync's UI: starts the app and shows the screen `nav.ts` says.
// Screens live in screens/*; all engine facts come from the core's commands.

import { api, onOpenSync, onRunProgress, onSchedulesPaused, onSyncsChanged } from "./api";
import { clear } from "./dom";
import { toApiError } from "./format";
import { currentView, navigate, setRenderer, type View } from "./nav";
import { openPrefs } from "./prefs";
import { renderConnections } from "./screens/connections";
import { renderEditor } from "./screens/editor";
import { renderModelEditor, renderModels } from "./screens/models";
import { leaveSync, renderSync, runProgressed } from "./screens/sync";
import { renderSyncs } from "./screens/syncs";
import { createStore } from "./store";
import type { WorkspaceInfo } from "./bindings";
import { errorBox, loading, root } from "./ui";

const app = createStore<{
  info: WorkspaceInfo | null;
  /** Set once the first screen is rendering: events before it change nothing. */
  started: boolean;
}>({ info: null, started: false });

async function render(v: View) {
  leaveSync();
  switch (v.name) {
    case "list":
      return renderSyncs(app.get().info);
    case "sync":
      return renderSync(v.file, v.tab);
    case "editor":
      return renderEditor(v.file, v.preset);
    case "models":
      return renderModels();
    case "model":
      return renderModelEditor(v.id);
    case "connections":
      return renderConnections();
  }
}

async function start() {
  clear(root, loading("Starting Dropsync…"));
  // Startup's calls are independent round trips to the Rust side: sent
  // together, not one after another, they put the first screen up sooner.
  const infoCall = api.workspaceInfo();
  const setup = Promise.all([
    openPrefs(),
    onRunProgress(runProgressed),
    onSyncsChanged(() => {
      if (app.get().started && currentView().name === "list") void render(currentView());
    }),
    onSchedulesPaused(() => {
      if (app.get().started && currentView().name === "list") void render(currentView());
    }),
    onOpenSync((file) => navigate({ name: "sync", file, tab: "history" })),
  ]);
  try {
    app.set({ info: await infoCall });
  } catch (e) {
    setup.catch(() => undefined);
    clear(root, errorBox(toApiError(e)));
    return;
  }
  await setup;
  setRenderer(render);
  app.set({ started: true });
  await render(currentView());
}

void start();
