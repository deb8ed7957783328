// The editor's "Sync" section: the sync id, with a warning when an existing
// sync's id is changed.

import { syncIdChanged } from "../../draft";
import { clear, h } from "../../dom";
import { field } from "../../ui";
import type { EditorContext } from "./context";

export function syncIdSection(ctx: EditorContext): { el: HTMLElement; focus: () => void } {
  const { draft } = ctx;
  const originalId = ctx.file ? (draft.sync.id ?? null) : null;
  const idInput = h("input", { type: "text", class: "mono", value: draft.sync.id ?? "", "data-testid": "draft-sync-id", placeholder: "orders-daily" });
  const idWarn = h("div", { "data-testid": "sync-id-warning", role: "status" });
  idInput.addEventListener("input", () => {
    draft.sync.id = idInput.value.trim() || undefined;
    clear(
      idWarn,
      syncIdChanged(originalId, draft)
        ? h("p", { class: "warn small" }, `The sync id was "${originalId}". A new id starts with a fresh snapshot: the next run delivers every row as new, and the history stays under the old id.`)
        : null,
    );
    ctx.changed();
  });
  const el = ctx.section("general", "Sync", field("Sync id", idInput, "Names the snapshot and the history; letters, digits, - and _."), idWarn);
  return { el, focus: () => idInput.focus() };
}
