// List Flow Instances reads a page in a constant number of store calls: a page of 50 instances costs
// exactly what a page of 1 does (no read per instance on the page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { call, V21 } from '../helpers/api.js';
import { flowJson, importFlow, trigger } from '../helpers/flows.js';
import { spyStore, type SpyStore } from '../helpers/spyStore.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
let spy: SpyStore;
let app: FastifyInstance;
const MIN = 60_000;

beforeAll(async () => {
  w = await makeWorld();
  const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b', 'c'], edges: [['a', 'b'], ['b', 'c']] }));
  for (let i = 0; i < 50; i++) await trigger(w, flowId, w.clock.now() + i * MIN);
  spy = spyStore(w.store);
  app = await buildApp({ store: spy.store, config: w.config, clock: w.clock });
});
afterAll(async () => {
  await app.close();
  await w.close();
});

async function listPage(pageSize: number): Promise<{ calls: Record<string, number>; insts: Array<{ instanceId: string; graph: string }> }> {
  spy.reset();
  const u = w.users.admin;
  const body = { type: 0, owner: '', status: '', fromTriggerTime: 0, toTriggerTime: w.clock.now() + 100 * MIN, pagination: { pageNo: 1, pageSize } };
  const r = await call(app, 'POST', `${V21}/flowInstances`, { query: { action: 'search', userId: u.id, orgId: u.orgId }, body });
  expect(r.env.code, r.env.msg).toBe(0);
  return { calls: Object.fromEntries(spy.calls), insts: (r.env.data as { flowInsts: Array<{ instanceId: string; graph: string }> }).flowInsts };
}

describe('List Flow Instances', () => {
  it('makes the same store calls for a page of 50 instances as for a page of 1', async () => {
    const one = await listPage(1);
    const fifty = await listPage(50);
    expect(one.insts).toHaveLength(1);
    expect(fifty.insts).toHaveLength(50);
    expect(fifty.calls).toEqual(one.calls);
    expect(fifty.calls).toMatchObject({ searchFlowInstances: 1, listTaskInstancesOf: 1 });
    expect(fifty.calls).not.toHaveProperty('listTaskInstances');
    // Every instance still shows its own task instances, in node order.
    for (const i of fifty.insts) {
      const tasks = JSON.parse(i.graph).tasks as Array<{ taskName: string; taskId: string; taskInstId: string; status: string }>;
      const suffix = i.instanceId.split('-')[1];
      expect(tasks.map((t) => [t.taskName, t.taskInstId, t.status])).toEqual(tasks.map((t) => [t.taskName, `${t.taskId}-${suffix}`, 'INIT']));
      expect(tasks.map((t) => t.taskName)).toEqual(['a', 'b', 'c']);
    }
  });
});
