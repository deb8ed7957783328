// The core's answer to an editor's draft (`inspect_draft`), for tests and
// the dev server's mock (dev/mockTauri.ts): a clean inspection of a
// one-file sync, with the fields a caller cares about given in `extra`.

import type { DraftInspection } from "../bindings";

export function inspection(extra: Partial<DraftInspection> = {}): DraftInspection {
  return {
    error: null,
    filename: { resolved: "orders.json", error: null },
    files: ["orders.json"],
    model_columns: [{ name: "id", declared_type: "INTEGER", observed_type: "integer" }],
    model_error: null,
    header: ["id"],
    header_error: null,
    next_runs: [],
    schedule_error: null,
    destination_error: null,
    missing_folder: null,
    alert_problems: [],
    overwrite_warning: null,
    overwrite_fixes: [],
    extension_warning: null,
    ...extra,
  };
}
