// The batched replay record: calls of one turn share one store write; a nonce twice in a batch, or one
// the store has seen, is a replay; a store failure rejects every caller of the batch (nothing accepted).
import { expect, it } from 'vitest';
import { ReplayGuard } from '../../src/service/auth/replayGuard.js';
import type { Store } from '../../src/store/store.js';

function fakeStore(seen: Set<string>, fail = false) {
  const writes: string[][] = [];
  const store = {
    async rememberNonces(items: Array<{ nonce: string }>) {
      writes.push(items.map((i) => i.nonce));
      if (fail) throw new Error('disk full');
      const fresh = new Set(items.map((i) => i.nonce).filter((n) => !seen.has(n)));
      for (const n of fresh) seen.add(n);
      return fresh;
    },
  } as unknown as Store;
  return { store, writes };
}

it('one write per turn; repeats within it and earlier nonces are replays', async () => {
  const { store, writes } = fakeStore(new Set(['old']));
  const g = new ReplayGuard(store);
  const answers = await Promise.all(['a', 'b', 'a', 'old', 'c'].map((n) => g.remember(n, 0)));
  expect(answers).toEqual([true, true, false, false, true]);
  expect(writes).toEqual([['a', 'b', 'old', 'c']]);
  expect(await g.remember('a', 0)).toBe(false);
  expect(writes).toHaveLength(2);
});

it('a failed write rejects the batch', async () => {
  const { store } = fakeStore(new Set(), true);
  const g = new ReplayGuard(store);
  const r = await Promise.allSettled([g.remember('a', 0), g.remember('b', 0)]);
  expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
});
