// The editor's "Schedule" section: manual, every N units (with an optional
// anchor) or a cron expression, and the next runs the core computes.

import { buildSchedule, parseSchedule, SCHEDULE_UNITS, type ScheduleForm } from "../../draft";
import { clear, h } from "../../dom";
import { nextRunsLocal, zoneLabel } from "../../format";
import { field, option } from "../../ui";
import type { EditorContext } from "./context";

export function scheduleSection(ctx: EditorContext): HTMLElement {
  const { draft, changed } = ctx;
  let form: ScheduleForm = parseSchedule(draft.sync.schedule);
  // Each kind's values are kept while the user switches between kinds.
  const every = { n: form.kind === "every" ? form.n : 15, unit: form.kind === "every" ? form.unit : ("m" as const) };
  let cron = form.kind === "cron" ? form.expr : "0 0 6 * * *";
  const kindSel = h(
    "select",
    { "data-testid": "schedule-kind" },
    option("manual", "Manual (only when you press Run now)", form.kind === "manual"),
    option("every", "Every…", form.kind === "every"),
    option("cron", "Cron expression", form.kind === "cron"),
  );
  const detail = h("div", {});
  const runs = h("ul", { class: "plain", "data-testid": "next-runs" });
  const err = h("div", { class: "field-error", "data-testid": "schedule-error", role: "alert" });
  const apply = () => {
    draft.sync.schedule = buildSchedule(form);
    if (form.kind !== "every") delete draft.sync.schedule_start;
    changed();
  };
  function show() {
    if (form.kind === "every") {
      const n = h("input", { type: "number", min: 1, step: 1, value: every.n, class: "short", "data-testid": "schedule-every-n", "aria-label": "Every how many" });
      const unit = h("select", { "data-testid": "schedule-every-unit", "aria-label": "Unit" }, SCHEDULE_UNITS.map((u) => option(u.unit, u.label, u.unit === every.unit)));
      const upd = () => {
        every.n = Number(n.value);
        every.unit = unit.value as typeof every.unit;
        form = { kind: "every", n: every.n, unit: every.unit };
        apply();
      };
      n.addEventListener("input", upd);
      unit.addEventListener("change", upd);
      const start = h("input", { type: "text", class: "mono", value: draft.sync.schedule_start ?? "", placeholder: "2024-01-01T06:00:00Z", "data-testid": "schedule-start" });
      start.addEventListener("input", () => {
        draft.sync.schedule_start = start.value.trim() || undefined;
        changed();
      });
      clear(
        detail,
        h("div", { class: "row" }, h("span", {}, "Every"), n, unit),
        field("Anchored at (optional)", start, "Runs fall on this instant plus whole intervals; by default midnight UTC, 1970-01-01."),
      );
    } else if (form.kind === "cron") {
      const c = h("input", { type: "text", class: "mono", value: cron, "data-testid": "schedule-cron", spellcheck: "false" });
      c.addEventListener("input", () => {
        cron = c.value;
        form = { kind: "cron", expr: cron };
        apply();
      });
      clear(detail, field("Cron (6 fields, UTC)", c, "second minute hour day-of-month month day-of-week, e.g. 0 0 6 * * Mon-Fri = 06:00 UTC on weekdays."));
    } else {
      clear(detail);
    }
  }
  kindSel.addEventListener("change", () => {
    const k = kindSel.value as ScheduleForm["kind"];
    form = k === "manual" ? { kind: "manual" } : k === "every" ? { kind: "every", n: every.n, unit: every.unit } : { kind: "cron", expr: cron };
    show();
    apply();
  });
  show();
  ctx.onInspect((i) => {
    err.textContent = i.schedule_error ?? "";
    clear(runs, ...nextRunsLocal(i.next_runs).map((t) => h("li", {}, t)));
    if (i.next_runs.length === 0 && !i.schedule_error) runs.append(h("li", { class: "muted" }, form.kind === "manual" ? "Runs only when you press Run now." : "–"));
  });
  return ctx.section(
    "schedule",
    "Schedule",
    field("When", kindSel),
    detail,
    err,
    h("div", { class: "field" }, h("div", { class: "label" }, `Next runs (your time, ${zoneLabel()})`), runs),
  );
}
