// `copyStore`: an embedded store with realistic content (nested directories, flows with relations,
// instances driven through the engine's decisions in several statuses, attempts, logs, history, an engine)
// copied into a fresh PostgreSQL schema: every row of every table the same on both sides, the same store id,
// a second copy refused without a write, and new ids above the copied ones. Needs PostgreSQL (skips loudly,
// fails under CI=true: test/helpers/postgres.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyStore, CopyRefusedError, sqliteFileOf } from '../../src/store/copy.js';
import type { DB } from '../../src/store/db.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { poolConfig } from '../../src/store/postgresPool.js';
import { createSqliteStore, openSqliteReader } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const MIN = 60_000;

/** Every copied table with its primary key (the order both sides are read and compared in). */
const TABLES: Record<string, string[]> = {
  batchflow_meta: ['key'],
  orgs: ['id'],
  users: ['id'],
  apps: ['access_key'],
  app_tokens: ['token_hash'],
  auth_nonces: ['nonce'],
  directories: ['id'],
  flows: ['id'],
  tasks: ['id'],
  flow_versions: ['id'],
  flow_instances: ['id'],
  task_instances: ['id'],
  attempts: ['task_instance_id', 'run_num'],
  task_logs: ['task_instance_id', 'run_num', 'seq'],
  task_keys: ['task_instance_id'],
  reference_waits: ['instance_id', 'node_id', 'cycle_gap'],
  alerts: ['id'],
  idempotency_keys: ['scope', 'key'],
  status_events: ['id'],
  engines: ['id'],
  batchflow_counters: ['name'],
};

type Row = Record<string, unknown>;
type Dump = Record<string, Row[]>;

const normalise = (row: Row): Row => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));

/**
 * Every row of every copied table, ordered by primary key. Sorted again here by code unit: PostgreSQL may
 * collate text keys differently from SQLite's byte order, and the two lists must line up row for row.
 */
async function dump(db: Kysely<any>): Promise<Dump> {
  const out: Dump = {};
  for (const [table, key] of Object.entries(TABLES)) {
    let q = db.selectFrom(table).selectAll();
    for (const k of key) q = q.orderBy(k);
    const rows = ((await q.execute()) as Row[]).map(normalise);
    const cmp = (a: Row, b: Row) => {
      for (const k of key) if (a[k] !== b[k]) return (a[k] as string | number) < (b[k] as string | number) ? -1 : 1;
      return 0;
    };
    out[table] = rows.sort(cmp);
  }
  return out;
}

