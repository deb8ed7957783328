// Rows per run as stacked bars: the pure data -> geometry math of the
// History chart (the DOM part is in main.ts). Unit-tested in chart.test.ts.

import { formatCount } from "./format";
import type { RunReport } from "./types";

export type RowKind = "added" | "changed" | "removed";
/** Stacking order, bottom first. */
export const ROW_KINDS: RowKind[] = ["added", "changed", "removed"];

export type ChartRun = Pick<RunReport, "run_id" | "rows">;

export interface Segment {
  kind: RowKind;
  value: number;
  /** Top edge, in chart units (0 is the top of the plot). */
  y: number;
  height: number;
}

export interface Bar {
  runId: number;
  total: number;
  x: number;
  width: number;
  segments: Segment[];
}

export interface ChartSize {
  width: number;
  height: number;
  /** Space between bars, as a fraction of a slot (0..1). */
  gap?: number;
}

function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Runs oldest first (by run id), whatever order history returned them in. */
export function chronological<T extends ChartRun>(runs: T[]): T[] {
  return [...runs].sort((a, b) => a.run_id - b.run_id);
}

/**
 * One bar per run, oldest on the left, stacked added / changed / removed
 * from the bottom; the tallest run fills the height. Zero-height segments
 * are left out.
 */
export function barGeometry(runs: ChartRun[], size: ChartSize): { bars: Bar[]; max: number } {
  const ordered = chronological(runs);
  const totals = ordered.map((r) => ROW_KINDS.reduce((s, k) => s + count(r.rows[k]), 0));
  const max = Math.max(0, ...totals);
  const slot = ordered.length ? size.width / ordered.length : 0;
  const gap = Math.min(0.9, Math.max(0, size.gap ?? 0.2));
  const width = slot * (1 - gap);
  const scale = max > 0 ? size.height / max : 0;
  const bars = ordered.map((r, i) => {
    let bottom = size.height;
    const segments: Segment[] = [];
    for (const kind of ROW_KINDS) {
      const value = count(r.rows[kind]);
      const height = value * scale;
      if (height <= 0) continue;
      bottom -= height;
      segments.push({ kind, value, y: bottom, height });
    }
    return { runId: r.run_id, total: totals[i], x: i * slot + (slot - width) / 2, width, segments };
  });
  return { bars, max };
}

/** The chart as text, for screen readers: one clause per run, oldest first. */
export function chartSummary(runs: ChartRun[]): string {
  if (runs.length === 0) return "No runs to chart.";
  const parts = chronological(runs).map(
    (r) =>
      `run #${r.run_id}: ${formatCount(count(r.rows.added))} added, ${formatCount(count(r.rows.changed))} changed, ${formatCount(count(r.rows.removed))} removed`,
  );
  return `Rows per run, oldest first. ${parts.join("; ")}.`;
}
