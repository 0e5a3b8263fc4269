// A store handle that fails on purpose: each caller (an engine incarnation, the API) gets its own handle
// over one real store. A call may fail before it runs, inside a transaction (rolled back), or after its
// commit (the write is durable, the caller is told it failed): with SQLITE_BUSY, SQLITE_FULL or a plain
// error. A crash severs a handle: every later call, and every later read or write of a transaction in
// progress, fails, so a crashed engine changes nothing more. It also counts calls in flight, so that the
// simulator knows when everything has settled.
import type { EngineTx, Store } from '../../src/store/store.js';
import { WRITES } from '../helpers/failingStore.js';
import type { Random } from './random.js';

export type FaultMode = 'before' | 'inside' | 'after';


function storeError(rand: Random): Error {
  const kind = rand.int(0, 2);
  if (kind === 0) return Object.assign(new Error('database is locked (injected)'), { code: 'SQLITE_BUSY' });
  if (kind === 1) return Object.assign(new Error('database or disk is full (injected)'), { code: 'SQLITE_FULL' });
  return new Error('connection lost (injected)');
}

export class Severed extends Error {
  override readonly name = 'Severed';
  constructor() {
    super('this process crashed');
  }
}

/** Shared by every handle: the fault rate and the count of calls in flight. */
export class FaultPlan {
  /** Probability that one call fails. */
  rate = 0;
  /** Until then (virtual ms), every write fails as with a full disk. */
  fullUntil = 0;
  inFlight = 0;
  injected = 0;
  constructor(
    readonly rand: Random,
    readonly now: () => number,
  ) {}
}

export function faultyStore(inner: Store, plan: FaultPlan, opts: { faults: boolean }): { store: Store; sever(): void } {
  let severed = false;
  const decide = (name: string): FaultMode | null => {
    if (severed) throw new Severed();
    if (!opts.faults) return null;
    const write = WRITES.has(name);
    if (write && plan.now() < plan.fullUntil) return 'before';
    if (plan.rate === 0 || !plan.rand.chance(plan.rate)) return null;
    if (!write) return 'before';
    return plan.rand.pick(name === 'engineTx' ? (['before', 'inside', 'after'] as const) : (['before', 'after'] as const));
  };
  const fail = (name: string) => {
    plan.injected++;
    const e = plan.now() < plan.fullUntil ? Object.assign(new Error('database or disk is full (injected)'), { code: 'SQLITE_FULL' }) : storeError(plan.rand);
    e.message = `${name}: ${e.message}`;
    return e;
  };
  const wrapTx = (tx: EngineTx, insideAt: number | null): EngineTx => {
    let calls = 0;
    return new Proxy(tx, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (severed) return Promise.reject(new Severed());
          if (insideAt !== null && calls++ === insideAt) return Promise.reject(fail(`engineTx.${String(prop)}`));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'onEvent') return (listener: Parameters<Store['onEvent']>[0]) => target.onEvent((e) => void (severed || listener(e)));
      // A wake-up for other processes: it never fails (a lost one costs a rescan), and none here hears it.
      if (prop === 'announce') return (e: Parameters<Store['announce']>[0]) => void (severed || target.announce(e));
      if (typeof v !== 'function' || prop === 'close') return v;
      const name = String(prop);
      return async (...args: unknown[]) => {
        const mode = decide(name);
        if (mode === 'before') throw fail(name);
        plan.inFlight++;
        try {
          let result: unknown;
          if (name === 'engineTx') {
            const fn = args[0] as (tx: EngineTx) => Promise<unknown>;
            const insideAt = mode === 'inside' ? plan.rand.int(0, 4) : null;
            result = await (v as Store['engineTx']).call(target, (tx) => fn(wrapTx(tx, insideAt)));
          } else {
            result = await (v as (...a: unknown[]) => unknown).apply(target, args);
          }
          if (severed) throw new Severed();
          if (mode === 'after' || mode === 'inside') throw fail(name);
          return result;
        } finally {
          plan.inFlight--;
        }
      };
    },
  });
  return { store, sever: () => (severed = true) };
}