/** A store with some of everything, written through the Store and the engine's own decisions. */
async function populate(store: Store): Promise<void> {
  const drive = driver(store);
  for (const [id, name] of [
    ['o1', 'Org 1'],
    ['o2', 'Org 2'],
    ['o3', 'Org 3'],
  ]) await store.createOrg({ id, name, createdAt: T0 });
  await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
  await store.createUser({ id: 'u2', name: 'bob', orgId: 'o1', locked: true, createdAt: T0 + 1 });
  await store.createUser({ id: 'u3', name: 'carol', orgId: 'o2', locked: false, createdAt: T0 + 2 });
  // Nested directories whose ids sort before their parents': a copy by id alone would break the reference.
  const root = (await store.getRootDirectory('o1'))!.id;
  const dirs = [
    { id: 'f'.repeat(32), parentId: root, name: 'etl' },
    { id: 'c'.repeat(32), parentId: 'f'.repeat(32), name: 'daily' },
    { id: '1'.repeat(32), parentId: 'c'.repeat(32), name: 'eu' },
    { id: '0'.repeat(32), parentId: '1'.repeat(32), name: 'west' },
    { id: 'e'.repeat(32), parentId: root, name: 'reports' },
  ];
  for (const d of dirs) await store.createDirectory({ ...d, orgId: 'o1', createdAt: T0 });
  await store.createDirectory({ id: '2'.repeat(32), orgId: 'o2', parentId: (await store.getRootDirectory('o2'))!.id, name: 'x', createdAt: T0 });

  const chain = await store.createFlow(flowOf('o1', '0'.repeat(32), 3, { name: 'chain' }));
  const joinSpec = flowOf('o1', 'e'.repeat(32), 3, { name: 'join', id: 500 });
  joinSpec.relationsByName = [
    { sourceTaskName: 't1', targetTaskName: 't3', rerun: true },
    { sourceTaskName: 't2', targetTaskName: 't3', rerun: false, cycleGap: 'D1' },
  ];
  const join = await store.createFlow(joinSpec);
  const retrySpec = flowOf('o1', root, 1, { name: 'retry' });
  retrySpec.tasks[0] = { ...retrySpec.tasks[0], retryLimit: 1, retryIntervalSec: 60 };
  const retry = await store.createFlow(retrySpec);
  await store.createFlow(flowOf('o1', root, 2, { name: 'hourly', type: 1, active: 1, startDate: '2024-01-01 00:00:00' }));
  await store.createFlow(flowOf('o2', '2'.repeat(32), 1, { name: 'other org' }));
  await store.takeEditLock('o1', chain.flow.id, { userId: 'u1', userName: 'alice', expiresAt: T0 + 30 * MIN }, T0);

  // chain: one SUCCESS run with logs, one FAIL, one RUNNING with an open attempt, one WAIT, one CANCEL.
  const runAll = async (at: number, last: 'SUCCESS' | 'FAIL') => {
    const inst = await store.createFlowInstance(instanceOf(chain, at));
    expect(await drive.startInstance(chain.flow.id, at)).toBe(inst.id);
    const tis = await store.listTaskInstances(inst.id);
    for (const [i, t] of tis.entries()) {
      const status = i === tis.length - 1 ? last : 'SUCCESS';
      await drive.startTask(t.id, at + i);
      await store.appendLog(t.id, 1, `line of ${t.taskName}\n`);
      await drive.endTask(t.id, 1, status, at + i + 1, { logTail: `${status}\n` });
    }
    return inst;
  };
  await runAll(T0, 'SUCCESS');
  await runAll(T0 + MIN, 'FAIL');
  const running = await store.createFlowInstance(instanceOf(chain, T0 + 2 * MIN));
  await drive.startInstance(chain.flow.id, T0 + 2 * MIN);
  const [first] = await store.listTaskInstances(running.id);
  await drive.startTask(first.id, T0 + 2 * MIN);
  await store.recordAttemptProcess(first.id, 1, { pid: 4242, pgid: 4242, procStart: '123456' });
  await store.appendLog(first.id, 1, 'still going\n');
  await store.createFlowInstance(instanceOf(chain, T0 + 3 * MIN)); // WAIT behind the running one
  await store.createFlowInstance(instanceOf(join, T0, { skip: ['t2'] }));
  await store.cancelInstance('o1', (await store.createFlowInstance(instanceOf(retry, T0 + 9 * MIN))).id, T0 + 9 * MIN, 'not today', 'u1');

  // retry: a first attempt fails into RERUN, the second (claimed when due) succeeds.
  const r = await store.createFlowInstance(instanceOf(retry, T0));
  await drive.startInstance(retry.flow.id, T0);
  const [rt] = await store.listTaskInstances(r.id);
  await drive.startTask(rt.id, T0);
  await drive.endTask(rt.id, 1, 'FAIL', T0 + 1);
  const claimed = await drive.claim(T0 + 2 * MIN, 1);
  expect(claimed.started.map((s) => s.taskInstanceId)).toEqual([rt.id]);
  await drive.endTask(rt.id, 2, 'SUCCESS', T0 + 3 * MIN);

  // Apps, a token, a replay nonce: the sealed texts go across as they are (the master key goes with the data dir).
  await store.createApp({ accessKey: 'ak1', orgId: 'o1', name: 'etl', secretSealed: 'v1.k.sealed', createdAt: T0, revokedAt: null });
  await store.createApp({ accessKey: 'ak2', orgId: 'o2', name: '', secretSealed: 'v1.k.sealed2', createdAt: T0, revokedAt: T0 + 1 });
  await store.tokenFor('ak1', T0, () => ({ tokenHash: 'h1', accessKey: 'ak1', tokenSealed: 'v1.k.t', issuedAt: T0, expiresAt: T0 + 7_200_000 }));
  await store.rememberNonce('sig:abc', T0 + 300_000);
  await store.claimMasterKeyId('k');
  await store.registerEngine({ id: 'e1', host: 'h', pid: 77, procStart: '99', startedAt: T0, heartbeatAt: T0 + 5, leaseUntil: T0 + 10_000, state: 'live', endedAt: null });
  await store.registerEngine({ id: 'e0', host: 'h2', pid: 78, procStart: null, startedAt: T0, heartbeatAt: T0, leaseUntil: T0 + 10_000, state: 'live', endedAt: null });
  await store.stopEngine('e0', T0 + 20);
}

