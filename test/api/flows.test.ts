// Import, Export, Get and Save Flow: exact field names, JSON-string fields, the lossless round trip,
// and the Save extension (task definitions, new tasks by client node id, deletion of absent tasks).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, getFlowData, importFlow, saveBodyOf, shellTask, taskIds } from '../helpers/flows.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const FLOW_FIELDS = [
  'flowId', 'flowName', 'active', 'creator', 'createTime', 'createTimeMs', 'updateUser', 'updateTime', 'updateTimeMs', 'freq',
  'cycle', 'parameters', 'owner', 'visitor', 'doAs', 'alertMode', 'graph', 'entry', 'type', 'syncType', 'desc', 'startTime',
  'virtual', 'locked', 'hasEditPri', 'hasReadPri', 'isUserLocked', 'queue',
  'version', // extension: the version guard of Save (docs/api-notes.md)
];

const rich = () =>
  flowJson({
    tasks: [
      shellTask('extract', { timeout: 300, retryLimit: 3, retryInterval: 5, successCode: '0,3', parameters: [{ key: 'src', value: '/in' }], runMode: { taskMode: 1, cpu: 0.5 }, x: 10, y: 20 }),
      { name: 'load', type: 'PYTHON', cmd: 'def main():\n    return 0\n', resource: 'default', asLink: true },
      shellTask('report', { type: 'COMMAND' }),
    ],
    edges: [['extract', 'load'], ['load', 'report', false]],
    type: 1,
    cron: '0 0 2 * * ? *',
    cycle: 'D',
    parameters: '[{"key":"REPLACE","value":"lili1"}]',
    visitors: 'vic',
    owners: ';bob;',
    alertMode: 1,
    submitter: 'db_user',
    desc: 'nightly',
    startTime: '2024-01-01',
    syncType: 0,
  });

describe('Import Flow', () => {
  it('creates the flow with its tasks and answers {flowId}', async () => {
    const dirId = await w.rootDir();
    const data = ok(await op(w, 'admin', 'POST', 'flows', 'import', { body: { flowName: 'nightly', desc: 'd', dirId, flowJson: rich() } }));
    expect(Object.keys(data)).toEqual(['flowId']);
    expect(typeof data.flowId).toBe('number');
    const f = await getFlowData(w, data.flowId as number);
    expect(Object.keys(f).sort()).toEqual([...FLOW_FIELDS].sort());
    expect(f).toMatchObject({ flowName: 'nightly', desc: 'd', type: 1, freq: '0 0 2 * * ? *', cycle: 'D', creator: 'admin', owner: 'admin;bob', visitor: 'vic', doAs: 'db_user', active: 1, entry: 1, startTime: '2024-01-01', alertMode: 1 });
    expect(f.parameters).toBe('[{"key":"REPLACE","value":"lili1"}]');
    const g = JSON.parse(f.graph as string);
    expect(g.tasks.map((t: { taskName: string }) => t.taskName)).toEqual(['extract', 'load', 'report']);
    expect(g.tasks[0]).toEqual({ taskName: 'extract', taskId: expect.any(String), nodeId: `t_${g.tasks[0].taskId}`, x: 10, y: 20 });
    expect(g.relations).toEqual([
      { source: g.tasks[0].nodeId, target: g.tasks[1].nodeId, cycleGap: 'D0', rerun: true },
      { source: g.tasks[1].nodeId, target: g.tasks[2].nodeId, cycleGap: 'D0', rerun: false },
    ]);
    expect(typeof g.parameters).toBe('string');
  });

  it('uses a free desired flowId and silently replaces a taken one', async () => {
    expect(await importFlow(w, flowJson(), 'admin', { flowId: 4242 })).toBe(4242);
    const again = await importFlow(w, flowJson(), 'admin', { flowId: '4242' });
    expect(again).not.toBe(4242);
  });

  it('accepts flowJson as a JSON string and snake_case keys', async () => {
    const dirId = await w.rootDir();
    const r = await op(w, 'admin', 'POST', 'flows', 'import', { body: { flow_name: 'x', desc: '', dir_id: dirId, flowJson: JSON.stringify(flowJson()) } });
    expect(ok(r).flowId).toEqual(expect.any(Number));
  });
});

