// Connections: Dropbox accounts (connect, reconnect, disconnect) and data
// sources (saved in preferences or used by sync files; add, edit, test).

import { api, onOAuthUrl } from "../api";
import { canonicalType, describeSource, isDatabase, mergeSources, sourceKey, upsert, urlHasPassword, type SavedSource, type SourceEntry } from "../catalog";
import { clear, h } from "../dom";
import { toApiError } from "../format";
import { copyText, openExternal, pathField } from "../pickers";
import { prefs } from "../prefs";
import type { DropboxAccount, SourceDraft } from "../types";
import { busy, button, empty, errorBox, field, fill, inlineConfirm, loading, option, page } from "../ui";

const STATE_LABEL: Record<DropboxAccount["state"], string> = {
  connected: "Connected",
  reconnect_needed: "Reconnect needed",
  unreachable: "Unreachable",
};

export async function renderConnections(): Promise<void> {
  const accounts = h("div", { "data-testid": "dropbox-accounts" });
  const connectArea = h("div", {});
  const sources = h("div", { "data-testid": "sources" });
  const reloadAccounts = () => showAccounts(accounts, connectArea, reloadAccounts);
  const reloadSources = () => showSources(sources, reloadSources);
  page(
    h("header", { class: "page-head" }, h("h1", {}, "Connections")),
    h(
      "section",
      { class: "card", "aria-labelledby": "dbx-h" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "dbx-h" }, "Dropbox accounts"),
        button("Connect Dropbox", "dropbox-connect", () => connect(connectArea, reloadAccounts), "primary"),
      ),
      connectArea,
      accounts,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "src-h" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "src-h" }, "Sources"),
        button("Add source", "source-add", () => editSource(sources, null, reloadSources)),
      ),
      h("p", { class: "muted small" }, "SQLite databases, CSV files and PostgreSQL or MySQL servers models read from. Relative paths are relative to the workspace folder; server passwords come from an environment variable or the OS credential store."),
      sources,
    ),
  );
  void reloadAccounts();
  void reloadSources();
}

// ---------- Dropbox ----------

async function showAccounts(el: HTMLElement, connectArea: HTMLElement, reload: () => void) {
  await fill(el, "Loading Dropbox accounts…", api.dropboxAccounts, (list) => {
    if (list.length === 0) {
      return empty(
        "No Dropbox account connected",
        "The demo syncs write to a local folder, so everything works without an account. Connect Dropbox to deliver files there; Dropsync keeps the access in the system keyring (or a private file when there is none).",
      );
    }
    return h("ul", { class: "cards" }, list.map((a) => accountItem(a, connectArea, reload)));
  });
}

function accountItem(a: DropboxAccount, connectArea: HTMLElement, reload: () => void): HTMLElement {
  return h(
    "li",
    { class: "item", "data-testid": "dropbox-account", "data-account-id": a.accountId, "data-state": a.state },
    h(
      "div",
      { class: "item-main" },
      h("strong", {}, a.name || a.email),
      " ",
      h("span", { class: `badge state-${a.state}`, "data-testid": "dropbox-account-state" }, STATE_LABEL[a.state]),
      h("div", { class: "muted small" }, a.email, ` · token kept in ${a.store === "keyring" ? "the system keyring" : a.store === "file" ? "a private file" : a.store}`),
      a.message ? h("p", { class: a.state === "connected" ? "muted small" : "warn small" }, a.message) : null,
    ),
    h(
      "div",
      { class: "item-actions" },
      a.state === "reconnect_needed"
        ? button("Reconnect", "dropbox-reconnect", () => connect(connectArea, reload), "primary")
        : null,
      inlineConfirm({
        label: "Disconnect",
        question: `Disconnect ${a.email}? Syncs delivering to this account fail until it is connected again.`,
        confirmLabel: "Disconnect",
        testid: "dropbox-disconnect",
        onConfirm: async () => {
          await api.dropboxDisconnect(a.accountId);
          reload();
        },
      }),
    ),
  );
}

let connecting = false;

