// A Store seen through a proxy: counts the calls of each method, and lets a test replace some of them
// (a method that throws, to provoke an internal error). The real store does everything else.
import type { Store } from '../../src/store/store.js';

export interface SpyStore {
  store: Store;
  /** Calls per method name since the last reset. */
  calls: Map<string, number>;
  reset(): void;
}

export function spyStore(real: Store, replace: Partial<Store> = {}): SpyStore {
  const calls = new Map<string, number>();
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      const own = replace[prop as keyof Store];
      const value = own ?? Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(own ? replace : target, args);
      };
    },
  });
  return { store, calls, reset: () => calls.clear() };
}
