// Search latency at a million instances (issue 12, item 3): seeds 1,000,000 instances of 1,000 flows and
// 10,000 flows through the Store (bench/search/seed.ts), on SQLite and on PostgreSQL (own schema, dropped
// after), then times a mix of List Flow Instances queries (store search + the page's task instances, as
// the service does), Search Flow and Get My Flow: before (the queries of before migration 0007, on the
// same rows: bench/search/legacy.ts) and after. Prints medians / p95 and writes bench/results/search-*.json
// with the bytes per instance of each index. Not a test: `npx tsx bench/search.ts [--store sqlite|postgres]
// [--hours 1000] [--flows 10000] [--reps 9] [--keep]` (--hours 1000 x 1,000 flows = 1,000,000 instances).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { getMyFlows } from '../src/service/search.js';
import type { Deps } from '../src/service/context.js';
import type { DB } from '../src/store/db.js';
import { createPostgresStore } from '../src/store/postgres.js';
import { poolConfig } from '../src/store/postgresPool.js';
import { createSqliteStore, openSqliteReader } from '../src/store/sqlite.js';
import type { InstanceSearch, Store } from '../src/store/store.js';
import { legacySearchFlowInstances, legacySearchFlows } from './search/legacy.js';
import { HOUR, ORG, T_START, seedFlows, seedInstances } from './search/seed.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const HOURS = Number(arg('hours', '1000'));
const FLOWS = Number(arg('flows', '10000'));
const REPS = Number(arg('reps', '9'));
const STORES = arg('store', 'sqlite,postgres').split(',');
const PG_URL = process.env.BATCHFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

const END = T_START + HOURS * HOUR;
const DAY = 24 * HOUR;
const week = { fromTriggerTime: END - 7 * DAY, toTriggerTime: END };
const all = { fromTriggerTime: 0, toTriggerTime: 253_402_300_799_999 };
const day = (n: number) => new Date(T_START + n * DAY).toISOString().slice(0, 10).replace(/-/g, '');

/** The List Flow Instances mix: what the console and scripts send (type always, a trigger range always). */
const INSTANCE_QUERIES: Array<[string, Omit<InstanceSearch, 'orgId' | 'offset' | 'limit' | 'sort'> & Partial<InstanceSearch>]> = [
  ['last 7 days', { flowType: 1, ...week }],
  ['last day', { flowType: 1, fromTriggerTime: END - DAY, toTriggerTime: END }],
  ['all time', { flowType: 1, ...all }],
  ['name: one flow', { flowType: 1, expression: 'job 4210', ...all }],
  ['name: "critical" (100 flows)', { flowType: 1, expression: 'critical', ...all }],
  ['id: "4210-2026"', { flowType: 1, expression: '4210-2026', ...all }],
  ['id: "421" (flow id or stamp)', { flowType: 1, expression: '421', ...all }],
  [`id: a day "${day(20)}"`, { flowType: 1, expression: day(20), ...all }],
  [`id: an hour "${day(20)}12"`, { flowType: 1, expression: `${day(20)}12`, ...all }],
  ['status CANCEL, 7 days', { flowType: 1, statuses: ['CANCEL'], ...week }],
  ['status WAIT+CANCEL, all', { flowType: 0, statuses: ['WAIT', 'CANCEL'], ...all }],
  ['owner alice, 7 days', { flowType: 0, owner: 'alice', ...week }],
  ['sort triggerTime desc, 7d', { flowType: 1, ...week, sort: [{ field: 'triggerTime', desc: true }] }],
  ['sort startTime desc, 1d', { flowType: 1, fromTriggerTime: END - DAY, toTriggerTime: END, sort: [{ field: 'startTime', desc: true }] }],
  ['sort createTime desc, 7d', { flowType: 1, ...week, sort: [{ field: 'createTime', desc: true }] }],
  ['page 11 of 100, 7 days', { flowType: 1, ...week, offset: 1000, limit: 100 }],
];
const FLOW_QUERIES: Array<[string, { expression?: string; sort: Array<{ field: 'createTime' | 'updateTime' | 'startTime'; desc: boolean }> }]> = [
  ['no expression, createTime desc', { sort: [{ field: 'createTime', desc: true }] }],
  ['no expression, updateTime desc', { sort: [{ field: 'updateTime', desc: true }] }],
  ['"job 421" (11 flows)', { expression: 'job 421', sort: [] }],
  ['"critical" (100 flows)', { expression: 'critical', sort: [{ field: 'startTime', desc: false }] }],
  ['"42" (id or name)', { expression: '42', sort: [] }],
];

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { medianMs: Math.round(at(50) * 10) / 10, p95Ms: Math.round(at(95) * 10) / 10 };
}

async function timed<T>(reps: number, fn: () => Promise<T>): Promise<{ medianMs: number; p95Ms: number; result: T }> {
  let result = await fn(); // warm
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    result = await fn();
    ms.push(performance.now() - t);
  }
  return { ...stats(ms), result };
}

