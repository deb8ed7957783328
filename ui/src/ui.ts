// Shared building blocks of the screens: the page shell with its navigation,
// errors people can act on, loading states, tables, form fields and inline
// confirmations.

import { clear, h } from "./dom";
import { errorHint, errorTitle, toApiError, STATUS_LABEL } from "./format";
import { areaOf, currentView, navigate, setLeaveGuard, type Area } from "./nav";
import type { ApiError, SyncSummary } from "./bindings";

export const root = document.getElementById("app")!;

const AREAS: { id: Area; label: string; go: () => void }[] = [
  { id: "syncs", label: "Syncs", go: () => navigate({ name: "list" }) },
  { id: "models", label: "Models", go: () => navigate({ name: "models" }) },
  { id: "connections", label: "Connections", go: () => navigate({ name: "connections" }) },
];

/** Puts a screen on the page: the sidebar and `main` holding `children`. Returns `main`. */
export function page(...children: (Node | null | false | undefined)[]): HTMLElement {
  const active = areaOf(currentView());
  const main = h("main", { id: "main", tabindex: -1 }, ...children);
  const sidebar = h(
    "nav",
    { class: "sidebar", "aria-label": "Sections" },
    h("div", { class: "brand" }, "Dropsync"),
    h(
      "ul",
      {},
      AREAS.map((a) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "nav-item",
              "data-testid": `nav-${a.id}`,
              "aria-current": a.id === active ? "page" : null,
              onclick: a.go,
            },
            a.label,
          ),
        ),
      ),
    ),
  );
  clear(root, h("div", { class: "shell" }, h("a", { class: "skip", href: "#main" }, "Skip to content"), sidebar, main));
  return main;
}

export function errorBox(e: ApiError, testid?: string): HTMLElement {
  const hint = errorHint(e.code);
  // No link to the screen the user is on.
  const go = hint?.go && hint.go !== areaOf(currentView()) ? hint.go : null;
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": testid ?? null, "data-code": e.code },
    h("strong", {}, errorTitle(e.code)),
    h("p", {}, e.message),
    hint
      ? h(
          "p",
          { class: "hint" },
          hint.text,
          " ",
          go
            ? h(
                "button",
                {
                  type: "button",
                  class: "link",
                  "data-testid": `error-go-${go}`,
                  onclick: () => navigate(go === "connections" ? { name: "connections" } : { name: "models" }),
                },
                go === "connections" ? "Open Connections" : "Open Models",
              )
            : null,
        )
      : null,
    h("small", { class: "muted" }, `code: ${e.code}`),
  );
}

export function loading(what: string): HTMLElement {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), what);
}

export function statusBadge(s: SyncSummary["last_status"], running = false): HTMLElement {
  if (running) return h("span", { class: "badge running" }, "Running");
  if (!s) return h("span", { class: "badge none" }, "Never run");
  return h("span", { class: `badge ${s}` }, STATUS_LABEL[s]);
}

export function table(headers: (Node | string)[], rows: (Node | string)[][], caption?: string, attrs: Record<string, string> = {}): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, ...attrs },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

/** Runs `load` and shows loading, then its result or its error, in `el`. */
export async function fill<T>(el: HTMLElement, what: string, load: () => Promise<T>, show: (v: T) => Node): Promise<T | null> {
  clear(el, loading(what));
  try {
    const v = await load();
    clear(el, show(v));
    return v;
  } catch (e) {
    clear(el, errorBox(toApiError(e)));
    return null;
  }
}

