// The sync editor's shell: builds the editor's store and puts the sections
// together, runs the live inspection, shows where its error is, and holds the
// save bar (save, cancel, delete) and the table of contents.

import { api } from "../../api";
import type { ModelEntry } from "../../catalog";
import { alertIndexOf, columnIndexOf, errorSummary, sectionOf, SECTION_LABEL, tidyDraft, type Section } from "../../draft";
import { clear, h } from "../../dom";
import { toApiError } from "../../format";
import { debounce, latestOnly } from "../../latest";
import { navigate } from "../../nav";
import { createStore } from "../../store";
import type { DraftInspection, SyncDraft } from "../../bindings";
import { button, errorBox, guardLeaving, inlineConfirm, loading, uid } from "../../ui";
import { alertsSection } from "./alerts";
import { columnsSection } from "./columns";
import type { EditorContext, EditorState } from "./context";
import { destinationSection } from "./destination";
import { filenameSection } from "./filename";
import { formatSection } from "./format";
import { modeSection } from "./mode";
import { modelSection } from "./model";
import { scheduleSection } from "./schedule";
import { syncIdSection } from "./syncId";

export function buildEditor(main: HTMLElement, file: string | null, draft: SyncDraft, models: ModelEntry[]) {
  // Lives as long as this editor's page: nothing outside it subscribes, so nothing unsubscribes.
  const store = createStore<EditorState>({ inspection: null, dirty: false });
  const onInspect = (fn: (i: DraftInspection) => void) =>
    void store.subscribe((s, prev) => {
      if (s.inspection && s.inspection !== prev.inspection) fn(s.inspection);
    });
  const sectionErrors = new Map<Section, HTMLElement>();
  const sections = new Map<Section, HTMLElement>();

  const inspectStatus = h("span", { class: "muted small", role: "status", "data-testid": "inspect-status" });
  const summary = h("div", { "data-testid": "draft-error", "aria-live": "polite" });
  const saveBtn = h("button", { type: "button", class: "primary", "data-testid": "save-sync", disabled: true }, file ? "Save changes" : "Create sync");
  const saveOut = h("div", { "data-testid": "save-result" });

  const latest = latestOnly();
  const inspectNow = async () => {
    inspectStatus.textContent = "Checking…";
    updateSave();
    try {
      const r = await latest(() => api.inspectDraft(tidyDraft(draft), file));
      if (!r.fresh) return;
      inspectStatus.textContent = "";
      store.set({ inspection: r.value });
    } catch (e) {
      store.set({ inspection: null });
      inspectStatus.textContent = "";
      clear(summary, errorBox(toApiError(e)));
    }
    updateSave();
  };
  const inspectSoon = debounce(() => void inspectNow(), 200);
  const changed = () => {
    store.set({ dirty: true });
    clear(saveOut);
    inspectStatus.textContent = "Checking…";
    inspectSoon();
  };

  function updateSave() {
    const { inspection } = store.get();
    saveBtn.disabled = inspection === null || inspection.error !== null;
    saveBtn.title = inspection?.error ? "Fix the problem shown first" : "";
  }

  // Subscribed before any section, so the sections' own marks come after the slots are cleared.
  onInspect((i) => {
    for (const [, el] of sectionErrors) clear(el);
    for (const [, el] of sections) el.classList.remove("has-error");
    if (i.error) {
      const sec = sectionOf(i.error.field);
      const slot = sectionErrors.get(sec) ?? sectionErrors.get("general")!;
      // Shown once: fields with their own message in place (filename, schedule, a column row, an alert) need no repeat.
      const shownInPlace =
        (sec === "filename" && i.filename.error === i.error.message) ||
        (sec === "schedule" && i.schedule_error === i.error.message) ||
        columnIndexOf(i.error.field) !== null ||
        alertIndexOf(i.error.field) !== null;
      if (!shownInPlace) clear(slot, h("p", { class: "field-error", role: "alert" }, i.error.field ? h("code", {}, i.error.field) : null, i.error.field ? " " : "", i.error.message));
      sections.get(sec)?.classList.add("has-error");
      clear(
        summary,
        h(
          "div",
          { class: "error-summary" },
          h("span", {}, "Cannot save yet: "),
          h(
            "button",
            {
              type: "button",
              class: "link",
              "data-testid": "draft-error-link",
              "data-section": sec,
              onclick: () => {
                const s = sections.get(sec);
                s?.scrollIntoView({ block: "start" });
                s?.querySelector<HTMLElement>("input, select, textarea, button")?.focus();
              },
            },
            errorSummary(i.error),
          ),
        ),
      );
    } else {
      clear(summary, h("p", { class: "ok small" }, "✓ Ready to save."));
    }
    if (i.alert_problems.length > 0) {
      // Not blocking: a run still succeeds without these channels.
      sectionErrors.get("alerts")?.append(
        h(
          "div",
          { class: "warn small", "data-testid": "alert-problems" },
          h("p", {}, "These alerts cannot be sent now (runs still work):"),
          h("ul", {}, i.alert_problems.map((m) => h("li", {}, m))),
        ),
      );
    }
  });

  function section(id: Section, title: string, ...body: (Node | null)[]): HTMLElement {
    const err = h("div", { class: "section-error", "data-testid": `section-error-${id}` });
    sectionErrors.set(id, err);
    const hid = uid("sec");
    const s = h("section", { class: "card editor-section", id: `section-${id}`, "aria-labelledby": hid, "data-section": id }, h("h2", { id: hid }, title), ...body, err);
    sections.set(id, s);
    return s;
  }

  const ctx: EditorContext = { file, draft, store, changed, section, onInspect };
  // Built in page order: the table of contents lists the sections in the order they were made.
  const general = syncIdSection(ctx);
  const body = [
    general.el,
    modelSection(ctx, models),
    modeSection(ctx),
    formatSection(ctx),
    destinationSection(ctx),
    filenameSection(ctx),
    columnsSection(ctx),
    scheduleSection(ctx),
    alertsSection(ctx),
  ];

  // ---------- save / delete ----------
  const save = async () => {
    inspectSoon.flush();
    if (saveBtn.disabled) return;
    saveBtn.disabled = true;
    clear(saveOut, loading("Saving…"));
    try {
      const saved = await api.saveDraft(tidyDraft(draft), file);
      store.set({ dirty: false });
      navigate({ name: "sync", file: saved, tab: "check" });
    } catch (e) {
      clear(saveOut, errorBox(toApiError(e), "save-error"));
      updateSave();
    }
  };
  saveBtn.addEventListener("click", () => void save());
  const cancel = button("Cancel", "editor-cancel", () => navigate(file ? { name: "sync", file, tab: "check" } : { name: "list" }));
  const del = file
    ? inlineConfirm({
        label: "Delete sync…",
        question: `Delete ${file}? The file is removed from the workspace; files already delivered stay where they are.`,
        confirmLabel: "Delete",
        testid: "delete-sync",
        onConfirm: async () => {
          await api.deleteSync(file);
          store.set({ dirty: false });
          navigate({ name: "list" });
        },
      })
    : null;

  const toc = h(
    "nav",
    { class: "toc", "aria-label": "Editor sections" },
    h(
      "ol",
      {},
      [...sections.keys()].map((k) =>
        h("li", {}, h("a", { href: `#section-${k}`, onclick: (e: Event) => { e.preventDefault(); sections.get(k)?.scrollIntoView({ block: "start" }); sections.get(k)?.querySelector<HTMLElement>("input, select, textarea, button")?.focus(); } }, SECTION_LABEL[k])),
      ),
    ),
  );

  clear(
    main,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      h("button", { type: "button", class: "link", "data-testid": "back-to-syncs", onclick: () => navigate({ name: "list" }) }, "← All syncs"),
      file ? [" / ", h("button", { type: "button", class: "link", onclick: () => navigate({ name: "sync", file, tab: "check" }) }, file)] : null,
    ),
    h("header", { class: "page-head" }, h("h1", {}, file ? `Edit ${file}` : "New sync"), inspectStatus),
    toc,
    ...body,
    // Not sticky: nothing may cover a control (WebDriver scrolls a control to the very edge, under any overlay).
    h("div", { class: "savebar" }, summary, h("div", { class: "actions" }, saveBtn, cancel, h("span", { class: "spacer" }), del), saveOut),
  );
  main.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      void save();
    }
  });
  guardLeaving(main, () => store.get().dirty);
  general.focus();
  void inspectNow();
}
