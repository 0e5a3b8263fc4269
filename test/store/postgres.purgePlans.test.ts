// Retention on PostgreSQL: the purge's two reads use indexes however large the store (checked with
// sequential scans priced out, as the planner would choose on a store of millions of rows): the candidates
// seek the partial index on (ended_at, id) past the cursor, and a batch's re-check reads its ids by key.
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { DB } from '../../src/store/db.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { candidatesQuery, purgeableQuery } from '../../src/store/purge.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { T0 } from './store.contract.js';

afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('PostgreSQL retention query plans', () => {
  it('finds candidates through flow_instances_ended_idx from the cursor on, and re-checks a batch by primary key', async () => {
    const schema = newSchema();
    await (await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false })).close();
    // Compiles only: this Kysely never connects.
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }) });
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await c.connect();
    try {
      await c.query('set enable_seqscan = off');
      const plan = async (q: { sql: string; parameters: readonly unknown[] }) =>
        (await c.query(`explain ${q.sql}`, q.parameters as unknown[])).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      const candidates = await plan(candidatesQuery(db, T0, { endedAt: T0 - 1, id: '1-20240101000000' }, 500).compile());
      // (On an empty table the planner may take a bitmap scan and sort: the index bounds are what matter.)
      expect(candidates).toMatch(/Index (Only )?Scan (using|on) flow_instances_ended_idx/);
      expect(candidates).toMatch(/Index Cond: .*ended_at < .*ROW\(ended_at, id\) > ROW\(/);
      const batch = await plan(purgeableQuery(db, 'postgres', ['1-20240101000000', '1-20240101000100']).compile());
      expect(batch).toMatch(/(Index Scan using flow_instances_pkey on flow_instances fi|Bitmap Index Scan on flow_instances_pkey\s)/);
      expect(batch).not.toMatch(/Seq Scan/);
    } finally {
      await c.end();
      await db.destroy();
    }
  });
});
