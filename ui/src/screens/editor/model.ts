// The editor's "Model" section: which model the sync reads (a saved one, or
// the file's own copy), the note when the file holds an older copy, and the
// model's columns or error from the inspection.

import { describeSource, modelIdOf, sameModel, sourceKey, takesSql, type ModelEntry } from "../../catalog";
import { applyModel, keyList } from "../../draft";
import { clear, h } from "../../dom";
import { navigate } from "../../nav";
import type { ModelDraft, SourceDraft, SyncDraft } from "../../bindings";
import { button, field, option } from "../../ui";
import type { EditorContext } from "./context";

export function modelSection(ctx: EditorContext, models: ModelEntry[]): HTMLElement {
  const { draft, file } = ctx;
  const modelSel = h("select", { "data-testid": "draft-model" });
  const currentId = modelIdOf(draft.model);
  const savedIndex = models.findIndex((m) => m.id === currentId && sameSource(m.source, draft.source));
  // One truth: a file whose model differs from the saved model of the same
  // id and source holds an older (or hand-edited) copy, and says so.
  const olderCopy = file !== null && savedIndex >= 0 && !sameModel(models[savedIndex], draft.model);
  const inList = savedIndex >= 0 && !olderCopy;
  if (!inList)
    modelSel.append(
      option("", `${draft.model.name || "(unnamed)"} — ${olderCopy ? "this file's older copy" : file ? "as in this file" : "suggested"} (${describeSource(draft.source)})`, true),
    );
  models.forEach((m, k) => modelSel.append(option(String(k), `${m.name} (${m.id}) — ${describeSource(m.source)}`, inList && k === savedIndex)));
  const olderNote = h("div", { "data-testid": "draft-model-older", role: "status" });
  if (olderCopy)
    clear(
      olderNote,
      h(
        "p",
        { class: "warn small" },
        `This sync uses an older copy of the model "${models[savedIndex].name}": the saved model has changed since. `,
        button("Use the saved model", "draft-model-update", () => {
          modelSel.value = String(savedIndex);
          modelSel.dispatchEvent(new Event("change"));
          clear(olderNote);
        }),
      ),
    );
  const modelInfo = h("div", { class: "muted small", "data-testid": "draft-model-info" });
  const modelErr = h("div", { "data-testid": "draft-model-error" });
  const showModelInfo = () =>
    clear(modelInfo, h("span", {}, describeSource(draft.source), ` · key ${keyList(draft.model.primary_key).join(", ") || "–"}`));
  showModelInfo();
  const own = { source: draft.source, model: draft.model };
  modelSel.addEventListener("change", () => {
    let next: SyncDraft;
    if (modelSel.value === "") {
      next = applyModel(draft, own.source, own.model);
    } else {
      const m = models[Number(modelSel.value)];
      const md: ModelDraft = { id: m.id, name: m.name, primary_key: m.primary_key };
      if (takesSql(m.source) && m.sql !== undefined) md.sql = m.sql;
      next = applyModel(draft, m.source, md);
    }
    draft.source = next.source;
    draft.model = next.model;
    showModelInfo();
    ctx.changed();
  });
  ctx.onInspect((i) => {
    clear(
      modelErr,
      i.model_error
        ? h("p", { class: "field-error" }, i.model_error)
        : i.model_columns
          ? h("p", { class: "muted small" }, `${i.model_columns.length} columns: `, i.model_columns.map((c) => c.name).join(", "))
          : null,
    );
  });
  return ctx.section(
    "model",
    "Model",
    field("Model", modelSel, h("span", {}, "What the sync reads. ", h("button", { type: "button", class: "link", onclick: () => navigate({ name: "models" }) }, "Write or edit models"))),
    olderNote,
    modelInfo,
    modelErr,
  );
}

function sameSource(a: SourceDraft, b: SourceDraft): boolean {
  return sourceKey(a) === sourceKey(b);
}