describe.runIf(postgresAvailable)('copyStore: SQLite -> PostgreSQL', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bf-copy-'));
  const schema = newSchema('bf_copy');
  let sourceId: string;
  let source: Dump;
  let pgDb: Kysely<DB>;
  let report: Awaited<ReturnType<typeof copyStore>>;

  beforeAll(async () => {
    const store = await createSqliteStore({ filename: sqliteFileOf(dataDir) });
    await populate(store);
    sourceId = await store.storeId();
    await store.close();
    const reader = openSqliteReader(sqliteFileOf(dataDir));
    source = await dump(reader);
    await reader.destroy();
    // batchSize 3: every larger table spans several batches (directories across depths, logs, history).
    report = await copyStore({ fromDataDir: dataDir, toUrl: TEST_DATABASE_URL, toSchema: schema, batchSize: 3 });
    pgDb = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool(poolConfig({ connectionString: TEST_DATABASE_URL, schema, max: 2 })) }) });
  }, 60_000);
  afterAll(async () => {
    await pgDb?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    await dropSchemas();
  });

  it('copies every row of every table, as it is, and reports the counts', async () => {
    expect(source.directories).toHaveLength(9);
    expect(source.attempts.length).toBeGreaterThanOrEqual(8);
    expect(source.status_events.length).toBeGreaterThan(20);
    expect(new Set(source.flow_instances.map((r) => r.status))).toEqual(new Set(['SUCCESS', 'FAIL', 'RUNNING', 'WAIT', 'CANCEL']));
    const target = await dump(pgDb);
    for (const table of Object.keys(TABLES)) expect(target[table], table).toEqual(source[table]);
    expect(report.tables).toEqual(Object.fromEntries(Object.keys(TABLES).map((t) => [t, source[t].length])));
    // The target's ledger is its own, and lists the same migrations as the source's.
    const ledger = (await pgDb.selectFrom('batchflow_migrations').select('name').orderBy('name').execute()).map((r) => r.name);
    const reader = openSqliteReader(sqliteFileOf(dataDir));
    expect(ledger).toEqual((await reader.selectFrom('batchflow_migrations').select('name').orderBy('name').execute()).map((r) => r.name));
    await reader.destroy();
  });

  it('refuses a second copy into the now non-empty schema, naming a table, and writes nothing', async () => {
    const before = await dump(pgDb);
    const again = copyStore({ fromDataDir: dataDir, toUrl: TEST_DATABASE_URL, toSchema: schema });
    await expect(again).rejects.toBeInstanceOf(CopyRefusedError);
    await expect(again).rejects.toThrow(/not empty \(tables orgs, users, apps, app_tokens, auth_nonces, directories, .*engines have rows\)/);
    expect(await dump(pgDb)).toEqual(before);
  });

  it('refuses a data directory without a store', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'bf-copy-none-'));
    try {
      await expect(copyStore({ fromDataDir: empty, toUrl: TEST_DATABASE_URL, toSchema: newSchema('bf_copy') })).rejects.toThrow(/no store at .*batchflow\.sqlite/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("keeps the source's store id, and new flows, tasks, instances and history continue above the copied ids", async () => {
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false });
    try {
      expect(await store.storeId()).toBe(sourceId);
      const max = (rows: Row[], col: string) => Math.max(...rows.map((r) => r[col] as number));
      const f = await store.createFlow(flowOf('o3', (await store.getRootDirectory('o3'))!.id, 2, { name: 'after the move' }));
      expect(f.flow.id).toBeGreaterThan(max(source.flows, 'id'));
      expect(Math.min(...f.tasks.map((t) => t.id))).toBeGreaterThan(max(source.tasks, 'id'));
      const inst = await store.createFlowInstance(instanceOf(f, T0 + 60 * MIN));
      expect(inst.seq).toBeGreaterThan(max(source.flow_instances, 'seq'));
      const counter = source.batchflow_counters.find((r) => r.name === 'flow_instance_seq')!.value as number;
      expect(inst.seq).toBeGreaterThan(counter);
      expect(await driver(store).startInstance(f.flow.id, T0 + 60 * MIN)).toBe(inst.id);
      const history = await store.listHistory(inst.id);
      expect(history.length).toBeGreaterThan(0);
      expect(Math.min(...history.map((h) => h.seq))).toBeGreaterThan(max(source.status_events, 'id'));
      // The copied history reads back through the store too.
      const copied = source.flow_instances.find((r) => r.status === 'SUCCESS')!.id as string;
      expect((await store.listHistory(copied)).length).toBe(source.status_events.filter((e) => e.flow_instance_id === copied).length);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(postgresAvailable)('copyStore: a target with rows', () => {
  afterAll(() => dropSchemas());

  it('is refused before either side is migrated or written', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bf-copy-'));
    const schema = newSchema('bf_copy');
    try {
      const src = await createSqliteStore({ filename: sqliteFileOf(dataDir) });
      await src.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
      await src.close();
      const dst = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false });
      await dst.registerEngine({ id: 'e9', host: 'h', pid: 1, procStart: null, startedAt: T0, heartbeatAt: T0, leaseUntil: T0, state: 'live', endedAt: null });
      const dstId = await dst.storeId();
      await expect(copyStore({ fromDataDir: dataDir, toUrl: TEST_DATABASE_URL, toSchema: schema })).rejects.toThrow(
        'the target database is not empty (table engines has rows); copy only into an empty database',
      );
      expect(await dst.storeId()).toBe(dstId);
      expect(await dst.listOrgs()).toEqual([]);
      await dst.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        const n = await c.query(`select count(*)::int as n from ${schema}.status_events`);
        expect(n.rows[0].n).toBe(0);
      } finally {
        await c.end();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
