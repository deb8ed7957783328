// The sync editor (new sync or an existing file): loads the draft and the
// models, then hands them to the shell (shell.ts), which assembles one module
// per section: sync id, model, mode, format, destination (Dropbox folder
// browser or a local folder), file name with its live resolution, columns,
// schedule, alerts. Every fact shown (resolved name, files, columns, header,
// next runs, errors) comes from inspect_draft.

import { api } from "../../api";
import { mergeModels, modelIdOf, type ModelEntry } from "../../catalog";
import { applyModel, suggestSyncId } from "../../draft";
import { clear, h } from "../../dom";
import { toApiError } from "../../format";
import { navigate } from "../../nav";
import { prefs } from "../../prefs";
import type { ModelDraft, SourceDraft, SyncDraft } from "../../bindings";
import { button, errorBox, loading, page } from "../../ui";
import { buildEditor } from "./shell";

export async function renderEditor(file: string | null, preset?: { source: SourceDraft; model: ModelDraft }): Promise<void> {
  const main = page(
    h("header", { class: "page-head" }, h("h1", {}, file ? `Edit ${file}` : "New sync")),
    loading(file ? "Loading the sync file…" : "Preparing a new sync…"),
  );
  let draft: SyncDraft;
  let models: ModelEntry[] = [];
  try {
    const [d, savedModels, ws] = await Promise.all([
      file ? api.loadDraft(file) : api.newDraft(),
      prefs.models(),
      api.workspaceModels().catch(() => []),
    ]);
    draft = d;
    models = mergeModels(savedModels, ws);
  } catch (e) {
    if (!main.isConnected) return;
    clear(
      main,
      h("header", { class: "page-head" }, h("h1", {}, file ? `Edit ${file}` : "New sync")),
      errorBox(toApiError(e)),
      button("← All syncs", "back-to-syncs", () => navigate({ name: "list" })),
    );
    return;
  }
  // Another screen was opened while this one loaded.
  if (!main.isConnected) return;
  if (preset) {
    draft = applyModel(draft, preset.source, preset.model);
    // A sync made from a model is named after it (a free id; the core still checks it).
    const syncs = await api.listSyncs().catch(() => []);
    if (!main.isConnected) return;
    draft.sync.id = suggestSyncId(modelIdOf(preset.model), { syncIds: syncs.map((x) => x.sync_id), files: syncs.map((x) => x.file) });
  }
  buildEditor(main, file, draft, models);
}
