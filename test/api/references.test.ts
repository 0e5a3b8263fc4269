// References on the write path (contract §10): Import's flowLinks / taskLinks / linkRelations and Save's
// `flows` nodes, each validation rule its own 62102 naming the field with nothing written, Export ->
// Import as a lossless round trip, and Delete of a referenced workflow refused naming who references it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, getFlowData, importFlow, saveBodyOf, shellTask } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const periodic = (extra: Record<string, unknown> = {}) => flowJson({ type: 1, cron: '0 0 2 * * ? *', tasks: [shellTask('extract', { asLink: true }), shellTask('private')], ...extra });
const named = (flowName: string) => ({ flowName });

/** A report flow referencing `load` (by name) and its task `extract`, both joined to `report`. */
function reportJson(load: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return flowJson({
    tasks: ['report'],
    flowLinks: [{ linkId: 'f_load', sourceFlowName: load }],
    taskLinks: [{ linkId: 'l_extract', sourceFlowName: load, sourceTaskName: 'extract' }],
    linkRelations: [
      { linkId: 'f_load', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
      { linkId: 'l_extract', targetTaskName: 'report', rerun: true, cycleGap: 'D-1' },
    ],
    ...extra,
  });
}

async function importFails(json: Record<string, unknown>, msg: RegExp): Promise<void> {
  const dirId = await w.rootDir('o-default');
  const before = await storeSnapshot(w.store);
  fails(await op(w, 'admin', 'POST', 'flows', 'import', { body: { flowName: 'report', desc: '', dirId, flowJson: json } }), 62102, msg);
  expect(await storeSnapshot(w.store)).toEqual(before);
}

describe('Import with references', () => {
  it('resolves names in the org and stores the graph: flow and task reference nodes joined to their targets', async () => {
    const loadId = await importFlow(w, periodic(), 'admin', named('load'));
    const reportId = await importFlow(w, reportJson('load'), 'admin', named('report'));
    const g = JSON.parse((await getFlowData(w, reportId)).graph as string);
    const extractId = JSON.parse((await getFlowData(w, loadId)).graph as string).tasks.find((t: any) => t.taskName === 'extract').taskId;
    expect(g.flows).toEqual([
      { flowId: String(loadId), flowName: 'load', nodeId: 'f_load', isVirtual: false, x: 0, y: 0 },
      { flowId: String(loadId), flowName: `${extractId}(extract)`, nodeId: 'l_extract', isVirtual: true, x: 0, y: 0 },
    ]);
    const reportNode = g.tasks[0].nodeId;
    expect(g.relations).toEqual(
      expect.arrayContaining([
        { source: 'f_load', target: reportNode, cycleGap: 'D0', rerun: true },
        { source: 'l_extract', target: reportNode, cycleGap: 'D-1', rerun: true },
      ]),
    );
  });

  it('Export -> Import is a lossless round trip with references', async () => {
    await importFlow(w, periodic(), 'admin', named('load'));
    const reportId = await importFlow(w, reportJson('load', { refTimeoutSec: 600 }), 'admin', named('report'));
    const exported = ok<Record<string, unknown>>(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId: reportId } }));
    expect(exported).toMatchObject({
      flowLinks: [{ linkId: 'f_load', sourceFlowName: 'load' }],
      taskLinks: [{ linkId: 'l_extract', sourceFlowName: 'load', sourceTaskName: 'extract' }],
      linkRelations: [
        { linkId: 'f_load', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
        { linkId: 'l_extract', targetTaskName: 'report', rerun: true, cycleGap: 'D-1' },
      ],
      refTimeoutSec: 600,
    });
    const again = await importFlow(w, exported, 'admin', named('report copy'));
    const reExported = ok<Record<string, unknown>>(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId: again } }));
    expect({ ...reExported, name: 'report' }).toEqual(exported);
  });

  it.each([
    ['a workflow that does not exist', () => reportJson('ghost'), /^Incorrect parameter: flowJson\.flowLinks\[0\]\.sourceFlowName: no workflow named "ghost" in this organization$/],
    ['a manual workflow', () => reportJson('manual'), /flowJson\.flowLinks\[0\]\.flowId: referenced workflow "manual" \(\d+\) is not periodic \(type 0\): only periodic workflows \(type 1\) can be referenced/],
    ['a task that is not in it', () => reportJson('load', { taskLinks: [{ linkId: 'l_extract', sourceFlowName: 'load', sourceTaskName: 'nope' }] }), /flowJson\.taskLinks\[0\]\.sourceTaskName: workflow "load" \(\d+\) has no task "nope"/],
    ['a task without asLink', () => reportJson('load', { taskLinks: [{ linkId: 'l_extract', sourceFlowName: 'load', sourceTaskName: 'private' }] }), /flowJson\.taskLinks\[0\]\.sourceTaskName: task "private" of workflow "load" does not allow references \(its asLink is false\)/],
    ['a reference with no relation', () => reportJson('load', { linkRelations: [{ linkId: 'f_load', targetTaskName: 'report' }] }), /reference node l_extract has no relation: join it to the task\(s\) that wait on it/],
    ['an unknown linkId', () => reportJson('load', { linkRelations: [{ linkId: 'f_nope', targetTaskName: 'report' }] }), /flowJson\.linkRelations\[0\]\.linkId names no entry of flowJson\.flowLinks or flowJson\.taskLinks: "f_nope"/],
    ['a target that is no task', () => reportJson('load', { linkRelations: [{ linkId: 'f_load', targetTaskName: 'nobody' }, { linkId: 'l_extract', targetTaskName: 'report' }] }), /names no task of flowJson\.tasks: "nobody"/],
    ['a bad cycleGap', () => reportJson('load', { linkRelations: [{ linkId: 'f_load', targetTaskName: 'report', cycleGap: 'X1' }, { linkId: 'l_extract', targetTaskName: 'report' }] }), /cycleGap "X1" has unknown unit "X"/],
    ['a cycleGap without offset', () => reportJson('load', { linkRelations: [{ linkId: 'f_load', targetTaskName: 'report', cycleGap: 'D' }, { linkId: 'l_extract', targetTaskName: 'report' }] }), /cycleGap "D" has no offset/],
  ])('refuses %s with 62102, writing nothing', async (_what, json, msg) => {
    await importFlow(w, periodic(), 'admin', named('load'));
    await importFlow(w, flowJson(), 'admin', named('manual'));
    await importFails(json(), msg as RegExp);
  });

  it('refuses a name that two workflows of the org share, asking for flowId', async () => {
    await importFlow(w, periodic(), 'admin', named('load'));
    await importFlow(w, periodic(), 'admin', named('load'));
    await importFails(reportJson('load'), /flowJson\.flowLinks\[0\]\.sourceFlowName: 2 workflows are named "load" in this organization \(ids \d+, \d+\): give flowId/);
  });

  it('does not see another organization\'s workflows', async () => {
    await importFlow(w, periodic(), 'eve', named('load'));
    await importFails(reportJson('load'), /no workflow named "load" in this organization/);
  });
});

