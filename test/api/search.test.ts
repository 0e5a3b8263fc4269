// Get My Flow, Search Flow and List Flow Instances: what each returns for whom, fuzzy expressions, every
// filter of List Flow Instances, pagination from 1, whitelisted sorters (camel or snake case), total count.
import { driver } from '../helpers/drive.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, trigger } from '../helpers/flows.js';
import { makeWorld, type World, type Who } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const HOUR = 3_600_000;

async function importNamed(name: string, json: Record<string, unknown> = {}, who: Who = 'admin'): Promise<number> {
  return importFlow(w, flowJson(json), who, { flowName: name });
}

describe('Get My Flow', () => {
  it("lists the caller's flows (creator, owner or visitor) with editable, flowId as a string, fuzzy on id and name", async () => {
    const mine = await importNamed('Nightly ETL');
    const shared = await importNamed('shared report', { owners: 'bob' });
    const visited = await importNamed('visited', { visitors: 'bob' });
    await importNamed('not bobs');
    const my = ok<Array<Record<string, unknown>>>(await op(w, 'bob', 'GET', 'flows', 'getMyFlow'));
    expect(my).toEqual([
      { flowId: String(shared), editable: true, flowName: 'shared report', cycle: '' },
      { flowId: String(visited), editable: false, flowName: 'visited', cycle: '' },
    ]);
    const etl = ok<Array<{ flowId: string }>>(await op(w, 'admin', 'GET', 'flows', 'getMyFlow', { query: { expression: 'etl' } }));
    expect(etl.map((f) => f.flowId)).toEqual([String(mine)]);
    const byId = ok<Array<{ flowId: string }>>(await op(w, 'admin', 'GET', 'flows', 'getMyFlow', { query: { expression: String(visited) } }));
    expect(byId.map((f) => f.flowId)).toContain(String(visited));
    expect(ok(await op(w, 'eve', 'GET', 'flows', 'getMyFlow'))).toEqual([]);
  });
});

describe('Search Flow', () => {
  it("pages through the org's flows (others' too), sorted, with {flowId, flowName} and no count", async () => {
    const ids: number[] = [];
    for (const [i, name] of ['alpha', 'beta', 'gamma', 'delta'].entries()) {
      w.clock.advance(1000);
      ids.push(await importNamed(name, {}, i === 1 ? 'bob' : 'admin'));
    }
    const page = async (body: Record<string, unknown>) => (await op(w, 'vic', 'POST', 'flows', 'search', { body })).env.data as Array<{ flowId: number; flowName: string }>;
    const asc = { pageNo: 1, pageSize: 2, sorters: [{ field: 'createTime', order: 'ASC' }] };
    expect(await page({ pagination: asc })).toEqual([
      { flowId: ids[0], flowName: 'alpha' },
      { flowId: ids[1], flowName: 'beta' },
    ]);
    expect((await page({ pagination: { ...asc, pageNo: 2 } })).map((f) => f.flowName)).toEqual(['gamma', 'delta']);
    expect((await page({ pagination: { ...asc, pageNo: 3 } })).map((f) => f.flowName)).toEqual([]);
    expect((await page({ pagination: { pageNo: 1, pageSize: 10, sorters: [{ field: 'create_time', order: 'desc' }] } })).map((f) => f.flowName)).toEqual(['delta', 'gamma', 'beta', 'alpha']);
    expect((await page({ expression: 'ET' })).map((f) => f.flowName).sort()).toEqual(['beta']);
    expect((await page({})).length).toBe(4);
    expect(ok(await op(w, 'eve', 'POST', 'flows', 'search', { body: {} }))).toEqual([]);
  });

  it('refuses bad pagination with 62102 naming the field', async () => {
    const bad = async (pagination: unknown, msg: RegExp | string) => fails(await op(w, 'admin', 'POST', 'flows', 'search', { body: { pagination } }), 62102, msg);
    await bad({ pageNo: 0, pageSize: 10 }, 'pagination.pageNo must be 1 or more');
    await bad({ pageNo: 1, pageSize: 0 }, 'pagination.pageSize must be between 1 and 1000, got 0');
    await bad({ pageNo: 1, pageSize: 1001 }, 'pagination.pageSize must be between 1 and 1000, got 1001');
    await bad({ pageNo: 'x', pageSize: 10 }, 'pagination.pageNo must be');
    await bad({ pageNo: 1, pageSize: 10, sorters: [{ field: 'triggerTime' }] }, /^The sorters field parameter is invalid: pagination\.sorters\[0\] has field "triggerTime"; allowed fields: createTime, updateTime, startTime$/);
    await bad({ pageNo: 1, pageSize: 10, sorters: [{ field: 'createTime', order: 'UP' }] }, 'pagination.sorters[0] has order "UP"');
    await bad({ pageNo: 1, pageSize: 10, sorters: 'createTime' }, 'The sorters field parameter is invalid');
    await bad([1], 'Invalid parameter: pagination must be');
  });
});

