// The Store contract: every adapter runs this same suite through a factory (a fresh, migrated store per
// test). It checks behaviour through the Store interface only, reading back after every guarded write.
// Fixtures come from the tiny builders below, never from long literals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateKeyError, StaleError } from '../../src/domain/errors.js';
import { upstreamMap } from '../../src/domain/graph.js';
import type { FlowWithTasks, TaskDef } from '../../src/domain/types.js';
import type { NewFlow, NewFlowInstance, Store, StoreEvent } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';

// ---- builders ----

export const T0 = Date.UTC(2024, 0, 1, 0, 0);
const MIN = 60_000;

export function shellTask(name: string, cmd = 'exit 0'): Omit<TaskDef, 'id' | 'flowId'> {
  return {
    name, type: 'SHELL', cmd, resource: '', syncType: 0, submitter: 'alice', filePackage: '', cron: '', priorityLevel: 0,
    timeoutSec: 0, retryLimit: 0, retryIntervalSec: 0, successCode: '0', asLink: false, runMode: '{}', parameters: [], waitCode: '',
  };
}

/** A flow of `n` `exit 0` SHELL tasks t1..tn chained t1 -> t2 -> ... */
export function flowOf(orgId: string, dirId: string, n: number, over: { id?: number; name?: string; type?: 0 | 1; active?: 0 | 1; createdAt?: number; startDate?: string } = {}): NewFlow {
  const names = Array.from({ length: n }, (_, i) => `t${i + 1}`);
  return {
    id: over.id,
    flow: {
      orgId, dirId, name: over.name ?? 'flow', desc: '', type: over.type ?? 0, active: over.active ?? 0, freq: '', cycle: '',
      owners: 'alice', visitors: '', doAs: '', alertMode: 0, alertTo: '', appId: '', syncType: 0, startDate: over.startDate ?? '',
      queue: '', entry: 0, virtual: false, parameters: [{ key: 'p', value: '1' }], flowRefs: [], relations: [],
      creatorId: 'u1', creatorName: 'alice', updateUser: 'alice', createdAt: over.createdAt ?? T0, updatedAt: over.createdAt ?? T0,
    },
    tasks: names.map((name, i) => ({ ...shellTask(name), x: i * 100, y: 50 })),
    relationsByName: names.slice(1).map((name, i) => ({ sourceTaskName: names[i], targetTaskName: name, rerun: true })),
  };
}

const minute = (t: number) => new Date(t).toISOString().replace(/\D/g, '').slice(0, 12);
export const instanceIdOf = (flowId: number, triggerTime: number) => `${flowId}-${minute(triggerTime)}00`;

/** A create as the service makes it (naming the flow's version); `byContent` leaves the version to the store to find by the snapshot's hash. */
export function instanceOf(f: FlowWithTasks, triggerTime: number, over: { createdAt?: number; owner?: string; skip?: string[]; byContent?: boolean } = {}): NewFlowInstance {
  const createdAt = over.createdAt ?? triggerTime;
  const id = instanceIdOf(f.flow.id, triggerTime);
  const skipped = new Set(f.flow.nodes.filter((n) => over.skip?.includes(n.taskName)).map((n) => n.nodeId));
  const up = upstreamMap(f.flow.nodes.map((n) => n.nodeId), f.flow.relations);
  return {
    instance: {
      id, flowId: f.flow.id, orgId: f.flow.orgId, kind: 'trigger', startTaskId: null, triggerTime, dueAt: Math.max(triggerTime, createdAt),
      owner: over.owner ?? 'alice', parameters: f.flow.parameters, overrides: [], snapshot: { flow: f.flow, tasks: f.tasks }, createdAt,
      ...(over.byContent ? {} : { versionId: f.flow.versionId }),
    },
    tasks: f.flow.nodes.map((n) => ({
      id: `${n.taskId}-${minute(triggerTime)}00`, flowInstanceId: id, flowId: f.flow.id, taskId: n.taskId, nodeId: n.nodeId,
      taskName: n.taskName, status: skipped.has(n.nodeId) ? 'SKIP' : 'INIT',
      waitingOn: skipped.has(n.nodeId) ? 0 : up.get(n.nodeId)!.filter((u) => !skipped.has(u)).length,
    })),
  };
}

// ---- the suite ----

