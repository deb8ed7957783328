// @vitest-environment happy-dom
// Connecting Dropbox from a fresh install: no app key is known, so the
// Connections screen guides the user through creating a Dropbox app, takes
// the key, and connects; when the redirect port is taken, the code Dropbox
// shows is pasted into the app.

import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { $, until, type } from "../testing/dom";

const mock = vi.hoisted(() => ({
  calls: [] as { cmd: string; args: unknown[] }[],
  app_key: null as string | null,
  oauth: null as ((url: string, paste_code: boolean) => void) | null,
  connect: null as null | { resolve: (v: unknown) => void; reject: (e: unknown) => void },
  paste_code: false,
}));

const account = { account_id: "dbid:2", email: "two@example.com", name: "Two", store: "file", state: "connected", message: null };

vi.mock("../api", () => ({
  api: {
    workspaceInfo: async () => ({ workspace: "/ws", state_dir: "/st", demo_created: false, startup_error: null }),
    listSyncs: async () => [],
    workspaceModels: async () => [],
    dropboxAccounts: async () => [],
    dropboxSetup: async () => ({
      app_key: mock.app_key,
      key_source: mock.app_key ? "remembered" : null,
      redirect_uri: "http://127.0.0.1:53682/dropsync/oauth/callback",
      scopes: ["account_info.read", "files.metadata.read", "files.content.write", "files.content.read"],
      app_console: "https://www.dropbox.com/developers/apps",
    }),
    dropboxConnect: (appKey: string | null) => {
      mock.calls.push({ cmd: "dropboxConnect", args: [appKey ?? null] });
      return new Promise((resolve, reject) => {
        mock.connect = { resolve, reject };
        setTimeout(() => mock.oauth?.("https://www.dropbox.com/oauth2/authorize?client_id=k", mock.paste_code), 0);
      });
    },
    dropboxSubmitCode: async (code: string) => {
      mock.calls.push({ cmd: "dropboxSubmitCode", args: [code] });
    },
    dropboxCancelConnect: async () => {},
    testSource: async (s: { path?: string }) =>
      s.path === "missing.db"
        ? { ok: false, message: "the database file missing.db does not exist; check the source's path", tables: [] }
        : { ok: true, message: "SQLite 3.46", tables: ["t"] },
  },
  onRunProgress: async () => () => {},
  onSyncsChanged: async () => () => {},
  onSchedulesPaused: async () => () => {},
  onOpenSync: async () => () => {},
  onOAuthUrl: async (f: (u: string, p: boolean) => void) => {
    mock.oauth = f;
    return () => (mock.oauth = null);
  },
}));

let nav: typeof import("../nav");

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  await import("../main");
  nav = await import("../nav");
  await until(() => $("nav-connections"), "the sidebar");
});

beforeEach(() => {
  mock.calls.length = 0;
  mock.connect = null;
  mock.paste_code = false;
});

async function openConnections() {
  nav.navigate({ name: "list" });
  nav.navigate({ name: "connections" });
  await until(() => $("dropbox-setup") || $("dropbox-app-key-info"), "the Dropbox section");
}