describe('List Flow Instances', () => {
  async function world3() {
    const manual = await importNamed('orders manual');
    const periodic = await importNamed('orders nightly', { type: 1, cron: '0 0 2 * * ? *', owners: 'bob' });
    const t0 = w.clock.now();
    const a = await trigger(w, manual, t0 - 3 * HOUR);
    const b = await trigger(w, manual, t0 + 2 * HOUR);
    const c = await trigger(w, periodic, t0 - HOUR, 'bob');
    w.clock.advance(1000);
    const d = await trigger(w, periodic, t0 + HOUR);
    await driver(w.store).startInstance(manual, w.clock.now()); // a: RUNNING
    ok(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: b } })); // b: CANCEL
    return { manual, periodic, t0, a, b, c, d };
  }
  const list = async (body: Record<string, unknown>, who: Who = 'vic') => {
    const data = ok<{ flowInsts: Array<Record<string, unknown>>; count: number }>(await op(w, who, 'POST', 'flowInstances', 'search', { body }));
    return { ids: data.flowInsts.map((i) => i.instanceId), count: data.count, insts: data.flowInsts };
  };
  const all = (t0: number, over: Record<string, unknown> = {}) => ({ type: 0, owner: '', expression: '', status: '', fromTriggerTime: t0 - 10 * HOUR, toTriggerTime: t0 + 10 * HOUR, ...over });

  it('filters by type, trigger-time window (inclusive), status list, owner and expression', async () => {
    const { t0, a, b, c, d } = await world3();
    expect((await list(all(t0))).ids.sort()).toEqual([a, b].sort());
    expect((await list(all(t0, { type: 1 }))).ids.sort()).toEqual([c, d].sort());
    expect((await list(all(t0, { type: 1, fromTriggerTime: t0 - HOUR, toTriggerTime: t0 - HOUR }))).ids).toEqual([c]);
    expect((await list(all(t0, { status: '2,8' }))).ids.sort()).toEqual([a, b].sort());
    expect((await list(all(t0, { status: 2 }))).ids).toEqual([a]);
    // Every code of ref §4 is accepted (the samples send the whole list); one no instance can have matches nothing.
    expect((await list(all(t0, { status: '-1,0,1,2,3,4,5,6,7,8,9,10' }))).ids.sort()).toEqual([a, b].sort());
    expect(await list(all(t0, { status: '3' }))).toMatchObject({ ids: [], count: 0 });
    expect((await list(all(t0, { status: '3,8' }))).ids).toEqual([b]);
    expect((await list(all(t0, { type: 1, owner: 'bob' }))).ids).toEqual([c]);
    expect((await list(all(t0, { type: 1, owner: 'admin' }))).ids).toEqual([d]);
    expect((await list(all(t0, { expression: 'NIGHTLY' }))).ids).toEqual([]);
    expect((await list(all(t0, { type: 1, expression: 'NIGHTLY' }))).ids.sort()).toEqual([c, d].sort());
    expect((await list(all(t0, { expression: a.slice(-8) }))).ids).toEqual([a]);
    expect((await list(all(t0), 'eve')).ids).toEqual([]);
    // The Java sample's spelling of the window.
    const { fromTriggerTime: _f, toTriggerTime: _t, ...rest } = all(t0);
    expect((await list({ ...rest, startTriggerTime: t0 - 3 * HOUR, endTriggerTime: t0 - 3 * HOUR })).ids).toEqual([a]);
  });

  it('returns FlowInstance structs, pages from 1, sorts by whitelisted fields, and counts every match', async () => {
    const { t0, a, b } = await world3();
    const desc = await list(all(t0, { pagination: { pageNo: 1, pageSize: 1, sorters: [{ field: 'trigger_time', order: 'DESC' }] } }));
    expect(desc).toMatchObject({ ids: [b], count: 2 });
    expect(desc.insts[0]).toMatchObject({ instanceId: b, status: 8, statusDesc: 'CANCEL', isCancelled: true, flowName: 'orders manual', owner: 'admin', hasEditPri: false });
    expect(typeof desc.insts[0].graph).toBe('string');
    expect(await list(all(t0, { pagination: { pageNo: 2, pageSize: 1, sorters: [{ field: 'triggerTime', order: 'DESC' }] } }))).toMatchObject({ ids: [a], count: 2 });
    expect(await list(all(t0, { pagination: { pageNo: 3, pageSize: 1 } }))).toMatchObject({ ids: [], count: 2 });
    expect((await list(all(t0, { pagination: { pageNo: 1, pageSize: 5, sorters: [{ field: 'startTime', order: 'ASC' }] } }))).ids).toEqual([a, b]);
    fails(await op(w, 'admin', 'POST', 'flowInstances', 'search', { body: all(t0, { pagination: { pageNo: 1, pageSize: 5, sorters: [{ field: 'flowName' }] } }) }), 62102, /^The sorters field parameter is invalid: .*allowed fields: createTime, updateTime, startTime, triggerTime, endTime$/);
  });

  it('refuses a bad filter with 62102 naming it', async () => {
    const t0 = w.clock.now();
    const bad = async (over: Record<string, unknown>, msg: RegExp | string, drop?: string) => {
      const body: Record<string, unknown> = all(t0, over);
      if (drop) delete body[drop];
      fails(await op(w, 'admin', 'POST', 'flowInstances', 'search', { body }), 62102, msg);
    };
    await bad({ type: 3 }, 'type must be one of 0, 1, 2, got 3');
    await bad({}, 'Missing parameter: type', 'type');
    await bad({}, 'Missing parameter: owner', 'owner');
    await bad({}, 'Missing parameter: status', 'status');
    await bad({}, 'Missing parameter: fromTriggerTime', 'fromTriggerTime');
    await bad({}, 'Missing parameter: toTriggerTime', 'toTriggerTime');
    await bad({ status: '1,x' }, 'status "x" is not a status code (-1, 0 to 10; flow instances have -1, 1, 2, 4, 5, 8)');
    await bad({ status: '11' }, 'status "11" is not a status code');
    await bad({ status: -2 }, 'status "-2" is not a status code');
    await bad({ fromTriggerTime: 'yesterday' }, 'fromTriggerTime must be');
    await bad({ fromTriggerTime: t0 + 1, toTriggerTime: t0 }, 'fromTriggerTime');
  });
});

