// Models: the list (saved in preferences, or used by the workspace's sync
// files) and the model editor (source, SQL, a 100-row run with column types,
// primary key choice and check, save, create a sync from it).

import { api } from "../api";
import { describeSource, hasLocation, mergeModels, mergeSources, slug, sourceKey, sourceName, takesSql, upsert, type ModelEntry, type SavedModel, type SourceEntry } from "../catalog";
import { keyList, keyValue } from "../draft";
import { clear, h } from "../dom";
import { formatCount, toApiError } from "../format";
import { navigate } from "../nav";
import { prefs } from "../prefs";
import type { ColumnInfo, ModelDraft, ModelProbe, SourceDraft } from "../types";
import { busy, button, empty, errorBox, field, fill, guardLeaving, inlineConfirm, loading, option, page } from "../ui";
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
    return h("ul", { class: "cards" }, models.map(modelItem));
  });
}

function modelItem(m: ModelEntry): HTMLElement {
  return h(
    "li",
    { class: "item", "data-testid": "model-item", "data-model-id": m.id },
    h(
      "div",
      { class: "item-main" },
      h("button", { type: "button", class: "link", "data-testid": "model-open", onclick: () => navigate({ name: "model", id: m.id }) }, m.name),
      " ",
      h("code", { class: "muted small" }, m.id),
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
                h("button", { type: "button", class: "link small", "data-testid": "model-used-by", "data-file": u.file, onclick: () => navigate({ name: "sync", file: u.file, tab: "check" }) }, u.syncId ?? u.file),
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
  const entry = id === null ? null : (cat.models.find((m) => m.id === id) ?? null);
  if (id !== null && !entry) {
    clear(main, empty("Model not found", `No model with id "${id}".`), button("All models", "back-to-models", () => navigate({ name: "models" })));
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
        const k = await api.checkPrimaryKey(f.source, sqlOrNull(), f.key);
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
  saveBtn.addEventListener("click", async () => {
    const p = problem();
    if (p) {
      status.className = "field-error";
      status.textContent = p;
      return;
    }
    const m: SavedModel = { id: f.id.trim(), name: f.name.trim(), source: f.source, primary_key: keyValue(f.key) };
    if (takesSql(f.source)) m.sql = f.sql;
    const saved = await prefs.models();
    const rest = entry?.saved && entry.id !== m.id ? saved.filter((x) => x.id !== entry.id) : saved;
    await prefs.setModels(upsert(rest, m, (x) => x.id === m.id));
    dirty = false;
    status.className = "ok";
    status.textContent = `✓ Saved "${m.name}".${entry && entry.usedBy.length ? " Sync files using this model keep their own copy; edit them to use the change." : ""}`;
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
    entry && !entry.saved ? h("p", { class: "notice" }, "This model comes from a sync file. Saving keeps a copy in Dropsync's models; the sync files are not changed.") : null,
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
              await prefs.setModels((await prefs.models()).filter((x) => x.id !== entry.id));
              dirty = false;
              navigate({ name: "models" });
            },
          })
        : null,
    ),
    status,
  );
  (entry ? sql : name).focus();
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
