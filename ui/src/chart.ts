// Rows per run as stacked bars: the data -> geometry math of the History
// chart (unit-tested in chart.test.ts), and `historyChart`, which draws it as
// SVG for the History tab.
//
// Small runs next to large ones: the scale turns logarithmic when the runs
// differ a lot (and says so), and each bar carries its count when there is
// room. A run that wrote nothing still shows (a grey stub), a failed or
// interrupted run shows in red with a marker, and runs are numbered under
// their bars; every bar has a tooltip with the run's time, status and counts.

import { h } from "./dom";
import { formatCount, formatLocalTime, STATUS_LABEL } from "./format";
import type { RunReport, RunStatus } from "./bindings";

export type RowKind = "added" | "changed" | "removed" | "rows";
/** Stacking order, bottom first ("rows": an All-mode run, which counts only the rows it wrote). */
export const ROW_KINDS: ("added" | "changed" | "removed")[] = ["added", "changed", "removed"];

export type ChartRun = Pick<RunReport, "run_id" | "rows"> & Partial<Pick<RunReport, "status" | "started_at" | "mode" | "error">>;

export interface Segment {
  kind: RowKind;
  value: number;
  /** Top edge, in chart units (0 is the top of the plot). */
  y: number;
  height: number;
}

export type Scale = "linear" | "log";

export interface Bar {
  runId: number;
  total: number;
  x: number;
  width: number;
  /** Middle of the bar (for its labels). */
  cx: number;
  segments: Segment[];
  status: RunStatus | null;
  /** Failed or interrupted. */
  failed: boolean;
  /** Wrote no rows (total 0). */
  empty: boolean;
  /** Drawn instead of segments when the run has no rows, so it stays visible. */
  stub: { y: number; height: number } | null;
  /** Top edge of what is drawn (segments or stub): count labels and markers go above it. */
  top: number;
  /** "#12", shown under the bar when `showLabel`. */
  label: string;
  showLabel: boolean;
  /** The total in short ("2.5k"), shown above the bar when there is room; null otherwise. */
  countLabel: string | null;
}

export interface ChartSize {
  width: number;
  height: number;
  /** Space between bars, as a fraction of a slot (0..1). */
  gap?: number;
  /** "auto" (default): log when the largest run is more than 20 times the smallest non-empty one. */
  scale?: Scale | "auto";
  /** Height of the stub drawn for a run without rows (default 3). */
  stub?: number;
  /** Narrowest slot that gets a run number under it; wider spacing skips runs (default 28). */
  labelWidth?: number;
  /** Narrowest slot that gets the count above its bar (default 30). */
  countWidth?: number;
}

function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Runs oldest first (by run id), whatever order history returned them in. */
export function chronological<T extends ChartRun>(runs: T[]): T[] {
  return [...runs].sort((a, b) => a.run_id - b.run_id);
}

/** What a run's bar is made of: All-mode runs count only the rows written (`queried`). */
export function runCounts(r: ChartRun): { kind: RowKind; value: number }[] {
  if (r.mode === "all") return [{ kind: "rows", value: count(r.rows.queried) }];
  return ROW_KINDS.map((kind) => ({ kind, value: count(r.rows[kind]) }));
}

function isFailed(s: RunStatus | null | undefined): boolean {
  return s === "failed" || s === "interrupted";
}

/** 950 -> "950", 2500 -> "2.5k", 25000 -> "25k", 1200000 -> "1.2M". */
export function compactCount(n: number): string {
  const v = count(n);
  if (v < 1000) return String(Math.round(v));
  const [d, u] = v < 1e6 ? [1e3, "k"] : v < 1e9 ? [1e6, "M"] : [1e9, "G"];
  const x = v / d;
  return `${x < 10 ? (Math.floor(x * 10) / 10).toString() : Math.floor(x)}${u}`;
}

/** The scale "auto" picks for these totals. */
export function pickScale(totals: number[]): Scale {
  const nonzero = totals.filter((t) => t > 0);
  if (nonzero.length < 2) return "linear";
  return Math.max(...nonzero) > 20 * Math.min(...nonzero) ? "log" : "linear";
}

