// The engine's side of the Store contract, run against every adapter: decisions as transactions
// (EngineTx), transitions checked against the tables and recorded in the history, claims, the one-instance
// rule, attempts closed only by their owner, the engine registry with its leases, and the wake-up queries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { IllegalTransitionError, StaleError } from '../../src/domain/errors.js';
import { noTransitions, type Transitions } from '../../src/domain/plan.js';
import { InstanceCache } from '../../src/engine/instanceCache.js';
import { settleStalled } from '../../src/engine/steps.js';
import type { EngineRecord, Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const MIN = 60_000;

export function describeEngineStoreContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, engine side: ${name}`, () => {
    let store: Store;
    let drive: ReturnType<typeof driver>;
    let dirId: string;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      drive = driver(store);
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => store.close());

    async function running(n = 2, at = T0, relations?: 'none') {
      const spec = flowOf(orgId, dirId, n);
      if (relations === 'none') spec.relationsByName = [];
      const f = await store.createFlow(spec);
      const inst = await store.createFlowInstance(instanceOf(f, at));
      expect(await drive.startInstance(f.flow.id, at)).toBe(inst.id);
      return { f, inst, tis: await store.listTaskInstances(inst.id) };
    }
    const apply = (t: Partial<Transitions>, at = T0) => store.engineTx((tx) => tx.apply({ ...noTransitions(), ...t }, at, 'e1'));

    it('has a store id made at its first migration, the same on every read', async () => {
      const id = await store.storeId();
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await store.migrate();
      expect(await store.storeId()).toBe(id);
    });

    it('starts an instance with its roots READY and counts what each task waits on', async () => {
      const { inst, tis } = await running(3);
      expect(tis.map((t) => [t.status, t.waitingOn, t.dueAt])).toEqual([['READY', 0, T0], ['INIT', 1, null], ['INIT', 1, null]]);
      expect((await store.getFlowInstanceById(inst.id))?.status).toBe('RUNNING');
    });

    it('finishes a task and makes its successor READY in one commit: attempts, run numbers, times, logs and history', async () => {
      const { inst, tis } = await running(2);
      const [a, b] = tis.map((t) => t.id);
      await drive.startTask(a, T0 + 1);
      await store.recordAttemptProcess(a, 1, { pid: 42, pgid: 42, procStart: '123' });
      expect((await store.listOpenAttemptsOf('e1')).map((x) => [x.taskInstanceId, x.pid, x.instanceStatus])).toEqual([[a, 42, 'RUNNING']]);
      const r = await drive.endTask(a, 1, 'SUCCESS', T0 + 2, { logTail: 'done\n' });
      expect(r.ended.map((e) => e.status)).toEqual(['SUCCESS']);
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'SUCCESS', runNum: 1, startedAt: T0 + 1, endedAt: T0 + 2, exitCode: 0 });
      expect(await store.getTaskInstanceById(b)).toMatchObject({ status: 'READY', runNum: 0, waitingOn: 0, dueAt: T0 + 2 });
      expect(await store.listAttempts(a)).toEqual([
        { taskInstanceId: a, runNum: 1, status: 'SUCCESS', startedAt: T0 + 1, endedAt: T0 + 2, host: 'h', engineId: 'e1', pid: 42, pgid: 42, procStart: '123', exitCode: 0, signal: null },
      ]);
      expect(await store.getLogTail(a, 1000)).toBe(`== ${a} ==\ndone\n`);
      expect((await store.listHistory(inst.id)).map((h) => [h.kind, h.entityId, h.from, h.to, h.runNum, h.engineId])).toEqual([
        ['instance', inst.id, 'WAIT', 'RUNNING', null, 'e1'],
        ['task', a, 'INIT', 'READY', 0, 'e1'],
        ['task', a, 'READY', 'RUNNING', 1, 'e1'],
        ['task', a, 'RUNNING', 'SUCCESS', 1, 'e1'],
        ['task', b, 'INIT', 'READY', 0, 'e1'],
      ]);
      expect((await store.listTaskHistory(b)).map((h) => h.to)).toEqual(['READY']);
    });

    it('retries: RERUN due at the retry time, claimed only then, attempt 2 keeps the first startedAt', async () => {
      const { tis } = await running(1);
      const a = tis[0].id;
      await drive.startTask(a, T0);
      await apply({ tasks: [{ id: a, instanceId: tis[0].flowInstanceId, from: 'RUNNING', to: 'RERUN', dueAt: T0 + 1000, exitCode: 1, isTimeout: true, finish: { runNum: 1, engineId: 'e1', status: 'TIMEOUT', exitCode: 1, signal: null, logTail: '' } }] }, T0 + 5);
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'RERUN', nextRunAt: T0 + 1000, dueAt: T0 + 1000, endedAt: null, isTimeout: true, exitCode: 1 });
      expect(await store.nextWakeAt(T0 + 5)).toBe(T0 + 1000);
      expect((await drive.claim(T0 + 999, 4)).started).toEqual([]);
      const r = await drive.claim(T0 + 1000, 4);
      expect(r.started.map((s) => [s.taskInstanceId, s.runNum])).toEqual([[a, 2]]);
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'RUNNING', runNum: 2, startedAt: T0, nextRunAt: null, isTimeout: false, exitCode: null });
      expect((await store.listAttempts(a)).map((x) => [x.runNum, x.status])).toEqual([[1, 'TIMEOUT'], [2, 'RUNNING']]);
    });

    it('refuses a transition the tables do not allow, and writes nothing of its decision', async () => {
      const { inst, tis } = await running(2);
      const before = await store.listTaskInstances(inst.id);
      const bad = apply({ tasks: [{ id: tis[1].id, instanceId: inst.id, from: 'INIT', to: 'RUNNING', dueAt: null }], instances: [{ id: inst.id, flowId: inst.flowId, from: 'RUNNING', to: 'SUCCESS', reason: null }] });
      await expect(bad).rejects.toBeInstanceOf(IllegalTransitionError);
      await expect(apply({ instances: [{ id: inst.id, flowId: inst.flowId, from: 'RUNNING', to: 'WAIT', reason: null }] })).rejects.toThrow(/RUNNING -> WAIT is not allowed/);
      expect(await store.listTaskInstances(inst.id)).toEqual(before);
      expect((await store.getFlowInstanceById(inst.id))?.status).toBe('RUNNING');
    });

    it('rolls back the whole decision when a later guard fails, and names what was stale', async () => {
      const { inst, tis } = await running(2);
      const [a, b] = tis.map((t) => t.id);
      await drive.startTask(a, T0);
      const before = await store.listTaskInstances(inst.id);
      const history = await store.listHistory(inst.id);
      const stale = apply({
        tasks: [
          { id: a, instanceId: inst.id, from: 'RUNNING', to: 'SUCCESS', dueAt: null, exitCode: 0, finish: { runNum: 1, engineId: 'e1', status: 'SUCCESS', exitCode: 0, signal: null, logTail: 'tail' } },
          { id: b, instanceId: inst.id, from: 'READY', to: 'RUNNING', dueAt: null, start: { runNum: 1, host: 'h', engineId: 'e1', banner: 'x' } },
        ],
      });
      await expect(stale).rejects.toThrow(new RegExp(`task instance ${b} is not READY`));
      expect(await store.listTaskInstances(inst.id)).toEqual(before);
      expect(await store.listHistory(inst.id)).toEqual(history);
      expect((await store.listAttempts(a)).map((x) => x.status)).toEqual(['RUNNING']);
      expect(await store.getLogTail(a, 100)).toBe(`== ${a} ==\n`);
    });

    it('writes a move that ends or starts an attempt whole or not at all: attempt row, log tail, banner, history', async () => {
      // PostgreSQL runs each such move as one statement (src/store/taskMoveSql.ts), SQLite as several.
      const { inst, tis } = await running(1);
      const a = tis[0].id;
      await drive.startTask(a, T0);
      const end = (engineId: string, logTail: string) =>
        apply({ tasks: [{ id: a, instanceId: inst.id, from: 'RUNNING', to: 'RERUN', dueAt: T0 + 1000, exitCode: 3, finish: { runNum: 1, engineId, status: 'FAIL', exitCode: 3, signal: null, logTail } }] }, T0 + 5);
      const start = (runNum: number) => apply({ tasks: [{ id: a, instanceId: inst.id, from: 'RERUN', to: 'RUNNING', dueAt: null, start: { runNum, host: 'h2', engineId: 'e1', banner: `== run ${runNum} ==\n` } }] }, T0 + 1000);
      const history = await store.listHistory(inst.id);
      // Another engine's end: neither the attempt, nor the row, nor the log, nor the history moves.
      await expect(end('e2', 'not mine\n')).rejects.toThrow(/attempt 1 of task instance .* is not open for engine e2/);
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'RUNNING', runNum: 1, exitCode: null });
      expect(await store.getLogTail(a, 1000)).toBe(`== ${a} ==\n`);
      expect(await store.listHistory(inst.id)).toEqual(history);
      await end('e1', 'out\n');
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'RERUN', runNum: 1, exitCode: 3, dueAt: T0 + 1000 });
      expect((await store.listAttempts(a)).map((x) => [x.runNum, x.status, x.exitCode])).toEqual([[1, 'FAIL', 3]]);
      expect(await store.getLogTail(a, 1000)).toBe(`== ${a} ==\nout\n`);
      // A start past the next attempt number: no attempt row, no banner, no history row.
      await expect(start(3)).rejects.toThrow(/is not RERUN at attempt 2/);
      expect((await store.listAttempts(a)).map((x) => x.runNum)).toEqual([1]);
      await start(2);
      expect(await store.getTaskInstanceById(a)).toMatchObject({ status: 'RUNNING', runNum: 2, exitCode: null, startedAt: T0 });
      expect((await store.listAttempts(a)).map((x) => [x.runNum, x.status, x.host, x.engineId, x.startedAt])).toEqual([[1, 'FAIL', 'h', 'e1', T0], [2, 'RUNNING', 'h2', 'e1', T0 + 1000]]);
      expect(await store.getLogTail(a, 1000)).toBe(`== ${a} ==\nout\n== run 2 ==\n`);
      expect((await store.listTaskHistory(a)).map((h) => [h.from, h.to, h.runNum]).slice(-2)).toEqual([['RUNNING', 'RERUN', 1], ['RERUN', 'RUNNING', 2]]);
    });

    it('closes an attempt only for its owner: another engine, or an end applied twice, changes nothing', async () => {
      const { inst, tis } = await running(1);
      const a = tis[0].id;
      await drive.startTask(a, T0);
      const close = (engineId: string) =>
        apply({ tasks: [{ id: a, instanceId: inst.id, from: 'RUNNING', to: 'SUCCESS', dueAt: null, finish: { runNum: 1, engineId, status: 'SUCCESS', exitCode: 0, signal: null, logTail: '' } }] });
      await expect(close('e2')).rejects.toBeInstanceOf(StaleError);
      const other = await drive.endTask(a, 1, 'SUCCESS', T0 + 1, { owner: 'e2' });
      expect(other.stale.map((s) => s.why)).toEqual(['the attempt belongs to engine e1']);
      expect((await drive.endTask(a, 1, 'SUCCESS', T0 + 1)).ended).toHaveLength(1);
      const again = await drive.endTask(a, 1, 'SUCCESS', T0 + 2);
      expect(again.stale.map((s) => s.why)).toEqual(['task instance is SUCCESS at attempt 1']);
      expect((await store.listHistory(inst.id)).filter((h) => h.to === 'SUCCESS')).toHaveLength(2); // the task and the instance, once each
    });

    it('claims READY work of RUNNING instances only, oldest first, never past the free slots', async () => {
      const first = await running(3, T0, 'none');
      const second = await running(1, T0 + MIN);
      const r = await drive.claim(T0 + 2 * MIN, 2);
      expect(r.started.map((s) => s.taskInstanceId)).toEqual(first.tis.slice(0, 2).map((t) => t.id));
      await store.cancelInstance(orgId, first.inst.id, T0 + 2 * MIN, 'x', 'u1');
      const rest = await drive.claim(T0 + 2 * MIN, 5);
      expect(rest.started.map((s) => s.taskInstanceId)).toEqual([second.tis[0].id]);
      expect(rest.started[0]).toMatchObject({ runNum: 1, renderedCmd: 'exit 0', instanceId: second.inst.id });
    });

    it('starts the next instance of a flow only when nothing of the flow runs, first by (dueAt, seq)', async () => {
      const { f, inst, tis } = await running(1);
      const next = await store.createFlowInstance(instanceOf(f, T0 + MIN));
      expect(await drive.startInstance(f.flow.id, T0 + 2 * MIN)).toBeNull();
      await drive.startTask(tis[0].id, T0);
      await drive.endTask(tis[0].id, 1, 'FAIL', T0 + 1);
      expect(await store.getFlowInstanceById(inst.id)).toMatchObject({ status: 'FAIL', reason: `task t1 (${tis[0].id}) FAIL` });
      expect(await drive.startInstance(f.flow.id, T0 + 2 * MIN)).toBe(next.id);
    });

    it('stamps a start after the read that found its flow free: never before the end that freed it', async () => {
      // The fault test's one-instance check once failed on the record alone: a start asked for at .943
      // waited on its flow's lock, saw an attempt's end stamped .949 committed, and was stamped .943.
      const { f, tis } = await running(1);
      const next = await store.createFlowInstance(instanceOf(f, T0 + MIN));
      await drive.startTask(tis[0].id, T0);
      await drive.endTask(tis[0].id, 1, 'SUCCESS', T0 + 10 * MIN);
      const later = T0 + 10 * MIN + 7;
      expect(await driver(store, 'e1', () => later).startInstance(f.flow.id, T0 + 2 * MIN)).toBe(next.id);
      expect(await store.getFlowInstanceById(next.id)).toMatchObject({ status: 'RUNNING', startedAt: later });
      expect((await store.listHistory(next.id)).filter((h) => h.kind === 'instance').map((h) => [h.from, h.to, h.at])).toEqual([['WAIT', 'RUNNING', later]]);
      // A clock behind the step's own time never stamps it earlier.
      const third = await store.createFlowInstance(instanceOf(f, T0 + 2 * MIN));
      await store.cancelInstance(orgId, next.id, T0 + 11 * MIN, 'cancelled', 'u1');
      expect(await driver(store, 'e1', () => T0).startInstance(f.flow.id, T0 + 12 * MIN)).toBe(third.id);
      expect((await store.getFlowInstanceById(third.id))?.startedAt).toBe(T0 + 12 * MIN);
    });

    it('starts exactly one instance when many engines ask at once', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 1));
      for (let i = 0; i < 3; i++) await store.createFlowInstance(instanceOf(f, T0 + i * MIN));
      const started = await Promise.all(Array.from({ length: 8 }, (_, i) => driver(store, `e${i}`).startInstance(f.flow.id, T0 + 5 * MIN)));
      expect(started.filter((s) => s !== null)).toHaveLength(1);
    });

    it('8 engines claiming at once take each ready task once, none past its free slots', async () => {
      const { tis } = await running(20, T0, 'none');
      const engines = Array.from({ length: 8 }, (_, i) => driver(store, `e${i}`));
      const first = await Promise.all(engines.map((d) => d.claim(T0 + 1, 3)));
      for (const r of first) expect(r.started.length).toBeLessThanOrEqual(3);
      const rest = await driver(store, 'e9').claim(T0 + 2, 50);
      const claimed = [...first.flatMap((r) => r.started), ...rest.started].map((s) => s.taskInstanceId);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect([...claimed].sort()).toEqual(tis.map((t) => t.id).sort());
      const after = await store.listTaskInstances(tis[0].flowInstanceId);
      expect(after.every((t) => t.status === 'RUNNING' && t.runNum === 1)).toBe(true);
    });

    it('two engines ending the two inputs of a join at once make it READY exactly once', async () => {
      for (let round = 0; round < 5; round++) {
        const spec = flowOf(orgId, dirId, 3, { name: `join-${round}` });
        spec.relationsByName = [
          { sourceTaskName: 't1', targetTaskName: 't3', rerun: true },
          { sourceTaskName: 't2', targetTaskName: 't3', rerun: true },
        ];
        const f = await store.createFlow(spec);
        const inst = await store.createFlowInstance(instanceOf(f, T0 + round * MIN));
        expect(await drive.startInstance(f.flow.id, T0 + round * MIN)).toBe(inst.id);
        const [a, b, c] = (await store.listTaskInstances(inst.id)).map((t) => t.id);
        const [ea, eb] = [driver(store, 'ea'), driver(store, 'eb')];
        await ea.startTask(a, T0 + round * MIN);
        await eb.startTask(b, T0 + round * MIN);
        await Promise.all([ea.endTask(a, 1, 'SUCCESS', T0 + round * MIN + 1), eb.endTask(b, 1, 'SUCCESS', T0 + round * MIN + 1)]);
        const join = (await store.listTaskInstances(inst.id)).find((t) => t.id === c)!;
        expect([join.status, join.waitingOn]).toEqual(['READY', 0]);
        const moves = (await store.listTaskHistory(c)).map((h) => `${h.from}>${h.to}`);
        expect(moves).toEqual(['INIT>READY']);
      }
    });

    it('fails the instance on a final failure and skips everything that had not started, with history', async () => {
      const { inst, tis } = await running(3, T0, 'none');
      await drive.startTask(tis[0].id, T0);
      await drive.startTask(tis[1].id, T0);
      await drive.endTask(tis[0].id, 1, 'FAIL', T0 + 1);
      expect((await store.listTaskInstances(inst.id)).map((t) => t.status)).toEqual(['FAIL', 'RUNNING', 'SKIP']);
      expect((await store.listTaskHistory(tis[2].id)).map((h) => [h.from, h.to, h.reason])).toEqual([
        ['INIT', 'READY', null],
        ['READY', 'SKIP', `task t1 (${tis[0].id}) FAIL`],
      ]);
      const r = await drive.endTask(tis[1].id, 1, 'SUCCESS', T0 + 2);
      expect(r.flowsToPump).toEqual([inst.flowId]); // the flow's next instance may start now
      expect((await store.getFlowInstanceById(inst.id))?.status).toBe('FAIL');
    });

    it('finds stalled instances and ends them: SUCCESS with nothing open, INTERNAL_ERROR naming what waits', async () => {
      const { inst, tis } = await running(2);
      await apply({ tasks: [{ id: tis[0].id, instanceId: inst.id, from: 'READY', to: 'SKIP', dueAt: null }] });
      expect(await store.listStalledInstances(10)).toEqual([inst.id]);
      const ctx = { store, config: testConfig(), cache: new InstanceCache('UTC'), engineId: () => 'e1', freeSlots: () => 0 };
      const r = await settleStalled(ctx, inst.id, T0 + 1);
      expect(r.instancesEnded).toEqual([{ id: inst.id, flowId: inst.flowId, status: 'INTERNAL_ERROR', reason: `no task can run: ${tis[1].nodeId}=INIT (waiting on 1)` }]);
      expect((await store.listTaskInstances(inst.id)).map((t) => t.status)).toEqual(['SKIP', 'SKIP']);
      expect(await store.listStalledInstances(10)).toEqual([]);
    });

    it('registers engines, renews live leases only, expires one only with the heartbeat it saw, and lists its open attempts', async () => {
      const e = (id: string, over: Partial<EngineRecord> = {}): EngineRecord => ({ id, host: 'h', pid: 1, procStart: '9', startedAt: T0, heartbeatAt: T0, leaseUntil: T0 + 10_000, state: 'live', endedAt: null, ...over });
      await store.registerEngine(e('e1'));
      await store.registerEngine(e('e2'));
      expect(await store.renewEngineLease('e1', T0 + 2000, T0 + 12_000)).toBe(true);
      expect(await store.expireEngine('e1', T0, T0 + 20_000)).toBe(false); // it renewed since
      expect(await store.expireEngine('e2', T0, T0 + 20_000)).toBe(true);
      expect(await store.expireEngine('e2', T0, T0 + 20_000)).toBe(false);
      expect(await store.renewEngineLease('e2', T0 + 21_000, T0 + 31_000)).toBe(false); // taken over: it must re-register
      expect((await store.listEngines()).map((x) => [x.id, x.state, x.heartbeatAt])).toEqual([['e1', 'live', T0 + 2000]]);
      const { tis } = await running(1);
      await driver(store, 'e2').startTask(tis[0].id, T0);
      expect((await store.listEngines()).map((x) => [x.id, x.state])).toEqual([['e1', 'live'], ['e2', 'expired']]);
      expect((await store.listOpenAttemptsOf('e2')).map((a) => [a.taskInstanceId, a.engineId, a.taskStatus])).toEqual([[tis[0].id, 'e2', 'RUNNING']]);
      expect(await store.listOpenAttemptsOf('e1')).toEqual([]);
      await store.stopEngine('e1', T0 + 3000);
      expect(await store.renewEngineLease('e1', T0 + 4000, T0 + 14_000)).toBe(false);
    });
  });
}
