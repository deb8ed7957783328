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
import type { WorkspaceInfo } from "./types";
import { errorBox, loading, root } from "./ui";

let info: WorkspaceInfo | null = null;

async function render(v: View) {
  leaveSync();
  switch (v.name) {
    case "list":
      return renderSyncs(info);
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
  try {
    info = await api.workspaceInfo();
  } catch (e) {
    clear(root, errorBox(toApiError(e)));
    return;
  }
  await openPrefs();
  await onRunProgress(runProgressed);
  await onSyncsChanged(() => {
    if (currentView().name === "list") void render(currentView());
  });
  await onSchedulesPaused(() => {
    if (currentView().name === "list") void render(currentView());
  });
  await onOpenSync((file) => navigate({ name: "sync", file, tab: "history" }));
  setRenderer(render);
  await render(currentView());
}

void start();
