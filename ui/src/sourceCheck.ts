// Whether a file source can be opened before something that uses it is
// saved: the core's source test answers (a missing file is `ok: false` with
// "the database file does not exist; check [source] path"). Servers are not
// contacted here: being offline while saving is normal.

import { api } from "./api";
import { isDatabase } from "./catalog";
import { toApiError } from "./format";
import type { SourceDraft } from "./bindings";

/** Why the file source cannot be opened now, or null (it opens, or it is a server). */
export async function fileSourceProblem(source: SourceDraft): Promise<string | null> {
  if (isDatabase(source)) return null;
  try {
    const r = await api.testSource(source);
    return r.ok ? null : r.message;
  } catch (e) {
    return toApiError(e).message;
  }
}
