// Models: the list (saved in preferences, or used by the workspace's sync
// files) and the model editor (source, SQL, a 100-row run with column types,
// primary key choice and check, save, create a sync from it).

import { api } from "../api";
import { describeSource, freeModelId, guessKey, hasLocation, mergeModels, mergeSources, modelIdOf, modelKey, sharedIds, slug, sourceKey, sourceName, takesSql, upsert, type ModelEntry, type ModelUse, type SavedModel, type SourceEntry } from "../catalog";
import { keyList, keyValue } from "../draft";
import { clear, h } from "../dom";
import { formatCount, toApiError } from "../format";
import { navigate } from "../nav";
import { prefs } from "../prefs";
import type { ColumnInfo, ModelDraft, ModelProbe, SourceDraft } from "../bindings";
import { busy, button, empty, errorBox, field, fill, guardLeaving, inlineConfirm, loading, option, page } from "../ui";
import { fileSourceProblem } from "../sourceCheck";
import { sourceForm } from "./connections";

async function catalog(): Promise<{ models: ModelEntry[]; sources: SourceEntry[] }> {
  const [savedModels, savedSources, ws] = await Promise.all([
    prefs.models(),
    prefs.sources(),
    api.workspaceModels().catch(() => []),
  ]);
  return { models: mergeModels(savedModels, ws), sources: mergeSources(savedSources, ws) };
}

function toDraft(m: ModelEntry | SavedModel): ModelDraft {
  const d: ModelDraft = { id: m.id, name: m.name, primary_key: m.primary_key };
  if (takesSql(m.source) && m.sql !== undefined) d.sql = m.sql;
  return d;
}

export async function renderModels(): Promise<void> {
  const body = h("div", {});
  page(
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, "Models"),
      button("New model", "model-new", () => navigate({ name: "model", id: null }), "primary"),
    ),
    h("p", { class: "muted small" }, "A model is a query (or a CSV file) and its primary key: what a sync reads. Models saved here and those used by the workspace's sync files are listed."),
    body,
  );
  await fill(body, "Loading models…", catalog, ({ models }) => {
    if (models.length === 0) {
      return empty(
        "No models yet",
        "Write a query against a source, run it to see its rows and column types, choose the primary key, and save it.",
        h("p", {}, button("Write a model", "model-new-empty", () => navigate({ name: "model", id: null }), "primary")),
      );
    }
    const shared = sharedIds(models);
    return h("ul", { class: "cards" }, models.map((m) => modelItem(m, shared.has(m.id))));
  });
}

/** `shared`: another model (on another source) has the same id. */
function modelItem(m: ModelEntry, shared = false): HTMLElement {
  return h(
    "li",
    { class: "item", "data-testid": "model-item", "data-model-id": m.id, "data-model-key": m.key },
    h(
      "div",
      { class: "item-main" },
      // The view's id is the model's key: the same id may name models on two databases.
      h("button", { type: "button", class: "link", "data-testid": "model-open", onclick: () => navigate({ name: "model", id: m.key }) }, m.name),
      " ",
      h("code", { class: "muted small" }, m.id),
      " ",
      h(
        "span",
        { class: shared ? "chip warn" : "chip", "data-testid": "model-database", title: shared ? `Another database has a model with the id "${m.id}" too; this one reads ${describeSource(m.source)}.` : describeSource(m.source) },
        `on ${sourceName(m.source)}`,
      ),
      h("div", { class: "muted small mono" }, describeSource(m.source), ` · key ${keyList(m.primary_key).join(", ") || "–"}`),
      h(
        "div",
        { class: "muted small" },
        m.saved ? "Saved in Dropsync" : "From the workspace",
        m.usedBy.length
          ? [
              " · used by ",
              ...m.usedBy.flatMap((u, i) => [
                i ? ", " : "",
                h("button", { type: "button", class: "link small", "data-testid": "model-used-by", "data-file": u.file, onclick: () => navigate({ name: "sync", file: u.file, tab: "check" }) }, u.sync_id ?? u.file),
                u.differs && m.saved ? h("span", { class: "warn", title: "This sync file has its own, older copy of the model. Open the model to update it." }, " (older copy)") : null,
              ]),
            ]
          : " · not used by any sync",
      ),
    ),
    h(
      "div",
      { class: "item-actions" },
      button("Create sync", "model-item-create-sync", () =>
        navigate({ name: "editor", file: null, preset: { source: m.source, model: toDraft(m) } }),
      ),
    ),
  );
}

