// The sync editor's alerts: channels (Slack, PagerDuty, SMS, email) with a
// "Send test alert" each, and when to alert besides failures.

import { api } from "../api";
import { alertIndexOf, newAlert, splitList, tidyDraft } from "../draft";
import { clear, h } from "../dom";
import { formatLocalTime, toApiError } from "../format";
import type { ChannelSpec, DraftInspection, SyncDraft } from "../bindings";
import { busy, button, errorBox, field, loading, option, uid } from "../ui";

const TYPE_LABEL: Record<ChannelSpec["type"], string> = {
  slack: "Slack",
  pagerduty: "PagerDuty",
  sms: "SMS (Twilio)",
  email: "Email (SMTP)",
};

interface FieldSpec {
  key: string;
  label: string;
  secret?: boolean;
  list?: boolean;
  optional?: boolean;
  placeholder?: string;
  choices?: string[];
}

const FIELDS: Record<ChannelSpec["type"], FieldSpec[]> = {
  slack: [{ key: "webhook_url", label: "Incoming webhook URL", secret: true, placeholder: "https://hooks.slack.com/services/… or env:SLACK_WEBHOOK" }],
  pagerduty: [
    { key: "routing_key", label: "Routing key (Events API v2)", secret: true, placeholder: "env:PD_ROUTING_KEY" },
    { key: "severity", label: "Severity", optional: true, choices: ["", "critical", "error", "warning", "info"] },
    { key: "events_url", label: "Events API URL", optional: true, placeholder: "default: PagerDuty's" },
  ],
  sms: [
    { key: "account_sid", label: "Twilio account SID" },
    { key: "auth_token", label: "Auth token", secret: true, placeholder: "env:TWILIO_TOKEN" },
    { key: "from", label: "From number", placeholder: "+15550001111" },
    { key: "to", label: "To numbers (comma separated)", list: true, placeholder: "+15550002222" },
    { key: "api_url", label: "API URL", optional: true, placeholder: "default: Twilio's" },
  ],
  email: [
    { key: "smtp_url", label: "SMTP server URL", placeholder: "smtps://user@smtp.example.com:465" },
    { key: "password", label: "Password", secret: true, optional: true, placeholder: "env:SMTP_PASSWORD" },
    { key: "from", label: "From", placeholder: "dropsync@example.com" },
    { key: "to", label: "To (comma separated)", list: true, placeholder: "ops@example.com" },
  ],
};

export interface AlertsForm {
  el: HTMLElement;
  onInspect: (i: DraftInspection) => void;
}

