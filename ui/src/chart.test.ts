import { describe, expect, it } from "vitest";
import { barGeometry, barTitle, chartSummary, chronological, compactCount, pickScale, type ChartRun } from "./chart";

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

  it("draws no segments for runs without rows (a stub instead), and handles no runs", () => {
    const { bars, max } = barGeometry([run(1, 0), run(2, 0)], { width: 100, height: 50 });
    expect(max).toBe(0);
    expect(bars.map((b) => b.segments)).toEqual([[], []]);
    expect(bars[1].x).toBeCloseTo(55);
    expect(bars[1].width).toBeCloseTo(40); // default gap 0.2 of a 50-unit slot
    expect(barGeometry([], { width: 100, height: 50 })).toEqual({ bars: [], max: 0, scale: "linear" });
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

describe("barGeometry: small next to large, failed and empty runs, labels", () => {
  const at = (run_id: number, added: number, status: ChartRun["status"] = "success"): ChartRun => ({ ...run(run_id, added), status });

  it("turns logarithmic when runs differ a lot, so a 5-row run is not a sliver next to 10,000", () => {
    const runs = [at(1, 10_000), at(2, 5)];
    const linear = barGeometry(runs, { width: 100, height: 100, scale: "linear" });
    expect(linear.bars[1].segments[0].height).toBeLessThan(0.1);
    const auto = barGeometry(runs, { width: 100, height: 100 });
    expect(auto.scale).toBe("log");
    expect(auto.bars[0].segments[0]).toMatchObject({ y: 0, height: 100 }); // the largest still fills the plot
    // log10(6) / log10(10001): about a fifth of the height
    expect(auto.bars[1].segments[0].height).toBeCloseTo((100 * Math.log10(6)) / Math.log10(10_001), 6);
    expect(auto.bars[1].segments[0].height).toBeGreaterThan(15);
    // Close counts stay linear.
    expect(pickScale([100, 80, 0, 60])).toBe("linear");
    expect(pickScale([2100, 100])).toBe("log");
  });

  it("on a log scale, splits a bar among its kinds in proportion to their counts", () => {
    const { bars } = barGeometry([run(1, 1000), run(2, 30, 10)], { width: 100, height: 100, scale: "log" });
    const [added, changed] = bars[1].segments;
    const barH = (100 * Math.log10(41)) / Math.log10(1001);
    expect(added.height + changed.height).toBeCloseTo(barH, 6);
    expect(added.height / changed.height).toBeCloseTo(3, 6);
    expect(changed.y).toBeCloseTo(100 - barH, 6);
    expect(bars[1].top).toBeCloseTo(100 - barH, 6);
  });

  it("gives a run without rows a visible stub, and marks failed and interrupted runs", () => {
    const { bars } = barGeometry([at(1, 50), at(2, 0), at(3, 0, "failed"), at(4, 7, "interrupted")], { width: 400, height: 100, stub: 4 });
    expect(bars.map((b) => [b.empty, b.failed])).toEqual([
      [false, false],
      [true, false],
      [true, true],
      [false, true],
    ]);
    expect(bars[1].segments).toEqual([]);
    expect(bars[1].stub).toEqual({ y: 96, height: 4 });
    expect(bars[1].top).toBe(96);
    expect(bars[2].stub).toEqual({ y: 96, height: 4 });
    expect(bars[0].stub).toBeNull();
    expect(bars[3].segments).toHaveLength(1); // the rows a failed run counted still show
    expect(bars.map((b) => b.status)).toEqual(["success", "success", "failed", "interrupted"]);
  });

  it("counts an All-mode run by the rows it wrote", () => {
    const r: ChartRun = { run_id: 1, mode: "all", rows: { queried: 2500, added: 0, changed: 0, removed: 0 } };
    const { bars, max } = barGeometry([r], { width: 100, height: 100 });
    expect(max).toBe(2500);
    expect(bars[0].segments).toEqual([{ kind: "rows", value: 2500, y: 0, height: 100 }]);
    expect(chartSummary([r])).toBe("Rows per run, oldest first. run #1: 2,500 rows.");
  });

  it("numbers every run under its bar when there is room, else every n-th counted from the newest", () => {
    const few = barGeometry([at(1, 1), at(2, 2), at(3, 3)], { width: 600, height: 100 });
    expect(few.bars.map((b) => [b.label, b.showLabel])).toEqual([["#1", true], ["#2", true], ["#3", true]]);
    expect(few.bars[1].cx).toBeCloseTo(300);
    expect(few.bars.map((b) => b.countLabel)).toEqual(["1", "2", "3"]);
    // 100 runs in 600 units: 6 per slot, a number every 5th run (28 / 6), ending with the newest.
    const many = barGeometry(Array.from({ length: 100 }, (_, i) => at(i + 1, 10)), { width: 600, height: 100 });
    const shown = many.bars.filter((b) => b.showLabel).map((b) => b.runId);
    expect(shown.at(-1)).toBe(100);
    expect(shown.slice(-3)).toEqual([90, 95, 100]);
    expect(shown).toHaveLength(20);
    expect(many.bars.every((b) => b.countLabel === null)).toBe(true); // no room for counts
  });

  it("short counts and tooltips", () => {
    expect([0, 950, 2500, 25_000, 1_250_000].map((n) => compactCount(n))).toEqual(["0", "950", "2.5k", "25k", "1.2M"]);
    const t = barTitle({ ...run(7, 0), status: "failed", started_at: "2026-03-01T10:00:00Z", error: "the source cannot be read\nmore" });
    expect(t).toMatch(/^Run #7 · Failed · 2026-03-01 \d\d:00:00 · 0 added, 0 changed, 0 removed\nthe source cannot be read$/);
    expect(barTitle({ ...run(8, 0), status: "success" })).toBe("Run #8 · Succeeded · 0 added, 0 changed, 0 removed · no rows");
    expect(chartSummary([{ ...run(3, 0), status: "failed" }])).toBe("Rows per run, oldest first. run #3: failed, 0 added, 0 changed, 0 removed.");
  });
});
