// Trigger, Update And Trigger, Trigger From Task: ids, the one-minute rule under concurrency, parameter
// overrides that never touch the stored flow, run sets, and their refusals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, taskIds, trigger } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

const ONE_MINUTE =
  'Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.';
let w: World;
beforeEach(async () => {
  w = await makeWorld({ timezone: 'Asia/Shanghai' });
});
afterEach(async () => {
  await w.close();
});

async function graphStatuses(instId: string): Promise<Record<string, string>> {
  const i = ok(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: instId } }));
  const g = JSON.parse(i.graph as string) as { tasks: Array<{ taskName: string; status: string }> };
  return Object.fromEntries(g.tasks.map((t) => [t.taskName, t.status]));
}

describe('Trigger Flow', () => {
  it('answers {flowInstanceId} named by flow and minute in the service zone; task instances share the suffix', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'] }));
    const t = Date.UTC(2024, 0, 31, 18, 5, 59); // 2024-02-01 02:05:59 in Shanghai
    const data = ok(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: t } }));
    expect(data).toEqual({ flowInstanceId: `${flowId}-20240201020500` });
    const tasks = await w.store.listTaskInstances(`${flowId}-20240201020500`);
    const ids = await taskIds(w, flowId);
    expect(tasks.map((x) => x.id).sort()).toEqual([`${ids.a}-20240201020500`, `${ids.b}-20240201020500`].sort());
    expect(tasks.every((x) => x.status === 'INIT')).toBe(true);
  });

  it('makes a past trigger due now and a future one due at its time', async () => {
    const flowId = await importFlow(w);
    const now = w.clock.now();
    const past = await trigger(w, flowId, now - 86_400_000);
    const future = await trigger(w, flowId, now + 3_600_000);
    expect((await w.store.getFlowInstance('o-default', past))!.dueAt).toBe(now);
    expect((await w.store.getFlowInstance('o-default', future))!.dueAt).toBe(now + 3_600_000);
  });

  it('lets exactly one of 50 concurrent triggers in one minute through', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b', 'c'] }));
    const base = Date.UTC(2024, 5, 1, 12, 0, 0);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: base + i * 1000 } })),
    );
    const wins = replies.filter((r) => r.env.code === 0);
    const losses = replies.filter((r) => r.env.code !== 0);
    expect(wins).toHaveLength(1);
    expect(losses).toHaveLength(49);
    for (const r of losses) {
      expect(r.status).toBe(200);
      expect(r.env.code).toBe(62102);
      expect(r.env.msg.startsWith(ONE_MINUTE)).toBe(true);
    }
    const { instances, total } = await w.store.searchFlowInstances({ orgId: 'o-default', sort: [], offset: 0, limit: 100 });
    expect(total).toBe(1);
    expect(await w.store.listTaskInstances(instances[0].id)).toHaveLength(3);
  });

  it('answers 62104 for a flow with no task', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: [] }));
    fails(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: 1 } }), 62104, 'This workflow has no task. You cannot trigger it.');
    fails(await op(w, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: 1, parameters: [] } }), 62104, 'This workflow has no task.');
  });

  it('answers 62102 for an unknown flow', async () => {
    fails(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flowId: 777, triggerTime: 1 } }), 62102, 'Workflow 777 not found');
  });
});

describe('Update And Trigger Flow', () => {
  it('runs with the overrides and leaves the stored flow byte-identical', async () => {
    const flowId = await importFlow(w, flowJson({ parameters: [{ key: 'REPLACE', value: 'lili1' }, { key: 'keep', value: 'k' }] }));
    const getBefore = JSON.stringify(ok(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } })));
    const exportBefore = JSON.stringify(ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId } })));
    const id = ok<{ flowInstanceId: string }>(
      await op(w, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: w.clock.now(), parameters: [{ key: 'REPLACE', value: 'ddee' }, { key: 'added', value: '1' }] } }),
    ).flowInstanceId;
    expect(JSON.stringify(ok(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } })))).toBe(getBefore);
    expect(JSON.stringify(ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flowId } })))).toBe(exportBefore);
    const inst = ok(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: id } }));
    expect(JSON.parse(inst.parameters as string)).toEqual([
      { key: 'REPLACE', value: 'ddee' },
      { key: 'keep', value: 'k' },
      { key: 'added', value: '1' },
    ]);
    expect(JSON.parse(inst.overrides as string)).toEqual([{ key: 'REPLACE', value: 'ddee' }, { key: 'added', value: '1' }]);
    expect(JSON.parse(inst.graph as string).parameters).toEqual(JSON.parse(inst.parameters as string));
  });

  it('accepts the overrides as an object map or a JSON string', async () => {
    const flowId = await importFlow(w, flowJson({ parameters: 'a=1' }));
    const t = w.clock.now();
    const one = ok<{ flowInstanceId: string }>(await op(w, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: t, parameters: { a: '2' } } }));
    const two = ok<{ flowInstanceId: string }>(
      await op(w, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: t + 60_000, parameters: '[{"key":"a","value":"3"}]' } }),
    );
    expect((await w.store.getFlowInstance('o-default', one.flowInstanceId))!.parameters).toEqual([{ key: 'a', value: '2' }]);
    expect((await w.store.getFlowInstance('o-default', two.flowInstanceId))!.parameters).toEqual([{ key: 'a', value: '3' }]);
  });
});

describe('Trigger Flow From Task', () => {
  // a -> b (rerun false), a -> c, b -> d, c -> d: d has two upstreams.
  const diamond = () => flowJson({ tasks: ['a', 'b', 'c', 'd'], edges: [['a', 'b', false], ['a', 'c'], ['b', 'd'], ['c', 'd']] });

  it('runs the start node and what rerun edges reach; everything else is SKIP', async () => {
    const flowId = await importFlow(w, diamond());
    const ids = await taskIds(w, flowId);
    const id = ok<{ flowInstanceId: string }>(await op(w, 'admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: ids.a, triggerTime: w.clock.now() } }));
    expect(await graphStatuses(id.flowInstanceId)).toEqual({ a: 'INIT', b: 'SKIP', c: 'INIT', d: 'INIT' });
    const inst = (await w.store.getFlowInstance('o-default', id.flowInstanceId))!;
    expect(inst.kind).toBe('triggerFromTask');
    expect(inst.startTaskId).toBe(ids.a);
  });

  it('skips upstream nodes and sibling branches', async () => {
    const flowId = await importFlow(w, diamond());
    const ids = await taskIds(w, flowId);
    const id = ok<{ flowInstanceId: string }>(await op(w, 'admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: String(ids.b), triggerTime: w.clock.now() } }));
    expect(await graphStatuses(id.flowInstanceId)).toEqual({ a: 'SKIP', b: 'INIT', c: 'SKIP', d: 'INIT' });
  });

  it('answers 62102 naming a taskId that is not in the flow, and writes nothing', async () => {
    const flowId = await importFlow(w, diamond());
    const other = await importFlow(w, flowJson({ tasks: ['x'] }));
    const foreign = (await taskIds(w, other)).x;
    const before = await storeSnapshot(w.store);
    fails(await op(w, 'admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: foreign, triggerTime: 1 } }), 62102, `taskId ${foreign}`);
    fails(await op(w, 'admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: 999999, triggerTime: 1 } }), 62102, 'taskId 999999');
    expect(await storeSnapshot(w.store)).toEqual(before);
  });
});