// ---------- the model editor ----------

interface ModelForm {
  id: string;
  idEdited: boolean;
  name: string;
  source: SourceDraft;
  sql: string;
  key: string[];
}

export async function renderModelEditor(id: string | null): Promise<void> {
  const main = page(h("p", {}, loading("Loading the model…")));
  let cat: { models: ModelEntry[]; sources: SourceEntry[] };
  try {
    cat = await catalog();
  } catch (e) {
    clear(main, errorBox(toApiError(e)));
    return;
  }
  // Another screen was opened while this one loaded.
  if (!main.isConnected) return;
  // By key (source + id); an id alone (older links) opens the first model of that id.
  let entry = id === null ? null : (cat.models.find((m) => m.key === id) ?? cat.models.find((m) => m.id === id) ?? null);
  if (id !== null && !entry) {
    clear(main, empty("Model not found", `No model with id "${id.slice(id.lastIndexOf("#") + 1)}".`), button("All models", "back-to-models", () => navigate({ name: "models" })));
    return;
  }
  const first = cat.sources[0]?.source ?? { type: "sqlite" as const, path: "" };
  const f: ModelForm = entry
    ? { id: entry.id, idEdited: true, name: entry.name, source: { ...entry.source }, sql: entry.sql ?? "", key: keyList(entry.primary_key) }
    : { id: "", idEdited: false, name: "", source: { ...first }, sql: "", key: [] };
  let dirty = false;
  const touch = () => {
    dirty = true;
    status.textContent = "";
  };
  guardLeaving(main, () => dirty);

  // Source: a known source, or one typed here.
  const sourceSel = h("select", { "data-testid": "model-source" });
  const known = cat.sources.slice();
  if (!known.some((s) => sourceKey(s.source) === sourceKey(f.source)) && hasLocation(f.source)) {
    known.push({ name: sourceName(f.source), source: f.source, saved: false, usedBy: [] });
  }
  const customBox = h("div", {});
  const fillSources = () => {
    clear(
      sourceSel,
      ...known.map((s, i) => option(String(i), `${s.name} — ${describeSource(s.source)}`, sourceKey(s.source) === sourceKey(f.source))),
      option("custom", "Another source…", false),
    );
  };
  fillSources();
  const sqlBox = h("div", {});
  sourceSel.addEventListener("change", () => {
    touch();
    if (sourceSel.value === "custom") {
      clear(customBox, sourceForm({ initial: { name: "", source: { type: "sqlite", path: "" } }, noName: true, onChange: (s) => {
        f.source = s;
        showSql();
      } }));
      f.source = { type: "sqlite", path: "" };
    } else {
      clear(customBox);
      f.source = { ...known[Number(sourceSel.value)].source };
    }
    showSql();
  });

  const name = h("input", { type: "text", value: f.name, "data-testid": "model-name", placeholder: "e.g. Customers" });
  const idInput = h("input", { type: "text", value: f.id, class: "mono", "data-testid": "model-id", placeholder: "customers" });
  name.addEventListener("input", () => {
    touch();
    f.name = name.value;
    if (!f.idEdited) idInput.value = f.id = slug(name.value);
  });
  idInput.addEventListener("input", () => {
    touch();
    f.id = idInput.value.trim();
    f.idEdited = true;
  });

  const sql = h("textarea", { class: "sql", rows: 10, spellcheck: "false", "data-testid": "model-sql", placeholder: "select * from customers" }, f.sql) as HTMLTextAreaElement;
  sql.value = f.sql;
  sql.addEventListener("input", () => {
    touch();
    f.sql = sql.value;
  });
  sql.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runBtn.click();
    }
  });
  const runBtn = h("button", { type: "button", class: "primary", "data-testid": "model-run" }, "Run");
  const results = h("div", { "data-testid": "model-results", "aria-live": "polite" });
  const keyBox = h("div", { "data-testid": "model-key" });
  const keyResult = h("div", { "data-testid": "key-result", role: "status" });
  const checkBtn = h("button", { type: "button", "data-testid": "model-check-key" }, "Check key");
  let columns: ColumnInfo[] | null = null;
  /** Key columns preselected from the probe, and why, shown as such until changed. */
  let guessed: { key: string[]; why: string } | null = null;
  /** The last key check: for which source, SQL and key, and its answer. */
  let lastCheck: { sig: string; ok: boolean; message: string | null } | null = null;
  const checkSig = () => JSON.stringify([sourceKey(f.source), sqlOrNull(), f.key]);

  function showSql() {
    clear(
      sqlBox,
      !takesSql(f.source)
        ? h("p", { class: "muted" }, "A CSV source takes no query: the model's rows are the file's rows. Run shows them.")
        : field("SQL", sql, "Ctrl+Enter (⌘+Enter) runs it."),
    );
  }
  showSql();

  function showKey() {
    if (!columns) {
      clear(
        keyBox,
        h("p", { class: "muted small" }, f.key.length ? `Key: ${f.key.join(", ")}. ` : "No key chosen. ", "Run the query to choose the key from its columns."),
      );
      return;
    }
    clear(
      keyBox,
      h(
        "fieldset",
        { class: "keys" },
        h("legend", {}, "Primary key (one or more columns that identify a row)"),
        columns.map((c) => {
          const box = h("input", { type: "checkbox", value: c.name, checked: f.key.includes(c.name), "data-testid": `model-key-${c.name}` });
          box.addEventListener("change", () => {
            touch();
            f.key = columns!.map((x) => x.name).filter((n) => n === c.name ? box.checked : f.key.includes(n));
            clear(keyResult);
          });
          return h("label", { class: "check" }, box, " ", c.name);
        }),
      ),
      guessed !== null && f.key.join("\u0000") === guessed.key.join("\u0000")
        ? h(
            "p",
            { class: "muted small", "data-testid": "model-key-guess" },
            `Preselected ${guessed.key.join(", ")}: ${guessed.why}. Check key confirms it over every row.`,
          )
        : null,
    );
  }
  showKey();

  const sqlOrNull = () => (takesSql(f.source) ? f.sql : null);

  runBtn.addEventListener("click", () =>
    void busy(runBtn, "Running…", async () => {
      clear(results, loading("Running the query (first 100 rows)…"));
      try {
        const p = await api.probeModel(f.source, sqlOrNull(), 100);
        columns = p.columns;
        f.key = f.key.filter((k) => p.columns.some((c) => c.name === k));
        // No key chosen yet: preselect a declared integer id column, for the user to confirm.
        guessed = null;
        if (f.key.length === 0) {
          // The table's declared primary key first; else a likely id column.
          const declared = p.columns.filter((c) => c.primary_key).map((c) => c.name);
          const g = guessKey(p.columns, p.rows);
          if (declared.length > 0) {
            f.key = declared;
            guessed = { key: declared, why: "the table declares it its primary key" };
          } else if (g !== null) {
            f.key = [g];
            guessed = { key: [g], why: "declared as an integer, named like a key, and unique in the rows shown" };
          }
        }
        clear(results, probeTable(p));
      } catch (e) {
        columns = null;
        clear(results, errorBox(toApiError(e), "model-error"));
      }
      showKey();
    }),
  );
  checkBtn.addEventListener("click", () => {
    if (f.key.length === 0) {
      clear(keyResult, h("p", { class: "field-error" }, "Choose at least one key column first."));
      return;
    }
    void busy(checkBtn, "Checking every row…", async () => {
      clear(keyResult, loading("Checking the key over every row…"));
      try {
        const sig = checkSig();
        const k = await api.checkPrimaryKey(f.source, sqlOrNull(), f.key);
        lastCheck = { sig, ok: k.ok, message: k.message };
        clear(
          keyResult,
          h(
            "div",
            { class: k.ok ? "ok" : "error", "data-ok": String(k.ok) },
            h("p", {}, k.ok ? `✓ The key (${f.key.join(", ")}) is present and unique${k.rows !== null ? ` in all ${formatCount(k.rows)} rows` : ""}.` : `✗ The key (${f.key.join(", ")}) is not usable.`),
            k.message ? h("p", { class: "pre" }, k.message) : null,
          ),
        );
      } catch (e) {
        clear(keyResult, errorBox(toApiError(e)));
      }
    });
  });

  const status = h("p", { role: "status", "data-testid": "model-status" });
  const problem = (): string | null => {
    if (!f.name.trim()) return "Give the model a name.";
    if (!f.id.trim()) return "Give the model an id.";
    if (!hasLocation(f.source)) return "Choose a source.";
    if (takesSql(f.source) && !f.sql.trim()) return "Write the SQL query.";
    if (f.key.length === 0) return "Choose the primary key (run the query, then tick its columns).";
    return null;
  };
  const saveBtn = h("button", { type: "button", class: "primary", "data-testid": "model-save" }, "Save model");
  const uses = h("div", { "data-testid": "model-uses", "aria-live": "polite" });

  // Saving despite a problem asks in place first (Escape or Cancel closes, focus returns to Save).
  const question = h("div", { "data-testid": "model-save-question-text" });
  const askCancel = h("button", { type: "button", "data-testid": "model-save-cancel" }, "Cancel");
  const askConfirm = h("button", { type: "button", class: "danger", "data-testid": "model-save-confirm" }, "Save anyway");
  const ask = h(
    "div",
    { class: "confirm", role: "group", "aria-label": "Save the model anyway?", hidden: true, "data-testid": "model-save-question" },
    question,
    h("div", { class: "actions" }, askCancel, askConfirm),
  );
  const closeAsk = () => {
    ask.hidden = true;
    saveBtn.disabled = false;
    saveBtn.focus();
  };
  askCancel.addEventListener("click", closeAsk);
  ask.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") {
      e.stopPropagation();
      closeAsk();
    }
  });
  askConfirm.addEventListener("click", () => {
    ask.hidden = true;
    saveBtn.disabled = false;
    void save();
  });

  const fail = (text: string, ...extra: Node[]) => {
    status.className = "field-error";
    clear(status, text, ...extra);
  };

  /** Writes the model to the saved models, then says which sync files use it. */
  async function save(): Promise<void> {
    const m: SavedModel = { id: f.id.trim(), name: f.name.trim(), source: f.source, primary_key: keyValue(f.key) };
    if (takesSql(f.source)) m.sql = f.sql;
    const key = modelKey(m);
    // Another model on this source with this id would be taken over: ask for a free id instead.
    const fresh = await catalog().catch(() => cat);
    if (fresh.models.some((x) => x.key === key && x.key !== entry?.key)) {
      const free = freeModelId(m.id, m.source, fresh.models, entry?.key);
      fail(
        `${sourceName(m.source)} already has a model with the id "${m.id}". Choose another id, e.g. "${free}". `,
        button(`Use "${free}"`, "model-use-free-id", () => {
          idInput.value = f.id = free;
          f.idEdited = true;
          touch();
          idInput.focus();
        }, "link"),
      );
      return;
    }
    const saved = await prefs.models();
    const rest = entry?.saved && entry.key !== key ? saved.filter((x) => modelKey(x) !== entry!.key) : saved;
    await prefs.setModels(upsert(rest, m, (x) => modelKey(x) === key));
    dirty = false;
    status.className = "ok";
    clear(status, `✓ Saved "${m.name}" (on ${sourceName(m.source)}).`);
    const after = await catalog().catch(() => null);
    entry = after?.models.find((x) => x.key === key) ?? entry;
    clear(uses, after && entry ? usesPanel(m, entry.usedBy) : null);
  }

  saveBtn.addEventListener("click", () => {
    const p = problem();
    if (p) {
      fail(p);
      return;
    }
    void busy(saveBtn, "Saving…", async () => {
      const worries: string[] = [];
      if (lastCheck && !lastCheck.ok && lastCheck.sig === checkSig()) {
        worries.push(`The key check failed: the key (${f.key.join(", ")}) is not present and unique in every row${lastCheck.message ? ` (${lastCheck.message})` : ""}. Syncs using this model will fail until it is.`);
      }
      const src = await fileSourceProblem(f.source);
      if (src) worries.push(`The source cannot be opened now: ${src}`);
      if (worries.length === 0) return save();
      clear(question, ...worries.map((w) => h("p", {}, w)), h("p", {}, "Save the model anyway?"));
      ask.hidden = false;
      askCancel.focus();
    }).then(() => {
      // busy() re-enables Save; keep it disabled while the question is open.
      if (!ask.hidden) saveBtn.disabled = true;
    });
  });
  const createSync = button("Create sync from this model", "model-create-sync", () => {
    const p = problem();
    if (p) {
      status.className = "field-error";
      status.textContent = p;
      return;
    }
    const d: ModelDraft = { id: f.id.trim(), name: f.name.trim(), primary_key: keyValue(f.key) };
    if (takesSql(f.source)) d.sql = f.sql;
    dirty = false;
    navigate({ name: "editor", file: null, preset: { source: f.source, model: d } });
  });

  clear(
    main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("button", { type: "button", class: "link", "data-testid": "back-to-models", onclick: () => navigate({ name: "models" }) }, "← All models")),
    h("header", { class: "page-head" }, h("h1", {}, entry ? entry.name : "New model")),
    entry && !entry.saved
      ? h("p", { class: "notice" }, "This model comes from a sync file. Saving keeps a copy in Dropsync's models; you can then update the sync files that use it.")
      : null,
    h(
      "section",
      { class: "card" },
      h("div", { class: "grid2" }, field("Name", name), field("Id", idInput, "Used in file names ({model.id}); letters, digits, - and _.")),
      field("Source", sourceSel, "Sources are managed under Connections."),
      customBox,
      sqlBox,
      h("div", { class: "actions" }, runBtn),
      results,
    ),
    h("section", { class: "card" }, h("h2", {}, "Primary key"), keyBox, h("div", { class: "actions" }, checkBtn), keyResult),
    h(
      "div",
      { class: "actions" },
      saveBtn,
      createSync,
      entry?.saved
        ? inlineConfirm({
            label: "Remove",
            question: `Remove "${entry.name}" from the saved models? Sync files are not changed.`,
            confirmLabel: "Remove",
            testid: "model-remove",
            onConfirm: async () => {
              const key = entry!.key;
              await prefs.setModels((await prefs.models()).filter((x) => modelKey(x) !== key));
              dirty = false;
              navigate({ name: "models" });
            },
          })
        : null,
    ),
    ask,
    status,
    uses,
  );
  // A saved model some sync files hold an older copy of: offer to update them now.
  if (entry?.saved && entry.usedBy.some((u) => u.differs)) {
    const m: SavedModel = { id: entry.id, name: entry.name, source: entry.source, primary_key: entry.primary_key };
    if (entry.sql !== undefined) m.sql = entry.sql;
    clear(uses, usesPanel(m, entry.usedBy));
  }
  (entry ? sql : name).focus();
}