describe('Save with references', () => {
  it('refuses a reference that is not a root, a self-reference and a cycle through another workflow, writing nothing', async () => {
    const a = await importFlow(w, periodic(), 'admin', named('a'));
    const b = await importFlow(w, flowJson({ type: 1, cron: '0 0 3 * * ? *', tasks: ['t'], flowLinks: [{ linkId: 'f_a', sourceFlowName: 'a' }], linkRelations: [{ linkId: 'f_a', targetTaskName: 't' }] }), 'admin', named('b'));
    const body = await saveBodyOf(w, a);
    const g = body as { tasks: Array<{ nodeId: string; taskId: string }>; relations: unknown[] };
    const node = g.tasks[0].nodeId;
    const before = await storeSnapshot(w.store);
    const ref = (flowId: number) => ({ flowId: String(flowId), flowName: 'x', nodeId: `f_${flowId}`, isVirtual: false, x: 0, y: 0 });
    // a -> a
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body: { ...body, flows: [ref(a)], relations: [...g.relations, { source: `f_${a}`, target: node }] } }), 62102, /flows\[0\]\.flowId: workflow \d+ cannot reference itself/);
    // a -> b -> a
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body: { ...body, flows: [ref(b)], relations: [...g.relations, { source: `f_${b}`, target: node }] } }), 62102, new RegExp(`flows\\[0\\]\\.flowId: the references make a cycle: ${a} -> ${b} -> ${a}`));
    // a relation into the reference node
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body: { ...body, flows: [ref(b)], relations: [...g.relations, { source: node, target: `f_${b}` }] } }), 62102, new RegExp(`reference node f_${b} must be a root: relation ${node} -> f_${b} targets it`));
    expect(await storeSnapshot(w.store)).toEqual(before);
  });

  it('keeps a task reference given in the graph form <taskId>(<taskName>)', async () => {
    const load = await importFlow(w, periodic(), 'admin', named('load'));
    const extractId = JSON.parse((await getFlowData(w, load)).graph as string).tasks.find((t: any) => t.taskName === 'extract').taskId;
    const report = await importFlow(w, flowJson({ tasks: ['report'] }), 'admin', named('report'));
    const body = await saveBodyOf(w, report);
    const node = (body as any).tasks[0].nodeId;
    const flows = [{ flowId: String(load), flowName: `${extractId}(extract)`, nodeId: 'l_1', isVirtual: true, x: 5, y: 6 }];
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: { ...body, flows, relations: [{ source: 'l_1', target: node, cycleGap: 'H-1', rerun: true }] } }));
    const g = JSON.parse((await getFlowData(w, report)).graph as string);
    expect(g.flows).toEqual(flows);
    expect(g.relations).toEqual([{ source: 'l_1', target: node, cycleGap: 'H-1', rerun: true }]);
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body: { ...body, flows: [{ ...flows[0], flowName: 'extract' }], relations: [{ source: 'l_1', target: node }] } }), 62102, /flows\[0\]\.flowName of a task reference \(isVirtual true\) must read <taskId>\(<taskName>\), got "extract"/);
  });
});

describe('Delete of a referenced workflow', () => {
  it('is refused with 62104 naming who references it', async () => {
    const load = await importFlow(w, periodic(), 'admin', named('load'));
    const report = await importFlow(w, reportJson('load'), 'admin', named('report'));
    const r = await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId: load } });
    fails(r, 62104, new RegExp(`${report}`));
  });
});
