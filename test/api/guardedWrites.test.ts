// What a client sees when another write lands between a request's read and its write (contract §2-§4):
// Save writes only over the version it read, every write the edit lock guards checks it again in its
// transaction, and Delete's reference check and Save's referenced flows are read in theirs. The race is
// staged with racingStore: the competing request runs right before the use case's store write. These
// are regression tests: before, such writes went through (lost updates, orphaned task rows, writes under
// another user's lock, dangling references, an FK error for a trigger of a deleted flow).
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Store } from '../../src/store/store.js';
import { fails, ok, op, type Reply } from '../helpers/api.js';
import { flowJson, getFlowData, importFlow, saveBodyOf, taskIds, trigger, withReference } from '../helpers/flows.js';
import { barrier, once, racingStore } from '../helpers/racing.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
const apps: FastifyInstance[] = [];
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await w.close();
});

const ORG = 'o-default';
/** A periodic flow bob co-owns (so that he can take its edit lock), with two tasks a -> b. */
const shared = () => flowJson({ type: 1, cron: '0 0 2 * * ? *', owners: 'bob', tasks: ['a', 'b'], edges: [['a', 'b']] });
const HELD_BY_BOB = /^Workflow \d+ is locked for editing by bob until .*Z \(epoch ms \d+\)$/;

/** The same service over the world's store, whose methods first run `hooks` (the competing write). */
async function racing(hooks: Parameters<typeof racingStore>[1]): Promise<World> {
  const app = await buildApp({ store: racingStore(w.store, hooks), config: w.config, clock: w.clock });
  apps.push(app);
  return { ...w, app };
}

const bobTakesLock = (flowId: number) => async () => void ok(await op(w, 'bob', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));

/** Every tasks row of the org, read flow by flow (a task row is read through its flow_id). */
async function allTasks(store: Store = w.store) {
  return (await Promise.all((await store.listFlows(ORG)).map(async (f) => (await store.getFlow(ORG, f.id))!.tasks))).flat();
}

/** Each reference node of each flow names a flow that exists. */
async function expectNoDanglingReference(): Promise<void> {
  const flows = await w.store.listFlows(ORG);
  const ids = new Set(flows.map((f) => String(f.id)));
  for (const f of flows) for (const r of f.flowRefs) expect(ids.has(r.flowId), `flow ${f.id} references missing ${r.flowId}`).toBe(true);
}


describe('Save Flow under concurrency', () => {
  it('concurrent saves: one wins, the others are refused with 62102 and leave no task rows', async () => {
    const flowId = await importFlow(w, shared());
    const body = await saveBodyOf(w, flowId);
    const n = 8;
    const r = await racing({ updateFlow: barrier(n) }); // all eight have read the flow before any writes
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        op(r, 'admin', 'POST', 'flows', 'save', { body: { ...body, tasks: [...(body.tasks as object[]), { taskName: `new${i}`, type: 'SHELL', cmd: 'exit 0', x: 0, y: 0 }] } }),
      ),
    );
    const winners = replies.flatMap((x, i) => (x.env.code === 0 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const x of replies) if (x.env.code !== 0) fails(x, 62102, `workflow ${flowId} was changed by admin since it was read; reload it and save again`);
    const f = (await w.store.getFlow(ORG, flowId))!;
    expect(f.tasks.map((t) => t.name)).toEqual(['a', 'b', `new${winners[0]}`]);
    expect(await allTasks()).toEqual(f.tasks); // no task row of a refused save anywhere
    expect(await getFlowData(w, flowId)).toMatchObject({ version: 2 });
  });

  it("a Save racing another user's Load For Edit is refused with 62106, and his lock and the flow stay as they were", async () => {
    const flowId = await importFlow(w, shared());
    let before: unknown;
    const r = await racing({
      updateFlow: once(async () => {
        await bobTakesLock(flowId)();
        before = await storeSnapshot(w.store);
      }),
    });
    fails(await op(r, 'admin', 'POST', 'flows', 'save', { body: { ...(await saveBodyOf(w, flowId)), desc: 'lost?' } }), 62106, HELD_BY_BOB);
    expect(await storeSnapshot(w.store)).toEqual(before);
    expect(await getFlowData(w, flowId)).toMatchObject({ locked: true, desc: '', version: 1 });
  });

  it('a Save racing a Disable by another owner is refused with 62102 naming him; the disable stays', async () => {
    const flowId = await importFlow(w, shared());
    const r = await racing({ updateFlow: once(async () => void ok(await op(w, 'bob', 'POST', 'flows', 'disable', { body: { flowId } }))) });
    fails(await op(r, 'admin', 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }), 62102, `workflow ${flowId} was changed by bob since it was read; reload it and save again`);
    expect(await getFlowData(w, flowId)).toMatchObject({ active: 0, updateUser: 'bob', version: 2 });
  });

  it('a Save by the lock holder who renewed his lock after the read goes through and releases it', async () => {
    const flowId = await importFlow(w, shared());
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    const r = await racing({ updateFlow: once(async () => void ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }))) });
    ok(await op(r, 'admin', 'POST', 'flows', 'save', { body: { ...(await saveBodyOf(w, flowId)), desc: 'kept' } }));
    expect(await getFlowData(w, flowId, 'bob')).toMatchObject({ locked: false, desc: 'kept', version: 2 });
  });

  it('a Save of a flow deleted after the read answers 62102 not found and writes no task', async () => {
    const flowId = await importFlow(w, shared());
    const body = await saveBodyOf(w, flowId);
    const r = await racing({ updateFlow: once(async () => void ok(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId } }))) });
    const added = { ...body, tasks: [...(body.tasks as object[]), { taskName: 'late', type: 'SHELL', cmd: 'exit 0', x: 0, y: 0 }] };
    fails(await op(r, 'admin', 'POST', 'flows', 'save', { body: added }), 62102, `Workflow ${flowId} not found`);
    expect(await allTasks()).toEqual([]);
  });

  it('Get Flow shows the version: +1 on Save, Enable and Disable, unchanged by Load For Edit', async () => {
    const flowId = await importFlow(w, shared());
    expect(await getFlowData(w, flowId)).toMatchObject({ version: 1 });
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }));
    ok(await op(w, 'admin', 'POST', 'flows', 'disable', { body: { flowId } }));
    ok(await op(w, 'admin', 'GET', 'flows', 'loadForEdit', { query: { flowId } }));
    expect(await getFlowData(w, flowId)).toMatchObject({ version: 3 });
  });
});

