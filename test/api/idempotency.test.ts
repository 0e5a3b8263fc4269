// The Idempotency-Key header (contract §12) on both stores: 50 copies of one keyed trigger sent at once
// make exactly one instance and 50 identical answers (on PostgreSQL through two API instances sharing
// one database, as two processes would); a repeat gets the kept answer, another body with the key 62102
// naming it; business errors are kept, a key is per caller; import, rerun and updateAndTrigger honour it;
// an operation that is not idempotent ignores the header; a bad key is refused.
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { testConfig } from '../../src/config.js';
import { addUser, bootstrap } from '../../src/service/identity.js';
import type { Store } from '../../src/store/store.js';
import { fakeClock, type FakeClock } from '../helpers/clock.js';
import { flowJson } from '../helpers/flows.js';
import { dropSchemas, newSchema, pgStore, postgresAvailable } from '../helpers/postgres.js';
import { tempStore } from '../helpers/store.js';
import { V21 } from '../helpers/api.js';

afterAll(() => dropSchemas());

interface Env {
  apps: FastifyInstance[];
  store: Store;
  clock: FakeClock;
  close(): Promise<void>;
}

async function sqliteEnv(): Promise<Env> {
  const ts = await tempStore();
  const clock = fakeClock();
  await bootstrap(ts.store, clock);
  await addUser(ts.store, clock, { id: 'u-bob', name: 'bob', orgId: 'o-default' });
  const app = await buildApp({ store: ts.store, config: testConfig({ dataDir: ts.dir }), clock, secrets: null });
  return { apps: [app], store: ts.store, clock, close: async () => (await app.close(), await ts.close()) };
}

async function postgresEnv(): Promise<Env> {
  const schema = newSchema();
  const stores = [await pgStore({ schema }), await pgStore({ schema })];
  const clock = fakeClock();
  await bootstrap(stores[0], clock);
  await addUser(stores[0], clock, { id: 'u-bob', name: 'bob', orgId: 'o-default' });
  const apps = await Promise.all(stores.map((store) => buildApp({ store, config: testConfig({ dataDir: '/nonexistent' }), clock, secrets: null })));
  return {
    apps,
    store: stores[0],
    clock,
    close: async () => {
      for (const a of apps) await a.close();
      for (const s of stores) await s.close();
    },
  };
}

async function post(app: FastifyInstance, action: string, resource: string, body: unknown, key?: string, user = 'u-admin') {
  const res = await app.inject({
    method: 'POST',
    url: `${V21}/${resource}?action=${action}&userId=${user}&orgId=o-default`,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });
  return { status: res.statusCode, text: res.body, env: res.json(), replayed: res.headers['idempotent-replayed'] === 'true' };
}

async function importOne(e: Env, name: string, json = flowJson({ tasks: ['a'] })): Promise<number> {
  const dirId = (await e.store.getRootDirectory('o-default'))!.id;
  const r = await post(e.apps[0], 'import', 'flows', { flowName: name, desc: '', dirId, flowJson: json });
  expect(r.env.code).toBe(0);
  return r.env.data.flowId;
}

async function instancesOf(e: Env, flowId: number): Promise<number> {
  const r = await e.store.searchFlowInstances({ orgId: 'o-default', flowIds: [flowId], sort: [], offset: 0, limit: 100 });
  return r.total;
}

