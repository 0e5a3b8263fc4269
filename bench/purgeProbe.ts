// A quick probe of retention's cost, in one process on a store of its own (not the growth benchmark):
// seeds N cancelled one-task instances through the Store, then measures createFlowInstance (the write of
// Trigger Flow) latency with 8 in flight, first alone, then beside purgeInBackground() of all N, and the
// purge's rate and longest batch. Usage: tsx bench/purgeProbe.ts [sqlite|postgres] [N]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresStore } from '../src/store/postgres.js';
import { purgeInBackground } from '../src/store/purge.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { flowOf, instanceOf, T0 } from '../test/store/store.contract.js';

const [kind = 'sqlite', nText = '20000'] = process.argv.slice(2);
const N = Number(nText);
const MIN = 60_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bf-purge-probe-'));
const schema = `bf_purge_probe_${process.pid}`;
const store: Store =
  kind === 'postgres'
    ? await createPostgresStore({ connectionString: process.env.BATCHFLOW_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test', schema })
    : await createSqliteStore({ filename: path.join(dir, 'batchflow.sqlite') });

await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
const dirId = (await store.getRootDirectory('o1'))!.id;
const old = await store.createFlow(flowOf('o1', dirId, 1, { name: 'old' }));
let t = Date.now();
for (let i = 0; i < N; i += 8) {
  await Promise.all(
    Array.from({ length: Math.min(8, N - i) }, async (_, k) => {
      const inst = await store.createFlowInstance(instanceOf(old, T0 + 400 * 86_400_000 + (i + k) * MIN, { createdAt: T0 }));
      await store.cancelInstance('o1', inst.id, T0 + (i + k), 'probe', 'u1');
    }),
  );
}
console.log(`seeded ${N} instances in ${((Date.now() - t) / 1000).toFixed(1)} s`);

const live = await store.createFlow(flowOf('o1', dirId, 1, { name: 'live' }));
let minute = 0;
/** createFlowInstance latencies (ms) with 8 in flight for `ms`, or until `until` resolves. */
async function triggers(ms: number, until?: Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  let stop = false;
  const timer = setTimeout(() => (stop = true), ms);
  void until?.then(() => (stop = true));
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stop) {
        const s = performance.now();
        await store.createFlowInstance(instanceOf(live, T0 + 800 * 86_400_000 + minute++ * MIN));
        out.push(performance.now() - s);
      }
    }),
  );
  clearTimeout(timer);
  return out.sort((a, b) => a - b);
}
const stats = (l: number[], secs: number) => `${(l.length / secs).toFixed(0)}/s, p50 ${l[Math.floor(l.length * 0.5)].toFixed(2)} ms, p99 ${l[Math.floor(l.length * 0.99)].toFixed(2)} ms`;

console.log(`alone:        ${stats(await triggers(5_000), 5)}`);
let longest = 0;
let lastAt = performance.now();
t = performance.now();
const bg = purgeInBackground(store, {
  before: T0 + 86_400_000,
  onProgress: () => {
    const now = performance.now();
    longest = Math.max(longest, now - lastAt);
    lastAt = now;
  },
});
const during = await triggers(600_000, bg.done);
const r = await bg.done;
const secs = (performance.now() - t) / 1000;
console.log(`during purge: ${stats(during, secs)}`);
console.log(`purge: ${r.tables.flow_instances} instances in ${secs.toFixed(1)} s (${(r.tables.flow_instances / secs).toFixed(0)}/s), ${r.batches} batches, longest batch gap ${longest.toFixed(1)} ms`, r.tables);
const space = await store.reclaimSpace();
console.log('space:', space);
await store.close();
rmSync(dir, { recursive: true, force: true });
if (kind === 'postgres') {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: process.env.BATCHFLOW_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' });
  await c.connect();
  await c.query(`drop schema ${schema} cascade`);
  await c.end();
}