describe("Connect Dropbox with no app key known", () => {
  it("shows the setup guide with the exact redirect URI and the scopes, and connects with the typed key", async () => {
    mock.app_key = null;
    await openConnections();
    const guide = await until(() => $("dropbox-setup"), "the setup guide");
    expect(guide.textContent).toContain("Set up Dropbox access");
    expect(guide.textContent).toContain("files.content.write");
    expect($<HTMLInputElement>("dropbox-redirect-uri")!.value).toBe("http://127.0.0.1:53682/dropsync/oauth/callback");
    expect($("dropbox-connect")!.hidden).toBe(true);

    // Connect with nothing typed: says what to do, asks nothing of Dropbox.
    $("dropbox-connect-with-key")!.click();
    expect($("dropbox-app-key-problem")!.textContent).toContain("App key");
    expect(mock.calls.length).toBe(0);

    type($<HTMLInputElement>("dropbox-app-key")!, "  a1b2c3d4e5f6g7h ");
    $("dropbox-connect-with-key")!.click();
    await until(() => mock.calls.some((c) => c.cmd === "dropboxConnect"), "connect");
    expect(mock.calls.find((c) => c.cmd === "dropboxConnect")!.args).toEqual(["a1b2c3d4e5f6g7h"]);
    await until(() => $<HTMLInputElement>("dropbox-oauth-url")?.value.startsWith("https://www.dropbox.com/oauth2"), "the address");

    mock.app_key = "a1b2c3d4e5f6g7h";
    mock.connect!.resolve(account);
    await until(() => $("dropbox-connect-result")?.textContent?.includes("two@example.com"), "connected");
    // The key is now known: the guide gives way to a line naming it.
    await until(() => $("dropbox-app-key-info"), "the key line");
    expect($("dropbox-app-key-info")!.textContent).toContain("a1b2c3d4e5f6g7h");
    expect($("dropbox-setup")).toBeNull();
  });

  it("shows the refused key's message where the user typed it", async () => {
    mock.app_key = null;
    await openConnections();
    type($<HTMLInputElement>("dropbox-app-key")!, "wrongkey");
    $("dropbox-connect-with-key")!.click();
    await until(() => mock.connect, "connect");
    mock.connect!.reject({ code: "dropbox", message: "Dropbox refused the app key \"wrongkey\" (HTTP 400): check that it is the App key" });
    await until(() => $("dropbox-connect-result")?.textContent?.includes("refused the app key"), "the error");
    expect($("dropbox-setup")).not.toBeNull();
  });

  it("takes the pasted code when Dropbox cannot redirect back (port taken)", async () => {
    mock.app_key = "a1b2c3d4e5f6g7h";
    mock.paste_code = true;
    await openConnections();
    $("dropbox-connect")!.click();
    await until(() => $("dropbox-code"), "the code field");
    expect($("dropbox-paste-code")!.textContent).toContain("paste the code");
    $("dropbox-code-submit")!.click();
    expect($("dropbox-code-problem")!.textContent).toContain("Paste the code");
    type($<HTMLInputElement>("dropbox-code")!, "the-code-from-dropbox");
    $("dropbox-code-submit")!.click();
    await until(() => mock.calls.some((c) => c.cmd === "dropboxSubmitCode"), "submit");
    expect(mock.calls.find((c) => c.cmd === "dropboxSubmitCode")!.args).toEqual(["the-code-from-dropbox"]);
    mock.connect!.resolve(account);
    await until(() => $("dropbox-connect-result")?.textContent?.includes("two@example.com"), "connected");
  });

  it("shows the guide when connecting finds no key (no_app_key)", async () => {
    mock.app_key = "stale";
    await openConnections();
    $("dropbox-connect")!.click();
    await until(() => mock.connect, "connect");
    mock.app_key = null;
    mock.connect!.reject({ code: "no_app_key", message: "Dropsync needs your Dropbox app's key" });
    await until(() => $("dropbox-setup"), "the guide");
  });
});

describe("Save source", () => {
  it("warns when the file does not exist, and saves only when asked to", async () => {
    mock.app_key = "k";
    await openConnections();
    $("source-add")!.click();
    const form = await until(() => $("source-form"), "the source form");
    type(form.querySelector<HTMLInputElement>("[data-testid='source-name']")!, "Later");
    type(form.querySelector<HTMLInputElement>("[data-testid='source-path']")!, "missing.db");
    form.querySelector<HTMLButtonElement>("[data-testid='source-save']")!.click();
    const warn = await until(() => $("source-missing"), "the missing-file warning");
    expect(warn.textContent).toContain("does not exist");
    expect($("source-form")).not.toBeNull();
    $("source-save-anyway")!.click();
    await until(() => !$("source-form"), "the form closed (saved)");
    const saved = await (await import("../prefs")).prefs.sources();
    expect(saved.some((x) => x.name === "Later")).toBe(true);
  });
});
