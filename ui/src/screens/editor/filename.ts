// The editor's "File name" section: the filename template with its variables,
// the date offset, the name it resolves to now, the files a run writes, and
// the core's non-blocking warnings about the name.

import { insertAt, TEMPLATE_VAR_HELP, TEMPLATE_VARS } from "../../draft";
import { clear, h } from "../../dom";
import { field, uid } from "../../ui";
import type { EditorContext } from "./context";

export function filenameSection(ctx: EditorContext): HTMLElement {
  const { draft, changed } = ctx;
  const fname = h("input", { type: "text", class: "mono wide", value: draft.sync.filename ?? "", "data-testid": "filename-input", placeholder: "empty: the default name (shown below)", spellcheck: "false", autocomplete: "off" });
  fname.addEventListener("input", () => {
    draft.sync.filename = fname.value;
    changed();
  });
  const resolved = h("div", { class: "resolved", "data-testid": "filename-resolved", "aria-live": "polite" });
  const fnameErr = h("div", { class: "field-error", "data-testid": "filename-error", role: "alert" });
  const vars = h(
    "div",
    { class: "vars", role: "group", "aria-label": "Insert a variable" },
    TEMPLATE_VARS.map((v) =>
      h(
        "button",
        {
          type: "button",
          class: "chip var",
          "data-testid": "filename-var",
          "data-var": v,
          title: TEMPLATE_VAR_HELP[v],
          "aria-label": `Insert ${v}: ${TEMPLATE_VAR_HELP[v]}`,
          onclick: () => {
            const r = insertAt(fname.value, fname.selectionStart, fname.selectionEnd, v);
            fname.value = r.text;
            fname.focus();
            fname.setSelectionRange(r.caret, r.caret);
            draft.sync.filename = fname.value;
            changed();
          },
        },
        v,
      ),
    ),
  );
  const offset = h("input", { type: "number", step: 1, class: "short", value: draft.sync.filename_offset ?? "", placeholder: "0", "data-testid": "filename-offset" });
  offset.addEventListener("input", () => {
    draft.sync.filename_offset = offset.value === "" ? undefined : Math.trunc(Number(offset.value));
    changed();
  });
  const planned = h("ul", { class: "plain files", "data-testid": "planned-files" });
  // Warnings from the core that do not block saving: a name that repeats
  // between runs in Insert/Diff mode (with one-click fixes), and an
  // extension that is not the format's.
  const overwriteNote = h("div", { "data-testid": "overwrite-warning", role: "status" });
  const extensionNote = h("div", { "data-testid": "extension-warning", role: "status" });
  const useTemplate = (template: string) => {
    fname.value = template;
    fname.focus();
    draft.sync.filename = template;
    changed();
  };
  ctx.onInspect((i) => {
    clear(resolved, i.filename.resolved ? h("span", {}, "Now: ", h("code", {}, i.filename.resolved)) : null);
    clear(
      overwriteNote,
      i.overwrite_warning
        ? h(
            "p",
            { class: "warn small" },
            `Warning: ${i.overwrite_warning}. `,
            (i.overwrite_fixes ?? []).flatMap((f) => [
              h(
                "button",
                {
                  type: "button",
                  class: "chip var",
                  "data-testid": "overwrite-fix",
                  "data-adds": f.adds,
                  title: `Use ${f.template}`,
                  "aria-label": `Add ${f.adds} to the filename: ${f.template}`,
                  onclick: () => useTemplate(f.template),
                },
                `Add ${f.adds}`,
              ),
              " ",
            ]),
          )
        : null,
    );
    clear(extensionNote, i.extension_warning ? h("p", { class: "warn small" }, `Warning: ${i.extension_warning}.`) : null);
    fnameErr.textContent = i.filename.error ?? "";
    fname.setAttribute("aria-invalid", String(i.filename.error !== null));
    clear(planned, ...i.files.map((f) => h("li", {}, h("code", {}, f))));
    if (i.files.length === 0) planned.append(h("li", { class: "muted" }, "–"));
  });
  const fnameId = uid("fname");
  fname.id = fnameId;
  return ctx.section(
    "filename",
    "File name",
    h("div", { class: "field" }, h("label", { for: fnameId }, "Filename template"), fname, resolved, fnameErr, overwriteNote, extensionNote),
    h("div", { class: "muted small" }, "Click a variable to insert it at the cursor (times are the run's start in UTC plus the offset):"),
    vars,
    field("Offset (seconds)", offset, "Added to the run's start time before the date variables are filled; may be negative (e.g. -86400 for yesterday's date)."),
    h("div", { class: "field" }, h("div", { class: "label" }, "Files a run writes now"), planned),
  );
}