export function describeStoreContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let drive: ReturnType<typeof driver>;
    let dirId: string;
    const events: StoreEvent[] = [];
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      drive = driver(store);
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createOrg({ id: 'o2', name: 'Org 2', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
      events.length = 0;
      store.onEvent((e) => events.push(e));
    });
    afterEach(async () => store.close());

    /** A flow of n tasks and one instance of it, started (instance RUNNING). */
    async function runningInstance(n = 2, at = T0) {
      const f = await store.createFlow(flowOf(orgId, dirId, n));
      const inst = await store.createFlowInstance(instanceOf(f, at));
      expect(await drive.startInstance(f.flow.id, at)).toBe(inst.id);
      const tis = await store.listTaskInstances(inst.id);
      return { f, inst, tis };
    }

    describe('identity and directories', () => {
      it('creates an org with a root directory named Workflow and a 32-hex id, and refuses a duplicate org', async () => {
        const root = await store.getRootDirectory(orgId);
        expect(root).toMatchObject({ name: 'Workflow', parentId: null, orgId });
        expect(root!.id).toMatch(/^[0-9a-f]{32}$/);
        await expect(store.createOrg({ id: orgId, name: 'again', createdAt: T0 })).rejects.toBeInstanceOf(DuplicateKeyError);
        expect((await store.listOrgs()).map((o) => o.id)).toEqual(['o1', 'o2']);
      });

      it('refuses a user whose id or name exists, and locks and unlocks users', async () => {
        await expect(store.createUser({ id: 'u1', name: 'bob', orgId, locked: false, createdAt: T0 })).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(store.createUser({ id: 'u2', name: 'alice', orgId, locked: false, createdAt: T0 })).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.setUserLocked('u1', true)).toBe(true);
        expect((await store.getUserByName('alice'))?.locked).toBe(true);
        expect(await store.setUserLocked('nobody', true)).toBe(false);
        expect(await store.getUser('nobody')).toBeNull();
      });

      it('keeps sibling names and the root unique per org, and hides directories of other orgs', async () => {
        const child = { id: 'a'.repeat(32), orgId, parentId: dirId, name: 'etl', createdAt: T0 };
        await store.createDirectory(child);
        await expect(store.createDirectory({ ...child, id: 'b'.repeat(32) })).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(store.createDirectory({ ...child, id: 'c'.repeat(32), parentId: null, name: 'Workflow' })).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(store.createDirectory({ ...child, id: 'd'.repeat(32), parentId: null, name: 'Other' })).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.getDirectory(orgId, child.id)).toEqual(child);
        expect(await store.getDirectory('o2', child.id)).toBeNull();
        expect((await store.listDirectories(orgId)).map((d) => d.name).sort()).toEqual(['Workflow', 'etl']);
      });
    });

    describe('flows', () => {
      it('allocates task ids, builds t_<id> nodes and relations by node id, and reads back what it returned', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 3));
        expect(f.tasks.map((t) => t.name)).toEqual(['t1', 't2', 't3']);
        expect(f.flow.nodes.map((n) => n.nodeId)).toEqual(f.tasks.map((t) => `t_${t.id}`));
        expect(f.flow.nodes[2]).toMatchObject({ x: 200, y: 50, taskName: 't3' });
        expect(f.flow.relations).toEqual([
          { source: `t_${f.tasks[0].id}`, target: `t_${f.tasks[1].id}`, cycleGap: 'D0', rerun: true },
          { source: `t_${f.tasks[1].id}`, target: `t_${f.tasks[2].id}`, cycleGap: 'D0', rerun: true },
        ]);
        expect(f.tasks.every((t) => t.flowId === f.flow.id)).toBe(true);
        expect(await store.getFlow(orgId, f.flow.id)).toEqual(f);
        expect(await store.getFlow('o2', f.flow.id)).toBeNull();
        expect(events).toEqual([{ type: 'flowChanged', flowId: f.flow.id }]);
      });

      it('honours a free desired id and allocates another when it is taken', async () => {
        const a = await store.createFlow(flowOf(orgId, dirId, 1, { id: 500 }));
        expect(a.flow.id).toBe(500);
        const b = await store.createFlow(flowOf(orgId, dirId, 1, { id: 500 }));
        expect(b.flow.id).not.toBe(500);
        const c = await store.createFlow(flowOf(orgId, dirId, 1));
        // A desired id just above the allocator: later allocations must step over it.
        const d = await store.createFlow(flowOf(orgId, dirId, 1, { id: c.flow.id + 1 }));
        const e = await store.createFlow(flowOf(orgId, dirId, 1));
        expect(d.flow.id).toBe(c.flow.id + 1);
        expect(new Set([a, b, c, d, e].map((x) => x.flow.id)).size).toBe(5);
      });

      it('never reuses flow or task ids after a delete', async () => {
        const a = await store.createFlow(flowOf(orgId, dirId, 2));
        await store.deleteFlow(orgId, a.flow.id, 'u1', T0);
        const b = await store.createFlow(flowOf(orgId, dirId, 2));
        expect(b.flow.id).toBeGreaterThan(a.flow.id);
        expect(Math.min(...b.tasks.map((t) => t.id))).toBeGreaterThan(Math.max(...a.tasks.map((t) => t.id)));
      });

      it('applies a Save Flow: new, updated and deleted tasks, relations rewritten to new node ids, lock released', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 2));
        await store.takeEditLock(orgId, f.flow.id, { userId: 'u1', userName: 'alice', expiresAt: T0 + 30 * MIN }, T0);
        const [t1, t2] = f.tasks;
        const nodes = [f.flow.nodes[0], { nodeId: 'new0', taskId: -1, taskName: 'n1', x: 5, y: 6 }];
        const up = await store.updateFlow(orgId, {
          flow: { ...f.flow, name: 'renamed', nodes, relations: [{ source: `t_${t1.id}`, target: 'new0', cycleGap: 'D0', rerun: false }] },
          updatedTasks: [{ ...t1, cmd: 'echo hi' }],
          newTasks: [shellTask('n1', 'exit 1')],
          deletedTaskIds: [t2.id],
          guard: { version: f.flow.version, userId: 'u1', now: T0 },
        });
        const n1 = up.tasks[1];
        expect(up.tasks.map((t) => [t.name, t.cmd])).toEqual([['t1', 'echo hi'], ['n1', 'exit 1']]);
        expect(n1.id).toBeGreaterThan(t2.id);
        expect(up.flow.nodes[1]).toEqual({ nodeId: `t_${n1.id}`, taskId: n1.id, taskName: 'n1', x: 5, y: 6 });
        expect(up.flow.relations[0].target).toBe(`t_${n1.id}`);
        expect(up.flow).toMatchObject({ name: 'renamed', editLock: null, createdAt: f.flow.createdAt, version: f.flow.version + 1 });
        expect(await store.getFlow(orgId, f.flow.id)).toEqual(up);
        const guard = { version: up.flow.version, userId: 'u1', now: T0 };
        await expect(store.updateFlow('o2', { flow: up.flow, updatedTasks: [], newTasks: [], deletedTaskIds: [], guard })).rejects.toBeInstanceOf(StaleError);
        await expect(store.updateFlow(orgId, { flow: up.flow, updatedTasks: [{ ...t2 }], newTasks: [], deletedTaskIds: [], guard })).rejects.toBeInstanceOf(StaleError);
        expect(await store.getFlow(orgId, f.flow.id)).toEqual(up);
      });

      it('takes the edit lock when free, expired or already held, and otherwise returns the holder unchanged', async () => {
        const { flow } = await store.createFlow(flowOf(orgId, dirId, 1));
        const alice = { userId: 'u1', userName: 'alice', expiresAt: T0 + 30 * MIN };
        const bob = { userId: 'u2', userName: 'bob', expiresAt: T0 + 40 * MIN };
        expect(await store.takeEditLock(orgId, flow.id, alice, T0)).toEqual(alice);
        expect(await store.takeEditLock(orgId, flow.id, bob, T0 + MIN)).toEqual(alice);
        const renewed = { ...alice, expiresAt: T0 + 60 * MIN };
        expect(await store.takeEditLock(orgId, flow.id, renewed, T0 + 2 * MIN)).toEqual(renewed);
        expect(await store.takeEditLock(orgId, flow.id, bob, T0 + 60 * MIN)).toEqual(bob);
        expect((await store.getFlow(orgId, flow.id))?.flow.editLock).toEqual(bob);
        await expect(store.takeEditLock('o2', flow.id, alice, T0)).rejects.toBeInstanceOf(StaleError);
      });

      it('lists periodic active flows of every org and emits flowChanged on enable', async () => {
        const p = await store.createFlow(flowOf(orgId, dirId, 1, { type: 1 }));
        await store.createFlow(flowOf(orgId, dirId, 1));
        expect(await store.listPeriodicFlows()).toEqual([]);
        await store.setFlowActive(orgId, p.flow.id, 1, 'alice', T0 + 1, 'u1');
        expect((await store.listPeriodicFlows()).map((f) => [f.id, f.active, f.updatedAt])).toEqual([[p.flow.id, 1, T0 + 1]]);
        expect(events.at(-1)).toEqual({ type: 'flowChanged', flowId: p.flow.id });
        await expect(store.setFlowActive('o2', p.flow.id, 0, 'x', T0, 'u1')).rejects.toBeInstanceOf(StaleError);
      });

      it('searches flows by name or id, case-insensitively and with LIKE wildcards taken literally, sorted and paged', async () => {
        for (const [i, name] of ['Alpha ETL', 'beta_etl', 'gamma', 'betaXetl'].entries()) {
          await store.createFlow(flowOf(orgId, dirId, 1, { name, createdAt: T0 + i }));
        }
        const names = async (q: Partial<Parameters<Store['searchFlows']>[0]>) =>
          (await store.searchFlows({ orgId, sort: [{ field: 'createTime', desc: false }], offset: 0, limit: 10, ...q })).map((f) => f.name);
        expect(await names({ expression: 'etl' })).toEqual(['Alpha ETL', 'beta_etl', 'betaXetl']);
        expect(await names({ expression: 'A_E' })).toEqual(['beta_etl']);
        expect(await names({ expression: '%' })).toEqual([]);
        expect(await names({ sort: [{ field: 'createTime', desc: true }], offset: 1, limit: 2 })).toEqual(['gamma', 'beta_etl']);
        const g = (await store.listFlows(orgId)).find((f) => f.name === 'gamma')!;
        expect(await names({ expression: String(g.id) })).toContain('gamma');
        expect(await store.searchFlows({ orgId: 'o2', sort: [], offset: 0, limit: 10 })).toEqual([]);
      });

      it('deletes a flow with its tasks, instances, task instances, attempts and logs', async () => {
        const { f, inst, tis } = await runningInstance(1);
        await drive.startTask(tis[0].id, T0);
        await store.appendLog(tis[0].id, 1, 'out\n');
        await drive.endTask(tis[0].id, 1, 'SUCCESS', T0 + 1);
        expect((await store.getFlowInstanceById(inst.id))?.status).toBe('SUCCESS');
        expect(await store.listHistory(inst.id)).not.toEqual([]);
        await store.deleteFlow(orgId, f.flow.id, 'u1', T0);
        expect(await store.getFlow(orgId, f.flow.id)).toBeNull();
        expect(await store.getFlowInstanceById(inst.id)).toBeNull();
        expect(await store.getTaskInstanceById(tis[0].id)).toBeNull();
        expect(await store.listAttempts(tis[0].id)).toEqual([]);
        expect(await store.getLogTail(tis[0].id, 100)).toBeNull();
        expect(await store.listHistory(inst.id)).toEqual([]);
        await expect(store.deleteFlow(orgId, f.flow.id, 'u1', T0)).rejects.toBeInstanceOf(StaleError);
      });
      it('refuses to delete a flow while an instance or a task of it runs, and deletes nothing', async () => {
        const { f, inst, tis } = await runningInstance(2);
        await expect(store.deleteFlow(orgId, f.flow.id, 'u1', T0)).rejects.toThrow(new RegExp(`instance ${inst.id} is RUNNING`));
        await drive.startTask(tis[0].id, T0);
        // The instance ended while task 1 still runs (cancelled): the flow must not vanish under it.
        await store.cancelInstance(orgId, inst.id, T0 + 1, 'x', 'u1');
        await expect(store.deleteFlow(orgId, f.flow.id, 'u1', T0)).rejects.toThrow(new RegExp(`task instance ${tis[0].id} is still RUNNING`));
        expect(await store.getFlow(orgId, f.flow.id)).not.toBeNull();
        expect(await store.getTaskInstanceById(tis[0].id)).toMatchObject({ status: 'RUNNING' });
      });
    });

    describe('flow instances', () => {
      it('creates an instance WAIT with its task instances in node order, SKIP ones already ended, and emits instanceCreated', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 3));
        const inst = await store.createFlowInstance(instanceOf(f, T0 + 5 * MIN, { createdAt: T0, skip: ['t2'] }));
        expect(inst).toMatchObject({ status: 'WAIT', dueAt: T0 + 5 * MIN, startedAt: null, endedAt: null, reason: null });
        expect(await store.getFlowInstance(orgId, inst.id)).toEqual(inst);
        const tis = await store.listTaskInstances(inst.id);
        expect(tis.map((t) => [t.taskName, t.status, t.runNum, t.endedAt])).toEqual([['t1', 'INIT', 0, null], ['t2', 'SKIP', 0, T0], ['t3', 'INIT', 0, null]]);
        expect(events.at(-1)).toEqual({ type: 'instanceCreated', flowId: f.flow.id, instanceId: inst.id, dueAt: T0 + 5 * MIN });
        const later = await store.createFlowInstance(instanceOf(f, T0 + 6 * MIN));
        expect(later.seq).toBeGreaterThan(inst.seq);
      });

      it('creates exactly one instance out of 50 concurrent creates of the same id', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 2));
        events.length = 0;
        const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.createFlowInstance(instanceOf(f, T0))));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(49);
        expect(rejected.every((r) => r.reason instanceof DuplicateKeyError)).toBe(true);
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 100 })).total).toBe(1);
        expect(await store.listTaskInstances(instanceIdOf(f.flow.id, T0))).toHaveLength(2);
        expect(events).toHaveLength(1);
      });

      it('creates an instance given by its content (no version id) on the flow version of that content', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 2));
        const [a, b] = await Promise.all([store.createFlowInstance(instanceOf(f, T0, { byContent: true })), store.createFlowInstance(instanceOf(f, T0 + MIN, { byContent: true }))]);
        expect([a.version.id, b.version.id]).toEqual([f.flow.versionId, f.flow.versionId]);
        expect(await store.getFlowInstance(orgId, a.id)).toEqual(a);
        expect(await store.listTaskInstances(b.id)).toHaveLength(2);
        await expect(store.createFlowInstance(instanceOf(f, T0, { byContent: true }))).rejects.toBeInstanceOf(DuplicateKeyError);
      });

      it('creates concurrent instances in arrival order, failing only the duplicate among them', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 2));
        const g = await store.createFlow(flowOf(orgId, dirId, 1, { name: 'g' }));
        await store.createFlowInstance(instanceOf(f, T0)); // committed before: its id is taken
        events.length = 0;
        const inputs = [instanceOf(f, T0 + MIN), instanceOf(g, T0), instanceOf(f, T0), instanceOf(f, T0 + MIN), instanceOf(g, T0 + MIN)];
        const results = await Promise.allSettled(inputs.map((i) => store.createFlowInstance(i)));
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DuplicateKeyError);
        const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        expect(created.map((i) => i.id)).toEqual([inputs[0], inputs[1], inputs[4]].map((i) => i.instance.id));
        expect(created[0].seq).toBeLessThan(created[1].seq);
        expect(created[1].seq).toBeLessThan(created[2].seq);
        for (const inst of created) {
          expect(await store.getFlowInstance(orgId, inst.id)).toEqual(inst);
          expect(await store.listTaskInstances(inst.id)).toHaveLength(inst.flowId === f.flow.id ? 2 : 1);
        }
        expect(events.map((e) => (e.type === 'instanceCreated' ? e.instanceId : e.type))).toEqual(created.map((i) => i.id));
      });

      it('fails only the create whose write fails, when creates arrive together', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 1));
        const g = await store.createFlow(flowOf(orgId, dirId, 1, { name: 'g' }));
        const orphan = instanceOf({ ...f, flow: { ...f.flow, id: f.flow.id + 1000 } }, T0); // no such flow: refused before its insert
        const bad = instanceOf(g, T0);
        const broken = { ...bad, tasks: bad.tasks.map((t) => ({ ...t, taskName: null as unknown as string })) }; // its insert fails the batch
        const results = await Promise.allSettled([instanceOf(f, T0), orphan, broken, instanceOf(f, T0 + MIN)].map((i) => store.createFlowInstance(i)));
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleError);
        expect((results[2] as PromiseRejectedResult).reason).not.toBeInstanceOf(DuplicateKeyError);
        expect((results[2] as PromiseRejectedResult).reason).not.toBeInstanceOf(StaleError);
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 100 })).total).toBe(2);
      });

      it('hides instances and task instances of another org', async () => {
        const { inst, tis } = await runningInstance(1);
        expect(await store.getFlowInstance('o2', inst.id)).toBeNull();
        expect(await store.getTaskInstance('o2', tis[0].id)).toBeNull();
        expect(await store.getTaskInstance(orgId, tis[0].id)).toEqual(tis[0]);
        expect((await store.getFlowInstanceById(inst.id))?.orgId).toBe(orgId);
      });

      it('starts due instances of a flow in (dueAt, seq) order, never before due', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 1));
        const late = await store.createFlowInstance(instanceOf(f, T0 + 10 * MIN, { createdAt: T0 }));
        const early = await store.createFlowInstance(instanceOf(f, T0 + 2 * MIN, { createdAt: T0 }));
        const tie = await store.createFlowInstance(instanceOf(f, T0 + 3 * MIN, { createdAt: T0 + 10 * MIN }));
        expect(await drive.startInstance(f.flow.id, T0 + MIN)).toBeNull();
        expect(await store.listFlowsWithDueInstances(T0 + MIN)).toEqual([]);
        expect(await store.nextWakeAt(T0 + MIN)).toBe(T0 + 2 * MIN);
        expect(await store.listFlowsWithDueInstances(T0 + 10 * MIN)).toEqual([f.flow.id]);
        const order: string[] = [];
        for (const now of [T0 + 10 * MIN, T0 + 11 * MIN, T0 + 12 * MIN]) {
          const started = await drive.startInstance(f.flow.id, now);
          expect(await store.getFlowInstanceById(started!)).toMatchObject({ status: 'RUNNING', startedAt: now });
          order.push(started!);
          const [t] = await store.listTaskInstances(started!);
          await drive.startTask(t.id, now);
          await drive.endTask(t.id, 1, 'SUCCESS', now);
          expect((await store.getFlowInstanceById(started!))?.status).toBe('SUCCESS');
        }
        expect(order).toEqual([early.id, late.id, tie.id]);
        expect(await store.nextWakeAt(T0)).toBeNull();
      });

      it('starts no instance while one of the flow runs or while any task of the flow is still RUNNING', async () => {
        const { f, inst, tis } = await runningInstance(1);
        const next = await store.createFlowInstance(instanceOf(f, T0 + MIN));
        expect(await drive.startInstance(f.flow.id, T0 + 2 * MIN)).toBeNull();
        await drive.startTask(tis[0].id, T0);
        await store.cancelInstance(orgId, inst.id, T0, 'x', 'u1');
        expect(await drive.startInstance(f.flow.id, T0 + 2 * MIN)).toBeNull();
        await drive.endTask(tis[0].id, 1, 'CANCEL', T0 + MIN);
        expect(await drive.startInstance(f.flow.id, T0 + 2 * MIN)).toBe(next.id);
        expect(await store.getFlowInstance(orgId, inst.id)).toMatchObject({ status: 'CANCEL', endedAt: T0, reason: 'x' });
      });

      it('cancels a WAIT or RUNNING instance with its pending tasks, leaves RUNNING tasks, and refuses an ended one', async () => {
        const { inst, tis } = await runningInstance(3);
        await drive.startTask(tis[0].id, T0);
        events.length = 0;
        const c = await store.cancelInstance(orgId, inst.id, T0 + MIN, 'cancelled by alice', 'u1');
        expect(c).toMatchObject({ status: 'CANCEL', endedAt: T0 + MIN, reason: 'cancelled by alice' });
        const after = await store.listTaskInstances(inst.id);
        expect(after.map((t) => [t.status, t.endedAt])).toEqual([['RUNNING', null], ['CANCEL', T0 + MIN], ['CANCEL', T0 + MIN]]);
        expect(events).toEqual([{ type: 'instanceCancelled', flowId: inst.flowId, instanceId: inst.id }]);
        await expect(store.cancelInstance(orgId, inst.id, T0 + 2 * MIN, 'again', 'u1')).rejects.toThrow(/CANCEL/);
        await expect(store.cancelInstance('o2', inst.id, T0, 'x', 'u1')).rejects.toBeInstanceOf(StaleError);
        await expect(drive.startTask(after[1].id, T0 + 2 * MIN)).rejects.toThrow(/CANCEL -> RUNNING is not allowed/);
        expect((await drive.claim(T0 + 2 * MIN, 8)).started).toEqual([]);
        expect(events).toHaveLength(1);
      });

      it('lists the task instances of several instances at once, each in node order, [] for an unknown id', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 3));
        const g = await store.createFlow(flowOf(orgId, dirId, 2));
        const [i1, i2, i3] = [instanceOf(f, T0), instanceOf(f, T0 + MIN, { skip: ['t1'] }), instanceOf(g, T0)];
        for (const i of [i1, i2, i3]) await store.createFlowInstance(i);
        const ids = [i3.instance.id, 'nope', i1.instance.id, i2.instance.id];
        const got = await store.listTaskInstancesOf(ids);
        expect([...got.keys()]).toEqual(ids);
        for (const i of [i1, i2, i3]) expect(got.get(i.instance.id)).toEqual(await store.listTaskInstances(i.instance.id));
        expect(got.get(i2.instance.id)!.map((t) => [t.taskName, t.status])).toEqual([['t1', 'SKIP'], ['t2', 'INIT'], ['t3', 'INIT']]);
        expect(got.get('nope')).toEqual([]);
        expect((await store.listTaskInstancesOf([])).size).toBe(0);
      });

      it('pages instance search with the total of all matches and applies every filter', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 1, { name: 'Nightly_ETL' }));
        const g = await store.createFlow(flowOf(orgId, dirId, 1, { name: 'other', type: 1 }));
        for (let i = 0; i < 5; i++) await store.createFlowInstance(instanceOf(f, T0 + i * MIN, { owner: i % 2 ? 'bob' : 'alice' }));
        await store.createFlowInstance(instanceOf(g, T0, { owner: '' }));
        const search = (q: Partial<Parameters<Store['searchFlowInstances']>[0]>) =>
          store.searchFlowInstances({ orgId, sort: [{ field: 'triggerTime', desc: true }], offset: 0, limit: 2, ...q });
        const page = await search({ flowIds: [f.flow.id], offset: 1 });
        expect(page.total).toBe(5);
        expect(page.instances.map((i) => i.triggerTime)).toEqual([T0 + 3 * MIN, T0 + 2 * MIN]);
        expect((await search({ fromTriggerTime: T0 + MIN, toTriggerTime: T0 + 3 * MIN })).total).toBe(3);
        expect((await search({ owner: 'bob' })).total).toBe(2);
        expect((await search({ owner: 'alice' })).total).toBe(4); // 3 of alice + the scheduler fire of her flow
        expect((await search({ expression: 'nightly_' })).total).toBe(5);
        expect((await search({ expression: 'ly%' })).total).toBe(0);
        expect((await search({ expression: instanceIdOf(g.flow.id, T0) })).total).toBe(1);
        expect((await search({ flowType: 1 })).total).toBe(1);
        expect((await search({ flowIds: [] })).total).toBe(0);
        expect((await search({ statuses: ['RUNNING'] })).total).toBe(0);
        expect((await search({ orgId: 'o2' })).total).toBe(0);
        const byStart = await search({ sort: [{ field: 'startTime', desc: true }], limit: 10 });
        expect(byStart.instances).toHaveLength(6);
      });
    });

    describe('task logs', () => {
      it('returns the last characters of the log across attempts, in run order', async () => {
        const { tis } = await runningInstance(1);
        const a = tis[0].id;
        await drive.startTask(a, T0);
        for (let i = 0; i < 100; i++) await store.appendLog(a, 1, `line ${i}\n`);
        await store.engineTx(async (tx) => {
          const [t] = await tx.tasks([a]);
          await tx.apply({ instances: [], unblock: [], pending: [], openReferences: [], references: [], tasks: [{ id: a, instanceId: t.instanceId, from: 'RUNNING', to: 'RERUN', dueAt: T0 + 2, exitCode: 1, finish: { runNum: 1, engineId: 'e1', status: 'FAIL', exitCode: 1, signal: null, logTail: 'last1\n' } }] }, T0 + 1, 'e1');
        });
        await drive.startTask(a, T0 + 2);
        await store.appendLog(a, 2, 'second\n');
        await store.appendLog(a, 2, '');
        const full = await store.getLogTail(a, 1e9);
        expect(full).toMatch(new RegExp(`^== ${a} ==\\nline 0\\n[\\s\\S]*line 99\\nlast1\\n== ${a} ==\\nsecond\\n$`));
        expect(await store.getLogTail(a, 20)).toBe(full!.slice(-20));
        expect(await store.getLogTail(a, full!.length - 3)).toBe(full!.slice(3));
      });

      it('answers the metrics: ping, work counts from the partial indexes, size and rows', async () => {
        await store.ping();
        const before = await store.workCounts(T0);
        const { tis } = await runningInstance(1);
        await drive.startTask(tis[0].id, T0);
        const after = await store.workCounts(T0);
        expect(after.runningInstances - before.runningInstances).toBe(1);
        expect(after.runningAttempts - before.runningAttempts).toBe(1);
        const size = await store.storeSize();
        expect(size.bytes).toBeGreaterThan(0);
        expect(Object.keys(size.rows)).toEqual(expect.arrayContaining(['flows', 'flow_instances', 'task_instances', 'attempts', 'task_logs']));
        // Exact on SQLite; on PostgreSQL an estimate, exact for a table never analysed (as here).
        expect(size.rows.flow_instances).toBeGreaterThanOrEqual(1);
      });

      it('reads the log as chunks: a tail of at most N characters (oldest first), then the chunks after a cursor', async () => {
        const { tis } = await runningInstance(1);
        const a = tis[0].id;
        await drive.startTask(a, T0);
        for (let i = 0; i < 150; i++) await store.appendLog(a, 1, `line ${i}\n`);
        const full = (await store.getLogTail(a, 1e9))!;
        const whole = await store.readLogTail(a, 1e9);
        expect(whole.truncated).toBe(false);
        expect(whole.chunks.map((c) => c.text).join('')).toBe(full);
        expect(whole.chunks.map((c) => c.seq)).toEqual(whole.chunks.map((_, i) => i));
        // Cut inside a chunk, across the tail's batches of 64 rows.
        for (const n of [1, 9, 700, full.length - 1]) {
          const tail = await store.readLogTail(a, n);
          expect(tail.truncated).toBe(true);
          expect(tail.chunks.map((c) => c.text).join('')).toBe(full.slice(-n));
        }
        expect((await store.readLogTail(a, 0)).chunks).toEqual([]);
        const after = await store.readLogAfter(a, { runNum: 1, seq: 100 }, 30);
        expect(after.map((c) => c.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i));
        expect(await store.readLogAfter(a, { runNum: 1, seq: 150 }, 30)).toEqual([]);
        expect((await store.readLogAfter(a, { runNum: 0, seq: -1 }, 1000)).length).toBe(151);
        // The attempts of the whole instance, in one read.
        expect((await store.listAttemptsOfInstance(tis[0].flowInstanceId)).map((x) => [x.taskInstanceId, x.runNum, x.status])).toEqual([[a, 1, 'RUNNING']]);
      });
    });

    describe('scheduling', () => {
      // Saves over whatever version is stored now: these tests are about scheduleFrom, not the guard.
      const save = async (f: FlowWithTasks, over: Partial<FlowWithTasks['flow']>) => {
        const version = (await store.getFlow(orgId, f.flow.id))!.flow.version;
        return store.updateFlow(orgId, { flow: { ...f.flow, ...over }, updatedTasks: [], newTasks: [], deletedTaskIds: [], guard: { version, userId: 'u1', now: T0 } });
      };
      const scheduleFrom = async (flowId: number) => (await store.getFlowById(flowId))!.flow.scheduleFrom;

      it('stamps scheduleFrom at creation, on enabling a paused flow and on a Save changing freq, startDate or active 0 -> 1, else keeps it', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 1, { type: 1, active: 1, createdAt: T0 }));
        expect(f.flow.scheduleFrom).toBe(T0);
        await save(f, { desc: 'text only', updatedAt: T0 + 1 });
        expect(await scheduleFrom(f.flow.id)).toBe(T0);
        await save(f, { freq: '0 0/5 * * * ? *', updatedAt: T0 + 2 });
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 2);
        const g = (await store.getFlowById(f.flow.id))!;
        await save(g, { startDate: '2024-02-01', updatedAt: T0 + 3 });
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 3);
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 4, 'u1'); // already active: no restart
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 3);
        await store.setFlowActive(orgId, f.flow.id, 0, 'alice', T0 + 5, 'u1');
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 3);
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 6, 'u1');
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 6);
        const h = (await store.getFlowById(f.flow.id))!;
        await save(h, { active: 0, updatedAt: T0 + 7 });
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 6);
        await save(h, { active: 1, updatedAt: T0 + 8 });
        expect(await scheduleFrom(f.flow.id)).toBe(T0 + 8);
        expect(events.filter((e) => e.type === 'flowChanged')).toHaveLength(1 + 3 + 3 + 2);
        expect(await store.listPeriodicFlows()).toMatchObject([{ id: f.flow.id, scheduleFrom: T0 + 8 }]);
      });

      it('reads a flow by id in any org, and null for an unknown id', async () => {
        const f = await store.createFlow(flowOf('o2', (await store.getRootDirectory('o2'))!.id, 2));
        expect(await store.getFlowById(f.flow.id)).toEqual(f);
        expect(await store.getFlowById(f.flow.id + 1000)).toBeNull();
      });

      it('answers the latest trigger time of the flow among its scheduled instances only', async () => {
        const f = await store.createFlow(flowOf(orgId, dirId, 1, { type: 1, active: 1 }));
        const other = await store.createFlow(flowOf(orgId, dirId, 1, { type: 1, active: 1, name: 'other' }));
        const scheduled = (fw: FlowWithTasks, t: number): NewFlowInstance => {
          const i = instanceOf(fw, t);
          return { ...i, instance: { ...i.instance, kind: 'schedule', owner: '' } };
        };
        expect(await store.lastScheduledFireTime(f.flow.id)).toBeNull();
        await store.createFlowInstance(scheduled(f, T0 + 2 * MIN));
        await store.createFlowInstance(scheduled(f, T0 + MIN));
        await store.createFlowInstance(instanceOf(f, T0 + 9 * MIN)); // a manual trigger: not a fire
        await store.createFlowInstance(scheduled(other, T0 + 5 * MIN));
        expect(await store.lastScheduledFireTime(f.flow.id)).toBe(T0 + 2 * MIN);
        expect(await store.lastScheduledFireTime(other.flow.id)).toBe(T0 + 5 * MIN);
        await expect(store.createFlowInstance(scheduled(f, T0 + 2 * MIN + 30_000))).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.lastScheduledFireTime(f.flow.id)).toBe(T0 + 2 * MIN);
      });
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.getOrg(orgId)).toMatchObject({ id: orgId, name: 'Org 1' });
    });
  });
}
