// The editor's "Destination" section: a Dropbox folder (account and folder
// browser) or a local folder, with the core's warning when the destination
// cannot take files now.

import { api } from "../../api";
import { clear, h } from "../../dom";
import { toApiError } from "../../format";
import { navigate } from "../../nav";
import { pathField } from "../../pickers";
import type { DropboxAccount, SyncDraft } from "../../bindings";
import { button, empty, errorBox, field, loading, option, uid } from "../../ui";
import { folderBrowser, type FolderBrowser } from "../folderBrowser";
import type { EditorContext } from "./context";

export function destinationSection(ctx: EditorContext): HTMLElement {
  const { draft, changed } = ctx;
  const name = uid("dest");
  const kindBox = h("div", {});
  // Valid but not deliverable now (a missing folder, no account): say so, offer the fix.
  const note = h("div", { "data-testid": "dest-warning", role: "status" });
  ctx.onInspect((i) => {
    if (!i.destination_error) {
      clear(note);
      return;
    }
    const create = i.missing_folder
      ? button("Create folder", "dest-create-folder", async () => {
          try {
            await api.createLocalFolder(draft.destination.path);
            changed();
          } catch (e) {
            clear(note, errorBox(toApiError(e)));
          }
        })
      : null;
    clear(note, h("p", { class: "warn small" }, i.destination_error, " ", create));
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
  return ctx.section(
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
        if (cur && !list.some((a) => a.email === cur || a.account_id === cur)) sel.append(option(cur, `${cur} (not connected)`, true));
        for (const a of list) {
          sel.append(option(a.email, `${a.name || a.email} <${a.email}>${a.state === "connected" ? "" : ` — ${a.state === "reconnect_needed" ? "reconnect needed" : "unreachable"}`}`, cur === a.email || cur === a.account_id));
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
