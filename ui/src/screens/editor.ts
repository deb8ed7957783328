// The sync editor (new sync or an existing file): model, mode, format,
// destination (Dropbox folder browser or a local folder), filename with its
// live resolution, columns, schedule, alerts. Every fact shown (resolved name,
// files, columns, header, next runs, errors) comes from inspect_draft.

import { api } from "../api";
import { describeSource, mergeModels, modelIdOf, sameModel, sourceKey, takesSql, type ModelEntry } from "../catalog";
import {
  alertIndexOf,
  applyModel,
  columnIndexOf,
  buildSchedule,
  errorSummary,
  insertAt,
  keyList,
  parseSchedule,
  SCHEDULE_UNITS,
  sectionOf,
  SECTION_LABEL,
  suggestSyncId,
  syncIdChanged,
  TEMPLATE_VAR_HELP,
  TEMPLATE_VARS,
  tidyDraft,
  type ScheduleForm,
  type Section,
} from "../draft";
import { clear, h } from "../dom";
import { MODE_HELP, nextRunsLocal, toApiError, zoneLabel } from "../format";
import { debounce, latestOnly } from "../latest";
import { navigate } from "../nav";
import { pathField } from "../pickers";
import { prefs } from "../prefs";
import type { DraftInspection, DropboxAccount, Format, Mode, ModelDraft, SourceDraft, SyncDraft } from "../types";
import { button, empty, errorBox, field, guardLeaving, inlineConfirm, loading, option, page, uid } from "../ui";
import { alertsForm } from "./alertsForm";
import { columnMapper } from "./columnMapper";
import { folderBrowser, type FolderBrowser } from "./folderBrowser";

const MODES: Mode[] = ["all", "insert", "diff"];
const MODE_LINE: Record<Mode, string> = {
  all: "One file with every row, each run.",
  insert: "One file with the rows added since the last run.",
  diff: "Three files: rows added, changed and removed since the last run.",
};
const FORMATS: { id: Format; label: string }[] = [
  { id: "csv", label: "CSV" },
  { id: "json", label: "JSON (one array)" },
  { id: "ndjson", label: "NDJSON (one object per line)" },
];
const DELIMITERS: [string, string][] = [
  [",", "comma ,"],
  [";", "semicolon ;"],
  ["|", "pipe |"],
  ["~", "tilde ~"],
  ["\t", "tab"],
];

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
    draft.sync.id = suggestSyncId(modelIdOf(preset.model), { syncIds: syncs.map((x) => x.syncId), files: syncs.map((x) => x.file) });
  }
  buildEditor(main, file, draft, models);
}

