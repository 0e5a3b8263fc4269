// The alerts side of the Store contract (contract §12), run against every adapter: a failing end writes
// its outbox row in its own transaction (a rolled-back end writes none; alertMode 0 writes none), a
// timed-out attempt writes a TIMEOUT row retried or not, claims under a lease give each row to one
// claimer (also when several claim at once), and a result is recorded only under the claim that took it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noTransitions } from '../../src/domain/plan.js';
import type { Delivery } from '../../src/domain/alerts.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceOf, shellTask, T0 } from './store.contract.js';

const LEASE = 60_000;

export function describeAlertsContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, alerts: ${name}`, () => {
    let store: Store;
    let drive: ReturnType<typeof driver>;
    let dirId: string;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      drive = driver(store);
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0, email: 'alice@example.com' });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => store.close());

    /** A one-task flow with `alertMode` (retries: `retryLimit`), one instance of it started, its task running. */
    async function running(alertMode: number, opts: { retryLimit?: number; at?: number; name?: string } = {}) {
      const at = opts.at ?? T0;
      const base = flowOf(orgId, dirId, 1, { name: opts.name ?? 'f' });
      const f = await store.createFlow({
        ...base,
        flow: { ...base.flow, alertMode, alertTo: 'ops@example.com;bob' },
        tasks: [{ ...shellTask('t1'), retryLimit: opts.retryLimit ?? 0, x: 0, y: 0 }],
      });
      const inst = await store.createFlowInstance(instanceOf(f, at));
      expect(await drive.startInstance(f.flow.id, at)).toBe(inst.id);
      const [t] = await store.listTaskInstances(inst.id);
      const run = await drive.startTask(t.id, at + 1);
      return { f, inst, t, run, at };
    }

    it('writes one PENDING alert when an instance of an alerting flow fails, in the end’s commit', async () => {
      const { f, inst, t, run, at } = await running(1);
      await drive.endTask(t.id, run, 'FAIL', at + 2);
      const alerts = await store.listAlerts(inst.id);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        instanceId: inst.id, flowId: f.flow.id, orgId, event: 'FAIL', taskInstanceId: null, runNum: null, alertMode: 1,
        alertTo: 'ops@example.com;bob', status: 'PENDING', tries: 0, nextAt: at + 2, deliveries: [], createdAt: at + 2,
      });
      expect(alerts[0].reason).toContain('t1');
      expect(await store.nextAlertAt()).toBe(at + 2);
    });

    it('writes nothing for a flow with alertMode 0, and reads the flow’s current mode', async () => {
      const quiet = await running(0);
      await drive.endTask(quiet.t.id, quiet.run, 'FAIL', quiet.at + 2);
      expect(await store.listAlerts(quiet.inst.id)).toEqual([]);
      expect(await store.nextAlertAt()).toBeNull();
      expect(await store.claimAlerts('s1', quiet.at + 10, LEASE, 10)).toEqual([]);
    });

    it('writes a TIMEOUT alert per timed-out attempt, retried or not, and the FAIL of the instance', async () => {
      const { inst, t, run, at } = await running(2, { retryLimit: 1 });
      await drive.endTask(t.id, run, 'TIMEOUT', at + 2);
      expect((await store.listTaskInstances(inst.id))[0].status).toBe('RERUN');
      let alerts = await store.listAlerts(inst.id);
      expect(alerts.map((a) => [a.event, a.taskInstanceId, a.runNum])).toEqual([['TIMEOUT', t.id, 1]]);
      const run2 = await drive.startTask(t.id, at + 10_000);
      await drive.endTask(t.id, run2, 'TIMEOUT', at + 10_001);
      alerts = await store.listAlerts(inst.id);
      expect(alerts.map((a) => [a.event, a.taskInstanceId, a.runNum, a.alertMode]).sort()).toEqual([
        ['FAIL', null, null, 2],
        ['TIMEOUT', t.id, 1, 2],
        ['TIMEOUT', t.id, 2, 2],
      ]);
    });

    it('writes no alert when the end’s transaction rolls back', async () => {
      const { f, inst } = await running(3);
      const plan = { ...noTransitions(), instances: [{ id: inst.id, flowId: f.flow.id, from: 'RUNNING' as const, to: 'INTERNAL_ERROR' as const, reason: 'stuck' }] };
      await expect(
        store.engineTx(async (tx) => {
          await tx.apply(plan, T0 + 5, 'e1');
          throw new Error('the commit never happens');
        }),
      ).rejects.toThrow('the commit never happens');
      expect(await store.listAlerts(inst.id)).toEqual([]);
      expect((await store.getFlowInstanceById(inst.id))!.status).toBe('RUNNING');
      // The same end committed: its alert is there.
      await store.engineTx((tx) => tx.apply(plan, T0 + 6, 'e1'));
      expect((await store.listAlerts(inst.id)).map((a) => [a.event, a.reason])).toEqual([['INTERNAL_ERROR', 'stuck']]);
    });

    it('claims a due alert once under a lease, and again once the lease ran out', async () => {
      const { inst, t, run, at } = await running(1);
      await drive.endTask(t.id, run, 'FAIL', at + 2);
      expect(await store.claimAlerts('s1', at + 1, LEASE, 10)).toEqual([]); // not due yet
      const [c] = await store.claimAlerts('s1', at + 2, LEASE, 10);
      expect(c).toMatchObject({ instanceId: inst.id, claimedBy: 's1', claimedUntil: at + 2 + LEASE, tries: 1 });
      expect(await store.claimAlerts('s2', at + 3, LEASE, 10)).toEqual([]);
      expect(await store.nextAlertAt()).toBe(at + 2 + LEASE);
      const [again] = await store.claimAlerts('s2', at + 2 + LEASE, LEASE, 10);
      expect(again).toMatchObject({ id: c.id, claimedBy: 's2', tries: 2 });
      // The first claim ran out: its result is not recorded.
      const sent: Delivery[] = [{ channel: 'email', to: ['alice@example.com'], status: 'SENT', tries: 1, error: null, sentAt: at + 9 }];
      expect(await store.recordAlertResult(c, { status: 'SENT', deliveries: sent, nextAt: at + 9 }, at + 9)).toBe(false);
      expect((await store.listAlerts(inst.id))[0]).toMatchObject({ status: 'PENDING', deliveries: [] });
      expect(await store.recordAlertResult(again, { status: 'SENT', deliveries: sent, nextAt: at + 9 }, at + 9)).toBe(true);
      expect((await store.listAlerts(inst.id))[0]).toMatchObject({ status: 'SENT', deliveries: sent, tries: 2, updatedAt: at + 9 });
      expect(await store.recordAlertResult(again, { status: 'FAILED', deliveries: [], nextAt: at + 10 }, at + 10)).toBe(false);
      expect(await store.nextAlertAt()).toBeNull();
      expect(await store.claimAlerts('s3', at + 10 * LEASE, LEASE, 10)).toEqual([]);
    });

    it('keeps a retried alert PENDING until its next try is due', async () => {
      const { inst, t, run, at } = await running(1);
      await drive.endTask(t.id, run, 'FAIL', at + 2);
      const [c] = await store.claimAlerts('s1', at + 2, LEASE, 10);
      const retrying: Delivery[] = [{ channel: 'email', to: ['alice@example.com'], status: 'RETRYING', tries: 1, error: 'connect ECONNREFUSED', sentAt: null }];
      expect(await store.recordAlertResult(c, { status: 'PENDING', deliveries: retrying, nextAt: at + 5_000 }, at + 3)).toBe(true);
      expect(await store.claimAlerts('s1', at + 4_999, LEASE, 10)).toEqual([]);
      const [next] = await store.claimAlerts('s1', at + 5_000, LEASE, 10);
      expect(next).toMatchObject({ id: c.id, tries: 2, deliveries: retrying });
      expect((await store.listAlerts(inst.id))[0].status).toBe('PENDING');
    });

    it('gives each alert to one of several claimers claiming at once', async () => {
      const ids: string[] = [];
      for (let k = 0; k < 6; k++) {
        const { inst, t, run, at } = await running(1, { at: T0 + k * 3_600_000, name: `f${k}` });
        await drive.endTask(t.id, run, 'FAIL', at + 2);
        ids.push(...(await store.listAlerts(inst.id)).map((a) => a.id));
      }
      const now = T0 + 10 * 3_600_000;
      const claims = await Promise.all(Array.from({ length: 4 }, (_, k) => store.claimAlerts(`s${k}`, now, LEASE, 2)));
      const got = claims.flat().map((a) => a.id);
      expect(new Set(got).size).toBe(got.length);
      const rest = await store.claimAlerts('late', now, LEASE, 10);
      expect([...got, ...rest.map((a) => a.id)].sort()).toEqual([...ids].sort());
    });
  });
}
