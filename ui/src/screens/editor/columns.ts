// The editor's "Columns" section: the column mapper (columnMapper.ts), fed
// each inspection for the model's columns and the output header.

import { columnMapper } from "../columnMapper";
import type { EditorContext } from "./context";

export function columnsSection(ctx: EditorContext): HTMLElement {
  const mapper = columnMapper(ctx.draft, ctx.changed);
  ctx.onInspect(mapper.onInspect);
  return ctx.section("columns", "Columns", mapper.el);
}
