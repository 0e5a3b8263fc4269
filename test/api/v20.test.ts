// The V2.0 (Dataflow Service) adapter: the same operations under /dataflow-batch-service/v2.0 with its
// envelope ({status, msg:"Success"}), 0-based pages, `searchValue`, its error texts, its extra fields,
// and no Get Task Instance or Trigger Flow From Task.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, fails, ok, op, type CallOptions, type Reply } from '../helpers/api.js';
import { flowJson, importFlow, saveBodyOf, taskIds, trigger, periodicFlowJson, withReference } from '../helpers/flows.js';
import { makeWorld, type World, type Who } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const V20 = '/dataflow-batch-service/v2.0';

const withRaw = (r: Reply) => ({ ...r, raw: r.env as unknown as Record<string, unknown> });

async function op20(who: Who, method: 'GET' | 'POST', resource: string, action: string, opts: CallOptions = {}): Promise<Reply & { raw: Record<string, unknown> }> {
  const u = w.users[who];
  return withRaw(await call(w.app, method, `${V20}/${resource}`, { ...opts, query: { action, userId: u.id, orgId: u.orgId, ...(opts.query ?? {}) } }));
}

function ok20<T = Record<string, unknown>>(r: Reply & { raw: Record<string, unknown> }): T {
  expect({ status: r.status, s: r.raw.status, msg: r.raw.msg }).toEqual({ status: 200, s: 0, msg: 'Success' });
  expect(r.raw).not.toHaveProperty('code');
  expect(typeof r.raw.requestId).toBe('string');
  return r.raw.data as T;
}

function fails20(r: Reply & { raw: Record<string, unknown> }, code: number, msg: RegExp | string, http = 200): void {
  expect(r.status, JSON.stringify(r.raw)).toBe(http);
  expect(r.raw.status, JSON.stringify(r.raw)).toBe(code);
  expect(r.raw.data).toBeNull();
  expect(r.raw).not.toHaveProperty('code');
  if (typeof msg === 'string') expect(r.raw.msg).toContain(msg);
  else expect(r.raw.msg).toMatch(msg);
}

