// Every statement the engine, the scheduler's questions, Delete Flow and a purge run searches by an index,
// on both stores: a real engine runs a queue of two instances of a chain to SUCCESS, then the store is
// asked what the engine and the cron scheduler ask, the flow is deleted, and a purge runs; each SELECT,
// UPDATE and DELETE recorded is EXPLAINed. On SQLite no SCAN of a growing table, but of a partial index
// (0009: only WAIT, RUNNING or scheduled rows are in one); on PostgreSQL (enable_seqscan off) no Seq Scan.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { testConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { partialIndexes, postgresSeqScans, recorder, sqliteScans, type Recorded } from '../helpers/plans.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { flowOf, instanceOf } from './store.contract.js';

const GROWING = ['flow_instances', 'task_instances', 'status_events', 'task_logs', 'attempts'];
const STATEMENT = /^\s*(select|update|delete)\b/i;

async function exercise(store: Store, dataDir: string): Promise<void> {
  const now = Date.now();
  await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: now });
  await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: now });
  const dirId = (await store.getRootDirectory('o1'))!.id;
  const f = await store.createFlow(flowOf('o1', dirId, 3, { name: 'plans chain' }));
  const server = await startServer(testConfig({ dataDir, port: 0, runEngine: true }), { store });
  try {
    // Two instances of one flow: the second waits for the first (the one-instance rule's queue).
    const ids: string[] = [];
    for (const at of [now - 120_000, now - 60_000]) ids.push((await store.createFlowInstance(instanceOf(f, at))).id);
    await vi.waitFor(
      async () => {
        for (const id of ids) expect((await store.getFlowInstanceById(id))?.status).toBe('SUCCESS');
      },
      { timeout: 20_000, interval: 50 },
    );
    await store.listFlowsWithDueInstances(now);
    await store.nextWakeAt(now);
    await store.listStalledInstances(100);
    await store.lastScheduledFireTime(f.flow.id);
    await store.purgeInstances({ before: Date.now() + 1, dryRun: true });
    expect((await store.purgeInstances({ before: Date.now() + 1 })).tables.flow_instances).toBe(2);
    const g = await store.createFlow(flowOf('o1', dirId, 1, { name: 'plans other' }));
    await store.createFlowInstance(instanceOf(g, now + 86_400_000));
    await store.deleteFlow('o1', g.flow.id, 'u1', Date.now());
  } finally {
    await server.close();
  }
}

// A SCAN of a partial index reads only the WAIT, RUNNING or scheduled rows it keeps.
const sqliteOffenders = (filename: string, recorded: Recorded) => {
  const partial = partialIndexes(filename);
  return sqliteScans(filename, recorded, GROWING, (_detail, index) => index !== undefined && partial.has(index));
};
const postgresOffenders = (schema: string, recorded: Recorded) => postgresSeqScans(schema, recorded, GROWING);

/** The recorded statements, each SQL text once (its first parameters). */
const distinct = (recorded: Recorded): Recorded => [...new Map(recorded.map((r) => [r.sql, r])).values()];

describe('query plans of the engine, the scheduler, Delete Flow and purge', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'batchflow-engine-plans-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas();
  });

  it('SQLite: every statement searches by an index (or reads a partial one)', async () => {
    const { recorded, onQuery, start } = recorder(STATEMENT);
    const filename = path.join(dir, 'batchflow.db');
    const store = await createSqliteStore({ filename, onQuery });
    start();
    await exercise(store, path.join(dir, 'sqlite-data')).finally(() => store.close());
    const statements = distinct(recorded);
    expect(statements.length).toBeGreaterThan(20);
    expect(statements.some((s) => /"w"\."status" = 'WAIT'|w\.status = 'WAIT'/.test(s.sql))).toBe(true);
    expect(sqliteOffenders(filename, statements)).toEqual([]);
    // The check itself sees a full read: node ids have no index.
    expect(sqliteOffenders(filename, [{ sql: 'select id from task_instances where node_id = ?', parameters: ['n'] }])).toHaveLength(1);
  });

  it.runIf(postgresAvailable)('PostgreSQL: no statement plans a Seq Scan on a growing table', async () => {
    const { recorded, onQuery, start } = recorder(STATEMENT);
    const schema = newSchema('bf_eplans');
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false, onQuery });
    start();
    await exercise(store, path.join(dir, 'pg-data')).finally(() => store.close());
    const statements = distinct(recorded);
    expect(statements.length).toBeGreaterThan(20);
    expect(await postgresOffenders(schema, statements)).toEqual([]);
  });
});
