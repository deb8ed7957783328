import { describe, expect, it } from "vitest";
import {
  countsSummary,
  errorTitle,
  formatBytes,
  formatCount,
  formatDuration,
  formatLocalTime,
  progressFraction,
  progressLabel,
  relativeTime,
  toApiError,
  zoneLabel,
} from "./format";

describe("formatBytes", () => {
  it("uses binary units with one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(20 * 1024 * 1024)).toBe("20 MB");
    expect(formatBytes(-1)).toBe("–");
  });
});

describe("times", () => {
  it("shows a UTC instant in the given zone", () => {
    expect(formatLocalTime("2026-03-01T23:30:05Z", 60)).toBe("2026-03-02 00:30:05");
    expect(formatLocalTime("2026-03-01T00:10:00Z", -300)).toBe("2026-02-28 19:10:00");
    expect(formatLocalTime(null)).toBe("–");
    expect(formatLocalTime("not a time")).toBe("–");
  });
  it("names the zone", () => {
    expect(zoneLabel(60)).toBe("UTC+01:00");
    expect(zoneLabel(-570)).toBe("UTC-09:30");
    expect(zoneLabel(0)).toBe("UTC+00:00");
  });
  it("says how far away a time is", () => {
    const now = Date.parse("2026-03-01T10:00:00Z");
    expect(relativeTime("2026-03-01T10:05:00Z", now)).toBe("in 5 min");
    expect(relativeTime("2026-03-01T07:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-03-01T10:00:20Z", now)).toBe("now");
    expect(relativeTime("2026-03-05T10:00:00Z", now)).toBe("in 4 d");
    expect(relativeTime(null, now)).toBe("");
  });
  it("formats durations", () => {
    expect(formatDuration("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.850Z")).toBe("850 ms");
    expect(formatDuration("2026-03-01T10:00:00Z", "2026-03-01T10:00:12.340Z")).toBe("12.3 s");
    expect(formatDuration("2026-03-01T10:00:00Z", "2026-03-01T10:04:05Z")).toBe("4 min 05 s");
    expect(formatDuration("2026-03-01T10:00:00Z", null)).toBe("–");
  });
  it("groups counts", () => {
    expect(formatCount(2500)).toBe("2,500");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(12)).toBe("12");
  });
});

describe("errors", () => {
  it("keeps {code, message} from commands", () => {
    expect(toApiError({ code: "busy", message: "already running" })).toEqual({
      code: "busy",
      message: "already running",
    });
  });
  it("turns anything else into internal", () => {
    expect(toApiError(new Error("boom"))).toEqual({ code: "internal", message: "boom" });
    expect(toApiError("plain")).toEqual({ code: "internal", message: "plain" });
    expect(toApiError({ code: "unheard_of", message: "m" })).toEqual({
      code: "internal",
      message: "m",
    });
  });
  it("titles every code, unknown ones as internal", () => {
    expect(errorTitle("primary_key")).toBe("The primary key is not usable");
    expect(errorTitle("reconnect_needed")).toMatch(/connected again/);
    expect(errorTitle("nope")).toBe(errorTitle("internal"));
    expect(errorTitle(null)).toBe(errorTitle("internal"));
  });
});

describe("progress", () => {
  it("moves through stage bands and never goes back", () => {
    const steps = [
      progressFraction({ stage: "reading", rows: 0 }, 1000),
      progressFraction({ stage: "reading", rows: 500 }, 1000),
      progressFraction({ stage: "reading", rows: 5000 }, 1000),
      progressFraction({ stage: "comparing", partition: 1, partitions: 4 }),
      progressFraction({ stage: "writing", file: "a.csv" }),
      progressFraction({ stage: "delivering", bytes: 50, total: 100 }),
      progressFraction({ stage: "delivering", bytes: 100, total: 100 }),
      progressFraction({ stage: "committing" }),
    ];
    expect(steps[0]).toBe(0);
    expect(steps[1]).toBeCloseTo(0.2);
    expect(steps[2]).toBeCloseTo(0.4);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThanOrEqual(steps[i - 1]);
    expect(steps[steps.length - 1]).toBeLessThan(1);
  });
  it("stays at the start of reading without an estimate, and survives zero totals", () => {
    expect(progressFraction({ stage: "reading", rows: 10 })).toBe(0);
    expect(progressFraction({ stage: "delivering", bytes: 0, total: 0 })).toBeCloseTo(0.95);
    expect(progressFraction({ stage: "comparing", partition: 0, partitions: 0 })).toBeCloseTo(0.4);
  });
  it("labels stages", () => {
    expect(progressLabel({ stage: "reading", rows: 2048 })).toBe("Reading rows: 2,048");
    expect(progressLabel({ stage: "comparing", partition: 0, partitions: 2 })).toMatch(/part 1 of 2/);
    expect(progressLabel({ stage: "delivering", bytes: 1536, total: 3072 })).toBe(
      "Delivering: 1.5 KB of 3.0 KB",
    );
  });
  it("summarises counts by mode", () => {
    const rows = { queried: 2500, added: 10, changed: 3, removed: 1 };
    expect(countsSummary({ mode: "all", rows })).toBe("2,500 rows");
    expect(countsSummary({ mode: "insert", rows })).toBe("10 added of 2,500");
    expect(countsSummary({ mode: "diff", rows })).toBe("10 added, 3 changed, 1 removed");
  });
});

describe("errorHint and nextRunsLocal", () => {
  it("sends reconnect_needed to Connections", async () => {
    const { errorHint } = await import("./format");
    expect(errorHint("reconnect_needed")?.go).toBe("connections");
    expect(errorHint("internal")).toBeNull();
  });
  it("shows next runs in the given zone with distance", async () => {
    const { nextRunsLocal } = await import("./format");
    const now = Date.parse("2026-03-01T10:00:00Z");
    expect(nextRunsLocal(["2026-03-01T10:15:00Z", "2026-03-01T13:00:00Z"], now, 60)).toEqual([
      "2026-03-01 11:15:00 (in 15 min)",
      "2026-03-01 14:00:00 (in 3 h)",
    ]);
  });
});
