// Every query an API read issues uses an index, on both stores: a walk calls every read operation (and
// the searches in each shape their store plans take: expression on names, ids, stamps; owner; statuses;
// every sort), the store records the SELECTs it ran, and each is EXPLAINed: no read of a whole growing
// table (PostgreSQL with enable_seqscan off: no Seq Scan) nor, on SQLite, of a whole index of one (no
// SCAN at all, but for the walk of the seq index that a LIMIT stops). Small tables here, but the plans are the ones a large store gets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { testConfig } from '../../src/config.js';
import { bootstrap, resolveCaller } from '../../src/service/identity.js';
import { openLogStream } from '../../src/service/logStream.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { call, V21 } from '../helpers/api.js';
import { fakeClock } from '../helpers/clock.js';
import { flowJson } from '../helpers/flows.js';
import { postgresSeqScans, recorder, sqliteScans, type Recorded } from '../helpers/plans.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';

/** Tables that grow with use: a full read of one is what the plans must never need. */
const GROWING = ['flow_instances', 'task_instances', 'status_events', 'task_logs', 'attempts', 'flows', 'tasks', 'reference_waits', 'task_keys', 'alerts'];
const HOUR = 3_600_000;
/** flow_instances' unique index on seq (SQLite's name for it): the default order's walk. */
const SEQ_INDEX = 'sqlite_autoindex_flow_instances_2';

const SELECT = /^\s*select/i;
const SCANNING = 'select count(*) from "flow_instances" as "fi" where lower(fi.id) like ?';


/** Calls every read operation of V2.1 at least once, searches in every plan shape; returns the ops called. */
async function walk(store: Store, dataDir: string): Promise<Set<string>> {
  const clock = fakeClock();
  await bootstrap(store, clock);
  const app = await buildApp({ store, config: testConfig({ dataDir }), clock, secrets: null });
  const called = new Set<string>();
  const admin = { userId: 'u-admin', orgId: 'o-default' };
  const req = async (name: string, opts: { query?: Record<string, string | number>; body?: unknown } = {}) => {
    const op = OPERATIONS.find((o) => o.name === name)!;
    called.add(name);
    const r = await call(app, op.method, `${V21}/${op.resource}`, { ...opts, query: { action: op.action, ...admin, ...(opts.query ?? {}) } });
    return r.env.data as Record<string, unknown>;
  };
  try {
    await req('listWorkFlowDirs');
    const dirId = (await store.getRootDirectory('o-default'))!.id;
    const json = flowJson({ name: 'plans etl' });
    const flowId = Number((await req('importFlow', { body: { flowName: 'plans etl', desc: '', dirId, flowJson: json } })).flowId);
    if (!flowId) throw new Error('import failed');
    const now = clock.now();
    await req('triggerFlow', { body: { flowId, triggerTime: now + HOUR } });
    const instId = (await store.searchFlowInstances({ orgId: 'o-default', sort: [], offset: 0, limit: 1 })).instances[0].id;
    const taskInstId = (await store.listTaskInstances(instId))[0].id;
    await req('getFlowInstance', { query: { flowInstId: instId } });
    await req('getFlow', { query: { flowId } });
    await req('exportFlow', { query: { flowId } });
    await req('listFlowVersions', { query: { flowId } });
    await req('getFlowVersion', { query: { flowId, version: 1 } });
    await req('compareFlowVersions', { query: { flowId, from: 1, to: 1 } });
    await req('getTaskInstance', { query: { taskInstId } });
    await req('getTaskInstanceLog', { query: { taskInstId } });
    // The live log stream of a task that has not run never ends by itself: its reads are walked through the
    // service, both starts (tail, and none of the past) and one poll round each, then it is stopped.
    called.add('streamTaskInstanceLog');
    const caller = { user: await resolveCaller(store, 'u-admin', 'o-default'), app: null };
    for (const tailChars of [undefined, 0]) {
      const ac = new AbortController();
      const events = await openLogStream({ store, config: testConfig({ dataDir }), clock }, caller, taskInstId, { tailChars, signal: ac.signal, pollMs: 0 });
      expect((await events.next()).value).toMatchObject({ event: 'status' });
      ac.abort();
      expect((await events.next()).done).toBe(true);
    }
    const chunkAfter = await store.readLogAfter(taskInstId, { runNum: 0, seq: -1 }, 10);
    expect(chunkAfter).toEqual([]);
    for (const expression of [undefined, 'etl', String(flowId), `${flowId}-`]) await req('getMyFlow', { query: expression ? { expression } : {} });
    for (const sorters of [[], [{ field: 'createTime', order: 'DESC' }], [{ field: 'updateTime', order: 'ASC' }], [{ field: 'startTime', order: 'DESC' }]]) {
      for (const expression of ['', 'etl', '1']) await req('searchFlow', { body: { expression, pagination: { pageNo: 1, pageSize: 10, sorters } } });
    }
    const range = { fromTriggerTime: now - 24 * HOUR, toTriggerTime: now + 24 * HOUR };
    const sorts = [[], ...['createTime', 'updateTime', 'startTime', 'triggerTime', 'endTime'].map((field) => [{ field, order: 'DESC' }])];
    const shapes = [{}, { expression: 'etl' }, { expression: instId.slice(-8, -2) }, { expression: `${flowId}-` }, { expression: `-${instId.split('-')[1].slice(0, 6)}` }, { expression: 'x%' }, { owner: 'admin' }, { status: '1,2' }, { status: '' }];
    for (const sorters of sorts) {
      for (const shape of shapes) {
        for (const type of [0, 1]) await req('searchFlowInstances', { body: { type, owner: '', status: '', ...range, ...shape, pagination: { pageNo: 1, pageSize: 10, sorters } } });
      }
    }
  } finally {
    await app.close();
  }
  return called;
}