function suite(name: string, make: () => Promise<Env>) {
  describe(`Idempotency-Key: ${name}`, () => {
    it('50 copies of one keyed trigger at once: one instance, 50 identical answers', async () => {
      const e = await make();
      try {
        const flowId = await importOne(e, 'keyed');
        const body = { flowId, triggerTime: e.clock.now() + 3_600_000 };
        const replies = await Promise.all(Array.from({ length: 50 }, (_, k) => post(e.apps[k % e.apps.length], 'trigger', 'flows', body, 'trigger-once-1')));
        expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
        expect(new Set(replies.map((r) => r.text)).size).toBe(1);
        expect(replies[0].env.code).toBe(0);
        expect(replies.filter((r) => !r.replayed)).toHaveLength(1);
        expect(await instancesOf(e, flowId)).toBe(1);
        // A later repeat: the same answer again, nothing new.
        const again = await post(e.apps[0], 'trigger', 'flows', body, 'trigger-once-1');
        expect(again.text).toBe(replies[0].text);
        expect(again.replayed).toBe(true);
        // The same key with another body: 62102 naming the key, nothing created.
        const other = await post(e.apps[0], 'trigger', 'flows', { ...body, triggerTime: body.triggerTime + 120_000 }, 'trigger-once-1');
        expect(other.env.code).toBe(62102);
        expect(other.env.msg).toMatch(/Idempotency-Key "trigger-once-1" was already used for another request/);
        expect(await instancesOf(e, flowId)).toBe(1);
      } finally {
        await e.close();
      }
    });

    it('keeps a business error as the answer; keys are per caller; a key lapses after 24 h', async () => {
      const e = await make();
      try {
        const flowId = await importOne(e, 'errors');
        const body = { flowId, triggerTime: e.clock.now() + 7_200_000 };
        expect((await post(e.apps[0], 'trigger', 'flows', body)).env.code).toBe(0);
        // Same minute without a key: the one-minute rule (62102); with a key, that answer is kept.
        const dup = await post(e.apps[0], 'trigger', 'flows', body, 'k-dup');
        expect(dup.env.code).toBe(62102);
        const dupAgain = await post(e.apps[0], 'trigger', 'flows', body, 'k-dup');
        expect(dupAgain.text).toBe(dup.text);
        expect(dupAgain.replayed).toBe(true);
        // Another user (bob is no owner) with the same key: its own request, its own answer (62103).
        const bob = await post(e.apps[0], 'trigger', 'flows', body, 'k-dup', 'u-bob');
        expect(bob.env.code).toBe(62103);
        e.clock.advance(24 * 3_600_000 + 1);
        const fresh = await post(e.apps[0], 'trigger', 'flows', { flowId, triggerTime: e.clock.now() + 3_600_000 }, 'k-dup');
        expect(fresh.env.code).toBe(0);
        expect(fresh.replayed).toBe(false);
        expect(await e.store.purgeIdempotencyKeys(e.clock.now() + 25 * 3_600_000)).toBeGreaterThan(0);
      } finally {
        await e.close();
      }
    });

    it('import and updateAndTrigger honour it; cancel ignores it; a bad key is refused', async () => {
      const e = await make();
      try {
        const dirId = (await e.store.getRootDirectory('o-default'))!.id;
        const imp = { flowName: 'imported-once', desc: '', dirId, flowJson: flowJson({ tasks: ['a'] }) };
        const [a, b] = await Promise.all([post(e.apps[0], 'import', 'flows', imp, 'imp-1'), post(e.apps[e.apps.length - 1], 'import', 'flows', imp, 'imp-1')]);
        expect(a.text).toBe(b.text);
        expect((await e.store.listFlows('o-default')).filter((f) => f.name === 'imported-once')).toHaveLength(1);
        const flowId = a.env.data.flowId;
        const ut = { flowId, triggerTime: e.clock.now() + 3_600_000, parameters: [{ key: 'p', value: '1' }] };
        const u1 = await post(e.apps[0], 'updateAndTrigger', 'flows', ut, 'ut-1');
        const u2 = await post(e.apps[0], 'updateAndTrigger', 'flows', ut, 'ut-1');
        expect(u1.env.code).toBe(0);
        expect(u2.text).toBe(u1.text);
        const id = u1.env.data.flowInstanceId;
        // cancel is not idempotent by key (it is by nature): the header is ignored, each call answers itself.
        expect((await post(e.apps[0], 'cancel', 'flowInstances', { flowInstId: id }, 'c-1')).env.code).toBe(0);
        const c2 = await post(e.apps[0], 'cancel', 'flowInstances', { flowInstId: id }, 'c-1');
        expect(c2.env.code).toBe(62102);
        expect(c2.replayed).toBe(false);
        for (const bad of ['', 'x'.repeat(256), 'has space', 'tab\there']) {
          const r = await post(e.apps[0], 'trigger', 'flows', { flowId, triggerTime: e.clock.now() + 9_000_000 }, bad);
          expect(r.env.code, JSON.stringify(bad)).toBe(62102);
          expect(r.env.msg).toMatch(/Idempotency-Key header must be given once, 1 to 255 visible ASCII characters/);
        }
      } finally {
        await e.close();
      }
    });
  });
}

suite('SQLite', sqliteEnv);
if (postgresAvailable) suite('PostgreSQL, two API instances', postgresEnv);
else describe.skip('Idempotency-Key: PostgreSQL (not reachable)', () => it('skipped', () => {}));