describe('the search expression', () => {
  // A 1 MB expression reached SQLite as a LIKE pattern past its 50,000-byte limit ("LIKE or GLOB pattern
  // too complex"): 62109. Every search bounds it at 1000 characters, naming the field and the limit.
  it('is refused past 1000 characters by Get My Flow, Search Flow and List Flow Instances (both versions), accepted at 1000', async () => {
    // Names stop at 256 characters: the longest name a search can match.
    await importNamed('x'.repeat(256));
    const t0 = w.clock.now();
    const calls = (expression: string) => [
      op(w, 'admin', 'GET', 'flows', 'getMyFlow', { query: { expression } }),
      op(w, 'admin', 'POST', 'flows', 'search', { body: { expression } }),
      op(w, 'admin', 'POST', 'flowInstances', 'search', { body: { type: 0, owner: '', status: '', fromTriggerTime: 0, toTriggerTime: t0, expression } }),
      call(w.app, 'POST', '/dataflow-batch-service/v2.0/flows', { query: { action: 'search', userId: 'u-admin', orgId: 'o-default' }, body: { searchValue: expression } }),
    ];
    for (const expression of ['%'.repeat(1001), 'a'.repeat(1_000_000)]) {
      for (const r of await Promise.all(calls(expression))) {
        expect(r.status).toBe(200);
        const env = r.env as unknown as Record<string, unknown>;
        expect(env.code ?? env.status).toBe(62102);
        expect(env.msg).toBe(`Invalid parameter: expression is out of range: at most 1000 characters, got ${expression.length} characters`);
      }
    }
    // 1000 characters (after trimming) are accepted; they match nothing here.
    const [mine0, flows0, insts0, v200] = await Promise.all(calls(` ${'x'.repeat(1000)} `));
    expect(ok<unknown[]>(mine0)).toHaveLength(0);
    expect(ok<unknown[]>(flows0)).toHaveLength(0);
    expect(ok(insts0)).toEqual({ flowInsts: [], count: 0 });
    expect((v200.env as unknown as { status: number; data: unknown[] }).data).toHaveLength(0);
    const [mine, flows, insts, v20] = await Promise.all(calls('x'.repeat(256)));
    expect(ok<unknown[]>(mine)).toHaveLength(1);
    expect(ok<unknown[]>(flows)).toHaveLength(1);
    expect(ok(insts)).toEqual({ flowInsts: [], count: 0 });
    expect((v20.env as unknown as { status: number; data: unknown[] }).data).toHaveLength(1);
  });
});
