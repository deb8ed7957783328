// A path field with "Browse…": the native dialog when the dialog plugin
// answers, and always the text field itself (typed paths work everywhere).

import { open } from "@tauri-apps/plugin-dialog";
import { openUrl } from "@tauri-apps/plugin-opener";
import { h } from "./dom";
import { uid } from "./ui";

export interface PathField {
  el: HTMLElement;
  input: HTMLInputElement;
}

export function pathField(opts: {
  label: string;
  value: string;
  testid: string;
  placeholder?: string;
  directory?: boolean;
  filters?: { name: string; extensions: string[] }[] | (() => { name: string; extensions: string[] }[]);
  hint?: string;
  onChange: (v: string) => void;
}): PathField {
  const id = uid("path");
  const input = h("input", {
    id,
    type: "text",
    class: "mono wide",
    value: opts.value,
    placeholder: opts.placeholder ?? "",
    spellcheck: "false",
    autocomplete: "off",
    "data-testid": opts.testid,
  });
  input.addEventListener("input", () => opts.onChange(input.value));
  const note = h("div", { class: "hint muted small", role: "status" }, opts.hint ?? "");
  const browse = h("button", { type: "button", "data-testid": `${opts.testid}-browse` }, "Browse…");
  browse.addEventListener("click", async () => {
    try {
      const picked = await open({
        multiple: false,
        directory: opts.directory ?? false,
        filters: typeof opts.filters === "function" ? opts.filters() : opts.filters,
        defaultPath: input.value || undefined,
      });
      if (typeof picked === "string" && picked !== "") {
        input.value = picked;
        opts.onChange(picked);
        input.focus();
      }
    } catch (e) {
      note.textContent = `The file picker is not available (${String(e)}); type the path instead.`;
    }
  });
  const el = h(
    "div",
    { class: "field" },
    h("label", { for: id }, opts.label),
    h("div", { class: "row" }, input, browse),
    note,
  );
  return { el, input };
}

/** Asks for a folder with the native dialog; null when none was chosen. */
export async function pickFolder(defaultPath?: string): Promise<string | null> {
  const picked = await open({ multiple: false, directory: true, defaultPath });
  return typeof picked === "string" && picked !== "" ? picked : null;
}

/** Opens a web address in the system browser; falls back to a new window. */
export async function openExternal(url: string): Promise<void> {
  try {
    await openUrl(url);
  } catch {
    window.open(url, "_blank", "noopener");
  }
}

/** Copies text; returns whether it worked (the caller can select the text instead). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