/**
 * One bar per run, oldest on the left, stacked from the bottom (added,
 * changed, removed; or the rows of an All-mode run); the tallest run fills
 * the height. On a log scale a bar's height is log(1 + total) and its
 * segments share it in proportion to their counts. Zero-height segments are
 * left out; a run without rows gets a stub instead.
 */
export function barGeometry(runs: ChartRun[], size: ChartSize): { bars: Bar[]; max: number; scale: Scale } {
  const ordered = chronological(runs);
  const parts = ordered.map(runCounts);
  const totals = parts.map((p) => p.reduce((s, c) => s + c.value, 0));
  const max = Math.max(0, ...totals);
  const scale: Scale = size.scale === undefined || size.scale === "auto" ? pickScale(totals) : size.scale;
  const slot = ordered.length ? size.width / ordered.length : 0;
  const gap = Math.min(0.9, Math.max(0, size.gap ?? 0.2));
  const width = slot * (1 - gap);
  const stubH = Math.min(size.height, Math.max(0, size.stub ?? 3));
  const heightOf = (total: number) =>
    max <= 0 ? 0 : scale === "log" ? (size.height * Math.log10(1 + total)) / Math.log10(1 + max) : (size.height * total) / max;
  // Every `every`-th run is numbered, counted from the newest, so the newest always is.
  const every = Math.max(1, Math.ceil((size.labelWidth ?? 28) / (slot || 1)));
  const showCounts = slot >= (size.countWidth ?? 30);
  const bars = ordered.map((r, i): Bar => {
    const total = totals[i];
    const barH = heightOf(total);
    let bottom = size.height;
    const segments: Segment[] = [];
    for (const { kind, value } of parts[i]) {
      const height = total > 0 ? (barH * value) / total : 0;
      if (height <= 0) continue;
      bottom -= height;
      segments.push({ kind, value, y: bottom, height });
    }
    const status = r.status ?? null;
    const stub = segments.length === 0 ? { y: size.height - stubH, height: stubH } : null;
    const x = i * slot + (slot - width) / 2;
    return {
      runId: r.run_id,
      total,
      x,
      width,
      cx: x + width / 2,
      segments,
      status,
      failed: isFailed(status),
      empty: total === 0,
      stub,
      top: stub ? stub.y : bottom,
      label: `#${r.run_id}`,
      showLabel: (ordered.length - 1 - i) % every === 0,
      countLabel: showCounts ? compactCount(total) : null,
    };
  });
  return { bars, max, scale };
}

function clause(r: ChartRun): string {
  const what =
    r.mode === "all"
      ? `${formatCount(count(r.rows.queried))} rows`
      : `${formatCount(count(r.rows.added))} added, ${formatCount(count(r.rows.changed))} changed, ${formatCount(count(r.rows.removed))} removed`;
  return isFailed(r.status) ? `${STATUS_LABEL[r.status!].toLowerCase()}, ${what}` : what;
}

/** The chart as text, for screen readers: one clause per run, oldest first. */
export function chartSummary(runs: ChartRun[]): string {
  if (runs.length === 0) return "No runs to chart.";
  const parts = chronological(runs).map((r) => `run #${r.run_id}: ${clause(r)}`);
  return `Rows per run, oldest first. ${parts.join("; ")}.`;
}

/** A bar's tooltip: "Run #12 · Failed · 2026-03-01 11:00:00 · 5 added, 0 changed, 0 removed". */
export function barTitle(r: ChartRun): string {
  const bits = [`Run #${r.run_id}`];
  if (r.status) bits.push(STATUS_LABEL[r.status]);
  if (r.started_at) bits.push(formatLocalTime(r.started_at));
  bits.push(r.mode === "all" ? `${formatCount(count(r.rows.queried))} rows` : `${formatCount(count(r.rows.added))} added, ${formatCount(count(r.rows.changed))} changed, ${formatCount(count(r.rows.removed))} removed`);
  if (count(r.rows.queried) === 0 && !isFailed(r.status)) bits.push("no rows");
  const first = r.error?.split("\n")[0];
  return bits.join(" · ") + (first ? `\n${first}` : "");
}

