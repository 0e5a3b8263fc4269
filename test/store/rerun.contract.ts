// The rerun and backfill side of the Store contract (contract §12), run against every adapter: a rerun
// resets what its mode names in one transaction with its history, is refused (nothing written) while the
// instance has not ended, and of two reruns at once exactly one wins; a backfill writes all or nothing and
// skips minutes that exist.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { RerunRefusedError } from '../../src/store/rerun.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

export function describeRerunContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, rerun and backfill: ${name}`, () => {
    let store: Store;
    let dirId: string;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0, email: '', phone: '' });
      dirId = (await store.getRootDirectory(orgId))!.id;
      await store.registerEngine({ id: 'e1', host: 'h', pid: 1, procStart: '9', startedAt: T0, heartbeatAt: T0, leaseUntil: T0 + 3_600_000, state: 'live', endedAt: null });
    });
    afterEach(async () => store.close());

    /** A chain t1 -> t2 -> t3 whose t2 failed: FAIL, t1 SUCCESS, t3 SKIP. */
    async function failedChain() {
      const f = await store.createFlow(flowOf(orgId, dirId, 3));
      const inst = await store.createFlowInstance(instanceOf(f, T0));
      const drive = driver(store, 'e1');
      await drive.startInstance(f.flow.id, T0);
      const [t1, t2, t3] = await store.listTaskInstances(inst.id);
      await drive.endTask(t1.id, await drive.startTask(t1.id, T0 + 1), 'SUCCESS', T0 + 2);
      await drive.endTask(t2.id, await drive.startTask(t2.id, T0 + 3), 'FAIL', T0 + 4);
      return { f, inst, ids: [t1.id, t2.id, t3.id] };
    }
    const rerun = (id: string, mode: 'failed' | 'all', at = T0 + 10) => store.rerunInstance({ orgId, id, mode, at, userId: 'u1', userName: 'alice' });

    it('failed: the instance back to WAIT due now, the unsuccessful task instances INIT waiting again, with history', async () => {
      const { inst, ids } = await failedChain();
      expect((await store.getFlowInstance(orgId, inst.id))!.status).toBe('FAIL');
      const done = await rerun(inst.id, 'failed');
      expect(done.reset).toEqual([ids[1], ids[2]]);
      expect(done.instance).toMatchObject({ status: 'WAIT', dueAt: T0 + 10, startedAt: null, endedAt: null, reason: null, triggerTime: T0 });
      const tis = await store.listTaskInstances(inst.id);
      expect(tis.map((t) => [t.status, t.runNum, t.waitingOn, t.endedAt, t.exitCode])).toEqual([
        ['SUCCESS', 1, 0, T0 + 2, 0],
        ['INIT', 1, 0, null, null],
        ['INIT', 0, 1, null, null],
      ]);
      const h = (await store.listHistory(inst.id)).filter((x) => x.reason === 'rerun (failed) by alice');
      expect(h.map((x) => [x.kind, x.entityId, x.from, x.to])).toEqual([
        ['instance', inst.id, 'FAIL', 'WAIT'],
        ['task', ids[1], 'FAIL', 'INIT'],
        ['task', ids[2], 'SKIP', 'INIT'],
      ]);
      // The engine starts it again: t2 is a root of the rerun, its attempt numbered on.
      const drive = driver(store, 'e1');
      expect(await drive.startInstance(inst.flowId, T0 + 11)).toBe(inst.id);
      expect((await store.listTaskInstances(inst.id)).map((t) => t.status)).toEqual(['SUCCESS', 'READY', 'INIT']);
      expect(await drive.startTask(ids[1], T0 + 12)).toBe(2);
    });

    it('all: every task instance; refused while not ended, and with failed for a SUCCESS instance, nothing written', async () => {
      const { inst, ids } = await failedChain();
      expect((await rerun(inst.id, 'all')).reset).toEqual(ids);
      const before = await store.listHistory(inst.id);
      await expect(rerun(inst.id, 'all')).rejects.toThrow(RerunRefusedError);
      await expect(rerun(inst.id, 'failed')).rejects.toThrow(/is WAIT; only an ended instance/);
      expect(await store.listHistory(inst.id)).toEqual(before);
      await expect(store.rerunInstance({ orgId: 'o-other', id: inst.id, mode: 'all', at: T0, userId: 'u1', userName: 'alice' })).rejects.toThrow(/not found/);
    });

    it('of two reruns at once exactly one wins', async () => {
      const { inst } = await failedChain();
      const results = await Promise.allSettled([rerun(inst.id, 'failed'), rerun(inst.id, 'all'), rerun(inst.id, 'failed')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store.listHistory(inst.id)).filter((x) => x.kind === 'instance' && x.to === 'WAIT' && x.from === 'FAIL')).toHaveLength(1);
    });

    it('backfill: one transaction, existing minutes skipped; a refused create writes none', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 2));
      await store.createFlowInstance(instanceOf(f, T0 + 60_000));
      const made = await store.createFlowInstances([0, 1, 2].map((m) => instanceOf(f, T0 + m * 60_000)));
      expect(made.created.map((i) => i.triggerTime)).toEqual([T0, T0 + 120_000]);
      expect(made.skipped).toEqual([instanceOf(f, T0 + 60_000).instance.id]);
      expect(made.created[0].seq).toBeLessThan(made.created[1].seq);
      const ghost = instanceOf(f, T0 + 300_000);
      ghost.instance.flowId = 987_654;
      await expect(store.createFlowInstances([instanceOf(f, T0 + 240_000), ghost])).rejects.toThrow(/987654 not found/);
      expect(await store.getFlowInstance(orgId, instanceOf(f, T0 + 240_000).instance.id)).toBeNull();
    });
  });
}