// A SCAN reads a whole table or index; only the seq walk (under its LIMIT) may (instanceSearch.ts).
const sqliteOffenders = (filename: string, recorded: Recorded) => sqliteScans(filename, recorded, GROWING, (detail) => detail.includes(`USING INDEX ${SEQ_INDEX}`));
const postgresOffenders = (schema: string, recorded: Recorded) => postgresSeqScans(schema, recorded, GROWING);

const READS = OPERATIONS.filter((o) => o.access === 'read' && (!o.versions || o.versions.includes('v2.1'))).map((o) => o.name);

describe('query plans of API reads', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'batchflow-plans-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas();
  });

  it('SQLite: every SELECT of a walk through every read operation searches by an index', async () => {
    const { recorded, onQuery, start } = recorder(SELECT);
    const filename = path.join(dir, 'batchflow.db');
    const store = await createSqliteStore({ filename, onQuery });
    start();
    const called = await walk(store, dir).finally(() => store.close());
    expect([...called]).toEqual(expect.arrayContaining(READS));
    expect(recorded.length).toBeGreaterThan(100);
    expect(sqliteOffenders(filename, recorded)).toEqual([]);
    // The check itself sees a full read: a LIKE over ids alone has no index to use.
    expect(sqliteOffenders(filename, [{ sql: SCANNING, parameters: ['%1%'] }])).toHaveLength(1);
  });

  it.runIf(postgresAvailable)('PostgreSQL: every SELECT of the same walk plans no Seq Scan on a growing table', async () => {
    const { recorded, onQuery, start } = recorder(SELECT);
    const schema = newSchema('bf_plans');
    const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false, onQuery });
    start();
    const called = await walk(store, dir).finally(() => store.close());
    expect([...called]).toEqual(expect.arrayContaining(READS));
    expect(await postgresOffenders(schema, recorded)).toEqual([]);
    expect(await postgresOffenders(schema, [{ sql: 'select count(*) from flow_instances where reason like $1', parameters: ['%1%'] }])).toHaveLength(1);
  });
});
