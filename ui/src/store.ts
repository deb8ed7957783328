// A screen's state in one place: `createStore(initial)` with get, set and
// subscribe. No framework: the screens are plain DOM builders that update
// their own elements, so they need one place per screen to hold state and
// tell whoever shows it, not a runtime that owns rendering; thirty lines do
// that without a dependency.

export interface Store<T extends object> {
  get(): Readonly<T>;
  /** Replaces the named fields (a new state object) and tells every subscriber. */
  set(patch: Partial<T>): void;
  /** `fn` gets the new and the previous state after each `set`; call the result to stop. */
  subscribe(fn: (state: Readonly<T>, prev: Readonly<T>) => void): () => void;
}

export function createStore<T extends object>(initial: T): Store<T> {
  let state: Readonly<T> = initial;
  const subscribers = new Set<(state: Readonly<T>, prev: Readonly<T>) => void>();
  return {
    get: () => state,
    set(patch) {
      const prev = state;
      state = { ...state, ...patch };
      // A copy: a subscriber may unsubscribe (or subscribe another) while told.
      for (const fn of [...subscribers]) fn(state, prev);
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => void subscribers.delete(fn);
    },
  };
}
