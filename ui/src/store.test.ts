import { describe, expect, it } from "vitest";
import { createStore } from "./store";

describe("createStore", () => {
  it("merges a patch into a new state and tells subscribers the new and previous state", () => {
    const s = createStore({ a: 1, b: "x" });
    const seen: [number, number][] = [];
    s.subscribe((now, prev) => seen.push([now.a, prev.a]));
    const before = s.get();
    s.set({ a: 2 });
    expect(s.get()).toEqual({ a: 2, b: "x" });
    expect(before).toEqual({ a: 1, b: "x" });
    expect(seen).toEqual([[2, 1]]);
  });

  it("stops telling a subscriber once it unsubscribes, even from inside a notification", () => {
    const s = createStore({ n: 0 });
    let calls = 0;
    const stop = s.subscribe(() => {
      calls += 1;
      stop();
    });
    let other = 0;
    s.subscribe(() => (other += 1));
    s.set({ n: 1 });
    s.set({ n: 2 });
    expect(calls).toBe(1);
    expect(other).toBe(2);
  });
});
