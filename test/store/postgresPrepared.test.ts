// The PostgreSQL store runs its compiled-once statements as named prepared statements (postgres.ts):
// they are prepared on the connection, and a migration that adds columns while a process keeps its
// connections open does not break them (texts with `*` stay unnamed: their result type would change; the
// hot whole-row reads name their columns instead, columns.ts, and so stay prepared).
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres.js';
import { driver } from '../helpers/drive.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

afterAll(() => dropSchemas());

async function onSchema<T>(schema: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

describe.runIf(postgresAvailable)('PostgreSQL prepared statements', () => {
  it('prepares the engine statements once per connection and keeps working after a migration adds columns', async () => {
    const schema = newSchema();
    // What the pool's clients send (the store binds the client's query when the connection opens).
    const sent = vi.spyOn(pg.Client.prototype, 'query');
    // One connection: every statement of the test runs on it.
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 1, listen: false });
    try {
      await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
      await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
      const dirId = (await store.getRootDirectory('o1'))!.id;
      const f = await store.createFlow(flowOf('o1', dirId, 3));
      const inst = await store.createFlowInstance(instanceOf(f, T0));
      const drive = driver(store);
      expect(await drive.startInstance(f.flow.id, T0)).toBe(inst.id);
      const first = (await drive.claim(T0, 1)).started[0];
      await drive.endTask(first.taskInstanceId, first.runNum, 'SUCCESS', T0 + 1);

      // The columns a later version would add, from another connection, while this one keeps its statements.
      await onSchema(schema, 'alter table flow_instances add column later_col text; alter table task_instances add column later_n integer');
      // A new engine cache: the instance's details are read again (its named column list).
      const again = driver(store);
      for (let i = 0; i < 2; i++) {
        const next = (await again.claim(T0 + 2 + i, 1)).started[0];
        expect(next).toBeDefined();
        await again.endTask(next.taskInstanceId, next.runNum, 'SUCCESS', T0 + 3 + i);
      }
      expect((await store.getFlowInstance('o1', inst.id))?.status).toBe('SUCCESS');
      // A trigger's reads and its one-statement create, after the columns were added too.
      expect((await store.getUser('u1'))?.name).toBe('alice');
      const fw = (await store.getFlowToRun('o1', f.flow.id))!;
      expect(fw.tasks.map((t) => t.name)).toEqual(f.tasks.map((t) => t.name));
      expect((await store.createFlowInstance(instanceOf(fw, T0 + 60_000))).status).toBe('WAIT');
      // The engine's statements went as named statements, the `select *` ones without a name.
      const named = sent.mock.calls.map((c) => c[0] as unknown).filter((q): q is { name: string; text: string } => typeof q === 'object' && q !== null && 'name' in q);
      expect(named.some((q) => q.text.startsWith('update "task_instances"'))).toBe(true);
      expect(named.every((q) => q.name.startsWith('bf_') && !q.text.includes('*'))).toBe(true);
      for (const start of ['select "id", "flow_id", "org_id", "seq"', 'select "id", "name", "org_id", "locked"', 'select "id", "org_id", "dir_id"', 'with u as materialized']) {
        expect(named.some((q) => q.text.startsWith(start)), start).toBe(true);
      }
      expect(sent.mock.calls.some((c) => typeof c[0] === 'string' && c[0].startsWith('select * from "flow_instances"'))).toBe(true);
    } finally {
      sent.mockRestore();
      await store.close();
    }
  });
});