export function dl(items: [string, Node | string][]): HTMLElement {
  return h("dl", { class: "facts" }, items.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function empty(title: string, ...body: (Node | string)[]): HTMLElement {
  return h("div", { class: "empty" }, h("h2", {}, title), ...body.map((b) => (typeof b === "string" ? h("p", {}, b) : b)));
}

let fieldSeq = 0;
export function uid(prefix: string): string {
  return `${prefix}-${++fieldSeq}`;
}

/** A labelled control with an optional hint under it. */
export function field(label: string, control: HTMLElement, hint?: Node | string | null, extra?: Node | null): HTMLElement {
  if (!control.id) control.id = uid("f");
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("div", { class: "hint muted small" }, hint) : null,
    extra ?? null,
  );
}

export function button(label: string, testid: string, onclick: () => void, cls?: string, attrs: Record<string, string | boolean> = {}): HTMLButtonElement {
  return h("button", { type: "button", class: cls ?? null, "data-testid": testid, onclick, ...attrs }, label);
}

/**
 * A button that asks in place before doing something that cannot be undone:
 * the question with Cancel / confirm appears under it; Escape or Cancel closes
 * it and puts the focus back; Enter on the confirm button confirms.
 */
export function inlineConfirm(opts: {
  label: string;
  question: string;
  confirmLabel: string;
  testid: string;
  /** What happens; what it returns (if anything) stays shown as the outcome. */
  onConfirm: () => Promise<Node | void>;
  /** Shown while `onConfirm` runs. */
  working?: string;
  /** The question box's id (default: a fresh one). */
  id?: string;
}): HTMLElement {
  const id = opts.id ?? uid("confirm");
  const message = h("div", { role: "status", "data-testid": `${opts.testid}-message` });
  const start = h("button", { type: "button", "data-testid": opts.testid, "aria-expanded": "false", "aria-controls": id }, opts.label);
  const cancel = h("button", { type: "button", "data-testid": `${opts.testid}-cancel` }, "Cancel");
  const confirm = h("button", { type: "button", class: "danger", "data-testid": `${opts.testid}-confirm` }, opts.confirmLabel);
  const box = h(
    "div",
    { id, class: "confirm", role: "group", "aria-label": opts.question, hidden: true },
    h("p", {}, opts.question),
    h("div", { class: "actions" }, cancel, confirm),
  );
  const close = () => {
    box.hidden = true;
    start.setAttribute("aria-expanded", "false");
    start.disabled = false;
    start.focus();
  };
  start.addEventListener("click", () => {
    clear(message);
    box.hidden = false;
    start.setAttribute("aria-expanded", "true");
    start.disabled = true;
    cancel.focus();
  });
  cancel.addEventListener("click", close);
  box.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape") {
      e.stopPropagation();
      close();
    }
  });
  confirm.addEventListener("click", async () => {
    cancel.disabled = confirm.disabled = true;
    clear(message, loading(opts.working ?? "Working…"));
    try {
      const outcome = await opts.onConfirm();
      clear(message, outcome ?? null);
    } catch (e) {
      clear(message, errorBox(toApiError(e)));
    } finally {
      cancel.disabled = confirm.disabled = false;
      if (start.isConnected) close();
    }
  });
  return h("div", { class: "inline-confirm" }, start, box, message);
}

/** Disables `btn` and shows `busyLabel` while `work` runs. */
export async function busy<T>(btn: HTMLButtonElement, busyLabel: string, work: () => Promise<T>): Promise<T> {
  const label = btn.textContent;
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  btn.textContent = busyLabel;
  try {
    return await work();
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
    btn.textContent = label;
  }
}

export function option(value: string, label: string, selected: boolean): HTMLOptionElement {
  return h("option", { value, selected }, label);
}

/**
 * Keeps unsaved edits: leaving while `isDirty()` shows a bar at the top of
 * `host` (Stay / Leave without saving; Escape stays) instead of leaving.
 */
export function guardLeaving(host: HTMLElement, isDirty: () => boolean): void {
  setLeaveGuard((target) => {
    if (!isDirty()) return true;
    host.querySelector(".leave-bar")?.remove();
    const stay = button("Stay", "leave-stay", () => bar.remove());
    const leave = button("Leave without saving", "leave-confirm", () => {
      setLeaveGuard(null);
      navigate(target);
    }, "danger");
    const bar = h(
      "div",
      { class: "confirm leave-bar", role: "alertdialog", "aria-label": "Unsaved changes" },
      h("p", {}, "You have unsaved changes. Leave without saving them?"),
      h("div", { class: "actions" }, stay, leave),
    );
    bar.addEventListener("keydown", (e) => {
      if ((e as KeyboardEvent).key === "Escape") bar.remove();
    });
    host.prepend(bar);
    stay.focus();
    return false;
  });
}
