// Connections: Dropbox accounts (connect, reconnect, disconnect) and data
// sources (saved in preferences or used by sync files; add, edit, test).

import { api, onOAuthUrl } from "../api";
import { canonicalType, describeSource, isDatabase, mergeSources, sourceKey, upsert, urlHasPassword, type SavedSource, type SourceEntry } from "../catalog";
import { clear, h } from "../dom";
import { toApiError } from "../format";
import { copyText, openExternal, pathField } from "../pickers";
import { fileSourceProblem } from "../sourceCheck";
import { prefs } from "../prefs";
import { createStore } from "../store";
import type { DropboxAccount, DropboxSetup, SourceDraft } from "../bindings";
import { busy, button, empty, errorBox, field, fill, inlineConfirm, loading, option, page } from "../ui";

const STATE_LABEL: Record<DropboxAccount["state"], string> = {
  connected: "Connected",
  reconnect_needed: "Reconnect needed",
  unreachable: "Unreachable",
};

export async function renderConnections(): Promise<void> {
  const accounts = h("div", { "data-testid": "dropbox-accounts" });
  const setupArea = h("div", { "data-testid": "dropbox-setup-area" });
  const connectArea = h("div", {});
  const connectButton = button("Connect Dropbox", "dropbox-connect", () => void connect(dbx), "primary");
  const sources = h("div", { "data-testid": "sources" });
  const dbx: DropboxSection = {
    setupArea,
    connectArea,
    connectButton,
    reloadAccounts: () => showAccounts(accounts, dbx),
    reloadSetup: () => showSetup(dbx),
  };
  const reloadSources = () => showSources(sources, reloadSources);
  page(
    h("header", { class: "page-head" }, h("h1", {}, "Connections")),
    h(
      "section",
      { class: "card", "aria-labelledby": "dbx-h" },
      h("div", { class: "section-head" }, h("h2", { id: "dbx-h" }, "Dropbox accounts"), connectButton),
      setupArea,
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
  void dbx.reloadSetup();
  void dbx.reloadAccounts();
  void reloadSources();
}

// ---------- Dropbox ----------

/** The parts of the Dropbox section that connecting redraws. */
interface DropboxSection {
  setupArea: HTMLElement;
  connectArea: HTMLElement;
  connectButton: HTMLButtonElement;
  reloadAccounts: () => void;
  reloadSetup: () => void;
}

const KEY_SOURCE_LABEL: Record<NonNullable<DropboxSetup["key_source"]>, string> = {
  remembered: "entered in Dropsync",
  environment: "from DROPSYNC_DROPBOX_APP_KEY",
  built_in: "built into this copy of Dropsync",
};

/** Dropbox setup: the app key in force, or the guide to create one. */
async function showSetup(dbx: DropboxSection, forceGuide = false) {
  let setup: DropboxSetup;
  try {
    setup = await api.dropboxSetup();
  } catch (e) {
    clear(dbx.setupArea, errorBox(toApiError(e)));
    return;
  }
  const guide = forceGuide || !setup.app_key;
  dbx.connectButton.hidden = guide;
  if (guide) {
    clear(dbx.setupArea, setupGuide(setup, dbx));
    return;
  }
  clear(
    dbx.setupArea,
    h(
      "p",
      { class: "muted small", "data-testid": "dropbox-app-key-info" },
      "Connects through your Dropbox app with the key ",
      h("code", {}, setup.app_key ?? ""),
      setup.key_source ? ` (${KEY_SOURCE_LABEL[setup.key_source]}). ` : ". ",
      button("Use another app key", "dropbox-change-app-key", () => void showSetup(dbx, true), "link"),
    ),
  );
}

function setupGuide(setup: DropboxSetup, dbx: DropboxSection): HTMLElement {
  const redirect = h("input", { type: "text", readonly: true, value: setup.redirect_uri, class: "mono wide", "data-testid": "dropbox-redirect-uri", "aria-label": "Redirect URI" });
  const copied = h("span", { class: "muted small", role: "status" });
  const key = h("input", {
    type: "text",
    class: "mono",
    id: "dropbox-app-key",
    "data-testid": "dropbox-app-key",
    placeholder: "App key, e.g. a1b2c3d4e5f6g7h",
    autocomplete: "off",
    spellcheck: false,
  }) as HTMLInputElement;
  const go = button("Connect Dropbox", "dropbox-connect-with-key", () => {
    const typed = key.value.trim();
    if (!typed) {
      keyProblem.textContent = "Paste your app's App key first.";
      key.focus();
      return;
    }
    keyProblem.textContent = "";
    void connect(dbx, typed);
  }, "primary");
  const keyProblem = h("p", { class: "warn small", role: "alert", "data-testid": "dropbox-app-key-problem" });
  key.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Enter") go.click();
  });
  return h(
    "div",
    { class: "notice column setup-guide", "data-testid": "dropbox-setup" },
    h("h3", {}, "Set up Dropbox access"),
    h("p", { class: "small" }, "Dropsync connects to Dropbox through a Dropbox app of your own: it takes two minutes, only you use it, and Dropsync never sees your password."),
    h(
      "ol",
      { class: "steps small" },
      h(
        "li",
        {},
        "Open the ",
        button("Dropbox App Console", "dropbox-open-console", () => void openExternal(setup.app_console), "link"),
        " and press ",
        h("strong", {}, "Create app"),
        ": choose ",
        h("em", {}, "Scoped access"),
        " and ",
        h("em", {}, "App folder"),
        " (Dropsync then writes only to Apps/<your app name>) or ",
        h("em", {}, "Full Dropbox"),
        ".",
      ),
      h("li", {}, "On its ", h("strong", {}, "Permissions"), " tab tick ", setup.scopes.flatMap((sc, i) => [i ? ", " : "", h("code", {}, sc)]), ", then press ", h("strong", {}, "Submit"), "."),
      h(
        "li",
        {},
        "On its ",
        h("strong", {}, "Settings"),
        " tab, under OAuth 2 → Redirect URIs, add exactly:",
        h(
          "div",
          { class: "row" },
          redirect,
          button("Copy", "dropbox-redirect-copy", async () => {
            const ok = await copyText(setup.redirect_uri);
            if (!ok) redirect.select();
            copied.textContent = ok ? "Copied." : "Selected: press Ctrl+C to copy.";
          }),
          copied,
        ),
      ),
      h(
        "li",
        {},
        "Copy the ",
        h("strong", {}, "App key"),
        " from the Settings tab (not the App secret) and paste it here:",
        h("div", { class: "row" }, h("label", { class: "sr-only", for: "dropbox-app-key" }, "App key"), key, go),
        keyProblem,
      ),
    ),
    setup.app_key
      ? h("p", { class: "small" }, button("Keep the current key", "dropbox-keep-app-key", () => dbx.reloadSetup(), "link"))
      : null,
  );
}