async function connect(area: HTMLElement, reload: () => void) {
  if (connecting) return;
  connecting = true;
  const starters = [...document.querySelectorAll<HTMLButtonElement>("[data-testid='dropbox-connect'], [data-testid='dropbox-reconnect']")];
  starters.forEach((b) => (b.disabled = true));
  const urlBox = h("div", { class: "oauth-url" });
  const cancel = button("Cancel", "dropbox-cancel-connect", async () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    await api.dropboxCancelConnect().catch(() => {});
  });
  clear(
    area,
    h(
      "div",
      { class: "notice column", "data-testid": "dropbox-waiting" },
      loading("Waiting for you to allow access in your browser…"),
      urlBox,
      h("div", { class: "actions" }, cancel),
    ),
  );
  area.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") cancel.click();
  });
  cancel.focus();
  const unlisten = await onOAuthUrl((url) => {
    const input = h("input", { type: "text", readonly: true, value: url, class: "mono wide", "data-testid": "dropbox-oauth-url", "aria-label": "Authorization address" });
    const status = h("span", { class: "muted small", role: "status" });
    clear(
      urlBox,
      h("p", { class: "small" }, "If no browser opened, open this address yourself:"),
      h(
        "div",
        { class: "row" },
        input,
        button("Copy", "dropbox-oauth-copy", async () => {
          const ok = await copyText(url);
          if (!ok) input.select();
          status.textContent = ok ? "Copied." : "Selected: press Ctrl+C to copy.";
        }),
        button("Open", "dropbox-oauth-open", () => void openExternal(url)),
        status,
      ),
    );
  }).catch(() => null);
  try {
    const acct = await api.dropboxConnect();
    clear(area, h("p", { class: "ok", role: "status", "data-testid": "dropbox-connect-result" }, `✓ Connected ${acct.email}.`));
    reload();
  } catch (e) {
    const err = toApiError(e);
    clear(
      area,
      err.code === "cancelled"
        ? h("p", { class: "muted", role: "status", "data-testid": "dropbox-connect-result" }, "Connecting was cancelled.")
        : errorBox(err, "dropbox-connect-result"),
    );
  } finally {
    unlisten?.();
    connecting = false;
    starters.forEach((b) => (b.disabled = false));
  }
}

// ---------- sources ----------

async function showSources(el: HTMLElement, reload: () => void) {
  await fill(
    el,
    "Loading sources…",
    async () => {
      const [saved, ws] = await Promise.all([prefs.sources(), api.workspaceModels().catch(() => [])]);
      return mergeSources(saved, ws);
    },
    (list) => {
      if (list.length === 0) return empty("No sources yet", "Add a SQLite database, a CSV file or a database server to build models on.");
      return h("ul", { class: "cards" }, list.map((s) => sourceItem(el, s, reload)));
    },
  );
}

function sourceItem(el: HTMLElement, s: SourceEntry, reload: () => void): HTMLElement {
  const result = h("div", {});
  return h(
    "li",
    { class: "item", "data-testid": "source-item", "data-source": sourceKey(s.source) },
    h(
      "div",
      { class: "item-main" },
      h("strong", {}, s.name),
      h("div", { class: "muted small mono" }, describeSource(s.source)),
      h("div", { class: "muted small" }, s.saved ? "Saved in Dropsync" : "From the workspace", s.usedBy.length ? ` · used by ${s.usedBy.join(", ")}` : ""),
      result,
    ),
    h(
      "div",
      { class: "item-actions" },
      button("Test", "source-item-test", () => void testInto(result, s.source)),
      button(s.saved ? "Edit" : "Save a copy", "source-edit", () => editSource(el, s, reload)),
      s.saved
        ? inlineConfirm({
            label: "Remove",
            question: `Remove "${s.name}" from the saved sources? Sync files using it are not changed.`,
            confirmLabel: "Remove",
            testid: "source-remove",
            onConfirm: async () => {
              const saved = await prefs.sources();
              await prefs.setSources(saved.filter((x) => sourceKey(x.source) !== sourceKey(s.source)));
              reload();
            },
          })
        : null,
    ),
  );
}

async function testInto(out: HTMLElement, source: SourceDraft) {
  clear(out, loading("Testing the connection…"));
  try {
    const r = await api.testSource(source);
    clear(
      out,
      h(
        "div",
        { class: r.ok ? "ok" : "error", role: "status", "data-testid": "source-test-result", "data-ok": String(r.ok) },
        h("p", {}, r.ok ? "✓ " : "✗ ", r.message),
        r.tables.length
          ? h("div", { class: "small" }, source.type === "csv" ? "Columns: " : "Tables: ", r.tables.flatMap((t, i) => [i ? ", " : "", h("code", {}, t)]))
          : null,
      ),
    );
  } catch (e) {
    clear(out, h("div", { "data-testid": "source-test-result", "data-ok": "false" }, errorBox(toApiError(e))));
  }
}

const SOURCE_TYPES: { type: SourceDraft["type"]; label: string }[] = [
  { type: "sqlite", label: "SQLite database" },
  { type: "csv", label: "CSV file" },
  { type: "postgres", label: "PostgreSQL (and compatible: Redshift, CockroachDB…)" },
  { type: "mysql", label: "MySQL / MariaDB" },
];