/**
 * Which sync files use the model, and for those holding an older copy of it
 * "Update these syncs": each file gets this model through the editor's
 * draft commands (load, replace the model, save: the core validates it) and
 * is checked again; what fails is said per file.
 */
function usesPanel(model: SavedModel, uses: ModelUse[]): HTMLElement | null {
  if (uses.length === 0) return null;
  const stale = uses.filter((u) => u.differs);
  const results = h("ul", { class: "plain update-results", "data-testid": "model-update-results" });
  const summary = h("p", { role: "status", "data-testid": "model-update-summary" });
  const update = h("button", { type: "button", class: "primary", "data-testid": "model-update-syncs" }, stale.length === 1 ? "Update this sync" : "Update these syncs");
  update.addEventListener("click", () =>
    void busy(update, "Updating…", async () => {
      clear(results);
      clear(summary);
      let good = 0;
      for (const u of stale) {
        const line = h("li", { "data-testid": "model-update-result", "data-file": u.file }, loading(`Updating ${u.sync_id ?? u.file}…`));
        results.append(line);
        const outcome = await updateSync(model, u.file);
        line.dataset.ok = String(outcome.ok);
        clear(
          line,
          h("span", { class: outcome.ok ? "ok" : "field-error" }, outcome.ok ? "✓ " : "✗ "),
          h("button", { type: "button", class: "link", onclick: () => navigate({ name: "sync", file: u.file, tab: "check" }) }, u.sync_id ?? u.file),
          `: ${outcome.text}`,
        );
        if (outcome.ok) good++;
      }
      summary.className = good === stale.length ? "ok" : "field-error";
      summary.textContent =
        good === stale.length
          ? `✓ Updated ${good === 1 ? "the sync" : `all ${good} syncs`} to this model; ${good === 1 ? "its check passes" : "their checks pass"}.`
          : `${stale.length - good} of ${stale.length} could not be updated or fail their check; see below.`;
      if (good === stale.length) update.remove();
    }),
  );
  return h(
    "div",
    { class: stale.length ? "card uses stale" : "card uses" },
    h(
      "p",
      {},
      "Used by: ",
      uses.flatMap((u, i) => [
        i ? ", " : "",
        h("button", { type: "button", class: "link", "data-testid": "model-use", "data-file": u.file, "data-differs": String(u.differs), onclick: () => navigate({ name: "sync", file: u.file, tab: "check" }) }, u.sync_id ?? u.file),
        u.differs ? h("span", { class: "warn" }, " (older copy)") : null,
      ]),
    ),
    stale.length
      ? [
          h(
            "p",
            {},
            stale.length === uses.length
              ? `${stale.length === 1 ? "This sync file keeps its own copy" : "These sync files keep their own copies"} of the model, which differ${stale.length === 1 ? "s" : ""} from the one saved here. `
              : `${stale.length} of them keep${stale.length === 1 ? "s" : ""} an older copy of the model. `,
            "Updating writes this model into each file and checks the sync again (nothing runs).",
          ),
          h("div", { class: "actions" }, update),
        ]
      : h("p", { class: "muted small" }, "They use this version of the model."),
    summary,
    results,
  );
}

