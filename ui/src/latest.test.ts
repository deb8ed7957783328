import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce, latestOnly } from "./latest";

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it("calls once with the last arguments after the quiet time", () => {
    const f = vi.fn();
    const d = debounce(f, 200);
    d(1);
    vi.advanceTimersByTime(150);
    d(2);
    vi.advanceTimersByTime(150);
    expect(f).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60);
    expect(f).toHaveBeenCalledExactlyOnceWith(2);
  });
  it("flushes and cancels", () => {
    const f = vi.fn();
    const d = debounce(f, 200);
    d(1);
    d.flush();
    expect(f).toHaveBeenCalledWith(1);
    d(2);
    d.cancel();
    vi.advanceTimersByTime(500);
    expect(f).toHaveBeenCalledTimes(1);
    d.flush();
    expect(f).toHaveBeenCalledTimes(1);
  });
});

describe("latestOnly", () => {
  const later = <T>(v: T, ms: number, fail = false) =>
    new Promise<T>((res, rej) => setTimeout(() => (fail ? rej(v) : res(v)), ms));
  it("delivers only the newest answer, even when an older one arrives last", async () => {
    const run = latestOnly();
    const a = run(later("old", 30));
    const b = run(later("new", 5));
    expect(await b).toEqual({ fresh: true, value: "new" });
    expect(await a).toEqual({ fresh: false });
  });
  it("swallows stale failures and throws fresh ones", async () => {
    const run = latestOnly();
    const a = run(() => later("boom", 10, true));
    const b = run(() => later("fail", 1, true));
    await expect(b).rejects.toBe("fail");
    expect(await a).toEqual({ fresh: false });
  });
});