async function showAccounts(el: HTMLElement, dbx: DropboxSection) {
  await fill(el, "Loading Dropbox accounts…", api.dropboxAccounts, (list) => {
    if (list.length === 0) {
      return empty(
        "No Dropbox account connected",
        "The demo syncs write to a local folder, so everything works without an account. Connect Dropbox to deliver files there; Dropsync keeps the access in the system keyring (or a private file when there is none).",
      );
    }
    return h("ul", { class: "cards" }, list.map((a) => accountItem(a, dbx)));
  });
}

function accountItem(a: DropboxAccount, dbx: DropboxSection): HTMLElement {
  return h(
    "li",
    { class: "item", "data-testid": "dropbox-account", "data-account-id": a.account_id, "data-state": a.state },
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
        ? button("Reconnect", "dropbox-reconnect", () => void connect(dbx), "primary")
        : null,
      inlineConfirm({
        label: "Disconnect",
        question: `Disconnect ${a.email}? Syncs delivering to this account fail until it is connected again.`,
        confirmLabel: "Disconnect",
        testid: "dropbox-disconnect",
        onConfirm: async () => {
          await api.dropboxDisconnect(a.account_id);
          dbx.reloadAccounts();
        },
      }),
    ),
  );
}

// Module-wide, not per page: one OAuth flow at a time, even across a re-render of the screen.
const state = createStore({ connecting: false });

