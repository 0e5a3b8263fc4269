// Flow versions (issue 12): import and every Save that changes a workflow make a version; Saves that change
// nothing, Enable/Disable and the edit lock do not. Instances reference their version instead of a copy,
// name it (flowVersion, flowVersionHash) and read as before after the flow changed; versions can be
// listed, read and compared; bad version numbers are refused naming the field.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, saveBodyOf, taskIds, trigger } from '../helpers/flows.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

type Json = Record<string, any>;
const versions = async (flowId: number): Promise<Json> => ok(await op(w, 'admin', 'GET', 'flows', 'listVersions', { query: { flowId } }));
const instance = async (id: string): Promise<Json> => ok(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: id } }));
const save = async (flowId: number, change: (b: Json) => Json) => ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: change(await saveBodyOf(w, flowId)) }));

describe('flow versions', () => {
  it('start at 1 on import; a changing Save makes the next, a Save of the same content, Enable, Disable and the edit lock do not', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const v1 = await versions(flowId);
    expect(v1.currentVersion).toBe(1);
    expect(v1.versions).toHaveLength(1);
    expect(v1.versions[0]).toMatchObject({ version: 1, createdBy: 'admin' });
    expect(v1.versions[0].hash).toMatch(/^[0-9a-f]{64}$/);

    await save(flowId, (b) => b);
    ok(await op(w, 'admin', 'POST', 'flows', 'disable', { body: { flowId } }));
    ok(await op(w, 'admin', 'POST', 'flows', 'enable', { body: { flowId } }));
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    expect((await versions(flowId)).versions).toHaveLength(1);

    await save(flowId, (b) => ({ ...b, desc: 'second' }));
    const v2 = await versions(flowId);
    expect(v2.currentVersion).toBe(2);
    expect(v2.versions.map((v: Json) => v.version)).toEqual([2, 1]);
    expect(v2.versions[0].hash).not.toBe(v2.versions[1].hash);
  });

  it('an instance names its version and keeps reading as it was when the flow changes', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const before = await trigger(w, flowId, w.clock.now() + 3_600_000);
    const asCreated = await instance(before);
    expect(asCreated).toMatchObject({ flowVersion: 1, flowVersionHash: (await versions(flowId)).versions[0].hash });

    const ids = await taskIds(w, flowId);
    await save(flowId, (b) => ({
      ...b,
      name: 'renamed',
      parameters: [{ key: 'p', value: '2' }],
      tasks: [...(b.tasks as Json[]), { nodeId: 'new1', taskName: 'c', type: 'SHELL', cmd: 'exit 0', x: 5, y: 5 }],
      relations: [...(b.relations as Json[]), { source: `t_${ids.b}`, target: 'new1', rerun: true }],
    }));
    const after = await trigger(w, flowId, w.clock.now() + 7_200_000);

    const old = await instance(before);
    // Everything of the old instance reads as before (its version), but for the caller-relative history.
    expect({ ...old, transitions: undefined }).toEqual({ ...asCreated, transitions: undefined });
    expect(JSON.parse(old.graph).tasks.map((t: Json) => t.taskName)).toEqual(['a', 'b']);
    const fresh = await instance(after);
    expect(fresh).toMatchObject({ flowVersion: 2, flowName: 'renamed', parameters: '[{"key":"p","value":"2"}]' });
    expect(JSON.parse(fresh.graph).tasks.map((t: Json) => t.taskName)).toEqual(['a', 'b', 'c']);

    // Overrides apply over the version's parameters; the stored flow keeps its own.
    const overridden = ok<{ flowInstanceId: string }>(
      await op(w, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: w.clock.now() + 10_800_000, parameters: [{ key: 'p', value: '9' }, { key: 'q', value: 'x' }] } }),
    ).flowInstanceId;
    expect(await instance(overridden)).toMatchObject({ flowVersion: 2, parameters: '[{"key":"p","value":"9"},{"key":"q","value":"x"}]', overrides: '[{"key":"p","value":"9"},{"key":"q","value":"x"}]' });
    // A task instance's definition comes from its instance's version.
    const taskInstId = JSON.parse(old.graph).tasks[0].taskInstId as string;
    expect(ok(await op(w, 'admin', 'GET', 'taskInstances', 'get', { query: { taskInstId } }))).toMatchObject({ taskName: 'a', cmd: 'exit 0' });
  });

  it('reads one version and compares two, field by field', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const ids = await taskIds(w, flowId);
    await save(flowId, (b) => ({
      ...b,
      desc: 'changed',
      tasks: [{ ...(b.tasks as Json[])[0], cmd: 'echo changed' }, { nodeId: 'new1', taskName: 'c', type: 'SHELL', cmd: 'exit 0', x: 5, y: 5 }],
      relations: [{ source: `t_${ids.a}`, target: 'new1', rerun: true }],
    }));
    const one = ok(await op(w, 'admin', 'GET', 'flows', 'getVersion', { query: { flowId, version: 1 } }));
    expect(one).toMatchObject({ flowId, version: 1 });
    expect((one.tasks as Json[]).map((t) => t.name)).toEqual(['a', 'b']);
    expect(one.flow).not.toHaveProperty('editLock');

    const diff = ok<Json>(await op(w, 'admin', 'GET', 'flows', 'compareVersions', { query: { flowId, from: 1, to: 2 } }));
    expect(diff.same).toBe(false);
    expect(diff.flow).toContainEqual({ field: 'desc', from: '', to: 'changed' });
    expect(diff.tasks.removed).toEqual([{ id: ids.b, name: 'b' }]);
    expect(diff.tasks.added.map((t: Json) => t.name)).toEqual(['c']);
    expect(diff.tasks.changed).toEqual([{ id: ids.a, name: 'a', changes: [{ field: 'cmd', from: 'exit 0', to: 'echo changed' }] }]);
    expect(diff.relations.removed).toEqual([{ source: `t_${ids.a}`, target: `t_${ids.b}` }]);
    expect(diff.relations.added).toHaveLength(1);
    const same = ok(await op(w, 'admin', 'GET', 'flows', 'compareVersions', { query: { flowId, from: 2, to: 2 } }));
    expect(same).toMatchObject({ same: true, flow: [], tasks: { added: [], removed: [], changed: [] } });
  });

  it('refuses unknown versions, bad numbers and flows the caller cannot see, naming the field', async () => {
    const flowId = await importFlow(w);
    fails(await op(w, 'admin', 'GET', 'flows', 'getVersion', { query: { flowId, version: 9 } }), 62102, /has no version 9 \(version\)/);
    fails(await op(w, 'admin', 'GET', 'flows', 'compareVersions', { query: { flowId, from: 1, to: 7 } }), 62102, /has no version 7 \(to\)/);
    fails(await op(w, 'admin', 'GET', 'flows', 'compareVersions', { query: { flowId, from: 0, to: 1 } }), 62102, /from/);
    fails(await op(w, 'admin', 'GET', 'flows', 'getVersion', { query: { flowId, version: 'x' } }), 62102, /version/);
    fails(await op(w, 'admin', 'GET', 'flows', 'getVersion', { query: { flowId } }), 62102, /version/);
    fails(await op(w, 'admin', 'GET', 'flows', 'listVersions', { query: { flowId: 987654 } }), 62102, /987654/);
    fails(await op(w, 'eve', 'GET', 'flows', 'listVersions', { query: { flowId } }), 62102, /not found/i);
  });

  it('go with their flow on Delete', async () => {
    const flowId = await importFlow(w);
    await save(flowId, (b) => ({ ...b, desc: 'v2' }));
    ok(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId } }));
    expect(await w.store.listFlowVersions('o-default', flowId)).toEqual([]);
  });
});