const URL_PLACEHOLDER: Record<string, string> = {
  postgres: "postgres://user@host:5432/database?sslmode=require",
  mysql: "mysql://user@host:3306/database",
};

const PASSWORD_PLACEHOLDER: Record<string, string> = {
  postgres: "env:PGPASSWORD or keyring",
  mysql: "env:MYSQL_PWD or keyring",
};

/** The keys that apply to the source's type, empty optional ones left out (the core refuses the others). */
function cleanSource(s: SourceDraft): SourceDraft {
  if (isDatabase(s)) {
    const out: SourceDraft = { type: s.type, url: s.url ?? "" };
    for (const k of ["password", "connect_timeout", "statement_timeout"] as const) {
      const v = s[k]?.trim();
      if (v) out[k] = v;
    }
    return out;
  }
  const out: SourceDraft = { type: s.type, path: s.path ?? "" };
  if (s.type === "csv") {
    if (s.delimiter !== undefined) out.delimiter = s.delimiter;
    if (s.header !== undefined) out.header = s.header;
  }
  return out;
}

/** A password key the core takes: "env:NAME" or "keyring". */
function passwordProblem(v: string): string | null {
  const t = v.trim();
  if (t === "" || t === "keyring" || /^env:\s*\S/.test(t)) return null;
  return "Write env:NAME or keyring here, never the password itself (or put the password in the URL).";
}