/** The address to open, and (when the redirect cannot reach Dropsync) a field for the code Dropbox shows. */
function authorizationBox(box: HTMLElement, url: string, pasteCode: boolean) {
  const input = h("input", { type: "text", readonly: true, value: url, class: "mono wide", "data-testid": "dropbox-oauth-url", "aria-label": "Authorization address" });
  const status = h("span", { class: "muted small", role: "status" });
  const addressRow = h(
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
  );
  if (!pasteCode) {
    clear(box, h("p", { class: "small" }, "If no browser opened, open this address yourself:"), addressRow);
    return;
  }
  const code = h("input", { type: "text", class: "mono", id: "dropbox-code", "data-testid": "dropbox-code", autocomplete: "off", spellcheck: false, placeholder: "Code from Dropbox" }) as HTMLInputElement;
  const problem = h("p", { class: "warn small", role: "alert", "data-testid": "dropbox-code-problem" });
  const submit = button("Use this code", "dropbox-code-submit", async () => {
    if (!code.value.trim()) {
      problem.textContent = "Paste the code Dropbox shows after you allow access.";
      code.focus();
      return;
    }
    problem.textContent = "";
    await busy(submit, "Checking…", () => api.dropboxSubmitCode(code.value)).catch((e) => {
      problem.textContent = toApiError(e).message;
    });
  }, "primary");
  code.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Enter") submit.click();
  });
  clear(
    box,
    h("p", { class: "small", "data-testid": "dropbox-paste-code" }, "Dropsync cannot receive Dropbox's answer here (another program uses its port), so Dropbox will show a code instead. Open this address, allow access, then paste the code:"),
    addressRow,
    h("div", { class: "row" }, h("label", { class: "sr-only", for: "dropbox-code" }, "Code from Dropbox"), code, submit),
    problem,
  );
  code.focus();
}

async function connect(dbx: DropboxSection, appKey?: string) {
  if (state.get().connecting) return;
  state.set({ connecting: true });
  const area = dbx.connectArea;
  const starters = [...document.querySelectorAll<HTMLButtonElement>("[data-testid='dropbox-connect'], [data-testid='dropbox-reconnect'], [data-testid='dropbox-connect-with-key']")];
  starters.forEach((b) => (b.disabled = true));
  const urlBox = h("div", { class: "oauth-url" });
  const cancel = button("Cancel", "dropbox-cancel-connect", async () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    await api.dropboxCancelConnect().catch(() => {});
  });
  const waiting = h("span", {}, loading("Waiting for you to allow access in your browser…"));
  clear(area, h("div", { class: "notice column", "data-testid": "dropbox-waiting" }, waiting, urlBox, h("div", { class: "actions" }, cancel)));
  area.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") cancel.click();
  });
  cancel.focus();
  const unlisten = await onOAuthUrl((url, pasteCode) => {
    if (pasteCode) clear(waiting, loading("Waiting for the code from Dropbox…"));
    authorizationBox(urlBox, url, pasteCode);
  }).catch(() => null);
  try {
    const acct = await api.dropboxConnect(appKey ?? null);
    clear(area, h("p", { class: "ok", role: "status", "data-testid": "dropbox-connect-result" }, `✓ Connected ${acct.email}.`));
    dbx.reloadAccounts();
    if (appKey) dbx.reloadSetup();
  } catch (e) {
    const err = toApiError(e);
    if (err.code === "no_app_key") {
      clear(area);
      void showSetup(dbx, true);
    } else {
      clear(
        area,
        err.code === "cancelled"
          ? h("p", { class: "muted", role: "status", "data-testid": "dropbox-connect-result" }, "Connecting was cancelled.")
          : errorBox(err, "dropbox-connect-result"),
      );
    }
  } finally {
    unlisten?.();
    state.set({ connecting: false });
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
    for (const k of ["password", "connect_timeout", "statement_timeout", "read_timeout"] as const) {
      const v = s[k]?.trim();
      if (v) out[k] = v;
    }
    const schema = s.state_schema?.trim();
    if (schema && s.type === "postgres") out.state_schema = schema;
    return out;
  }
  const out: SourceDraft = { type: s.type, path: s.path ?? "" };
  if (s.type === "csv") {
    if (s.delimiter !== undefined) out.delimiter = s.delimiter;
    if (s.header !== undefined) out.header = s.header;
  }
  return out;
}

