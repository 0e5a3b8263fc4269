// The taskMode 2 side of the Store contract (contract §11), run against every adapter: the key states of
// a task instance written by its open attempt only (owner engine live, attempt RUNNING), read back by the
// next attempt, counted per status for Get Task Instance, and removed with their task instance.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyByStatus } from '../../src/domain/keyStatus.js';
import type { EngineRecord, Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

export function describeTaskKeysContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, task keys: ${name}`, () => {
    let store: Store;
    let dirId: string;
    const orgId = 'o1';
    const engine = (id: string): EngineRecord => ({ id, host: 'h', pid: 1, procStart: '9', startedAt: T0, heartbeatAt: T0, leaseUntil: T0 + 60_000, state: 'live', endedAt: null });

    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
      await store.registerEngine(engine('e1'));
      await store.registerEngine(engine('e2'));
    });
    afterEach(async () => store.close());

    /** A one-task instance RUNNING with its task's attempt 1 open on engine e1. */
    async function runningTask(n = 1) {
      const f = await store.createFlow(flowOf(orgId, dirId, n));
      const inst = await store.createFlowInstance(instanceOf(f, T0));
      const drive = driver(store, 'e1');
      await drive.startInstance(f.flow.id, T0);
      const tis = await store.listTaskInstances(inst.id);
      const runNum = await drive.startTask(tis[0].id, T0 + 1);
      return { f, inst, id: tis[0].id, runNum, drive, tis };
    }

    it('records the states of an open attempt of a live owner, replaces them, and reads them back', async () => {
      const { id, runNum } = await runningTask();
      expect(await store.keyState(id)).toBeNull();
      expect(await store.recordKeyResults(id, runNum, 'e1', 'RR...', T0 + 2)).toBe(true);
      expect(await store.keyState(id)).toEqual({ runNum: 1, states: 'RR...' });
      expect(await store.recordKeyResults(id, runNum, 'e1', 'SFTCI', T0 + 3)).toBe(true);
      expect(await store.keyState(id)).toEqual({ runNum: 1, states: 'SFTCI' });
      // 10,000 keys: one character each.
      const big = 'S'.repeat(9_999) + 'F';
      expect(await store.recordKeyResults(id, runNum, 'e1', big, T0 + 4)).toBe(true);
      expect((await store.keyState(id))?.states).toBe(big);
    });

    it('writes nothing for another engine, an engine no longer live, an attempt not open, or one that does not exist', async () => {
      const { id, runNum, drive } = await runningTask();
      expect(await store.recordKeyResults(id, runNum, 'e1', 'R', T0 + 2)).toBe(true);
      expect(await store.recordKeyResults(id, runNum, 'e2', 'S', T0 + 3)).toBe(false); // not its attempt
      expect(await store.recordKeyResults(id, runNum, '', 'S', T0 + 3)).toBe(false); // disowned
      expect(await store.recordKeyResults(id, runNum + 1, 'e1', 'S', T0 + 3)).toBe(false); // no such attempt
      expect(await store.recordKeyResults('nope', 1, 'e1', 'S', T0 + 3)).toBe(false);
      // Taken over (fenced): its engine expired while the attempt is still open.
      expect(await store.expireEngine('e1', T0, T0 + 5)).toBe(true);
      expect(await store.recordKeyResults(id, runNum, 'e1', 'S', T0 + 6)).toBe(false);
      expect(await store.keyState(id)).toEqual({ runNum: 1, states: 'R' });
      // Closed (stale): the attempt ended.
      await drive.endTask(id, runNum, 'FAIL', T0 + 7, { owner: 'e1' });
      expect((await store.getTaskInstanceById(id))?.status).not.toBe('RUNNING');
      expect(await store.recordKeyResults(id, runNum, 'e1', 'S', T0 + 8)).toBe(false);
      expect(await store.keyState(id)).toEqual({ runNum: 1, states: 'R' });
    });

    it('counts keys per status, for the task instances that have states', async () => {
      const { id, runNum, tis } = await runningTask(2);
      expect(await store.recordKeyResults(id, runNum, 'e1', 'SSSF.RTCI.', T0 + 2)).toBe(true);
      const other = tis[1].id; // never ran: no states
      const unknown = Array.from({ length: 600 }, (_, i) => `x${i}`); // more ids than one IN list
      const counts = await store.keyCounts([other, ...unknown, id, id]);
      expect([...counts.keys()]).toEqual([id]);
      expect(counts.get(id)).toEqual({ runNum: 1, total: 10, byStatus: { ...emptyByStatus(), SUCCESS: 3, FAIL: 1, PENDING: 2, RUNNING: 1, TIMEOUT: 1, CANCEL: 1, INTERRUPTED: 1 } });
      expect(await store.keyCounts([])).toEqual(new Map());
    });

    it('removes the states with their task instance: purge and Delete Flow', async () => {
      const { f, id, runNum, drive } = await runningTask();
      expect(await store.recordKeyResults(id, runNum, 'e1', 'SS', T0 + 2)).toBe(true);
      await drive.endTask(id, runNum, 'SUCCESS', T0 + 3);
      const r = await store.purgeInstances({ before: T0 + 60_000, pauseMs: 0 });
      expect(r.tables.task_instances).toBe(1);
      expect(await store.keyState(id)).toBeNull();

      const second = await runningTask();
      expect(await store.recordKeyResults(second.id, second.runNum, 'e1', 'S', T0 + 2)).toBe(true);
      await second.drive.endTask(second.id, second.runNum, 'SUCCESS', T0 + 3);
      await store.deleteFlow(orgId, second.f.flow.id, 'u1', T0 + 4);
      expect(await store.keyState(second.id)).toBeNull();
      expect(f.flow.id).not.toBe(second.f.flow.id);
    });
  });
}
