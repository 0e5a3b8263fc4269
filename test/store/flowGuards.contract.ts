// The Store contract for guarded flow writes (src/store/flowGuards.ts): Save only over the version it
// read, the edit lock checked inside every writing transaction it guards, and references that never
// dangle. Run per adapter through a factory, like store.contract.ts (whose builders it reuses).
// Races are made deterministic: the competing write is issued (or committed) between the read and the
// guarded write, through the Store interface only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError, DuplicateKeyError, EditLockedError, FlowChangedError, ReferencedError, StaleError, StaleFlowError } from '../../src/domain/errors.js';
import type { FlowRefNode, FlowWithTasks } from '../../src/domain/types.js';
import type { FlowUpdate, Store } from '../../src/store/store.js';
import { flowOf, instanceOf, shellTask, T0 } from './store.contract.js';

const MIN = 60_000;
const alice = { userId: 'u1', userName: 'alice' };
const bob = { userId: 'u2', userName: 'bob' };
const lockOf = (who: typeof alice, expiresAt = T0 + 30 * MIN) => ({ ...who, expiresAt });

/** A Save of `f` as read (its version), by `by`, adding one new task named `name`. */
function saveAdding(f: FlowWithTasks, name: string, by = alice, now = T0 + 1): FlowUpdate {
  const node = { nodeId: `t_-1`, taskId: -1, taskName: name, x: 0, y: 0 };
  return {
    flow: { ...f.flow, nodes: [...f.flow.nodes, node], updateUser: by.userName, updatedAt: now },
    updatedTasks: [],
    newTasks: [shellTask(name)],
    deletedTaskIds: [],
    guard: { version: f.flow.version, userId: by.userId, now },
  };
}

const refTo = (flowId: number): FlowRefNode => ({ nodeId: `f_${flowId}`, flowId: String(flowId), flowName: 'target', isVirtual: false, x: 0, y: 0 });
/** The same Save, whose graph also has a reference node to `flowId`. */
const referencing = (u: FlowUpdate, flowId: number): FlowUpdate => ({ ...u, flow: { ...u.flow, flowRefs: [refTo(flowId)] } });

