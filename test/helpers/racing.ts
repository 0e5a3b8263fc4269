// Races made deterministic: a Store whose chosen methods first await a hook, so that a competing write
// lands exactly between a use case's read and its guarded write. The hook gets the call's arguments and
// runs on every call; `once` makes it run for the first call only, `barrier` holds calls until n arrived.
import type { Store } from '../../src/store/store.js';

type Hooks = { [K in keyof Store]?: (...args: Parameters<Store[K]>) => Promise<void> };

export function racingStore(store: Store, before: Hooks): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const real = Reflect.get(target, prop, receiver) as unknown;
      const hook = before[prop as keyof Store] as ((...args: unknown[]) => Promise<void>) | undefined;
      if (typeof real !== 'function' || !hook) return real;
      return async (...args: unknown[]) => {
        await hook(...args);
        return (real as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Runs `fn` on the first call only. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    await fn();
  };
}

/** Holds every caller until `n` callers have arrived: they all read before any of them writes. */
export function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return async () => {
    if (++arrived >= n) release();
    await all;
  };
}