export function alertsForm(draft: SyncDraft, changed: () => void): AlertsForm {
  const listBox = h("div", {});
  let errorAt: { index: number; message: string } | null = null;

  function channel(a: ChannelSpec, i: number): HTMLElement {
    const rec = a as unknown as Record<string, unknown>;
    const result = h("div", { "data-testid": "alert-test-result", role: "status" });
    const inputs = FIELDS[a.type].map((f) => {
      let ctl: HTMLInputElement | HTMLSelectElement;
      const cur = rec[f.key];
      if (f.choices) {
        ctl = h("select", { "data-testid": `alert-${f.key}` }, f.choices.map((c) => option(c, c || "default (error)", (cur ?? "") === c)));
      } else {
        ctl = h("input", {
          type: f.secret ? "password" : "text",
          value: f.list ? ((cur as string[] | undefined) ?? []).join(", ") : ((cur as string | undefined) ?? ""),
          placeholder: f.placeholder ?? "",
          autocomplete: "off",
          spellcheck: "false",
          "data-testid": `alert-${f.key}`,
        });
      }
      ctl.addEventListener(f.choices ? "change" : "input", () => {
        const v = ctl.value;
        if (f.list) rec[f.key] = splitList(v);
        else if (f.optional && v.trim() === "") delete rec[f.key];
        else rec[f.key] = v;
        changed();
      });
      const label = f.label + (f.optional ? " (optional)" : "");
      if (f.secret) {
        const show = h("input", { type: "checkbox", "aria-label": `Show ${f.label}` });
        show.addEventListener("change", () => ((ctl as HTMLInputElement).type = show.checked ? "text" : "password"));
        return field(label, ctl, h("span", {}, "Write env:NAME to read it from an environment variable instead of keeping it in the file. ", h("label", { class: "check" }, show, " show")));
      }
      return field(label, ctl);
    });
    const test = h("button", { type: "button", "data-testid": "alert-test" }, "Send test alert");
    test.addEventListener("click", () =>
      void busy(test, "Sending…", async () => {
        clear(result, loading("Sending a test message…"));
        try {
          const ds = await api.testAlert(tidyDraft(draft), i);
          clear(
            result,
            ds.length === 0
              ? h("p", { class: "muted" }, "Nothing was sent.")
              : h(
                  "ul",
                  { class: "plain" },
                  ds.map((d) =>
                    h(
                      "li",
                      { class: d.ok ? "ok" : "error", "data-ok": String(d.ok) },
                      d.ok ? "✓ " : "✗ ",
                      `${d.channel}: `,
                      d.ok ? `delivered (${d.attempts} attempt${d.attempts === 1 ? "" : "s"}, ${formatLocalTime(d.at)})` : (d.error ?? "failed"),
                    ),
                  ),
                ),
          );
        } catch (e) {
          clear(result, errorBox(toApiError(e)));
        }
      }),
    );
    const invalid = errorAt && errorAt.index === i;
    return h(
      "fieldset",
      { class: `card alert${invalid ? " invalid" : ""}`, "data-testid": "alert-channel", "data-index": i, "data-type": a.type },
      h("legend", {}, `${i + 1}. ${TYPE_LABEL[a.type]}`),
      inputs,
      invalid ? h("p", { class: "field-error", role: "alert" }, errorAt!.message) : null,
      h(
        "div",
        { class: "actions" },
        test,
        button("Remove", "alert-remove", () => {
          draft.alerts = (draft.alerts ?? []).filter((_, k) => k !== i);
          render();
          changed();
          addBtn.focus();
        }, undefined, { "aria-label": `Remove alert ${i + 1} (${TYPE_LABEL[a.type]})` }),
      ),
      result,
    );
  }

  const addType = h("select", { "data-testid": "alert-add-type", "aria-label": "Alert channel type" }, (Object.keys(TYPE_LABEL) as ChannelSpec["type"][]).map((t) => option(t, TYPE_LABEL[t], t === "slack")));
  const addBtn = button("Add alert", "alert-add", () => {
    draft.alerts = [...(draft.alerts ?? []), newAlert(addType.value as ChannelSpec["type"])];
    render();
    changed();
    const all = listBox.querySelectorAll<HTMLElement>("[data-testid='alert-channel']");
    all[all.length - 1]?.querySelector<HTMLElement>("input, select")?.focus();
  });

  function render() {
    const alerts = draft.alerts ?? [];
    clear(
      listBox,
      alerts.length
        ? h("div", {}, alerts.map(channel))
        : h("p", { class: "muted", "data-testid": "alerts-empty" }, "No alert channels. Failures still show in History and as a desktop notification."),
    );
  }
  render();

  const w = () => (draft.alert_when ??= {});
  const longer = h("input", { type: "text", value: draft.alert_when?.run_longer_than ?? "", placeholder: "e.g. 30m", "data-testid": "alert-longer-than", class: "short" });
  longer.addEventListener("input", () => {
    w().run_longer_than = longer.value.trim() || undefined;
    changed();
  });
  const removed = h("input", { type: "number", min: 0, max: 100, step: "any", value: draft.alert_when?.removed_more_than_percent ?? "", placeholder: "e.g. 20", "data-testid": "alert-removed-percent", class: "short" });
  removed.addEventListener("input", () => {
    w().removed_more_than_percent = removed.value === "" ? undefined : Number(removed.value);
    changed();
  });
  const whenId = uid("when");

  return {
    el: h(
      "div",
      {},
      listBox,
      h("div", { class: "row" }, addType, addBtn),
      h(
        "fieldset",
        { class: "when", "aria-labelledby": whenId },
        h("legend", { id: whenId }, "Also alert when"),
        h("div", { class: "grid2" }, field("A run takes longer than", longer, "A duration such as 90s, 30m or 2h."), field("A run removes more than (% of rows)", removed, "Diff mode: guards against a broken query emptying the destination.")),
      ),
    ),
    onInspect(i) {
      const idx = i.error ? alertIndexOf(i.error.field) : null;
      const next = idx !== null && i.error ? { index: idx, message: i.error.message } : null;
      if (JSON.stringify(next) !== JSON.stringify(errorAt)) {
        errorAt = next;
        // Re-render only the marks: keep inputs (and focus) in place.
        listBox.querySelectorAll<HTMLElement>("[data-testid='alert-channel']").forEach((fs, k) => {
          fs.classList.toggle("invalid", errorAt?.index === k);
          fs.querySelector(".field-error")?.remove();
          if (errorAt?.index === k) fs.querySelector(".actions")?.before(h("p", { class: "field-error", role: "alert" }, errorAt.message));
        });
      }
    },
  };
}
