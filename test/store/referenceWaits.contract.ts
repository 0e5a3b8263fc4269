// The references side of the Store contract (contract §10), run against every adapter through the engine's
// own steps (test/helpers/drive.ts): an instance's waits opened at its start and bound to the latest
// instance of the referenced flow in the window, satisfied in the transaction of that instance's end
// (the waiting task becomes READY), the timeout's read of expired waits, and waits ended with a cancel.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFlowInstance } from '../../src/domain/instances.js';
import type { FlowWithTasks } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, T0 } from './store.contract.js';

const HOUR = 3_600_000;
// Noon UTC: the D0 window of the day holds an hour either side.
const NOON = Math.floor(T0 / 86_400_000) * 86_400_000 + 12 * HOUR;

export function describeReferenceWaitsContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, reference waits: ${name}`, () => {
    let store: Store;
    let dirId: string;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => {
      await store.close();
    });

    /** load (periodic, one task) and report (one task waiting on load, D0). */
    async function flows(): Promise<{ load: FlowWithTasks; report: FlowWithTasks }> {
      const load = await store.createFlow(flowOf(orgId, dirId, 1, { name: 'load', type: 1 }));
      const base = flowOf(orgId, dirId, 1, { name: 'report' });
      const report = await store.createFlow({
        ...base,
        flow: { ...base.flow, flowRefs: [{ nodeId: 'f_load', flowId: '', flowName: 'load', isVirtual: false, x: 0, y: 0 }] },
        relationsByName: [{ sourceTaskName: '', sourceNodeId: 'f_load', targetTaskName: 't1', rerun: true, cycleGap: 'D0' }],
      });
      return { load, report };
    }
    const trigger = (fw: FlowWithTasks, at: number) =>
      store.createFlowInstance(buildFlowInstance({ fw, triggerTime: at, now: at, timezone: 'UTC', owner: 'alice', kind: 'trigger', overrides: [], startTaskId: null, runSet: null }));

    it('resolves the reference by name, counts it in the target\'s waitingOn, and opens one WAITING wait at the start', async () => {
      const { load, report } = await flows();
      expect(report.flow.flowRefs).toEqual([{ nodeId: 'f_load', flowId: String(load.flow.id), flowName: 'load', isVirtual: false, x: 0, y: 0 }]);
      const inst = await trigger(report, NOON);
      const [t] = await store.listTaskInstances(inst.id);
      expect(t.waitingOn).toBe(1);
      const d = driver(store);
      expect(await d.startInstance(report.flow.id, NOON)).toBe(inst.id);
      const [w] = await store.listReferenceWaits(inst.id);
      expect(w).toMatchObject({ nodeId: 'f_load', cycleGap: 'D0', status: 'WAITING', refFlowId: load.flow.id, refTaskId: null, targets: [t.id], boundId: null });
      expect(w.windowEnd - w.windowStart).toBe(24 * HOUR);
      expect((await store.listTaskInstances(inst.id))[0].status).toBe('INIT');
      // Waiting on another workflow is not being stuck: the sweep's stalled list leaves it out.
      expect(await store.listStalledInstances(10)).not.toContain(inst.id);
    });

    it('the end of the bound instance satisfies the wait in its own transaction: the target is READY', async () => {
      const { load, report } = await flows();
      const rep = await trigger(report, NOON);
      const d = driver(store);
      await d.startInstance(report.flow.id, NOON);
      const older = await trigger(load, NOON - 2 * HOUR);
      const latest = await trigger(load, NOON - HOUR);
      expect(await store.referenceBinding(load.flow.id, null, NOON - 12 * HOUR, NOON + 12 * HOUR)).toEqual({ instanceId: latest.id, status: 'WAIT' });
      // The older one succeeds: not the binding (a later instance in the window took over), nothing moves.
      await d.startInstance(load.flow.id, NOON);
      const [ot] = await store.listTaskInstances(older.id);
      await d.endTask(ot.id, await d.startTask(ot.id, NOON + 1), 'SUCCESS', NOON + 2);
      expect((await store.listReferenceWaits(rep.id))[0].status).toBe('WAITING');
      await d.startInstance(load.flow.id, NOON + 3);
      const [lt] = await store.listTaskInstances(latest.id);
      await d.endTask(lt.id, await d.startTask(lt.id, NOON + 4), 'SUCCESS', NOON + 5);
      expect((await store.listReferenceWaits(rep.id))[0]).toMatchObject({ status: 'SUCCESS', boundId: latest.id, boundStatus: 'SUCCESS', endedAt: NOON + 5 });
      expect((await store.listTaskInstances(rep.id))[0]).toMatchObject({ status: 'READY', waitingOn: 0 });
    });

    it('reads the waits past their deadline, and a cancel ends the waits with the instance', async () => {
      const { report } = await flows();
      const rep = await trigger(report, NOON);
      await driver(store).startInstance(report.flow.id, NOON);
      const [w] = await store.listReferenceWaits(rep.id);
      expect(w.deadline).toBe(NOON + 86_400_000);
      await store.engineTx(async (tx) => {
        expect(await tx.expiredReferences(w.deadline - 1, 10)).toEqual([]);
        expect((await tx.expiredReferences(w.deadline, 10)).map((x) => x.instanceId)).toEqual([rep.id]);
        expect(await tx.anyWaitingReference(rep.id)).toBe(true);
      });
      expect(await store.nextWakeAt(NOON)).toBe(w.deadline);
      await store.cancelInstance(orgId, rep.id, NOON + 10, 'cancelled by alice', 'u1');
      expect((await store.listReferenceWaits(rep.id))[0]).toMatchObject({ status: 'CANCEL', reason: 'cancelled by alice', endedAt: NOON + 10 });
      await store.engineTx(async (tx) => expect(await tx.anyWaitingReference(rep.id)).toBe(false));
    });
  });
}
