// What the screen tests share: finding elements by test id, waiting for a
// state, and typing or choosing as a user would (the events the screens
// listen to). Imported by tests only; the app's bundle never includes it.

export const $ = <T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document) =>
  root.querySelector<T>(`[data-testid='${id}']`);

export const $$ = <T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document) =>
  [...root.querySelectorAll<T>(`[data-testid='${id}']`)];

/** Waits until `f()` is truthy and returns it; the page's start in the error helps. */
export async function until<T>(f: () => T | null | undefined | false, what: string, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${document.body.innerHTML.slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function type(el: HTMLInputElement | HTMLTextAreaElement, text: string) {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

export function choose(el: HTMLSelectElement | HTMLInputElement, value?: string) {
  if (el instanceof HTMLSelectElement) el.value = value!;
  else el.checked = true;
  el.dispatchEvent(new Event("change", { bubbles: true }));
}
