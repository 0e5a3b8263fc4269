// Store events across processes on PostgreSQL (postgresEvents.ts): two stores on one schema stand for two
// processes. The events of one turn travel in a few notifications (in order), every one arrives once,
// and a store hears its own events once (in-process), never again from the channel.
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres.js';
import { MAX_PAYLOAD_BYTES, payloadsOf } from '../../src/store/postgresEvents.js';
import type { StoreEvent } from '../../src/store/store.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

afterAll(() => dropSchemas());

describe('notification payloads', () => {
  it('groups events up to the payload limit, in order, and sends an oversized event alone', () => {
    const events: StoreEvent[] = Array.from({ length: 500 }, (_, i) => ({ type: 'instanceCreated', flowId: i, instanceId: `${i}-202401010000`, dueAt: T0 }));
    const payloads = payloadsOf('origin', events);
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.length).toBeLessThan(20);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap((p) => JSON.parse(p).es)).toEqual(events);
    const big: StoreEvent = { type: 'instanceCreated', flowId: 1, instanceId: 'x'.repeat(9000), dueAt: T0 };
    expect(payloadsOf('origin', [events[0], big, events[1]]).map((p) => JSON.parse(p).es.length)).toEqual([1, 1, 1]);
  });
});

describe.runIf(postgresAvailable)('PostgreSQL events between processes', () => {
  it('delivers a burst of creates to the other store once each, in a few notifications', async () => {
    const schema = newSchema();
    const sent = vi.spyOn(pg.Client.prototype, 'query');
    const a = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    const b = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
    try {
      await a.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
      await a.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
      const f = await a.createFlow(flowOf('o1', (await a.getRootDirectory('o1'))!.id, 1));
      const atA: StoreEvent[] = [];
      const atB: StoreEvent[] = [];
      a.onEvent((e) => atA.push(e));
      b.onEvent((e) => atB.push(e));
      const n = 300;
      sent.mockClear();
      const made = await Promise.all(Array.from({ length: n }, (_, i) => a.createFlowInstance(instanceOf(f, T0 + i * 60_000))));
      const ids = made.map((x) => x.id);
      await vi.waitFor(() => expect(atB.filter((e) => e.type === 'instanceCreated')).toHaveLength(n), { timeout: 10_000 });
      // (Two group commits of the burst may commit in either order.)
      expect(atB.flatMap((e) => (e.type === 'instanceCreated' ? [e.instanceId] : [])).sort()).toEqual([...ids].sort());
      const notifies = sent.mock.calls.filter((c) => typeof c[0] === 'string' && c[0].startsWith('select pg_notify'));
      expect(notifies.length).toBeGreaterThan(0);
      expect(notifies.length).toBeLessThan(n / 10);
      // One more, alone; and A never hears its own events from the channel.
      const one = await a.createFlowInstance(instanceOf(f, T0 + n * 60_000));
      await vi.waitFor(() => expect(atB.at(-1)).toMatchObject({ type: 'instanceCreated', instanceId: one.id }));
      await new Promise((r) => setTimeout(r, 200));
      expect(atA.filter((e) => e.type === 'instanceCreated')).toHaveLength(n + 1);
    } finally {
      sent.mockRestore();
      await a.close();
      await b.close();
    }
  });
});