function buildEditor(main: HTMLElement, file: string | null, draft: SyncDraft, models: ModelEntry[]) {
  const originalId = file ? (draft.sync.id ?? null) : null;
  let dirty = false;
  let inspection: DraftInspection | null = null;
  const listeners: ((i: DraftInspection) => void)[] = [];
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
      inspection = r.value;
      inspectStatus.textContent = "";
      showInspection(r.value);
    } catch (e) {
      inspection = null;
      inspectStatus.textContent = "";
      clear(summary, errorBox(toApiError(e)));
    }
    updateSave();
  };
  const inspectSoon = debounce(() => void inspectNow(), 200);
  const changed = () => {
    dirty = true;
    clear(saveOut);
    inspectStatus.textContent = "Checking…";
    inspectSoon();
  };

  function updateSave() {
    saveBtn.disabled = inspection === null || inspection.error !== null;
    saveBtn.title = inspection?.error ? "Fix the problem shown first" : "";
  }

  function showInspection(i: DraftInspection) {
    for (const [, el] of sectionErrors) clear(el);
    for (const [, el] of sections) el.classList.remove("has-error");
    if (i.error) {
      const sec = sectionOf(i.error.field);
      const slot = sectionErrors.get(sec) ?? sectionErrors.get("general")!;
      // Shown once: fields with their own message in place (filename, schedule, a column row, an alert) need no repeat.
      const shownInPlace =
        (sec === "filename" && i.filename.error === i.error.message) ||
        (sec === "schedule" && i.scheduleError === i.error.message) ||
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
    if (i.alertProblems.length > 0) {
      // Not blocking: a run still succeeds without these channels.
      sectionErrors.get("alerts")?.append(
        h(
          "div",
          { class: "warn small", "data-testid": "alert-problems" },
          h("p", {}, "These alerts cannot be sent now (runs still work):"),
          h("ul", {}, i.alertProblems.map((m) => h("li", {}, m))),
        ),
      );
    }
    for (const l of listeners) l(i);
  }

  function section(id: Section, title: string, ...body: (Node | null)[]): HTMLElement {
    const err = h("div", { class: "section-error", "data-testid": `section-error-${id}` });
    sectionErrors.set(id, err);
    const hid = uid("sec");
    const s = h("section", { class: "card editor-section", id: `section-${id}`, "aria-labelledby": hid, "data-section": id }, h("h2", { id: hid }, title), ...body, err);
    sections.set(id, s);
    return s;
  }

  // ---------- general ----------
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
    changed();
  });
  const general = section("general", "Sync", field("Sync id", idInput, "Names the snapshot and the history; letters, digits, - and _."), idWarn);

  // ---------- model ----------
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
    changed();
  });
  listeners.push((i) => {
    clear(
      modelErr,
      i.modelError
        ? h("p", { class: "field-error" }, i.modelError)
        : i.modelColumns
          ? h("p", { class: "muted small" }, `${i.modelColumns.length} columns: `, i.modelColumns.map((c) => c.name).join(", "))
          : null,
    );
  });
  const modelSec = section(
    "model",
    "Model",
    field("Model", modelSel, h("span", {}, "What the sync reads. ", h("button", { type: "button", class: "link", onclick: () => navigate({ name: "models" }) }, "Write or edit models"))),
    olderNote,
    modelInfo,
    modelErr,
  );

  // ---------- mode ----------
  const modeName = uid("mode");
  const modeSec = section(
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
          changed();
        });
        return h("label", { class: "check block", title: MODE_HELP[m] }, r, " ", h("strong", {}, m[0].toUpperCase() + m.slice(1)), h("span", { class: "muted" }, ` — ${MODE_LINE[m]}`));
      }),
    ),
  );

  // ---------- format ----------
  const formatSel = h("select", { "data-testid": "draft-format" }, FORMATS.map((f) => option(f.id, f.label, (draft.sync.format ?? "csv") === f.id)));
  const csvBox = h("div", {});
  const showCsv = () => {
    if ((draft.sync.format ?? "csv") !== "csv") {
      clear(csvBox);
      return;
    }
    const csv = (draft.sync.csv ??= {});
    const delim = h("select", { "data-testid": "csv-delimiter" }, DELIMITERS.map(([v, l]) => option(v, l, (csv.delimiter ?? ",") === v)));
    delim.addEventListener("change", () => {
      csv.delimiter = delim.value;
      changed();
    });
    const header = h("input", { type: "checkbox", checked: csv.header !== false, "data-testid": "csv-header" });
    header.addEventListener("change", () => {
      csv.header = header.checked;
      changed();
    });
    const bom = h("input", { type: "checkbox", checked: csv.bom === true, "data-testid": "csv-bom" });
    bom.addEventListener("change", () => {
      csv.bom = bom.checked;
      changed();
    });
    clear(
      csvBox,
      h(
        "div",
        { class: "row wrap" },
        field("Delimiter", delim),
        h("label", { class: "check" }, header, " Header row"),
        h("label", { class: "check", title: "Some spreadsheet programs need it to read UTF-8" }, bom, " Byte order mark (BOM)"),
      ),
    );
  };
  showCsv();
  formatSel.addEventListener("change", () => {
    draft.sync.format = formatSel.value as Format;
    showCsv();
    changed();
  });
  const skip = h("input", { type: "checkbox", checked: draft.sync.skip_empty_files === true, "data-testid": "skip-empty-files" });
  skip.addEventListener("change", () => {
    draft.sync.skip_empty_files = skip.checked || undefined;
    changed();
  });
  const formatSec = section(
    "format",
    "Format",
    field("File format", formatSel),
    csvBox,
    h("label", { class: "check" }, skip, " Skip empty files (a run with no rows for a file writes nothing for it)"),
  );

  // ---------- destination ----------
  const destSec = destinationSection(draft, changed, section, listeners);

  // ---------- filename ----------
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
  listeners.push((i) => {
    clear(resolved, i.filename.resolved ? h("span", {}, "Now: ", h("code", {}, i.filename.resolved)) : null);
    clear(
      overwriteNote,
      i.overwriteWarning
        ? h(
            "p",
            { class: "warn small" },
            `Warning: ${i.overwriteWarning}. `,
            (i.overwriteFixes ?? []).flatMap((f) => [
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
    clear(extensionNote, i.extensionWarning ? h("p", { class: "warn small" }, `Warning: ${i.extensionWarning}.`) : null);
    fnameErr.textContent = i.filename.error ?? "";
    fname.setAttribute("aria-invalid", String(i.filename.error !== null));
    clear(planned, ...i.files.map((f) => h("li", {}, h("code", {}, f))));
    if (i.files.length === 0) planned.append(h("li", { class: "muted" }, "–"));
  });
  const fnameId = uid("fname");
  fname.id = fnameId;
  const filenameSec = section(
    "filename",
    "File name",
    h("div", { class: "field" }, h("label", { for: fnameId }, "Filename template"), fname, resolved, fnameErr, overwriteNote, extensionNote),
    h("div", { class: "muted small" }, "Click a variable to insert it at the cursor (times are the run's start in UTC plus the offset):"),
    vars,
    field("Offset (seconds)", offset, "Added to the run's start time before the date variables are filled; may be negative (e.g. -86400 for yesterday's date)."),
    h("div", { class: "field" }, h("div", { class: "label" }, "Files a run writes now"), planned),
  );

  // ---------- columns ----------
  const mapper = columnMapper(draft, changed);
  listeners.push(mapper.onInspect);
  const columnsSec = section("columns", "Columns", mapper.el);

  // ---------- schedule ----------
  const scheduleSec = scheduleSection(draft, changed, section, listeners);

  // ---------- alerts ----------
  const alerts = alertsForm(draft, changed);
  listeners.push(alerts.onInspect);
  const alertsSec = section("alerts", "Alerts", alerts.el);

  // ---------- save / delete ----------
  const save = async () => {
    inspectSoon.flush();
    if (saveBtn.disabled) return;
    saveBtn.disabled = true;
    clear(saveOut, loading("Saving…"));
    try {
      const saved = await api.saveDraft(tidyDraft(draft), file);
      dirty = false;
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
          dirty = false;
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
    general,
    modelSec,
    modeSec,
    formatSec,
    destSec,
    filenameSec,
    columnsSec,
    scheduleSec,
    alertsSec,
    // Not sticky: nothing may cover a control (WebDriver scrolls a control to the very edge, under any overlay).
    h("div", { class: "savebar" }, summary, h("div", { class: "actions" }, saveBtn, cancel, h("span", { class: "spacer" }), del), saveOut),
  );
  main.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      void save();
    }
  });
  guardLeaving(main, () => dirty);
  idInput.focus();
  void inspectNow();
}

function sameSource(a: SourceDraft, b: SourceDraft): boolean {
  return sourceKey(a) === sourceKey(b);
}

type SectionFn = (id: Section, title: string, ...body: (Node | null)[]) => HTMLElement;

// ---------- destination ----------

function destinationSection(draft: SyncDraft, changed: () => void, section: SectionFn, listeners: ((i: DraftInspection) => void)[]): HTMLElement {
  const name = uid("dest");
  const kindBox = h("div", {});
  // Valid but not deliverable now (a missing folder, no account): say so, offer the fix.
  const note = h("div", { "data-testid": "dest-warning", role: "status" });
  listeners.push((i) => {
    if (!i.destinationError) {
      clear(note);
      return;
    }
    const create = i.missingFolder
      ? button("Create folder", "dest-create-folder", async () => {
          try {
            await api.createLocalFolder(draft.destination.path);
            changed();
          } catch (e) {
            clear(note, errorBox(toApiError(e)));
          }
        })
      : null;
    clear(note, h("p", { class: "warn small" }, i.destinationError, " ", create));
  });
  // Remember each kind's path so switching back and forth loses nothing.
  const paths: Record<"folder" | "dropbox", string> = { folder: "", dropbox: "/" };
  paths[draft.destination.type] = draft.destination.path;
  const radio = (t: "dropbox" | "folder", label: string) => {
    const r = h("input", { type: "radio", name, value: t, checked: draft.destination.type === t, "data-testid": `dest-type-${t}` });
    r.addEventListener("change", () => {
      paths[draft.destination.type] = draft.destination.path;
      draft.destination.type = t;
      draft.destination.path = paths[t];
      show();
      changed();
    });
    return h("label", { class: "check" }, r, " ", label);
  };

  function show() {
    if (draft.destination.type === "folder") {
      const p = pathField({
        label: "Local folder",
        value: draft.destination.path,
        testid: "dest-folder-path",
        directory: true,
        placeholder: "/home/me/exports or exports (relative to the workspace)",
        onChange: (v) => {
          draft.destination.path = v;
          changed();
        },
      });
      clear(kindBox, p.el);
    } else {
      clear(kindBox, dropboxPart(draft, changed));
    }
  }
  show();
  return section(
    "destination",
    "Destination",
    h("fieldset", { class: "radios" }, h("legend", { class: "sr-only" }, "Destination type"), radio("dropbox", "Dropbox"), radio("folder", "Local folder")),
    kindBox,
    note,
  );
}

function dropboxPart(draft: SyncDraft, changed: () => void): HTMLElement {
  const box = h("div", {}, loading("Loading Dropbox accounts…"));
  const chosen = h("p", { class: "chosen", "data-testid": "dest-dropbox-path" });
  const showChosen = () => clear(chosen, "Files go to ", h("code", {}, draft.destination.path || "/"), " in Dropbox.");
  showChosen();
  void api.dropboxAccounts().then(
    (accounts) => {
      if (accounts.length === 0) {
        clear(
          box,
          empty(
            "No Dropbox account connected",
            "Connect one under Connections, or deliver to a local folder (the demo does).",
            h("p", {}, button("Open Connections", "goto-connections", () => navigate({ name: "connections" }), "primary")),
          ),
        );
        return;
      }
      const sel = h("select", { "data-testid": "dest-dropbox-account" });
      const fill = (list: DropboxAccount[]) => {
        const cur = draft.destination.account;
        if (cur && !list.some((a) => a.email === cur || a.accountId === cur)) sel.append(option(cur, `${cur} (not connected)`, true));
        for (const a of list) {
          sel.append(option(a.email, `${a.name || a.email} <${a.email}>${a.state === "connected" ? "" : ` — ${a.state === "reconnect_needed" ? "reconnect needed" : "unreachable"}`}`, cur === a.email || cur === a.accountId));
        }
      };
      fill(accounts);
      if (!draft.destination.account) draft.destination.account = accounts[0].email;
      let browser: FolderBrowser | null = null;
      sel.addEventListener("change", () => {
        draft.destination.account = sel.value;
        changed();
        browser?.reload();
      });
      browser = folderBrowser({
        account: () => draft.destination.account ?? null,
        initial: draft.destination.path || "/",
        onUse: (p) => {
          draft.destination.path = p;
          showChosen();
          changed();
        },
      });
      clear(box, field("Account", sel), chosen, browser.el);
      browser.reload();
    },
    (e) => clear(box, errorBox(toApiError(e))),
  );
  return box;
}

// ---------- schedule ----------

function scheduleSection(draft: SyncDraft, changed: () => void, section: SectionFn, listeners: ((i: DraftInspection) => void)[]): HTMLElement {
  let form: ScheduleForm = parseSchedule(draft.sync.schedule);
  // Each kind's values are kept while the user switches between kinds.
  const every = { n: form.kind === "every" ? form.n : 15, unit: form.kind === "every" ? form.unit : ("m" as const) };
  let cron = form.kind === "cron" ? form.expr : "0 0 6 * * *";
  const kindSel = h(
    "select",
    { "data-testid": "schedule-kind" },
    option("manual", "Manual (only when you press Run now)", form.kind === "manual"),
    option("every", "Every…", form.kind === "every"),
    option("cron", "Cron expression", form.kind === "cron"),
  );
  const detail = h("div", {});
  const runs = h("ul", { class: "plain", "data-testid": "next-runs" });
  const err = h("div", { class: "field-error", "data-testid": "schedule-error", role: "alert" });
  const apply = () => {
    draft.sync.schedule = buildSchedule(form);
    if (form.kind !== "every") delete draft.sync.schedule_start;
    changed();
  };
  function show() {
    if (form.kind === "every") {
      const n = h("input", { type: "number", min: 1, step: 1, value: every.n, class: "short", "data-testid": "schedule-every-n", "aria-label": "Every how many" });
      const unit = h("select", { "data-testid": "schedule-every-unit", "aria-label": "Unit" }, SCHEDULE_UNITS.map((u) => option(u.unit, u.label, u.unit === every.unit)));
      const upd = () => {
        every.n = Number(n.value);
        every.unit = unit.value as typeof every.unit;
        form = { kind: "every", n: every.n, unit: every.unit };
        apply();
      };
      n.addEventListener("input", upd);
      unit.addEventListener("change", upd);
      const start = h("input", { type: "text", class: "mono", value: draft.sync.schedule_start ?? "", placeholder: "2024-01-01T06:00:00Z", "data-testid": "schedule-start" });
      start.addEventListener("input", () => {
        draft.sync.schedule_start = start.value.trim() || undefined;
        changed();
      });
      clear(
        detail,
        h("div", { class: "row" }, h("span", {}, "Every"), n, unit),
        field("Anchored at (optional)", start, "Runs fall on this instant plus whole intervals; by default midnight UTC, 1970-01-01."),
      );
    } else if (form.kind === "cron") {
      const c = h("input", { type: "text", class: "mono", value: cron, "data-testid": "schedule-cron", spellcheck: "false" });
      c.addEventListener("input", () => {
        cron = c.value;
        form = { kind: "cron", expr: cron };
        apply();
      });
      clear(detail, field("Cron (6 fields, UTC)", c, "second minute hour day-of-month month day-of-week, e.g. 0 0 6 * * Mon-Fri = 06:00 UTC on weekdays."));
    } else {
      clear(detail);
    }
  }
  kindSel.addEventListener("change", () => {
    const k = kindSel.value as ScheduleForm["kind"];
    form = k === "manual" ? { kind: "manual" } : k === "every" ? { kind: "every", n: every.n, unit: every.unit } : { kind: "cron", expr: cron };
    show();
    apply();
  });
  show();
  listeners.push((i) => {
    err.textContent = i.scheduleError ?? "";
    clear(runs, ...nextRunsLocal(i.nextRuns).map((t) => h("li", {}, t)));
    if (i.nextRuns.length === 0 && !i.scheduleError) runs.append(h("li", { class: "muted" }, form.kind === "manual" ? "Runs only when you press Run now." : "–"));
  });
  return section(
    "schedule",
    "Schedule",
    field("When", kindSel),
    detail,
    err,
    h("div", { class: "field" }, h("div", { class: "label" }, `Next runs (your time, ${zoneLabel()})`), runs),
  );
}
