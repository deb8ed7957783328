// The editor's "Mode" section: All, Insert or Diff, each with its one-line
// description.

import { h } from "../../dom";
import { MODE_HELP } from "../../format";
import type { Mode } from "../../bindings";
import { uid } from "../../ui";
import type { EditorContext } from "./context";

const MODES: Mode[] = ["all", "insert", "diff"];
const MODE_LINE: Record<Mode, string> = {
  all: "One file with every row, each run.",
  insert: "One file with the rows added since the last run.",
  diff: "Three files: rows added, changed and removed since the last run.",
};

export function modeSection(ctx: EditorContext): HTMLElement {
  const { draft } = ctx;
  const modeName = uid("mode");
  return ctx.section(
    "mode",
    "Mode",
    h(
      "fieldset",
      { class: "radios" },
      h("legend", { class: "sr-only" }, "Mode"),
      MODES.map((m) => {
        const r = h("input", { type: "radio", name: modeName, value: m, checked: draft.sync.mode === m, "data-testid": `draft-mode-${m}` });
        r.addEventListener("change", () => {
          draft.sync.mode = m;
          ctx.changed();
        });
        return h("label", { class: "check block", title: MODE_HELP[m] }, r, " ", h("strong", {}, m[0].toUpperCase() + m.slice(1)), h("span", { class: "muted" }, ` — ${MODE_LINE[m]}`));
      }),
    ),
  );
}
