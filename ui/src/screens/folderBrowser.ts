// The Dropbox folder browser of the sync editor: a breadcrumb bar, the
// folder's entries (folders open on click or Enter, files greyed with their
// size; arrow keys move, Backspace goes up), New folder, and Use this folder.

import { api } from "../api";
import { breadcrumbs, folderNameProblem, join, normalize, parent, webUrl } from "../dropboxPath";
import { clear, h } from "../dom";
import { formatBytes, toApiError } from "../format";
import { latestOnly } from "../latest";
import { openExternal } from "../pickers";
import type { DropboxEntry } from "../bindings";
import { busy, button, errorBox, loading } from "../ui";

export interface FolderBrowser {
  el: HTMLElement;
  /** Shows `path` (and lists it). */
  open: (path: string) => void;
  /** Lists the current folder again (e.g. after the account changed). */
  reload: () => void;
}

export function folderBrowser(opts: {
  account: () => string | null;
  initial: string;
  onUse: (path: string) => void;
}): FolderBrowser {
  let path = normalize(opts.initial);
  const crumbs = h("nav", { class: "dbx-crumbs", "aria-label": "Folder path", "data-testid": "dbx-breadcrumbs" });
  const list = h("ul", { class: "dbx-list", role: "list", "aria-label": "Folder contents", "data-testid": "dbx-list" });
  const status = h("div", { class: "dbx-status", role: "status" });
  const nameInput = h("input", { type: "text", placeholder: "New folder name", "data-testid": "dbx-new-folder-name", "aria-label": "New folder name" });
  const nameError = h("span", { class: "field-error small", role: "alert", "data-testid": "dbx-new-folder-error" });
  const createBtn = h("button", { type: "button", "data-testid": "dbx-new-folder-create" }, "Create folder");
  const latest = latestOnly();

  const focusables = () => [...list.querySelectorAll<HTMLButtonElement>("button.dbx-entry")];
  const focusEntry = (i: number) => {
    const all = focusables();
    if (all.length === 0) return;
    const j = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((b, k) => (b.tabIndex = k === j ? 0 : -1));
    all[j].focus();
  };

  function entryButton(e: DropboxEntry): HTMLElement {
    const isFolder = e.kind === "folder";
    const b = h(
      "button",
      {
        type: "button",
        class: `dbx-entry ${e.kind}`,
        "data-testid": "dbx-entry",
        "data-path": e.path,
        "data-kind": e.kind,
        "aria-disabled": isFolder ? null : "true",
        tabindex: -1,
        title: isFolder ? `Open ${e.name}` : `${e.name} (a file; it is overwritten if a sync writes the same name)`,
      },
      h("span", { class: `dbx-icon ${e.kind}`, "aria-hidden": "true" }),
      h("span", { class: "dbx-name" }, e.name),
      !isFolder ? h("span", { class: "dbx-size muted small" }, e.size !== null ? formatBytes(e.size) : "") : null,
    );
    if (isFolder) b.addEventListener("click", () => open(e.path, true));
    return h("li", {}, b);
  }

  list.addEventListener("keydown", (ev) => {
    const all = focusables();
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    switch (ev.key) {
      case "ArrowDown":
        focusEntry(i + 1);
        break;
      case "ArrowUp":
        focusEntry(i - 1);
        break;
      case "Home":
        focusEntry(0);
        break;
      case "End":
        focusEntry(all.length - 1);
        break;
      case "Backspace":
      case "ArrowLeft":
        if (path !== "/") open(parent(path), true);
        break;
      case "ArrowRight":
        if (i >= 0 && all[i].dataset.kind === "folder") all[i].click();
        break;
      default:
        return;
    }
    ev.preventDefault();
  });

  function showCrumbs() {
    const cs = breadcrumbs(path);
    clear(
      crumbs,
      h(
        "ol",
        {},
        cs.map((c, i) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "link",
                "data-testid": `dbx-breadcrumb-${i}`,
                "data-path": c.path,
                "aria-current": i === cs.length - 1 ? "location" : null,
                onclick: () => open(c.path, true),
              },
              c.label,
            ),
          ),
        ),
      ),
    );
  }

  async function open(p: string, focusList = false) {
    path = normalize(p);
    showCrumbs();
    clear(status);
    clear(list, h("li", {}, loading("Loading the folder…")));
    list.setAttribute("aria-busy", "true");
    try {
      const r = await latest(() => api.dropboxList(path, opts.account()));
      if (!r.fresh) return;
      list.removeAttribute("aria-busy");
      const entries = r.value.entries.slice().sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "folder" ? -1 : 1));
      if (entries.length === 0) {
        clear(list, h("li", { class: "muted dbx-empty", "data-testid": "dbx-empty" }, "This folder is empty."));
      } else {
        clear(list, ...entries.map(entryButton));
        const first = focusables()[0];
        if (first) first.tabIndex = 0;
        if (focusList) focusEntry(0);
      }
    } catch (e) {
      list.removeAttribute("aria-busy");
      const here = path;
      // A sync's folder must exist: offer to create it (an error here says why if that fails too).
      const make =
        here === "/"
          ? null
          : button(`Create ${here}`, "dbx-create-missing", () =>
              void busy(make!, "Creating…", async () => {
                try {
                  await api.dropboxCreateFolder(here, opts.account());
                  clear(status, h("span", { class: "ok small" }, `✓ Created ${here}`));
                  await open(here, true);
                } catch (err) {
                  clear(status, errorBox(toApiError(err), "dbx-new-folder-failed"));
                }
              }),
            );
      clear(
        list,
        h(
          "li",
          {},
          errorBox(toApiError(e), "dbx-error"),
          make ? h("p", { class: "small dbx-missing" }, "If this folder does not exist yet: ", make) : null,
        ),
      );
    }
  }

  const create = async () => {
    const problem = folderNameProblem(nameInput.value);
    nameError.textContent = problem ?? "";
    if (problem) {
      nameInput.focus();
      return;
    }
    const target = join(path, nameInput.value);
    await busy(createBtn, "Creating…", async () => {
      try {
        await api.dropboxCreateFolder(target, opts.account());
        nameInput.value = "";
        clear(status, h("span", { class: "ok small" }, `✓ Created ${target}`));
        await open(path);
        const made = focusables().find((b) => normalize(b.dataset.path).toLowerCase() === target.toLowerCase());
        made?.focus();
      } catch (e) {
        clear(status, errorBox(toApiError(e), "dbx-new-folder-failed"));
      }
    });
  };
  createBtn.addEventListener("click", () => void create());
  nameInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      void create();
    } else if (e.key === "Escape") {
      nameInput.value = "";
      nameError.textContent = "";
    }
  });

  const el = h(
    "div",
    { class: "dbx-browser", "data-testid": "dbx-browser" },
    crumbs,
    list,
    status,
    h(
      "div",
      { class: "row wrap" },
      nameInput,
      createBtn,
      nameError,
      h("span", { class: "spacer" }),
      button("Open in Dropbox", "dbx-open-web", () => void openExternal(webUrl(path))),
      button("Use this folder", "dbx-use-folder", () => opts.onUse(path), "primary"),
    ),
  );
  showCrumbs();
  return { el, open: (p) => void open(p), reload: () => void open(path) };
}
