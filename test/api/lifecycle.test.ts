// Delete, Enable, Disable and Load Flow For Edit: who may call them, the edit lock (62106, expiry,
// release on save), and Delete's refusals (62104 referenced, 62102 while running) that write nothing.
import { driver } from '../helpers/drive.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, getFlowData, importFlow, periodicFlowJson, saveBodyOf, trigger, withReference } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World, type Who } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const MIN = 60_000;
const shared = () => flowJson({ type: 1, cron: '0 0 2 * * ? *', owners: 'bob', visitors: 'vic' });
const get = (flowId: number, who: Who = 'admin') => getFlowData(w, flowId, who);

describe('Delete Flow', () => {
  it('removes the flow with its instances: both read as not found afterwards', async () => {
    const flowId = await importFlow(w);
    const inst = await trigger(w, flowId, w.clock.now() + 3_600_000);
    expect(ok(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId } }))).toBe('');
    fails(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } }), 62102, `Workflow ${flowId} not found`);
    fails(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: inst } }), 62102, `Flow instance ${inst} not found`);
    expect(await w.store.listDirectories('o-default')).toHaveLength(1);
  });

  it('is for owners: a member or visitor gets 62103, a locked user 62105, another org 62102; nothing is deleted', async () => {
    const flowId = await importFlow(w, flowJson({ visitors: 'vic' }));
    const before = await storeSnapshot(w.store);
    fails(await op(w, 'bob', 'GET', 'flows', 'delete', { query: { flowId } }), 62103, 'bob is not an owner');
    fails(await op(w, 'vic', 'GET', 'flows', 'delete', { query: { flowId } }), 62103, 'vic is not an owner');
    fails(await op(w, 'lou', 'GET', 'flows', 'delete', { query: { flowId } }), 62105, 'Your account has been locked');
    fails(await op(w, 'eve', 'GET', 'flows', 'delete', { query: { flowId } }), 62102, `Workflow ${flowId} not found`);
    expect(await storeSnapshot(w.store)).toEqual(before);
  });

  it('answers 62104 naming the referencing workflow while another workflow references it', async () => {
    const target = await importFlow(w, periodicFlowJson());
    const user = await importFlow(w);
    const body = await saveBodyOf(w, user);
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: withReference(body, target) }));
    const before = await storeSnapshot(w.store);
    fails(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId: target } }), 62104, new RegExp(`^This workflow is relied on by other workflows and cannot be deleted\\. \\(workflow ${target} is referenced by ${user} `));
    expect(await storeSnapshot(w.store)).toEqual(before);
  });

  it('answers 62102 naming the running instance, and deletes nothing', async () => {
    const flowId = await importFlow(w);
    const inst = await trigger(w, flowId);
    expect(await driver(w.store).startInstance(flowId, w.clock.now())).toBe(inst);
    const before = await storeSnapshot(w.store);
    fails(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId } }), 62102, `its instance ${inst} is RUNNING`);
    expect(await storeSnapshot(w.store)).toEqual(before);
  });
});

describe('Enable and Disable Flow', () => {
  it('sets active and records who changed it; repeating either is harmless', async () => {
    const flowId = await importFlow(w, shared());
    for (const [action, active] of [['disable', 0], ['disable', 0], ['enable', 1], ['enable', 1], ['disable', 0]] as const) {
      w.clock.advance(1000);
      expect(ok(await op(w, 'bob', 'POST', 'flows', action, { body: { flowId: String(flowId) } }))).toBe('');
      expect(await get(flowId)).toMatchObject({ active, updateUser: 'bob', updateTimeMs: w.clock.now() });
    }
  });

  it('is for owners and active accounts: 62103 for a visitor, 62105 for a locked user, 62102 for an unknown flow', async () => {
    const flowId = await importFlow(w, shared());
    fails(await op(w, 'vic', 'POST', 'flows', 'enable', { body: { flowId } }), 62103, 'vic is not an owner');
    fails(await op(w, 'lou', 'POST', 'flows', 'disable', { body: { flowId } }), 62105, 'locked');
    fails(await op(w, 'admin', 'POST', 'flows', 'enable', { body: { flowId: 987654 } }), 62102, 'Workflow 987654 not found');
    fails(await op(w, 'admin', 'POST', 'flows', 'enable', { body: {} }), 62102, 'Missing parameter: flowId');
  });
});

describe('Load Flow For Edit and the edit lock', () => {
  it('answers the Flow struct with queue and takes the lock: the caller sees locked false, others true', async () => {
    const flowId = await importFlow(w, shared());
    const f = ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    expect(f).toMatchObject({ flowId, locked: false, hasEditPri: true, hasReadPri: true, isUserLocked: false, queue: '' });
    expect(await get(flowId, 'bob')).toMatchObject({ locked: true });
    expect(await get(flowId, 'vic')).toMatchObject({ locked: true, hasEditPri: false });
    expect(await get(flowId)).toMatchObject({ locked: false });
  });

  it("refuses another owner's writes with 62106 naming the holder and expiry; reads still work", async () => {
    const flowId = await importFlow(w, shared());
    const inst = await trigger(w, flowId, w.clock.now() + 3_600_000);
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    const before = await storeSnapshot(w.store);
    const held = /locked for editing by admin until .*\(epoch ms \d+\)/;
    const now = w.clock.now();
    fails(await op(w, 'bob', 'GET', 'flows', 'loadForEdit', { query: { flowId } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }), 62106, held);
    fails(await op(w, 'bob', 'GET', 'flows', 'delete', { query: { flowId } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flows', 'enable', { body: { flowId } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flows', 'disable', { body: { flowId } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: now } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: now, parameters: [] } }), 62106, held);
    fails(await op(w, 'bob', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: inst } }), 62106, held);
    expect(await storeSnapshot(w.store)).toEqual(before);
    ok(await op(w, 'bob', 'GET', 'flows', 'get', { query: { flowId } }));
    ok(await op(w, 'bob', 'GET', 'flows', 'export', { query: { flowId } }));
  });

  it('is released by the holder saving, and expires after the configured minutes', async () => {
    const flowId = await importFlow(w, shared());
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }));
    expect(await get(flowId, 'bob')).toMatchObject({ locked: false });
    ok(await op(w, 'bob', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    w.clock.advance(w.config.editLockMinutes * MIN - 1);
    fails(await op(w, 'admin', 'POST', 'flows', 'enable', { body: { flowId } }), 62106, 'locked for editing by bob');
    w.clock.advance(1);
    expect(await get(flowId)).toMatchObject({ locked: false });
    ok(await op(w, 'admin', 'POST', 'flows', 'enable', { body: { flowId } }));
  });

  it('renews the lock for the holder and is for owners only (62103), active accounts only (62105)', async () => {
    const flowId = await importFlow(w, shared());
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    w.clock.advance(20 * MIN);
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    w.clock.advance(20 * MIN);
    expect(await get(flowId, 'bob')).toMatchObject({ locked: true });
    fails(await op(w, 'vic', 'GET', 'flows', 'loadForEdit', { query: { flowId } }), 62103, 'vic is not an owner');
    fails(await op(w, 'lou', 'GET', 'flows', 'loadForEdit', { query: { flowId } }), 62105, 'locked');
    fails(await op(w, 'eve', 'GET', 'flows', 'loadForEdit', { query: { flowId } }), 62102, `Workflow ${flowId} not found`);
  });
});