/** Writes `model` into the sync file (keeping its source) and checks the sync. */
async function updateSync(model: SavedModel, file: string): Promise<{ ok: boolean; text: string }> {
  let d;
  try {
    d = await api.loadDraft(file);
  } catch (e) {
    return { ok: false, text: `not updated: ${toApiError(e).message}` };
  }
  if (modelKey({ id: modelIdOf(d.model), source: d.source }) !== modelKey(model)) {
    return { ok: false, text: "not updated: the file now uses another model." };
  }
  const md: ModelDraft = { id: model.id, name: model.name, primary_key: model.primary_key };
  if (takesSql(d.source) && model.sql !== undefined) md.sql = model.sql;
  d.model = md;
  try {
    await api.saveDraft(d, file);
  } catch (e) {
    return { ok: false, text: `not updated: ${toApiError(e).message}` };
  }
  try {
    await api.checkSync(file);
  } catch (e) {
    return { ok: false, text: `updated, but its check fails: ${toApiError(e).message}` };
  }
  return { ok: true, text: "updated; the check passes." };
}

function probeTable(p: ModelProbe): HTMLElement {
  if (p.columns.length === 0) return h("p", { class: "muted" }, "The query returned no columns.");
  return h(
    "div",
    {},
    h(
      "div",
      { class: "table-wrap results", tabindex: 0 },
      h(
        "table",
        {},
        h("caption", {}, p.rows.length === 0 ? "No rows." : `First ${p.rows.length} rows`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            p.columns.map((c) =>
              h(
                "th",
                { scope: "col", "data-column": c.name },
                c.name,
                h("div", { class: "coltype", "data-testid": "column-type" }, c.declared_type ? `${c.declared_type} / ${c.observed_type}` : c.observed_type),
              ),
            ),
          ),
        ),
        h("tbody", {}, p.rows.map((r) => h("tr", {}, r.map((v) => h("td", { class: v === null ? "null" : null }, v === null ? "NULL" : v))))),
      ),
    ),
    p.more ? h("p", { class: "muted small", "data-testid": "model-more" }, "More rows exist; only the first ones are shown.") : null,
  );
}