interface Target {
  name: 'sqlite' | 'postgres';
  store: Store;
  reader: Kysely<DB>;
  sizes(): Promise<Record<string, number>>;
  prepare(): Promise<void>;
  drop(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const dir = path.join(tmpdir(), 'batchflow-bench-search');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const filename = path.join(dir, 'batchflow.db');
  const store = await createSqliteStore({ filename });
  let reader: Kysely<DB> | null = null;
  return {
    name: 'sqlite', store,
    get reader() {
      return (reader ??= openSqliteReader(filename));
    },
    async sizes() {
      const raw = new Database(filename, { readonly: true });
      const rows = raw.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as Array<{ name: string; bytes: number }>;
      raw.close();
      return Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
    },
    prepare: async () => {},
    async drop() {
      await reader?.destroy();
      await store.close();
      if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresTarget(): Promise<Target> {
  const schema = `bench_search_${process.pid}`;
  const store = await createPostgresStore({ connectionString: PG_URL, schema, listen: false });
  const pool = new pg.Pool(poolConfig({ connectionString: PG_URL, schema, max: 2 }));
  const reader = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    name: 'postgres', store, reader,
    async sizes() {
      const r = await pool.query(`select c.relname as name, pg_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind in ('r', 'i')`, [schema]);
      return Object.fromEntries(r.rows.map((x: { name: string; bytes: string }) => [x.name, Number(x.bytes)]));
    },
    // What autovacuum does in a live store: visibility map and statistics.
    prepare: async () => void (await pool.query('vacuum analyze')),
    async drop() {
      await store.close();
      if (!process.argv.includes('--keep')) await pool.query(`drop schema ${schema} cascade`);
      await reader.destroy();
    },
  };
}

async function run(t: Target) {
  const seedStart = Date.now();
  const flows = await seedFlows(t.store, FLOWS, log);
  const n = await seedInstances(t.store, flows, HOURS, log);
  const seedSec = Math.round((Date.now() - seedStart) / 1000);
  log(`${t.name}: seeded ${n} instances in ${seedSec} s`);
  await t.prepare();
  const instances = [];
  for (const [label, q0] of INSTANCE_QUERIES) {
    const q: InstanceSearch = { orgId: ORG, sort: [], offset: 0, limit: 10, ...q0 };
    const after = await timed(REPS, async () => {
      const r = await t.store.searchFlowInstances(q);
      await t.store.listTaskInstancesOf(r.instances.map((i) => i.id));
      return r;
    });
    const before = await timed(Math.min(REPS, 3), () => legacySearchFlowInstances(t.reader, q));
    const same = before.result.total === after.result.total && before.result.ids.join() === after.result.instances.map((i) => i.id).join();
    instances.push({ query: label, count: after.result.total, before: { medianMs: before.medianMs, p95Ms: before.p95Ms }, after: { medianMs: after.medianMs, p95Ms: after.p95Ms }, sameAnswer: same });
    log(`${t.name} | ${label.padEnd(30)} | count ${String(after.result.total).padStart(7)} | before ${before.medianMs} ms | after ${after.medianMs} / p95 ${after.p95Ms} ms${same ? '' : ' | DIFFERENT ANSWER'}`);
  }
  const flowSearches = [];
  for (const [label, f] of FLOW_QUERIES) {
    const q = { orgId: ORG, offset: 0, limit: 10, ...f };
    const after = await timed(REPS, () => t.store.searchFlows(q));
    const before = await timed(Math.min(REPS, 3), () => legacySearchFlows(t.reader, q));
    const same = before.result.join() === after.result.map((x) => x.id).join();
    flowSearches.push({ query: `Search Flow ${label}`, before: { medianMs: before.medianMs, p95Ms: before.p95Ms }, after: { medianMs: after.medianMs, p95Ms: after.p95Ms }, sameAnswer: same });
    log(`${t.name} | Search Flow ${label.padEnd(30)} | before ${before.medianMs} ms | after ${after.medianMs} / p95 ${after.p95Ms} ms${same ? '' : ' | DIFFERENT ANSWER'}`);
  }
  const alice = (await t.store.getUser('u-alice'))!;
  for (const expression of [undefined, 'job 42', 'critical']) {
    const after = await timed(REPS, () => getMyFlows({ store: t.store } as unknown as Deps, { user: alice }, expression));
    flowSearches.push({ query: `Get My Flow ${expression ?? '(all)'}`, rows: after.result.length, after: { medianMs: after.medianMs, p95Ms: after.p95Ms } });
    log(`${t.name} | Get My Flow ${String(expression ?? '(all)').padEnd(30)} | ${after.result.length} flows | ${after.medianMs} / p95 ${after.p95Ms} ms`);
  }
  const sizes = await t.sizes();
  const perInstance = Object.fromEntries(Object.entries(sizes).filter(([k]) => /flow_instances|instance_minutes/.test(k)).map(([k, v]) => [k, Math.round((v / n) * 10) / 10]));
  log(`${t.name}: bytes per instance ${JSON.stringify(perInstance)}`);
  return { store: t.name, instances: n, flows: FLOWS, seedSec, reps: REPS, listFlowInstances: instances, flowSearches, bytesPerInstance: perInstance, sizes };
}

for (const name of STORES) {
  const t = name === 'postgres' ? await postgresTarget() : await sqliteTarget();
  try {
    const result = await run(t);
    mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(path.join(import.meta.dirname, 'results', `search-${name}.json`), JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + '\n');
  } finally {
    await t.drop();
  }
}
