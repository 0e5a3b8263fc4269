// A bounded map kept per store in this process's memory (keyed by the store's dialect, so two stores in
// one process never share entries): the caches of flow versions (versions.ts) and of flows to run
// (flowCache.ts). The oldest set entry leaves first once `max` is passed.
import type { Ctx } from './db.js';

export interface StoreCache<K, V> {
  get(ctx: Ctx, key: K): V | undefined;
  set(ctx: Ctx, key: K, value: V): void;
  delete(ctx: Ctx, key: K): void;
}

export function storeCache<K, V>(max: number): StoreCache<K, V> {
  const maps = new WeakMap<Ctx['dialect'], Map<K, V>>();
  return {
    get: (ctx, key) => maps.get(ctx.dialect)?.get(key),
    set(ctx, key, value) {
      let m = maps.get(ctx.dialect);
      if (!m) maps.set(ctx.dialect, (m = new Map()));
      m.delete(key);
      m.set(key, value);
      if (m.size > max) m.delete(m.keys().next().value as K);
    },
    delete: (ctx, key) => void maps.get(ctx.dialect)?.delete(key),
  };
}