/** How to fix a password typed into a URL the Save source button refuses. */
const URL_PASSWORD_FIX = "remove the password from the URL and use env:NAME or keyring in the Password field";

/** A password key the core takes: "env:NAME" or "keyring". */
function passwordProblem(v: string, urlMayHoldIt: boolean): string | null {
  const t = v.trim();
  if (t === "" || t === "keyring" || /^env:\s*\S/.test(t)) return null;
  return `Write env:NAME or keyring here, never the password itself${urlMayHoldIt ? " (or put the password in the URL)" : ""}.`;
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

  const textInput = (testid: string, value: string | null | undefined, placeholder: string, set: (v: string) => void, after?: () => void) => {
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
      (urlNote.textContent = !urlHasPassword(src.url)
        ? ""
        : opts.onSave
          ? `This URL holds a password, which a saved source never keeps: ${URL_PASSWORD_FIX}.`
          : "This URL holds a password, which is written into the sync file as it is. Better: remove it from the URL and say below where it comes from.");
    const url = textInput("source-url", src.url, URL_PLACEHOLDER[src.type] ?? "", (v) => (src.url = v), showUrlNote);
    url.classList.add("wide");
    showUrlNote();
    locationInput = url;
    const pwNote = h("div", { class: "field-error small", role: "status" });
    const showPwNote = () => (pwNote.textContent = passwordProblem(src.password ?? "", !opts.onSave) ?? "");
    const password = textInput("source-password", src.password, PASSWORD_PLACEHOLDER[src.type] ?? "env:PGPASSWORD or keyring", (v) => (src.password = v), showPwNote);
    showPwNote();
    const connect = textInput("source-connect-timeout", src.connect_timeout, "10s", (v) => (src.connect_timeout = v));
    const statement = textInput("source-statement-timeout", src.statement_timeout, "30m", (v) => (src.statement_timeout = v));
    const read = textInput("source-read-timeout", src.read_timeout, "90s", (v) => (src.read_timeout = v));
    const schema = textInput("source-state-schema", src.state_schema, "dropsync", (v) => (src.state_schema = v));
    return [
      field("URL", url, "The server, user and database; the URL also takes sslmode (disable, prefer, require, verify-ca, verify-full) and sslrootcert (a CA file).", urlNote),
      field(
        "Password",
        password,
        `Where the password comes from: env:NAME reads an environment variable, keyring the OS credential store${opts.onSave ? "" : ", or put it in the URL"}`,
        pwNote,
      ),
      h(
        "div",
        { class: "row wrap" },
        field("Connect timeout", connect, "How long to wait for the server (default 10s)."),
        field("Statement timeout", statement, "The server cancels a query running longer (default: no limit)."),
        field(
          "Read timeout",
          read,
          "A run fails when the server sends nothing for this long while the query runs (default 90s, or the statement timeout + 30s).",
        ),
      ),
      ...(src.type === "postgres"
        ? [
            field(
              "State schema (in-database diff)",
              schema,
              "Optional: a schema Dropsync may write. Insert and Diff syncs then let PostgreSQL compare the rows with what was delivered, so only changed rows cross the network. Check tells you which GRANT is missing.",
            ),
          ]
        : []),
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
  let acceptedMissing: string | null = null;
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
      const pw = passwordProblem(out.password ?? "", false);
      if (pw) {
        problem.textContent = pw;
        form.querySelector<HTMLInputElement>("[data-testid='source-password']")?.focus();
        return;
      }
      // Saved sources live in the app's preferences, in plain text: never a password.
      if (urlHasPassword(out.url)) {
        problem.textContent = `This URL holds a password, which a saved source never keeps: ${URL_PASSWORD_FIX}.`;
        locationInput?.focus();
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
      // A file that does not open (yet) may still be saved, but knowingly.
      if (acceptedMissing !== out.path) {
        const missing = await fileSourceProblem(out);
        if (missing) {
          const path = out.path;
          clear(
            problem,
            h("span", { "data-testid": "source-missing" }, `${missing}. `),
            button("Save anyway", "source-save-anyway", () => {
              acceptedMissing = path;
              form.requestSubmit();
            }),
          );
          return;
        }
      }
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