/** The add / edit form, shown above the list. `entry` null adds a source. */
export function sourceForm(opts: {
  initial: SavedSource;
  onSave?: (s: SavedSource) => Promise<void>;
  onCancel?: () => void;
  /** Called with the source after every edit (forms without Save). */
  onChange?: (s: SourceDraft) => void;
  /** Without a name field (the model editor's own source). */
  noName?: boolean;
}): HTMLElement {
  // Each type keeps its own values: switching back and forth loses nothing.
  let src: SourceDraft = { ...opts.initial.source, type: canonicalType(opts.initial.source.type) };
  const byType: Partial<Record<SourceDraft["type"], SourceDraft>> = { [src.type]: src };
  const changed = () => opts.onChange?.(cleanSource(src));
  const name = h("input", { type: "text", value: opts.initial.name, "data-testid": "source-name", placeholder: "e.g. Shop database" });
  const type = h(
    "select",
    { "data-testid": "source-type" },
    SOURCE_TYPES.map((t) => option(t.type, t.label, src.type === t.type)),
  );
  const typeBox = h("div", {});
  const result = h("div", {});
  const problem = h("p", { class: "field-error", role: "alert" });
  /** The control to focus when the location (path or URL) is missing. */
  let locationInput: HTMLInputElement | null = null;

  const textInput = (testid: string, value: string | undefined, placeholder: string, set: (v: string) => void, after?: () => void) => {
    const input = h("input", { type: "text", class: "mono", value: value ?? "", placeholder, spellcheck: "false", autocomplete: "off", "data-testid": testid });
    input.addEventListener("input", () => {
      set(input.value);
      after?.();
      changed();
    });
    return input;
  };

  const fileFields = (): Node[] => {
    const path = pathField({
      label: "Path",
      value: src.path ?? "",
      testid: "source-path",
      placeholder: src.type === "csv" ? "data/orders.csv" : "data/shop.db",
      filters: () =>
        src.type === "csv"
          ? [{ name: "CSV files", extensions: ["csv", "tsv", "txt"] }]
          : [{ name: "SQLite databases", extensions: ["db", "sqlite", "sqlite3", "db3"] }],
      onChange: (v) => {
        src.path = v;
        changed();
      },
    });
    locationInput = path.input;
    if (src.type !== "csv") return [path.el];
    const delimiter = h(
      "select",
      { "data-testid": "source-delimiter" },
      [",", ";", "|", "~", "\t"].map((d) => option(d, d === "\t" ? "tab" : d, (src.delimiter ?? ",") === d)),
    );
    delimiter.addEventListener("change", () => {
      src.delimiter = delimiter.value;
      changed();
    });
    const header = h("input", { type: "checkbox", checked: src.header !== false, "data-testid": "source-header" });
    header.addEventListener("change", () => {
      src.header = header.checked;
      changed();
    });
    return [
      path.el,
      field("Delimiter", delimiter),
      h("div", { class: "field" }, h("label", { class: "check" }, header, " The first line names the columns")),
    ];
  };

  const serverFields = (): Node[] => {
    const urlNote = h("div", { class: "warn small", role: "status" });
    const showUrlNote = () =>
      (urlNote.textContent = urlHasPassword(src.url)
        ? "This URL holds a password, which is written into the sync file as it is. Better: remove it from the URL and say below where it comes from."
        : "");
    const url = textInput("source-url", src.url, URL_PLACEHOLDER[src.type] ?? "", (v) => (src.url = v), showUrlNote);
    url.classList.add("wide");
    showUrlNote();
    locationInput = url;
    const pwNote = h("div", { class: "field-error small", role: "status" });
    const showPwNote = () => (pwNote.textContent = passwordProblem(src.password ?? "") ?? "");
    const password = textInput("source-password", src.password, PASSWORD_PLACEHOLDER[src.type] ?? "env:PGPASSWORD or keyring", (v) => (src.password = v), showPwNote);
    showPwNote();
    const connect = textInput("source-connect-timeout", src.connect_timeout, "10s", (v) => (src.connect_timeout = v));
    const statement = textInput("source-statement-timeout", src.statement_timeout, "30m", (v) => (src.statement_timeout = v));
    return [
      field("URL", url, "The server, user and database; the URL also takes sslmode (disable, prefer, require, verify-ca, verify-full) and sslrootcert (a CA file).", urlNote),
      field(
        "Password",
        password,
        "Where the password comes from: env:NAME reads an environment variable, keyring the OS credential store, or put it in the URL",
        pwNote,
      ),
      h(
        "div",
        { class: "row wrap" },
        field("Connect timeout", connect, "How long to wait for the server (default 10s)."),
        field("Statement timeout", statement, "The server cancels a query running longer (default: no limit)."),
      ),
    ];
  };

  const showType = () => clear(typeBox, ...(isDatabase(src) ? serverFields() : fileFields()));
  type.addEventListener("change", () => {
    const t = type.value as SourceDraft["type"];
    byType[src.type] = src;
    src = byType[t] ?? (t === "csv" ? { type: t, path: "", delimiter: ",", header: true } : isDatabase({ type: t }) ? { type: t, url: "" } : { type: t, path: "" });
    byType[t] = src;
    problem.textContent = "";
    showType();
    changed();
  });
  showType();
  const testBtn = h("button", { type: "button", "data-testid": "source-test" }, "Test connection");
  testBtn.addEventListener("click", () => void busy(testBtn, "Testing…", () => testInto(result, cleanSource(src))));
  const form = h(
    "form",
    { class: "card form", "data-testid": "source-form", "aria-label": "Source" },
    opts.noName ? null : field("Name", name),
    field("Type", type),
    typeBox,
    h(
      "div",
      { class: "actions" },
      testBtn,
      opts.onSave ? h("button", { type: "submit", class: "primary", "data-testid": "source-save" }, "Save source") : null,
      opts.onCancel ? button("Cancel", "source-cancel", opts.onCancel) : null,
    ),
    problem,
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!opts.onSave) return;
    if (!name.value.trim()) {
      problem.textContent = "Give the source a name.";
      name.focus();
      return;
    }
    const out = cleanSource(src);
    if (isDatabase(out)) {
      if (!out.url?.trim()) {
        problem.textContent = `Type the server's URL, e.g. ${URL_PLACEHOLDER[out.type] ?? "postgres://user@host:5432/database"}.`;
        locationInput?.focus();
        return;
      }
      const pw = passwordProblem(out.password ?? "");
      if (pw) {
        problem.textContent = pw;
        form.querySelector<HTMLInputElement>("[data-testid='source-password']")?.focus();
        return;
      }
      out.url = out.url.trim();
    } else {
      if (!out.path?.trim()) {
        problem.textContent = "Type or pick the path of the file.";
        locationInput?.focus();
        return;
      }
      out.path = out.path.trim();
    }
    problem.textContent = "";
    await opts.onSave({ name: name.value.trim(), source: out });
  });
  form.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape" && opts.onCancel) opts.onCancel();
  });
  return form;
}

function editSource(listEl: HTMLElement, entry: SourceEntry | null, reload: () => void) {
  const host = listEl.parentElement!;
  host.querySelector("[data-testid='source-form']")?.remove();
  const original = entry ? sourceKey(entry.source) : null;
  const form = sourceForm({
    initial: entry ? { name: entry.name, source: entry.source } : { name: "", source: { type: "sqlite", path: "" } },
    onSave: async (s) => {
      const saved = await prefs.sources();
      const rest = entry?.saved ? saved.filter((x) => sourceKey(x.source) !== original) : saved;
      await prefs.setSources(upsert(rest, s, (x) => sourceKey(x.source) === sourceKey(s.source)));
      form.remove();
      reload();
    },
    onCancel: () => form.remove(),
  });
  host.insertBefore(form, listEl);
  (form.querySelector("input") as HTMLInputElement | null)?.focus();
}
