// Store contract, flow versions (issue 12): createFlow makes version 1 and records it as the flow's
// current one; updateFlow makes the next only when the content changed; an instance references the
// version it was built from (by id, or by its snapshot's hash when given none, made if missing, once even
// under concurrent creates); versions are per org and go with Delete.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotOf, versionHash } from '../../src/domain/versions.js';
import type { Store } from '../../src/store/store.js';
import { buildFlowInstance } from '../../src/domain/instances.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

export function describeVersionsStoreContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract, flow versions: ${name}`, () => {
    let store: Store;
    let dirId: string;
    const orgId = 'o1';
    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: orgId, name: 'Org 1', createdAt: T0 });
      await store.createOrg({ id: 'o2', name: 'Org 2', createdAt: T0 });
      dirId = (await store.getRootDirectory(orgId))!.id;
    });
    afterEach(async () => store.close());

    const save = (f: Awaited<ReturnType<Store['createFlow']>>, change: { desc?: string; cmd?: string }, at: number) =>
      store.updateFlow(orgId, {
        flow: { ...f.flow, desc: change.desc ?? f.flow.desc, updateUser: 'bob', updatedAt: at },
        updatedTasks: change.cmd === undefined ? [] : [{ ...f.tasks[0], cmd: change.cmd }],
        newTasks: [],
        deletedTaskIds: [],
        guard: { version: f.flow.version, userId: 'u', now: at },
      });

    it('makes version 1 on create and the next on a Save that changes the content, only then', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 2));
      const [v1] = await store.listFlowVersions(orgId, f.flow.id);
      expect(v1).toMatchObject({ flowId: f.flow.id, number: 1, hash: versionHash(snapshotOf(f)), createdAt: f.flow.updatedAt });
      expect(f.flow.versionId).toBe(v1.id);
      const same = await save(f, {}, T0 + 1);
      expect(same.flow.versionId).toBe(v1.id);
      const changed = await save(same, { cmd: 'echo new' }, T0 + 2);
      const list = await store.listFlowVersions(orgId, f.flow.id);
      expect(list.map((v) => v.number)).toEqual([2, 1]);
      expect(list[0]).toMatchObject({ id: changed.flow.versionId, createdBy: 'bob', createdAt: T0 + 2 });
      expect((await store.getFlow(orgId, f.flow.id))!.flow.versionId).toBe(list[0].id);
      await store.setFlowActive(orgId, f.flow.id, 1, 'bob', T0 + 3, 'u');
      expect(await store.listFlowVersions(orgId, f.flow.id)).toHaveLength(2);
      const v = await store.getFlowVersion(orgId, f.flow.id, 1);
      expect(v!.snapshot).toEqual(snapshotOf(f));
      expect(await store.getFlowVersion(orgId, f.flow.id, 3)).toBeNull();
    });

    it('hides versions of another org and deletes them with their flow', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 1));
      expect(await store.listFlowVersions('o2', f.flow.id)).toEqual([]);
      expect(await store.getFlowVersion('o2', f.flow.id, 1)).toBeNull();
      await store.deleteFlow(orgId, f.flow.id, 'u', T0 + 1);
      expect(await store.listFlowVersions(orgId, f.flow.id)).toEqual([]);
    });

    it('references the version an instance was built from, old ones after a Save included', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 2));
      const built = buildFlowInstance({ fw: f, triggerTime: T0 + 60_000, now: T0, timezone: 'UTC', owner: 'alice', kind: 'trigger', overrides: [], startTaskId: null, runSet: null });
      const f2 = await save(f, { desc: 'two' }, T0 + 1);
      const a = await store.createFlowInstance(built);
      const b = await store.createFlowInstance(instanceOf(f2, T0 + 120_000));
      expect(a.version.number).toBe(1);
      expect(b.version.number).toBe(2);
      expect((await store.getFlowInstance(orgId, a.id))!.snapshot.flow.desc).toBe('');
      expect((await store.getFlowInstance(orgId, b.id))!.snapshot.flow.desc).toBe('two');
      expect((await store.getFlowInstance(orgId, a.id))!.snapshot).toEqual(snapshotOf(f));
    });

    it('getFlowToRun: the flow row with the tasks of its current version, as getFlow has them; null in another org', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 2));
      const first = await store.getFlowToRun(orgId, f.flow.id);
      expect(first).toEqual(await store.getFlow(orgId, f.flow.id));
      const changed = await save(f, { cmd: 'echo new', desc: 'changed' }, T0 + 2);
      const run = (await store.getFlowToRun(orgId, f.flow.id))!;
      expect(run.flow).toEqual(changed.flow);
      expect(run.tasks).toEqual(changed.tasks);
      expect(run.tasks[0].cmd).toBe('echo new');
      expect(await store.getFlowToRun('o2', f.flow.id)).toBeNull();
      expect(await store.getFlowToRun(orgId, f.flow.id + 1000)).toBeNull();
    });

    it('makes a version missing for a snapshot once, however many creates carry it at once', async () => {
      const f = await store.createFlow(flowOf(orgId, dirId, 1));
      const other = { ...f, flow: { ...f.flow, desc: 'never saved' } };
      const created = await Promise.all(Array.from({ length: 12 }, (_, k) => store.createFlowInstance(instanceOf(other, T0 + (k + 1) * 60_000, { byContent: true }))));
      const versions = await store.listFlowVersions(orgId, f.flow.id);
      expect(versions.map((v) => v.number)).toEqual([2, 1]);
      expect(new Set(created.map((i) => i.version.id))).toEqual(new Set([versions[0].id]));
    });
  });
}
