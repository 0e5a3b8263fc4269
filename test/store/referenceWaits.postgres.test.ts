// References across processes on PostgreSQL (contract §10): the load's end in one process (its own store
// connection pool) satisfies the wait a report opened in another, in that end's own transaction; and a
// report starting while its load ends never misses the end (the binding's read and the end are ordered by
// the bound instance's row lock), so no wait is left WAITING on a succeeded instance.
import { afterAll, describe, expect, it } from 'vitest';
import { buildFlowInstance } from '../../src/domain/instances.js';
import type { FlowWithTasks } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { dropSchemas, newSchema, pgStore, postgresAvailable } from '../helpers/postgres.js';
import { flowOf, T0 } from './store.contract.js';

const HOUR = 3_600_000;
const NOON = Math.floor(T0 / 86_400_000) * 86_400_000 + 12 * HOUR;
afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('reference waits across processes on PostgreSQL', () => {
  it('the end of the load in one process releases the report of another, also when both commit at once', async () => {
    const schema = newSchema();
    const [a, b]: Store[] = [await pgStore({ schema }), await pgStore({ schema })];
    try {
      await a.createOrg({ id: 'o1', name: 'o', createdAt: T0 });
      await a.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
      const dirId = (await a.getRootDirectory('o1'))!.id;
      const load = await a.createFlow(flowOf('o1', dirId, 1, { name: 'load', type: 1 }));
      const base = flowOf('o1', dirId, 1, { name: 'report' });
      const report = await a.createFlow({
        ...base,
        flow: { ...base.flow, flowRefs: [{ nodeId: 'f_load', flowId: '', flowName: 'load', isVirtual: false, x: 0, y: 0 }] },
        relationsByName: [{ sourceTaskName: '', sourceNodeId: 'f_load', targetTaskName: 't1', rerun: true, cycleGap: 'D0' }],
      });
      const trigger = (s: Store, fw: FlowWithTasks, at: number) =>
        s.createFlowInstance(buildFlowInstance({ fw, triggerTime: at, now: at, timezone: 'UTC', owner: 'alice', kind: 'trigger', overrides: [], startTaskId: null, runSet: null }));
      const [da, db] = [driver(a), driver(b)];
      for (let k = 0; k < 8; k++) {
        const at = NOON - 8 * HOUR + k * HOUR; // one load and one report per hour, all in the same day
        const l = await trigger(a, load, at);
        const r = await trigger(b, report, at + 60_000);
        await da.startInstance(load.flow.id, at);
        const [lt] = await a.listTaskInstances(l.id);
        const run = await da.startTask(lt.id, at + 1);
        // The load's success (process a) and the report's start (process b) at the same time.
        await Promise.all([da.endTask(lt.id, run, 'SUCCESS', at + 2), db.startInstance(report.flow.id, at + 60_000)]);
        const [w] = await b.listReferenceWaits(r.id);
        expect(w, `round ${k}`).toMatchObject({ status: 'SUCCESS', boundId: l.id });
        expect((await b.listTaskInstances(r.id))[0].status, `round ${k}`).toBe('READY');
        // Finish the report so that its next instance may start (one instance of a flow at a time).
        const [rt] = await b.listTaskInstances(r.id);
        await db.endTask(rt.id, await db.startTask(rt.id, at + 60_001), 'SUCCESS', at + 60_002);
      }
    } finally {
      for (const s of [a, b]) await s.close();
    }
  });
});