// ---------- drawing ----------

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (Node | string)[]) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

const KIND_LABEL: Record<RowKind, string> = { added: "added", changed: "changed", removed: "removed", rows: "rows (All mode)" };

/** Rows per run as stacked bars, with the same facts as text for screen readers. */
export function historyChart(runs: ChartRun[]): HTMLElement {
  const W = 600;
  const PLOT = 110;
  const TOP = 14; // room for counts and failure markers above the tallest bar
  const BOTTOM = 16; // run numbers
  const byId = new Map(runs.map((r) => [r.run_id, r]));
  const { bars, max, scale } = barGeometry(runs, { width: W, height: PLOT, gap: 0.3 });
  const summary = chartSummary(runs);
  const kinds = new Set<RowKind>(bars.flatMap((b) => b.segments.map((s) => s.kind)));
  const legend: RowKind[] = kinds.size ? (["added", "changed", "removed", "rows"] as RowKind[]).filter((k) => kinds.has(k)) : ROW_KINDS;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${TOP + PLOT + BOTTOM}`, class: "chart", role: "img", "aria-label": summary },
    svg("title", {}, summary),
    svg(
      "g",
      { transform: `translate(0 ${TOP})` },
      svg("line", { x1: 0, y1: PLOT, x2: W, y2: PLOT, class: "chart-axis" }),
      ...bars.map((b) => {
        const cls = ["run", b.failed ? "run-failed" : "", b.empty ? "run-empty" : ""].filter(Boolean).join(" ");
        const g = svg("g", { class: cls, "data-run": b.runId, "data-status": b.status ?? "" }, svg("title", {}, barTitle(byId.get(b.runId)!)));
        // A transparent full-height target so thin bars still show their tooltip.
        g.append(svg("rect", { x: b.x, y: 0, width: b.width, height: PLOT, class: "bar-hit" }));
        for (const seg of b.segments) {
          g.append(svg("rect", { x: b.x, y: seg.y, width: b.width, height: seg.height, class: `bar bar-${seg.kind}` }));
        }
        if (b.stub) {
          g.append(svg("rect", { x: b.x, y: b.stub.y, width: b.width, height: b.stub.height, class: b.failed ? "bar bar-stub bar-failed" : "bar bar-stub" }));
        }
        if (b.failed) {
          g.append(svg("text", { x: b.cx, y: Math.max(-2, b.top - 3), class: "chart-marker", "text-anchor": "middle" }, "✕"));
        } else if (b.countLabel !== null) {
          g.append(svg("text", { x: b.cx, y: Math.max(-2, b.top - 3), class: "chart-count", "text-anchor": "middle" }, b.countLabel));
        }
        if (b.showLabel) {
          g.append(svg("text", { x: b.cx, y: PLOT + 12, class: "chart-label", "text-anchor": "middle" }, b.label));
        }
        return g;
      }),
    ),
  );
  const failed = bars.filter((b) => b.failed).length;
  return h(
    "figure",
    { class: "chart-box", "data-testid": "history-chart", "data-scale": scale },
    chart,
    h(
      "figcaption",
      { class: "muted small" },
      `Rows per run, oldest on the left (largest: ${formatCount(max)}${scale === "log" ? "; log scale, so small runs stay visible" : ""}). `,
      legend.map((k) => h("span", { class: "legend" }, h("span", { class: `swatch bar-${k}`, "aria-hidden": "true" }), KIND_LABEL[k])),
      h("span", { class: "legend" }, h("span", { class: "swatch bar-stub", "aria-hidden": "true" }), "no rows"),
      failed ? h("span", { class: "legend" }, h("span", { class: "marker", "aria-hidden": "true" }, "✕"), "failed") : null,
    ),
  );
}