describe('Export Flow', () => {
  it('answers the export struct with tasks and relations by name', async () => {
    const flowId = await importFlow(w, rich());
    const e = ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId } }));
    expect(e).toMatchObject({ cron: '0 0 2 * * ? *', submitter: 'db_user', owners: 'admin;bob', visitors: 'vic', type: 1, startTime: '2024-01-01', flowLinks: [], taskLinks: [], linkRelations: [] });
    expect(e.parameters).toBe('[{"key":"REPLACE","value":"lili1"}]');
    const tasks = e.tasks as Array<Record<string, unknown>>;
    expect(tasks[0]).toMatchObject({ name: 'extract', type: 'SHELL', cmd: 'exit 0', timeout: 300, retryLimit: 3, retryInterval: 5, successCode: '0,3', runMode: '{"taskMode":1,"cpu":0.5}' });
    expect(tasks[0].parameters).toBe('[{"key":"src","value":"/in"}]');
    expect(tasks[1]).toMatchObject({ name: 'load', type: 'PYTHON', resource: 'default', asLink: true });
    expect(tasks[2].type).toBe('SHELL');
    expect(e.relations).toEqual([
      { sourceTaskName: 'extract', targetTaskName: 'load', rerun: true, cycleGap: 'D0' },
      { sourceTaskName: 'load', targetTaskName: 'report', rerun: false, cycleGap: 'D0' },
    ]);
  });

  it('round-trips losslessly through Import', async () => {
    const first = await importFlow(w, rich());
    const e1 = ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId: first } }));
    const dirId = await w.rootDir();
    const second = ok(await op(w, 'admin', 'POST', 'flows', 'import', { body: { flowName: 'copy', desc: '', dirId, flowJson: e1 } })).flowId as number;
    const e2 = ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId: second } }));
    expect(second).not.toBe(first);
    expect({ ...e2, name: null }).toEqual({ ...e1, name: null });
    const g1 = JSON.parse((await getFlowData(w, first)).graph as string);
    const g2 = JSON.parse((await getFlowData(w, second)).graph as string);
    const shape = (g: { tasks: Array<{ taskName: string; x: number; y: number }> }) => g.tasks.map((t) => [t.taskName, t.x, t.y]);
    expect(shape(g2)).toEqual(shape(g1));
  });
});

describe('Save Flow', () => {
  it('updates settings and answers the same flowId', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const body = { ...(await saveBodyOf(w, flowId)), name: 'renamed', desc: 'new desc', parameters: [{ key: 'p', value: '1' }], visitors: 'vic', id: String(flowId) };
    expect(ok(await op(w, 'admin', 'POST', 'flows', 'save', { body }))).toEqual({ flowId });
    const f = await getFlowData(w, flowId);
    expect(f).toMatchObject({ flowName: 'renamed', desc: 'new desc', parameters: '[{"key":"p","value":"1"}]', visitor: 'vic', updateUser: 'admin' });
  });

  it('creates tasks given by definition, wires them by client nodeId, deletes absent tasks', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b', 'gone'], edges: [['a', 'b'], ['b', 'gone']] }));
    const ids = await taskIds(w, flowId);
    const body = {
      ...(await saveBodyOf(w, flowId)),
      tasks: [
        { taskId: ids.a, taskName: 'a', nodeId: `t_${ids.a}`, x: 1, y: 1, cmd: 'echo changed', retryLimit: 2 },
        { taskId: String(ids.b), taskName: 'b', nodeId: `t_${ids.b}`, x: 2, y: 2 },
        { nodeId: 'new1', taskName: 'c', type: 'PYTHON', cmd: 'print(1)', timeout: 60, parameters: 'k=v', x: 3, y: 3 },
      ],
      relations: [
        { source: `t_${ids.a}`, target: `t_${ids.b}`, rerun: true },
        { source: `t_${ids.b}`, target: 'new1', rerun: false },
      ],
    };
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body }));
    const g = JSON.parse((await getFlowData(w, flowId)).graph as string);
    const c = g.tasks.find((t: { taskName: string }) => t.taskName === 'c');
    expect(g.tasks.map((t: { taskName: string }) => t.taskName)).toEqual(['a', 'b', 'c']);
    expect(c.nodeId).toBe(`t_${c.taskId}`);
    expect(Number(c.taskId)).toBeGreaterThan(ids.gone);
    expect(g.relations).toEqual([
      { source: `t_${ids.a}`, target: `t_${ids.b}`, cycleGap: 'D0', rerun: true },
      { source: `t_${ids.b}`, target: c.nodeId, cycleGap: 'D0', rerun: false },
    ]);
    const e = ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId } }));
    const tasks = e.tasks as Array<Record<string, unknown>>;
    expect(tasks.map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(tasks[0]).toMatchObject({ cmd: 'echo changed', retryLimit: 2 });
    expect(tasks[2]).toMatchObject({ type: 'PYTHON', cmd: 'print(1)', timeout: 60, parameters: '[{"key":"k","value":"v"}]' });
  });

  it('keeps the graph when tasks and relations are not given', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const before = JSON.parse((await getFlowData(w, flowId)).graph as string);
    const { tasks: _t, relations: _r, flows: _f, ...body } = await saveBodyOf(w, flowId);
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body }));
    const after = JSON.parse((await getFlowData(w, flowId)).graph as string);
    expect(after.tasks).toEqual(before.tasks);
    expect(after.relations).toEqual(before.relations);
  });

  it('refuses a change of type with 62102', async () => {
    const flowId = await importFlow(w, flowJson());
    const body = { ...(await saveBodyOf(w, flowId)), type: 1, freq: '0 0 1 * * ? *' };
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body }), 62102, /type cannot change/);
  });

  it("releases the caller's edit lock", async () => {
    const flowId = await importFlow(w, flowJson());
    await w.store.takeEditLock('o-default', flowId, { userId: 'u-admin', userName: 'admin', expiresAt: w.clock.now() + 600_000 }, w.clock.now());
    expect((await w.store.getFlow('o-default', flowId))!.flow.editLock).not.toBeNull();
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }));
    expect((await w.store.getFlow('o-default', flowId))!.flow.editLock).toBeNull();
  });
});
