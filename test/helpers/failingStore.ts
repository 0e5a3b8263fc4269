// A Store that fails on purpose where a test says: `decide(method)` answers, per call, 'before' (the call
// fails and changes nothing), 'after' (the call commits, then its caller is told it failed) or null (it
// runs). Errors look like SQLite's own (SQLITE_FULL by default).
import type { Store } from '../../src/store/store.js';

export type FailWhen = 'before' | 'after' | null;

export const sqliteFull = () => Object.assign(new Error('database or disk is full (injected)'), { code: 'SQLITE_FULL' });

/** Methods that write (the ones a full disk refuses). */
export const WRITES: ReadonlySet<string> = new Set([
  'engineTx', 'createFlowInstance', 'cancelInstance', 'appendLog', 'recordAttemptProcess', 'registerEngine', 'renewEngineLease',
  'expireEngine', 'stopEngine', 'createFlow', 'updateFlow', 'deleteFlow', 'setFlowActive', 'takeEditLock',
]);

export function failingStore(store: Store, decide: (method: string) => FailWhen, error: () => Error = sqliteFull): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const real = Reflect.get(target, prop, receiver) as unknown;
      if (typeof real !== 'function' || prop === 'onEvent' || prop === 'announce' || prop === 'close' || prop === 'migrate') return real;
      const name = String(prop);
      return async (...args: unknown[]) => {
        const when = decide(name);
        if (when === 'before') throw error();
        const result = await (real as (...a: unknown[]) => unknown).apply(target, args);
        if (when === 'after') throw error();
        return result;
      };
    },
  });
}