export function describeFlowGuardsContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, guarded flow writes: ${name}`, () => {
    let store: Store;
    let dirId: string;
    const orgId = 'o1';

    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId, locked: false, createdAt: T0 });
      await store.createUser({ id: 'u2', name: 'bob', orgId, locked: false, createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => store.close());

    const newFlow = (n = 1, name = 'flow', type: 0 | 1 = 0) => store.createFlow(flowOf(orgId, dirId, n, { name, type }));
    /** Every tasks row of every flow of the org (a task row of a flow is read by its flow_id). */
    const allTasks = async () => (await Promise.all((await store.listFlows(orgId)).map(async (f) => (await store.getFlow(orgId, f.id))!.tasks))).flat();

    describe('the version', () => {
      it('starts at 1, goes up by one on Save, Enable and Disable, and stays when the edit lock is taken or renewed', async () => {
        const f = await newFlow();
        expect(f.flow.version).toBe(1);
        await store.takeEditLock(orgId, f.flow.id, lockOf(alice), T0);
        await store.takeEditLock(orgId, f.flow.id, lockOf(alice, T0 + 60 * MIN), T0 + 1);
        expect((await store.getFlow(orgId, f.flow.id))!.flow.version).toBe(1);
        const saved = await store.updateFlow(orgId, saveAdding((await store.getFlow(orgId, f.flow.id))!, 'n1'));
        expect(saved.flow.version).toBe(2);
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 2, 'u1');
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 3, 'u1');
        expect((await store.getFlow(orgId, f.flow.id))!.flow.version).toBe(4);
      });
    });

    describe('Save', () => {
      it('concurrent saves: one wins, the others are refused and leave no task rows', async () => {
        const f = await newFlow(2);
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.updateFlow(orgId, saveAdding(f, `new${i}`))));
        const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(FlowChangedError);
        const stored = (await store.getFlow(orgId, f.flow.id))!;
        expect(stored).toEqual(won[0]);
        expect(stored.flow.version).toBe(f.flow.version + 1);
        // Exactly the winner's tasks: the two it kept and the one it added, each with its node.
        expect((await allTasks()).map((t) => t.id).sort()).toEqual(stored.flow.nodes.map((n) => n.taskId).sort());
        expect(stored.tasks.map((t) => t.name)).toEqual(['t1', 't2', won[0].tasks[2].name]);
      });

      it('refuses a save over a version it did not read, naming who changed it, and writes nothing', async () => {
        const f = await newFlow();
        await store.setFlowActive(orgId, f.flow.id, 1, 'bob', T0 + 1, 'u2');
        const before = await store.getFlow(orgId, f.flow.id);
        const err = await store.updateFlow(orgId, saveAdding(f, 'late')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FlowChangedError);
        expect(err).toMatchObject({ flowId: f.flow.id, updateUser: 'bob', field: 'flowId' });
        expect((err as Error).message).toBe(`workflow ${f.flow.id} was changed by bob since it was read; reload it and save again`);
        expect(await store.getFlow(orgId, f.flow.id)).toEqual(before);
        expect(await allTasks()).toHaveLength(1);
      });

      it("refuses a save racing another user's loadForEdit with EditLockedError, and keeps that lock", async () => {
        const f = await newFlow();
        await store.takeEditLock(orgId, f.flow.id, lockOf(bob), T0); // after alice's read, before her write
        const err = await store.updateFlow(orgId, saveAdding(f, 'mine')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(EditLockedError);
        expect(err).toMatchObject({ flowId: f.flow.id, lock: lockOf(bob) });
        const after = (await store.getFlow(orgId, f.flow.id))!;
        expect(after.flow).toMatchObject({ version: f.flow.version, editLock: lockOf(bob) });
        expect(after.tasks).toEqual(f.tasks);
      });

      it('lets the holder save after renewing his own lock, and releases it; ignores an expired lock of another user', async () => {
        const f = await newFlow();
        await store.takeEditLock(orgId, f.flow.id, lockOf(alice), T0);
        await store.takeEditLock(orgId, f.flow.id, lockOf(alice, T0 + 50 * MIN), T0 + 1);
        const saved = await store.updateFlow(orgId, saveAdding(f, 'n1'));
        expect(saved.flow.editLock).toBeNull();
        await store.takeEditLock(orgId, saved.flow.id, lockOf(bob, T0 + 5), T0 + 2);
        const again = await store.updateFlow(orgId, saveAdding(saved, 'n2', alice, T0 + 5));
        expect(again.flow).toMatchObject({ version: 3, editLock: lockOf(bob, T0 + 5) }); // not alice's: left as it is
      });

      it('refuses a save of a flow deleted since the read with StaleError', async () => {
        const f = await newFlow();
        await store.deleteFlow(orgId, f.flow.id, 'u1', T0);
        await expect(store.updateFlow(orgId, saveAdding(f, 'n1'))).rejects.toBeInstanceOf(StaleError);
        expect(await allTasks()).toEqual([]);
      });
    });

    describe('Enable, Disable, Delete, cancel and triggers', () => {
      it("refuse another user's unexpired lock with EditLockedError and change nothing; an expired lock does not refuse", async () => {
        const f = await newFlow();
        const inst = await store.createFlowInstance(instanceOf(f, T0 + 10 * MIN, { createdAt: T0 }));
        await store.takeEditLock(orgId, f.flow.id, lockOf(bob), T0);
        const held = await store.getFlow(orgId, f.flow.id);
        await expect(store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 1, 'u1')).rejects.toBeInstanceOf(EditLockedError);
        await expect(store.deleteFlow(orgId, f.flow.id, 'u1', T0 + 1)).rejects.toBeInstanceOf(EditLockedError);
        await expect(store.cancelInstance(orgId, inst.id, T0 + 1, 'cancelled by alice', 'u1')).rejects.toBeInstanceOf(EditLockedError);
        await expect(store.createFlowInstance({ ...instanceOf(f, T0 + MIN, { createdAt: T0 + 1 }), lockUserId: 'u1' })).rejects.toBeInstanceOf(EditLockedError);
        expect(await store.getFlow(orgId, f.flow.id)).toEqual(held);
        expect(await store.getFlowInstance(orgId, inst.id)).toEqual(inst);
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 10 })).total).toBe(1);
        // The holder himself, and the scheduler (no lockUserId), are not refused.
        await store.setFlowActive(orgId, f.flow.id, 1, 'bob', T0 + 2, 'u2');
        const fire = instanceOf(f, T0 + 2 * MIN, { createdAt: T0 + 2, owner: '' });
        await store.createFlowInstance({ ...fire, instance: { ...fire.instance, kind: 'schedule' } });
        await store.createFlowInstance({ ...instanceOf(f, T0 + 3 * MIN, { createdAt: T0 + 2 }), lockUserId: 'u2' });
        // Past its expiry the lock binds nobody.
        const expired = T0 + 30 * MIN;
        await store.setFlowActive(orgId, f.flow.id, 0, 'alice', expired, 'u1');
        await store.createFlowInstance({ ...instanceOf(f, T0 + 40 * MIN, { createdAt: expired }), lockUserId: 'u1' });
        expect((await store.cancelInstance(orgId, inst.id, expired, 'cancelled by alice', 'u1')).status).toBe('CANCEL');
      });

      it('fails only the trigger whose flow is locked or gone, when creates arrive together', async () => {
        const f = await newFlow(1, 'free');
        const locked = await newFlow(1, 'locked');
        const gone = await newFlow(1, 'gone');
        await store.takeEditLock(orgId, locked.flow.id, lockOf(bob), T0);
        const late = { ...instanceOf(gone, T0), lockUserId: 'u1' };
        await store.deleteFlow(orgId, gone.flow.id, 'u1', T0); // after the trigger's read
        const inputs = [{ ...instanceOf(f, T0), lockUserId: 'u1' }, { ...instanceOf(locked, T0), lockUserId: 'u1' }, late, { ...instanceOf(f, T0 + MIN), lockUserId: 'u1' }, instanceOf(f, T0)];
        const results = await Promise.allSettled(inputs.map((i) => store.createFlowInstance(i)));
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected']);
        const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : null));
        expect(reasons[1]).toBeInstanceOf(EditLockedError);
        expect(reasons[2]).toBeInstanceOf(StaleError);
        expect((reasons[2] as Error).message).toBe(`flow ${gone.flow.id} not found`);
        expect(reasons[4]).toBeInstanceOf(DuplicateKeyError);
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 10 })).total).toBe(2);
      });
    });

    describe('triggers built from a cached read (getFlowToRun maybeStale, NewFlowInstance.flowVersion)', () => {
      it('serves the last read from memory, drops it on every write of the flow through the store', async () => {
        const f = await newFlow();
        const first = (await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true }))!;
        expect(await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true })).toBe(first);
        expect(first.flow.version).toBe(1);
        expect(await store.getFlowToRun('o2', f.flow.id, { maybeStale: true })).toBeNull();
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 1, 'u1');
        expect((await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true }))!.flow.version).toBe(2);
        await store.takeEditLock(orgId, f.flow.id, lockOf(bob), T0 + 2);
        expect((await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true }))!.flow.editLock).toMatchObject({ userId: 'u2' });
        const saved = await store.updateFlow(orgId, saveAdding((await store.getFlow(orgId, f.flow.id))!, 'n1', bob, T0 + 3));
        const run = (await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true }))!;
        expect([run.flow.version, run.tasks.map((t) => t.name)]).toEqual([saved.flow.version, ['t1', 'n1']]);
        await store.deleteFlow(orgId, f.flow.id, 'u2', T0 + 4);
        expect(await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true })).toBeNull();
      });

      it('refuses with StaleFlowError, writing nothing, only the create whose flow moved past the version it was built from', async () => {
        const f = await newFlow(1, 'moved');
        const other = await newFlow(1, 'still');
        const built = (await store.getFlowToRun(orgId, f.flow.id, { maybeStale: true }))!;
        await store.setFlowActive(orgId, f.flow.id, 1, 'alice', T0 + 1, 'u1'); // version 2
        const inputs = [
          { ...instanceOf(built, T0), lockUserId: 'u1', flowVersion: built.flow.version },
          { ...instanceOf(other, T0), lockUserId: 'u1', flowVersion: other.flow.version },
          { ...instanceOf(built, T0 + MIN), lockUserId: 'u1', flowVersion: 2 },
        ];
        const results = await Promise.allSettled(inputs.map((i) => store.createFlowInstance(i)));
        expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
        const reason = (results[0] as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(StaleFlowError);
        expect(reason).not.toBeInstanceOf(StaleError);
        expect((reason as Error).message).toBe(`flow ${f.flow.id} is at version 2, the create was built from 1`);
        expect(await store.getFlowInstance(orgId, inputs[0].instance.id)).toBeNull();
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 10 })).total).toBe(2);
        // Alone (not in a batch) the same.
        await expect(store.createFlowInstance({ ...instanceOf(built, T0 + 2 * MIN), flowVersion: 1 })).rejects.toBeInstanceOf(StaleFlowError);
        expect((await store.searchFlowInstances({ orgId, sort: [], offset: 0, limit: 10 })).total).toBe(2);
      });

      it('a stale version is told before the edit lock: the caller decides the lock again from a fresh read', async () => {
        const f = await newFlow();
        await store.takeEditLock(orgId, f.flow.id, lockOf(bob), T0);
        await store.setFlowActive(orgId, f.flow.id, 1, 'bob', T0 + 1, 'u2'); // version 2, still locked by bob
        await expect(store.createFlowInstance({ ...instanceOf(f, T0 + MIN, { createdAt: T0 + 2 }), lockUserId: 'u1', flowVersion: 1 })).rejects.toBeInstanceOf(StaleFlowError);
        await expect(store.createFlowInstance({ ...instanceOf(f, T0 + MIN, { createdAt: T0 + 2 }), lockUserId: 'u1', flowVersion: 2 })).rejects.toBeInstanceOf(EditLockedError);
      });
    });

    describe('references', () => {
      it('refuses to delete a flow another flow references with ReferencedError naming them, and deletes nothing', async () => {
        const target = await newFlow(1, 'target', 1); // only periodic workflows may be referenced
        const user = await newFlow(1, 'user');
        await store.updateFlow(orgId, referencing(saveAdding(user, 'n1'), target.flow.id));
        const before = await store.getFlow(orgId, target.flow.id);
        const err = await store.deleteFlow(orgId, target.flow.id, 'u1', T0).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ReferencedError);
        expect(err).toMatchObject({ flowId: target.flow.id, referrers: [{ id: user.flow.id, name: 'user' }] });
        expect(await store.getFlow(orgId, target.flow.id)).toEqual(before);
      });

      it('delete racing a save that adds a reference: whichever commits second is refused, never a dangling reference', async () => {
        for (const first of ['save', 'delete'] as const) {
          const target = await newFlow(1, `target-${first}`, 1);
          const user = await newFlow(1, `user-${first}`);
          // Both read before either writes. On one SQLite connection the call order decides which commits
          // first; with a pool of connections (PostgreSQL) whichever takes its locks first. Either way the
          // one that commits second is refused.
          const doSave = () => store.updateFlow(orgId, referencing(saveAdding(user, 'n1'), target.flow.id));
          const doDelete = () => store.deleteFlow(orgId, target.flow.id, 'u1', T0);
          const [x, y] = await Promise.allSettled(first === 'save' ? [doSave(), doDelete()] : [doDelete(), doSave()]);
          const [saved, deleted] = first === 'save' ? [x, y] : [y, x];
          expect([saved.status, deleted.status].sort()).toEqual(['fulfilled', 'rejected']);
          const refused = ((saved.status === 'rejected' ? saved : deleted) as PromiseRejectedResult).reason;
          if (saved.status === 'fulfilled') expect(refused).toBeInstanceOf(ReferencedError);
          else {
            expect(refused).toBeInstanceOf(DomainError);
            expect(refused).toMatchObject({ kind: 'invalid', field: 'flows[0].flowId', message: expect.stringContaining(`referenced workflow ${target.flow.id} not found`) });
          }
          const stored = (await store.getFlow(orgId, user.flow.id))!;
          const targetLeft = await store.getFlow(orgId, target.flow.id);
          for (const ref of stored.flow.flowRefs) expect(targetLeft?.flow.id, `dangling ${ref.flowId}`).toBe(Number(ref.flowId));
        }
      });
    });
  });
}
