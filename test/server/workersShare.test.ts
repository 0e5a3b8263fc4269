// Three workers and an api process on one PostgreSQL schema share a mixed load (fan-outs, diamonds, a task
// that fails once), several instances per workflow queued at once: every instance succeeds, every task
// instance has exactly one successful attempt (a retry after its failure), attempts of one task never
// overlap, the work is spread over the workers, and no workflow ever ran two instances at once (from
// the recorded history).
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { importFlow, startInProcess, waitFor, type InProcess } from '../engine/harness.js';

afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('three workers on one PostgreSQL store', () => {
  it('run 15 queued instances of mixed shapes correctly between them', async () => {
    const schema = newSchema();
    const over: Partial<Config> = { databaseUrl: `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`, engineHeartbeatMs: 300, engineLeaseMs: 3_000 };
    const procs: InProcess[] = [];
    try {
      const api = await startInProcess({ ...over, role: 'api' });
      procs.push(api);
      for (let i = 0; i < 3; i++) procs.push(await startInProcess({ ...over, role: 'worker', workerConcurrency: 3 }));
      const c = api.client;
      const fan = Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, cmd: 'true' }));
      const flows = [
        await importFlow(c, 'fanout', [{ name: 'root', cmd: 'true' }, ...fan, { name: 'sink', cmd: 'true' }], [...fan.map((f) => ['root', f.name] as [string, string]), ...fan.map((f) => [f.name, 'sink'] as [string, string])]),
        await importFlow(
          c,
          'diamond',
          ['a', 'b', 'c', 'd'].map((name) => ({ name, cmd: 'sleep 0.05' })),
          [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']],
        ),
        await importFlow(c, 'flaky', [
          { name: 'once', cmd: '[ "$BATCHFLOW_RUN_NUM" -gt 1 ]', retryLimit: 2, retryInterval: 0 },
          { name: 'after', cmd: 'true' },
        ], [['once', 'after']]),
      ];
      const base = Date.UTC(2025, 0, 1, 0, 0);
      const ids: string[] = [];
      for (const flowId of flows) for (let k = 0; k < 5; k++) ids.push(await c.trigger(flowId, base + k * 60_000));
      const store = api.server.store;
      await waitFor(async () => {
        for (const id of ids) if (!['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'].includes((await store.getFlowInstanceById(id))!.status)) return false;
        return true;
      }, 90_000, 'every instance to end');

      const engines = new Set<string>();
      for (const id of ids) {
        expect((await store.getFlowInstanceById(id))!.status, id).toBe('SUCCESS');
        for (const t of await store.listTaskInstances(id)) {
          const attempts = await store.listAttempts(t.id);
          expect(attempts.filter((a) => a.status === 'SUCCESS'), t.id).toHaveLength(1);
          expect(attempts.map((a) => a.status), t.id).toEqual(t.taskName === 'once' ? ['FAIL', 'SUCCESS'] : ['SUCCESS']);
          for (let i = 1; i < attempts.length; i++) expect(attempts[i].startedAt).toBeGreaterThanOrEqual(attempts[i - 1].endedAt!);
          for (const a of attempts) engines.add(a.engineId);
        }
      }
      expect(engines.size).toBeGreaterThanOrEqual(2);
      // One instance of a workflow at a time: RUNNING intervals from the history never overlap.
      for (const flowId of flows) {
        const spans: Array<[number, number]> = [];
        for (const id of ids.filter((x) => x.startsWith(`${flowId}-`))) {
          const h = (await store.listHistory(id)).filter((r) => r.kind === 'instance');
          const from = h.find((r) => r.to === 'RUNNING')!;
          const to = h.find((r) => r.from === 'RUNNING')!;
          spans.push([from.seq, to.seq]);
        }
        spans.sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < spans.length; i++) expect(spans[i][0], `flow ${flowId}`).toBeGreaterThan(spans[i - 1][1]);
      }
    } finally {
      for (const p of procs.reverse()) await p.close().catch(() => {});
    }
  });
});
