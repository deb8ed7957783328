// What the editor's sections share: the draft they edit, the editor's store
// (the latest inspection, unsaved changes), and the shell's hooks for
// reporting a change and framing a section.

import type { Section } from "../../draft";
import type { Store } from "../../store";
import type { DraftInspection, SyncDraft } from "../../bindings";

export interface EditorState {
  /** The core's answer for the draft as it is now; null while none (or the call failed). */
  inspection: DraftInspection | null;
  /** Edited since loaded or saved: leaving asks first. */
  dirty: boolean;
}

export interface EditorContext {
  /** The sync file being edited; null for a new sync. */
  file: string | null;
  // Not in the store: the sections (and columnMapper, alertsForm) edit the
  // draft in place and report each edit through `changed`.
  draft: SyncDraft;
  store: Store<EditorState>;
  /** Marks the draft edited and asks the core to inspect it again (debounced). */
  changed: () => void;
  /** A titled card whose error slot and anchor the shell manages. */
  section: (id: Section, title: string, ...body: (Node | null)[]) => HTMLElement;
  /** Calls `fn` with each new inspection, after the shell has placed its errors. */
  onInspect: (fn: (i: DraftInspection) => void) => void;
}
