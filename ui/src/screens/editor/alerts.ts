// The editor's "Alerts" section: the alert channels form (alertsForm.ts), fed
// each inspection to mark the channel an error names.

import { alertsForm } from "../alertsForm";
import type { EditorContext } from "./context";

export function alertsSection(ctx: EditorContext): HTMLElement {
  const alerts = alertsForm(ctx.draft, ctx.changed);
  ctx.onInspect(alerts.onInspect);
  return ctx.section("alerts", "Alerts", alerts.el);
}
