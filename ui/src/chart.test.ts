import { describe, expect, it } from "vitest";
import { barGeometry, chartSummary, chronological } from "./chart";

const run = (run_id: number, added: number, changed = 0, removed = 0) => ({
  run_id,
  rows: { queried: added + changed, added, changed, removed },
});

describe("barGeometry", () => {
  it("stacks added, changed, removed from the bottom; the tallest run fills the height", () => {
    const { bars, max } = barGeometry([run(2, 10, 20, 10), run(1, 80)], { width: 200, height: 100, gap: 0.5 });
    expect(max).toBe(80);
    expect(bars.map((b) => b.runId)).toEqual([1, 2]); // oldest first
    expect(bars[0]).toMatchObject({ total: 80, x: 25, width: 50 });
    expect(bars[0].segments).toEqual([{ kind: "added", value: 80, y: 0, height: 100 }]);
    expect(bars[1]).toMatchObject({ total: 40, x: 125, width: 50 });
    expect(bars[1].segments).toEqual([
      { kind: "added", value: 10, y: 87.5, height: 12.5 },
      { kind: "changed", value: 20, y: 62.5, height: 25 },
      { kind: "removed", value: 10, y: 50, height: 12.5 },
    ]);
  });

  it("draws nothing for runs without rows, and handles no runs", () => {
    const { bars, max } = barGeometry([run(1, 0), run(2, 0)], { width: 100, height: 50 });
    expect(max).toBe(0);
    expect(bars.map((b) => b.segments)).toEqual([[], []]);
    expect(bars[1].x).toBeCloseTo(55);
    expect(bars[1].width).toBeCloseTo(40); // default gap 0.2 of a 50-unit slot
    expect(barGeometry([], { width: 100, height: 50 })).toEqual({ bars: [], max: 0 });
  });

  it("treats negative or non-finite counts as zero", () => {
    const { bars, max } = barGeometry([run(1, -5, Number.NaN, 4)], { width: 10, height: 10, gap: 0 });
    expect(max).toBe(4);
    expect(bars[0].segments).toEqual([{ kind: "removed", value: 4, y: 0, height: 10 }]);
  });
});

describe("chartSummary", () => {
  it("reads the runs oldest first", () => {
    expect(chartSummary([run(2, 2500), run(1, 2500, 3, 1)])).toBe(
      "Rows per run, oldest first. run #1: 2,500 added, 3 changed, 1 removed; run #2: 2,500 added, 0 changed, 0 removed.",
    );
    expect(chartSummary([])).toBe("No runs to chart.");
  });

  it("does not reorder its input", () => {
    const runs = [run(3, 1), run(1, 1)];
    chronological(runs);
    expect(runs.map((r) => r.run_id)).toEqual([3, 1]);
  });
});