describe('V2.0 envelope and routing', () => {
  it('answers {status:0, msg:"Success", requestId, data} and void operations with data ""', async () => {
    const flowId = await importFlow(w);
    expect(ok20(await op20('admin', 'GET', 'flows', 'get', { query: { flowId } }))).toMatchObject({ flowId });
    expect(ok20(await op20('admin', 'POST', 'flows', 'disable', { body: { flowId } }))).toBe('');
    expect(typeof ok20(withRaw(await call(w.app, 'GET', `${V20}/time`, { query: { action: 'getCurrentTime' } })))).toBe('number');
  });

  it('has no Get Task Instance and no Trigger Flow From Task: unknown action, 62102', async () => {
    const flowId = await importFlow(w);
    const inst = await trigger(w, flowId);
    const { a } = await taskIds(w, flowId);
    fails20(await op20('admin', 'GET', 'taskInstances', 'get', { query: { taskInstId: `${a}-${inst.split('-')[1]}` } }), 62102, 'Unknown action "get" for GET /taskInstances');
    fails20(await op20('admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: a, triggerTime: w.clock.now() } }), 62102, 'Unknown action "triggerFromTask"');
  });

  it('answers errors in its envelope: 62101 for an unknown user, 404 for an unknown path', async () => {
    fails20(withRaw(await call(w.app, 'GET', `${V20}/flows`, { query: { action: 'get', flowId: 1, userId: 'nobody', orgId: 'o-default' } })), 62101, /^userId does not exist, or it does not match to orgId/);
    fails20(withRaw(await call(w.app, 'GET', `${V20}/nowhere`, { query: { action: 'x' } })), 62102, 'No such path', 404);
  });
});

describe('V2.0 operations', () => {
  it('runs the same workflow operations: import, trigger, updateAndTrigger, get instance, log, cancel', async () => {
    const dirId = await w.rootDir();
    const { flowId } = ok20<{ flowId: number }>(await op20('admin', 'POST', 'flows', 'import', { body: { flowName: 'v20', desc: '', dirId, flowJson: flowJson({ alertTo: 'ops@example.com', appId: 'app-1' }) } }));
    const { flowInstanceId } = ok20<{ flowInstanceId: string }>(await op20('admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: w.clock.now() + 3_600_000 } }));
    const u = ok20<{ flowInstanceId: string }>(await op20('admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: w.clock.now() + 7_200_000, parameters: [{ key: 'k', value: 'v' }] } }));
    const inst = ok20<Record<string, unknown>>(await op20('vic', 'GET', 'flowInstances', 'get', { query: { flowInstId: u.flowInstanceId } }));
    expect(inst).toMatchObject({ instanceId: u.flowInstanceId, statusDesc: 'WAIT' });
    expect(JSON.parse(inst.graph as string)).toMatchObject({ alertTo: 'ops@example.com', appId: 'app-1' });
    expect(ok20(await op20('admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: flowInstanceId } }))).toBe('');
    const f = ok20<Record<string, unknown>>(await op20('admin', 'GET', 'flows', 'get', { query: { flowId } }));
    expect(f).toMatchObject({ alertTo: 'ops@example.com', appId: 'app-1' });
    const e = ok20<{ alertTo: string; appId: string; tasks: Array<Record<string, unknown>> }>(await op20('admin', 'GET', 'flows', 'export', { query: { flowId } }));
    expect(e).toMatchObject({ alertTo: 'ops@example.com', appId: 'app-1' });
    expect(e.tasks[0]).toHaveProperty('waitCode', '');
    // V2.1 keeps its own field list.
    expect(ok(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } }))).not.toHaveProperty('alertTo');
  });

  it('takes searchValue for Get My Flow', async () => {
    const a = await importFlow(w, flowJson(), 'admin', { flowName: 'alpha' });
    await importFlow(w, flowJson(), 'admin', { flowName: 'beta' });
    const mine = ok20<Array<{ flowId: string }>>(await op20('admin', 'GET', 'flows', 'getMyFlow', { query: { searchValue: 'alp' } }));
    expect(mine.map((f) => f.flowId)).toEqual([String(a)]);
  });

  it('pages from 0 in Search Flow and List Flow Instances', async () => {
    const ids: number[] = [];
    for (const name of ['f1', 'f2', 'f3']) {
      w.clock.advance(1000);
      ids.push(await importFlow(w, flowJson(), 'admin', { flowName: name }));
    }
    const sorted = { pageSize: 2, sorters: [{ field: 'createTime', order: 'ASC' }] };
    const page = async (pageNo: number) => ok20<Array<{ flowName: string }>>(await op20('admin', 'POST', 'flows', 'search', { body: { pagination: { ...sorted, pageNo } } })).map((f) => f.flowName);
    expect(await page(0)).toEqual(['f1', 'f2']);
    expect(await page(1)).toEqual(['f3']);
    fails20(await op20('admin', 'POST', 'flows', 'search', { body: { pagination: { ...sorted, pageNo: -1 } } }), 62102, 'pagination.pageNo must be 0 or more');
    const t0 = w.clock.now();
    const insts = [await trigger(w, ids[0], t0 + 60_000), await trigger(w, ids[1], t0 + 120_000)];
    const body = (pageNo: number) => ({ type: 0, expression: '', owner: '', status: '5', fromTriggerTime: t0, toTriggerTime: t0 + 3_600_000, pagination: { pageNo, pageSize: 1, sorters: [{ field: 'triggerTime' }] } });
    const list = async (pageNo: number) => ok20<{ flowInsts: Array<{ instanceId: string }>; count: number }>(await op20('admin', 'POST', 'flowInstances', 'search', { body: body(pageNo) }));
    expect(await list(0)).toMatchObject({ flowInsts: [{ instanceId: insts[0] }], count: 2 });
    expect(await list(1)).toMatchObject({ flowInsts: [{ instanceId: insts[1] }], count: 2 });
  });

  it('words its errors its own way: sorters, referenced workflow, Save Flow graph', async () => {
    const flowId = await importFlow(w, periodicFlowJson());
    fails20(await op20('admin', 'POST', 'flows', 'search', { body: { pagination: { pageNo: 0, pageSize: 5, sorters: [{ field: 'nope' }] } } }), 62102, /^illegal sorted by field: pagination\.sorters\[0\]/);
    fails(await op(w, 'admin', 'POST', 'flows', 'search', { body: { pagination: { pageNo: 1, pageSize: 5, sorters: [{ field: 'nope' }] } } }), 62102, /^The sorters field parameter is invalid/);
    const user = await importFlow(w);
    ok20(await op20('admin', 'POST', 'flows', 'save', { body: withReference(await saveBodyOf(w, user), flowId, 'x') }));
    fails20(await op20('admin', 'GET', 'flows', 'delete', { query: { flowId } }), 62104, /^This workflow is relied on by other workflows\. You cannot delete this workflow\./);
    const body = await saveBodyOf(w, flowId);
    const bad = { ...body, tasks: [{ taskId: 999999, taskName: 'zz', nodeId: 't_999999', x: 0, y: 0 }] };
    fails20(await op20('admin', 'POST', 'flows', 'save', { body: bad }), 62102, /^graph not found: tasks\[0\]\.taskId 999999/);
    fails(await op(w, 'admin', 'POST', 'flows', 'save', { body: bad }), 62102, /^Incorrect parameter: tasks\[0\]\.taskId 999999/);
  });
});
