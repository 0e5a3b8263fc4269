// Retention's side of the Store contract (Store.purgeInstances, src/store/purge.ts), run against every
// adapter: terminal instances that ended before the cut-off go with every row of theirs; WAIT, RUNNING,
// recent ones, one whose task still runs, and a periodic flow's newest fire stay; a dry run counts the same
// and changes nothing; a purge of several batches counts right and can be stopped between batches.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowWithTasks } from '../../src/domain/types.js';
import { purgeInBackground } from '../../src/store/purge.js';
import type { PurgeCounts, PurgeResult, Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const MIN = 60_000;
const DAY = 86_400_000;
const CUTOFF = T0 + 10 * DAY;

export function describePurgeContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, retention: ${name}`, () => {
    let store: Store;
    let drive: ReturnType<typeof driver>;
    let dirId: string;
    let flows = 0;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      drive = driver(store);
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => store.close());

    const newFlow = () => store.createFlow(flowOf(orgId, dirId, 2, { name: `flow${++flows}` }));

    /** An instance of `f` triggered and started at `at`, its first task RUNNING (attempt 1 open). */
    async function running(f: FlowWithTasks, at: number, kind?: 'schedule') {
      const spec = instanceOf(f, at);
      if (kind) spec.instance = { ...spec.instance, kind, owner: '' };
      const inst = await store.createFlowInstance(spec);
      expect(await drive.startInstance(f.flow.id, at)).toBe(inst.id);
      const tis = (await store.listTaskInstances(inst.id)).map((t) => t.id);
      await drive.startTask(tis[0], at);
      return { id: inst.id, tis };
    }
    /** An instance that ended SUCCESS (both tasks ran) or FAIL (the first failed, the second SKIP) at `at`. */
    async function ended(status: 'SUCCESS' | 'FAIL', at: number, f?: FlowWithTasks, kind?: 'schedule') {
      const r = await running(f ?? (await newFlow()), at, kind);
      await drive.endTask(r.tis[0], 1, status, at, { logTail: `${status.toLowerCase()} output\n` });
      if (status === 'SUCCESS') {
        await drive.startTask(r.tis[1], at);
        await drive.endTask(r.tis[1], 1, 'SUCCESS', at, { logTail: 'second\n' });
      }
      expect((await store.getFlowInstanceById(r.id))?.status).toBe(status);
      return r;
    }
    /** A WAIT instance (future trigger time) cancelled at `at`: CANCEL, no attempt. */
    async function cancelled(at: number) {
      const inst = await store.createFlowInstance(instanceOf(await newFlow(), at + 365 * DAY, { createdAt: at }));
      await store.cancelInstance(orgId, inst.id, at, 'not needed', 'u1');
      return { id: inst.id, tis: (await store.listTaskInstances(inst.id)).map((t) => t.id) };
    }

    /** The rows of an instance, counted through the Store's reads (status_events rows = history entries). */
    async function rowsOf(ids: string[]): Promise<Omit<PurgeCounts, 'task_logs'>> {
      const c = { flow_instances: 0, task_instances: 0, attempts: 0, status_events: 0 };
      for (const id of ids) {
        if (await store.getFlowInstanceById(id)) c.flow_instances++;
        const tis = await store.listTaskInstances(id);
        c.task_instances += tis.length;
        for (const t of tis) c.attempts += (await store.listAttempts(t.id)).length;
        c.status_events += (await store.listHistory(id)).length;
      }
      return c;
    }
    async function gone(id: string, tis: string[]) {
      expect(await store.getFlowInstanceById(id)).toBeNull();
      expect(await store.listTaskInstances(id)).toEqual([]);
      expect(await store.listHistory(id)).toEqual([]);
      for (const t of tis) {
        expect(await store.getTaskInstanceById(t)).toBeNull();
        expect(await store.listAttempts(t)).toEqual([]);
        expect(await store.listTaskHistory(t)).toEqual([]);
        expect(await store.getLogTail(t, 1000)).toBeNull();
      }
    }

    it('removes terminal instances that ended before the cut-off with every row of theirs, in batches; a dry run counts the same and changes nothing', async () => {
      const old = [await ended('SUCCESS', T0), await ended('FAIL', T0 + MIN), await cancelled(T0 + 2 * MIN), await ended('SUCCESS', T0 + 3 * MIN)];
      const stays = {
        waiting: (await store.createFlowInstance(instanceOf(await newFlow(), T0))).id, // due long ago, never started
        running: (await running(await newFlow(), T0 + 4 * MIN)).id,
        recent: (await ended('SUCCESS', CUTOFF + MIN)).id,
        endedAtCutoff: (await ended('FAIL', CUTOFF)).id, // "before" is strict
      };
      // Cancelled while its first task runs: CANCEL, but the engine has yet to stop that task.
      const stillRunning = await running(await newFlow(), T0 + 5 * MIN);
      await store.cancelInstance(orgId, stillRunning.id, T0 + 5 * MIN, 'stop', 'u1');
      expect((await store.getFlowInstanceById(stillRunning.id))?.status).toBe('CANCEL');
      for (const t of old[0].tis) expect(await store.getLogTail(t, 1000)).toMatch(/output|second/);
      const expected = await rowsOf(old.map((o) => o.id));
      expect(expected).toMatchObject({ flow_instances: 4, task_instances: 8 });

      const dry = await store.purgeInstances({ before: CUTOFF, dryRun: true, batchSize: 2 });
      expect(dry).toMatchObject({ dryRun: true, tables: expected, kept: 1, stopped: false });
      expect(dry.tables.task_logs).toBeGreaterThan(0);
      expect(await rowsOf(old.map((o) => o.id))).toEqual(expected);

      const progress: PurgeResult[] = [];
      const real = await store.purgeInstances({ before: CUTOFF, batchSize: 2, onProgress: (p) => progress.push(p) });
      expect(real).toEqual({ ...dry, dryRun: false });
      expect(real.batches).toBe(3); // 5 candidates, 2 per transaction
      expect(progress.map((p) => p.batches)).toEqual([1, 2, 3]);
      expect(progress.map((p) => p.tables.flow_instances + p.kept)).toEqual([2, 4, 5]);
      for (const o of old) await gone(o.id, o.tis);

      for (const id of [...Object.values(stays), stillRunning.id]) expect(await store.getFlowInstanceById(id)).not.toBeNull();
      expect((await store.getFlowInstanceById(stays.running))?.status).toBe('RUNNING');
      expect((await store.getFlowInstanceById(stays.waiting))?.status).toBe('WAIT');
      expect((await rowsOf([stillRunning.id])).attempts).toBe(1);
      expect(await store.getLogTail(stillRunning.tis[0], 1000)).not.toBeNull();

      expect(await store.purgeInstances({ before: CUTOFF })).toMatchObject({ tables: { flow_instances: 0, task_instances: 0, attempts: 0, status_events: 0, task_logs: 0 }, kept: 1 });
      // Once the engine has stopped its task, the cancelled instance goes too.
      await drive.endTask(stillRunning.tis[0], 1, 'CANCEL', T0 + 6 * MIN);
      expect((await store.purgeInstances({ before: CUTOFF })).tables.flow_instances).toBe(1);
      await gone(stillRunning.id, stillRunning.tis);
    });

    it('keeps the newest scheduled fire of a periodic flow (the cron scheduler remembers fires by it) and removes the older ones', async () => {
      const f = await newFlow();
      const first = await ended('SUCCESS', T0, f, 'schedule');
      const second = await ended('FAIL', T0 + 60 * MIN, f, 'schedule');
      const manual = await ended('SUCCESS', T0 + 120 * MIN, f);
      expect(await store.lastScheduledFireTime(f.flow.id)).toBe(T0 + 60 * MIN);
      const r = await store.purgeInstances({ before: CUTOFF });
      expect(r).toMatchObject({ kept: 1, tables: { flow_instances: 2 } });
      await gone(first.id, first.tis);
      await gone(manual.id, manual.tis);
      expect((await store.getFlowInstanceById(second.id))?.status).toBe('FAIL');
      expect(await store.lastScheduledFireTime(f.flow.id)).toBe(T0 + 60 * MIN);
    });

    it('purges in the background with progress, and stops between batches when asked', async () => {
      for (let i = 0; i < 3; i++) await cancelled(T0 + i * MIN);
      let bg: ReturnType<typeof purgeInBackground> | null = null;
      bg = purgeInBackground(store, { before: CUTOFF, batchSize: 1, onProgress: () => void bg?.stop() });
      const r = await bg.done;
      expect(r).toMatchObject({ stopped: true, batches: 1, tables: { flow_instances: 1 } });
      expect(bg.progress()).toEqual({ ...r, stopped: false });
      const rest = await purgeInBackground(store, { before: CUTOFF }).done;
      expect(rest).toMatchObject({ stopped: false, batches: 1, tables: { flow_instances: 2 } });
    });

    it('refuses a cut-off or batch size that is not a number it can use, naming the field', async () => {
      await expect(store.purgeInstances({ before: Number.NaN })).rejects.toMatchObject({ field: 'before' });
      await expect(store.purgeInstances({ before: CUTOFF, batchSize: 0 })).rejects.toMatchObject({ field: 'batchSize' });
    });

    it('reclaims space as its backend does: SQLite incremental vacuum, PostgreSQL autovacuum', async () => {
      for (let i = 0; i < 3; i++) await ended('SUCCESS', T0 + i * MIN);
      await store.purgeInstances({ before: CUTOFF });
      const space = await store.reclaimSpace();
      expect(space.mode).toBe(name === 'postgres' ? 'autovacuum' : 'incremental');
      expect(space.vacuumed).toBe(false);
      expect(space.freedBytes).toBeGreaterThanOrEqual(0);
    });
  });
}