describe('the edit lock, checked in the writing transaction', () => {
  type Case = [string, keyof Store, (r: World, flowId: number, inst: string) => Promise<Reply>];
  const now = () => w.clock.now();
  const cases: Case[] = [
    ['Enable', 'setFlowActive', (r, flowId) => op(r, 'admin', 'POST', 'flows', 'enable', { body: { flowId } })],
    ['Disable', 'setFlowActive', (r, flowId) => op(r, 'admin', 'POST', 'flows', 'disable', { body: { flowId } })],
    ['Delete', 'deleteFlow', (r, flowId) => op(r, 'admin', 'GET', 'flows', 'delete', { query: { flowId } })],
    ['Trigger', 'createFlowInstance', (r, flowId) => op(r, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: now() } })],
    ['Update And Trigger', 'createFlowInstance', (r, flowId) => op(r, 'admin', 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: now(), parameters: [] } })],
    [
      'Trigger From Task',
      'createFlowInstance',
      async (r, flowId) => op(r, 'admin', 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: (await taskIds(w, flowId)).a, triggerTime: now() } }),
    ],
    ['Cancel', 'cancelInstance', (r, _flowId, inst) => op(r, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: inst } })],
  ];

  it.each(cases)("%s after another user took the lock (between its read and its write) answers 62106 and changes nothing", async (_name, method, call) => {
    const flowId = await importFlow(w, shared());
    const inst = await trigger(w, flowId, now() + 3_600_000);
    let before: unknown;
    const r = await racing({
      [method]: once(async () => {
        await bobTakesLock(flowId)();
        before = await storeSnapshot(w.store);
      }),
    });
    fails(await call(r, flowId, inst), 62106, HELD_BY_BOB);
    expect(before).toBeDefined();
    expect(await storeSnapshot(w.store)).toEqual(before);
  });

  it.each(cases.filter(([, method]) => method === 'createFlowInstance'))(
    '%s of a flow deleted after the read answers 62102 Workflow <id> not found (was an FK error, 62109)',
    async (_name, method, call) => {
      const flowId = await importFlow(w, shared());
      // The deletion lands after the service read the flow (Trigger From Task's task ids are read before the request).
      const r = await racing({ [method]: once(async () => w.store.deleteFlow(ORG, flowId, 'u-admin', now())) });
      fails(await call(r, flowId, ''), 62102, `Workflow ${flowId} not found`);
    },
  );
});

describe('Delete Flow racing a Save that adds a reference to it', () => {
  it('the delete committing second is refused with 62104 naming the new referrer (its check ran before the transaction)', async () => {
    const target = await importFlow(w, shared());
    const user = await importFlow(w, shared());
    const withRef = withReference(await saveBodyOf(w, user), target);
    const r = await racing({ deleteFlow: once(async () => void ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: withRef }))) });
    fails(await op(r, 'admin', 'GET', 'flows', 'delete', { query: { flowId: target } }), 62104, new RegExp(`workflow ${target} is referenced by ${user} \\(`));
    expect(await w.store.getFlow(ORG, target)).not.toBeNull();
    await expectNoDanglingReference();
  });

  it('the save committing second is refused with 62102 naming the missing workflow, and writes nothing', async () => {
    const target = await importFlow(w, shared());
    const user = await importFlow(w, shared());
    const withRef = withReference(await saveBodyOf(w, user), target);
    const before = await w.store.getFlow(ORG, user);
    const r = await racing({ updateFlow: once(async () => void ok(await op(w, 'admin', 'GET', 'flows', 'delete', { query: { flowId: target } }))) });
    fails(await op(r, 'admin', 'POST', 'flows', 'save', { body: withRef }), 62102, `Incorrect parameter: flows[0].flowId: referenced workflow ${target} not found`);
    expect(await w.store.getFlow(ORG, user)).toEqual(before);
    await expectNoDanglingReference();
  });
});
