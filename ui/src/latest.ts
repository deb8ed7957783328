// Timing helpers for live feedback: debounce edits, and keep only the answer
// to the latest request when several are in flight.

/** Calls `f` once, `ms` after the last call; `flush` calls it now if one is pending. */
export function debounce<A extends unknown[]>(f: (...a: A) => void, ms: number) {
  let t: ReturnType<typeof setTimeout> | null = null;
  let last: A | null = null;
  const fire = () => {
    t = null;
    const a = last!;
    last = null;
    f(...a);
  };
  const d = (...a: A) => {
    last = a;
    if (t !== null) clearTimeout(t);
    t = setTimeout(fire, ms);
  };
  d.flush = () => {
    if (t !== null) {
      clearTimeout(t);
      fire();
    }
  };
  d.cancel = () => {
    if (t !== null) clearTimeout(t);
    t = null;
    last = null;
  };
  return d;
}

/**
 * Wraps an async call so that only the newest call's result is delivered:
 * `run(p)` resolves `{ fresh: true, value }` when no later `run` started since,
 * `{ fresh: false }` otherwise (a stale answer to ignore). A stale rejection is
 * swallowed the same way; the newest one is thrown.
 */
export function latestOnly() {
  let seq = 0;
  return async function run<T>(p: Promise<T> | (() => Promise<T>)): Promise<{ fresh: true; value: T } | { fresh: false }> {
    const mine = ++seq;
    try {
      const value = await (typeof p === "function" ? p() : p);
      return mine === seq ? { fresh: true, value } : { fresh: false };
    } catch (e) {
      // A stale failure is as irrelevant as a stale answer.
      if (mine !== seq) return { fresh: false };
      throw e;
    }
  };
}
