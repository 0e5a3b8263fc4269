// Triggers take their flow from the process's memory (Store.getFlowToRun maybeStale) and the creating
// transaction checks the flow row's version (contract §5: the store is the truth, memory a cache). Here a
// second service on the same database (another process, as two api processes on PostgreSQL are) writes
// the flow behind the first one's cache: every answer of the first must be the one a fresh read gives.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { ok, op, type Reply } from '../helpers/api.js';
import { flowJson, importFlow, saveBodyOf, trigger } from '../helpers/flows.js';
import { makeWorld, type Who, type World } from '../helpers/world.js';

const MIN = 60_000;
let w: World;
/** The other process: its own store (connection, caches) and app over w's database file. */
let other: World;
let otherStore: Store;
let otherApp: FastifyInstance;

beforeEach(async () => {
  w = await makeWorld();
  otherStore = await createSqliteStore({ filename: path.join(w.config.dataDir, 'batchflow.db') });
  otherApp = await buildApp({ store: otherStore, config: w.config, clock: w.clock });
  other = { ...w, store: otherStore, app: otherApp, deps: { ...w.deps, store: otherStore } };
});
afterEach(async () => {
  await otherApp.close();
  await otherStore.close();
  await w.close();
});

const triggerAs = (world: World, who: Who, flowId: number, triggerTime: number): Promise<Reply> =>
  op(world, who, 'POST', 'flows', 'trigger', { body: { flowId, triggerTime } });
const save = async (body: Record<string, unknown>) => ok(await op(other, 'admin', 'POST', 'flows', 'save', { body }));
const answer = (r: Reply) => ({ status: r.status, code: r.env.code, msg: r.env.msg });

describe('a trigger built from the cached flow', () => {
  it('runs the version another process saved since, not the cached one', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
    const t0 = w.clock.now() + 10 * MIN;
    expect((await w.store.listTaskInstances(await trigger(w, flowId, t0))).map((t) => t.taskName)).toEqual(['a', 'b']);
    const body = await saveBodyOf(other, flowId);
    await save({ ...body, tasks: [...(body.tasks as object[]), { taskName: 'c', type: 'SHELL', cmd: 'exit 0', x: 0, y: 0 }] });
    const id = await trigger(w, flowId, t0 + MIN);
    expect((await w.store.listTaskInstances(id)).map((t) => t.taskName)).toEqual(['a', 'b', 'c']);
    expect((await w.store.getFlowInstance('o-default', id))!.version.number).toBe(2);
    // And the cache holds the new version now: the next trigger is built from it at once.
    expect((await w.store.getFlowToRun('o-default', flowId, { maybeStale: true }))!.tasks.map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('owners changed by another process: refused, and accepted, exactly as a fresh read decides', async () => {
    const flowId = await importFlow(w, flowJson({ owners: 'bob' }));
    const t0 = w.clock.now() + 10 * MIN;
    await trigger(w, flowId, t0, 'bob'); // cached: bob owns it
    await save({ ...(await saveBodyOf(other, flowId)), owners: '' });
    const refused = await triggerAs(w, 'bob', flowId, t0 + MIN);
    expect(refused.env.code).not.toBe(0);
    expect(answer(refused)).toEqual(answer(await triggerAs(other, 'bob', flowId, t0 + MIN)));
    // Now cached without bob; given back to him behind the cache, his trigger goes through.
    await save({ ...(await saveBodyOf(other, flowId)), owners: 'bob' });
    expect(ok<{ flowInstanceId: string }>(await triggerAs(w, 'bob', flowId, t0 + 2 * MIN)).flowInstanceId).toMatch(/^\d+-/);
    expect((await w.store.searchFlowInstances({ orgId: 'o-default', sort: [], offset: 0, limit: 10 })).total).toBe(2);
  });

  it("another process's edit lock refuses it (62106) though the cached flow had none", async () => {
    const flowId = await importFlow(w, flowJson({ owners: 'bob' }));
    const t0 = w.clock.now() + 10 * MIN;
    await trigger(w, flowId, t0, 'bob');
    ok(await op(other, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } })); // the lock: no new version
    const refused = await triggerAs(w, 'bob', flowId, t0 + MIN);
    expect(refused.env.code).toBe(62106);
    expect(answer(refused)).toEqual(answer(await triggerAs(other, 'bob', flowId, t0 + MIN)));
  });

  it('a flow another process deleted answers as not found, and nothing is written', async () => {
    const flowId = await importFlow(w, flowJson());
    const t0 = w.clock.now() + 10 * MIN;
    const first = await trigger(w, flowId, t0);
    ok(await op(other, 'admin', 'GET', 'flows', 'delete', { query: { flowId } }));
    const gone = await triggerAs(w, 'admin', flowId, t0 + MIN);
    expect(gone.env.code).not.toBe(0);
    expect(answer(gone)).toEqual(answer(await triggerAs(other, 'admin', flowId, t0 + MIN)));
    expect(await w.store.getFlowInstance('o-default', first)).toBeNull();
    expect((await w.store.searchFlowInstances({ orgId: 'o-default', sort: [], offset: 0, limit: 10 })).total).toBe(0);
  });
});
