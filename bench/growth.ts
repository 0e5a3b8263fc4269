// Benchmark (g): does the store stay fast as it grows? One store (SQLite in a temp data dir, or a fresh
// PostgreSQL schema dropped at the end) gets 1,000 flows of 1, 5 and 20 chained tasks through the API,
// then, size by size, flow instances seeded in bulk through the Store (bench/growthSeed.ts) and, with
// `batchflow serve` started on it, Trigger Flow over HTTP exactly as in (b) (autocannon, future trigger
// times: nothing runs), List Flow Instances with an expression (a few queries, median), and the bytes on
// disk per table (bench/growthSize.ts). At the end, the bytes a fresh one-task instance, a finished one
// with its history and a log byte add, measured on the full store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FlowWithTasks } from '../src/domain/types.js';
import { sqliteFileOf } from '../src/store/copy.js';
import { createPostgresStore } from '../src/store/postgres.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { ID } from './harness.js';
import { median, round } from './machine.js';
import { createInstances, endInstances, seedInstances, seedMixOf, type SeedMode, type SeedPlan } from './growthSeed.js';
import { bytesOf, delta, postgresSize, sqliteSize, type StoreSize } from './growthSize.js';
import { drive, post, startChild, stopChild } from './triggers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ORG = 'o-default';
const USER = 'u-admin';
/** The tables an instance writes rows into. */
const INSTANCE_TABLES = ['flow_instances', 'task_instances', 'attempts', 'task_logs', 'status_events'] as const;

export interface GrowthOptions {
  store: 'sqlite' | 'postgres';
  /** Seeded instances at which to measure, ascending (0 = the empty store). */
  sizes: number[];
  flows: number;
  connections: number;
  durationSec: number;
  warmSec: number;
  /** Runs of each List Flow Instances query (the median is reported). */
  searchRuns: number;
  /** Instances for the bytes-per-instance figures (one-task flows), measured after the last size. */
  marginal: number;
  /** How instances are seeded (bench/growthSeed.ts): 'realistic' (default) or 'fast'. */
  seedMode?: SeedMode;
  /** Server settings to compare at each size (BENCH_GROWTH_VARIANTS), against the defaults, interleaved. */
  variants?: GrowthVariant[];
  /** Rounds of the interleaving (BENCH_GROWTH_VARIANT_REPS, default 2). */
  variantReps?: number;
}

/** A named set of server environment settings, e.g. cache64: BATCHFLOW_SQLITE_CACHE_MIB=64. */
export interface GrowthVariant {
  name: string;
  env: Record<string, string>;
}

/** One variant's Trigger Flow drives at one size: every rep, and their medians. */
export interface VariantResult {
  name: string;
  env: Record<string, string>;
  triggersPerSec: number[];
  latencyP99Ms: number[];
  serverCpuPercent: number[];
  medianPerSec: number;
  medianP99Ms: number;
}

/** BENCH_GROWTH_VARIANTS: `name:ENV=V,ENV=V;name:ENV=V` (the defaults are always measured beside them). */
export function parseVariants(spec: string | undefined): GrowthVariant[] {
  if (!spec) return [];
  return spec.split(';').filter(Boolean).map((part) => {
    const m = /^(\w[\w-]*):(.+)$/.exec(part.trim());
    if (!m) throw new Error(`BENCH_GROWTH_VARIANTS: "name:ENV=VALUE,..." separated by ";", got ${part}`);
    const env = Object.fromEntries(
      m[2].split(',').map((kv) => {
        const [k, v] = kv.split('=');
        if (!/^BATCHFLOW_\w+$/.test(k ?? '') || v === undefined) throw new Error(`BENCH_GROWTH_VARIANTS: ${kv} is not BATCHFLOW_NAME=VALUE`);
        return [k, v];
      }),
    );
    return { name: m[1], env };
  });
}

export interface GrowthRound {
  seeded: number;
  /** Instances in the store when the load started (seeded + the earlier rounds' triggers). */
  stored: number;
  seedSec: number;
  /** The seeding mode that filled this round's store, and its rate over this round's instances. */
  seedMode: SeedMode;
  seedPerSec: number;
  /** This round's seeding time by phase, s: creates, engine moves, cancels. */
  seedPhasesSec: { create: number; engine: number; cancel: number };
  /** The seeding process's CPU (user + system) over this round's seeding wall time, %. */
  seedCpuPercent: number;
  triggersPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  nonZeroCodes: number;
  serverCpuPercent: number;
  loadAvg: [number, number];
  /** List Flow Instances, median ms over searchRuns, with the count it answered. */
  searches: Record<string, { medianMs: number; count: number }>;
  /** With variants: the defaults ("default") and each variant, driven in turn after the searches. */
  variants?: VariantResult[];
  totalBytes: number;
  /** Bytes per stored instance, all tables of the instance (and their indexes) together and by table. */
  bytesPerInstance: number;
  bytesPerInstanceByTable: Record<string, number>;
  /** Bytes by table with its indexes; and each index by name. */
  tableBytes: Record<string, number>;
  indexBytes: Record<string, number>;
}

/** VACUUM (ANALYZE) of every table of the schema; the time it took is logged. */
async function vacuumSchema(base: string, schema: string, log: (m: string) => void): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    const t0 = performance.now();
    const tables = (await c.query(`select tablename from pg_tables where schemaname = $1`, [schema])).rows.map((r) => r.tablename as string);
    for (const t of tables) await c.query(`vacuum (analyze) ${schema}."${t}"`);
    log(`vacuum (analyze) of ${tables.length} tables: ${Math.round(performance.now() - t0)} ms`);
  } finally {
    await c.end();
  }
}

/** Tasks of flow k: 70 % one task, 20 % a chain of 5, 10 % a chain of 20. */
const tasksOfFlow = (k: number) => (k % 10 < 7 ? 1 : k % 10 < 9 ? 5 : 20);

const QUERIES: Record<string, (flowIds: number[]) => Record<string, unknown>> = {
  // A flow name fragment: bench_42 and bench_420..429 (11 flows).
  flowName: () => ({ expression: 'bench_42' }),
  // An instance id fragment: every instance of the flows whose id ends in the first flow's last digit.
  instanceId: (ids) => ({ expression: `${ids[0] % 10}-` }),
  noMatch: () => ({ expression: 'no-such-thing' }),
  // No expression: the last 7 days of trigger times, SUCCESS and FAIL (wire 1, -1: src/api/wire.ts) only.
  // Runs up to 2026-12-02 asked '2,3' (RUNNING and an unmapped number): an empty answer every time.
  window: () => ({ status: '1,-1', fromTriggerTime: Date.now() - 7 * DAY, toTriggerTime: Date.now() }),
};

async function search(base: string, body: Record<string, unknown>): Promise<{ ms: number; count: number }> {
  const full = { type: 0, owner: '', status: '', fromTriggerTime: 0, toTriggerTime: Date.now() + 365 * DAY, pagination: { pageNo: 1, pageSize: 10 }, ...body };
  const t0 = performance.now();
  const res = await fetch(`${base}/flowInstances?action=search&${ID}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(full) });
  const json = (await res.json()) as { code: number; msg: string; data: { count: number } };
  const ms = performance.now() - t0;
  if (json.code !== 0) throw new Error(`search ${JSON.stringify(body)}: ${json.msg}`);
  return { ms, count: json.data.count };
}

export async function benchGrowth(opts: GrowthOptions): Promise<Record<string, unknown>> {
  const pgBase = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const isPg = opts.store === 'postgres';
  const seedMode: SeedMode = opts.seedMode ?? 'realistic';
  const seedCacheMiB = Number(process.env.BENCH_GROWTH_SEED_CACHE_MIB) || 2048;
  const schema = `bf_growth_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbUrl = `${pgBase}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-growth-'));
  const port = 17080 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}/batch-processing-service/v2.1`;
  const env: Record<string, string> = isPg ? { BATCHFLOW_DATABASE_URL: dbUrl } : {};
  const serve = (extra: Record<string, string> = {}) => startChild(['src/cli/main.ts', 'serve', '--port', String(port), '--data', dataDir], { ...env, ...extra });
  // The seeder's store (its page cache is the seeder's only: the server measured opens the store with
  // its own settings). With SQLite's default 2 MB cache, seeding fell from ~480/s to ~160/s by 400,000;
  // fast seeding with 256 MiB fell from 1,150/s to 600/s by 128,000 (a 290 MB file): 2 GiB holds the
  // b-trees of ~1,000,000 instances (BENCH_GROWTH_SEED_CACHE_MIB overrides).
  const openStore = (): Promise<Store> =>
    isPg ? createPostgresStore({ connectionString: pgBase, schema, poolSize: 8, listen: false }) : createSqliteStore({ filename: sqliteFileOf(dataDir), cacheSizeKiB: seedCacheMiB * 1024 });
  const sizeNow = (): Promise<StoreSize> => (isPg ? postgresSize(pgBase, schema) : Promise.resolve(sqliteSize(sqliteFileOf(dataDir))));
  const log = (msg: string) => console.log(`[growth ${opts.store}] ${new Date().toISOString().slice(11, 19)} ${msg}`);

  const rounds: GrowthRound[] = [];
  let marginal: Record<string, unknown> = {};
  try {
    // The flows, through the API (the first start bootstraps the org and its admin).
    let child = await serve();
    const flowIds: number[] = [];
    try {
      const dirs = (await (await fetch(`${base}/directories?action=listWorkFlowDirs&${ID}`)).json()) as { data: Array<{ key: string }> };
      for (let k = 0; k < opts.flows; k++) {
        const n = tasksOfFlow(k);
        const tasks = Array.from({ length: n }, (_, t) => ({ name: `t${t}`, type: 'SHELL', cmd: `run-step --part ${t} --date \${date}` }));
        const relations = tasks.slice(1).map((t, j) => ({ sourceTaskName: `t${j}`, targetTaskName: t.name, rerun: true }));
        const flowJson = { name: `f${k}`, type: 0, tasks, relations, parameters: [{ key: 'date', value: '20260101' }] };
        flowIds.push(Number((await post(base, 'import', { flowName: `bench_${k}`, desc: `growth benchmark flow ${k}, ${n} tasks`, dirId: dirs.data[0].key, flowJson })).flowId));
      }
    } finally {
      await stopChild(child);
    }
    let store = await openStore();
    const flows = (await Promise.all(flowIds.map((id) => store.getFlow(ORG, id)))) as FlowWithTasks[];
    const owner = (await store.getUser(USER))!.name;
    const now = Date.now();
    const maxHours = Math.ceil(Math.max(...opts.sizes, 1) / opts.flows);
    const plan: SeedPlan = {
      store,
      flows,
      orgId: ORG,
      userId: USER,
      owner,
      timezone: 'UTC',
      // History ends an hour ago; WAIT instances lie 30 days ahead, past every round's trigger minutes.
      pastStart: Math.floor(now / HOUR) * HOUR - (maxHours + 1) * HOUR,
      futureStart: Math.floor(now / HOUR) * HOUR + 30 * DAY,
      parallel: isPg ? 4 : 1,
      perTx: isPg ? 10 : 50,
      mode: seedMode,
      times: { createMs: 0, engineMs: 0, cancelMs: 0 },
    };
    // The defaults and each variant in turn, reps times, each drive its own server start (a cold page
    // cache, as the main round's) and its own trigger minutes: 2 hours apart within the round's day.
    const compareVariants = async (r: number): Promise<VariantResult[]> => {
      const all: GrowthVariant[] = [{ name: 'default', env: {} }, ...opts.variants!];
      const out: VariantResult[] = all.map((v) => ({ ...v, triggersPerSec: [], latencyP99Ms: [], serverCpuPercent: [], medianPerSec: 0, medianP99Ms: 0 }));
      let k = 1;
      for (let rep = 0; rep < (opts.variantReps ?? 2); rep++) {
        for (const [i, v] of all.entries()) {
          const c = await serve(v.env);
          try {
            const minute0 = Math.ceil((now + (r + 1) * DAY + k++ * 2 * HOUR) / 60_000) * 60_000;
            const d = await drive([port], [c.pid!], flowIds, minute0, opts.connections, opts.warmSec, opts.durationSec);
            if (d.nonZero > 0) throw new Error(`variant ${v.name}: ${d.nonZero} answers with a non-zero code`);
            out[i].triggersPerSec.push(d.perSec);
            out[i].latencyP99Ms.push(d.p99);
            out[i].serverCpuPercent.push(d.serverCpuPercent);
          } finally {
            await stopChild(c);
          }
        }
      }
      for (const o of out) Object.assign(o, { medianPerSec: Math.round(median(o.triggersPerSec)), medianP99Ms: round(median(o.latencyP99Ms), 1) });
      log(`variants: ${out.map((o) => `${o.name} ${o.triggersPerSec.join('/')}/s p99 ${o.latencyP99Ms.join('/')} ms`).join('; ')}`);
      return out;
    };
    let seeded = 0;
    for (const [r, size] of opts.sizes.entries()) {
      const t0 = performance.now();
      const times = plan.times!;
      const cpu0 = process.cpuUsage();
      Object.assign(times, { createMs: 0, engineMs: 0, cancelMs: 0 });
      let lastLog = t0;
      await seedInstances(plan, seeded, size, (done) => {
        if (performance.now() - lastLog > 30_000) {
          lastLog = performance.now();
          log(`seeded ${done.toLocaleString('en-US')} (${Math.round((done - seeded) / ((lastLog - t0) / 1000))}/s; create ${Math.round(times.createMs / 1000)} s, engine ${Math.round(times.engineMs / 1000)} s, cancel ${Math.round(times.cancelMs / 1000)} s)`);
        }
      });
      const seedSec = round((performance.now() - t0) / 1000, 1);
      // The seeder's own CPU over the wall time: on a shared machine the rate follows the share it got.
      const cpu = process.cpuUsage(cpu0);
      const seedCpuPercent = Math.round((cpu.user + cpu.system) / 10 / Math.max(performance.now() - t0, 1));
      const seedPerSec = size > seeded ? Math.round((size - seeded) / Math.max(seedSec, 0.1)) : 0;
      const seedPhasesSec = { create: round(times.createMs / 1000, 1), engine: round(times.engineMs / 1000, 1), cancel: round(times.cancelMs / 1000, 1) };
      if (size > seeded) log(`seeded ${size.toLocaleString('en-US')} in ${seedSec} s (${seedMode}: ${seedPerSec}/s at ${seedCpuPercent} % CPU; ${JSON.stringify(seedPhasesSec)} s)`);
      seeded = size;
      const stored = (await store.searchFlowInstances({ orgId: ORG, sort: [], offset: 0, limit: 1 })).total;
      await store.close();
      // PostgreSQL: what autovacuum does to a store that has lived for a while, at once, before measuring
      // (right after a bulk seeding no page is all-visible, so every index-only count reads the heap too).
      if (isPg && process.env.BENCH_GROWTH_PG_VACUUM !== '0') await vacuumSchema(pgBase, schema, log);
      const sizes = await sizeNow();

      child = await serve();
      let d;
      const searches: GrowthRound['searches'] = {};
      const load0 = os.loadavg()[0];
      try {
        // Each round's trigger minutes start a day after the previous round's: no duplicates.
        const minute0 = Math.ceil((now + (r + 1) * DAY) / 60_000) * 60_000;
        d = await drive([port], [child.pid!], flowIds, minute0, opts.connections, opts.warmSec, opts.durationSec);
        for (const [name, q] of Object.entries(QUERIES)) {
          const warm = await search(base, q(flowIds));
          // A query that takes seconds (the expression scans at 1,000,000) gets 3 runs, not searchRuns:
          // its spread is small against its time, and 7 runs of 3 queries would take minutes per round.
          const n = warm.ms > 2000 ? Math.min(3, opts.searchRuns) : opts.searchRuns;
          const runs = [];
          for (let k = 0; k < n; k++) runs.push(await search(base, q(flowIds)));
          searches[name] = { medianMs: round(median(runs.map((x) => x.ms)), 1), count: runs[0].count };
        }
      } finally {
        await stopChild(child);
      }
      const variants = opts.variants?.length ? await compareVariants(r) : undefined;
      const perTable: Record<string, number> = {};
      const indexBytes: Record<string, number> = {};
      for (const [name, t] of Object.entries(sizes.tables)) {
        perTable[name] = bytesOf(t);
        Object.assign(indexBytes, t.indexes);
      }
      const instBytes = INSTANCE_TABLES.reduce((s, t) => s + bytesOf(sizes.tables[t]), 0);
      rounds.push({
        seeded,
        stored,
        seedSec,
        seedMode,
        seedPerSec,
        seedPhasesSec,
        seedCpuPercent,
        triggersPerSec: d.perSec,
        latencyP50Ms: d.p50,
        latencyP99Ms: d.p99,
        requests: d.requests,
        nonZeroCodes: d.nonZero,
        serverCpuPercent: d.serverCpuPercent,
        loadAvg: [round(load0, 2), round(os.loadavg()[0], 2)],
        searches,
        variants,
        totalBytes: sizes.totalBytes,
        bytesPerInstance: stored ? Math.round(instBytes / stored) : 0,
        bytesPerInstanceByTable: Object.fromEntries(INSTANCE_TABLES.map((t) => [t, stored ? Math.round(bytesOf(sizes.tables[t]) / stored) : 0])),
        tableBytes: perTable,
        indexBytes,
      });
      const last = rounds[rounds.length - 1];
      log(`at ${stored.toLocaleString('en-US')} stored: ${last.triggersPerSec}/s p99 ${last.latencyP99Ms} ms; ${Object.entries(searches).map(([k, v]) => `${k} ${v.medianMs} ms`).join(', ')}; ${last.bytesPerInstance} B/instance`);
      store = await openStore();
      plan.store = store;
    }
    marginal = await measureMarginal(plan, flows, opts.marginal, sizeNow, () => store.close(), async () => {
      plan.store = store = await openStore();
    });
    await store.close();
  } finally {
    // BENCH_GROWTH_KEEP=1 leaves the store behind for profiling (bench/README.md, "where the decline comes from").
    if (process.env.BENCH_GROWTH_KEEP === '1') log(`kept: ${isPg ? `schema ${schema} of ${pgBase}` : sqliteFileOf(dataDir)}`);
    else rmSync(dataDir, { recursive: true, force: true });
    if (isPg && process.env.BENCH_GROWTH_KEEP !== '1') {
      const c = new pg.Client({ connectionString: pgBase });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`).finally(() => c.end());
    }
  }
  const [first, lastR] = [rounds[0], rounds[rounds.length - 1]];
  return {
    store: opts.store,
    flows: opts.flows,
    flowMix: '70 % one task, 20 % a chain of 5, 10 % a chain of 20',
    seedMode,
    seedCacheMiB: isPg ? undefined : seedCacheMiB,
    statusMix: seedMixOf(seedMode),
    connections: opts.connections,
    durationSec: opts.durationSec,
    // After the VACUUM, new rows reuse the space it freed: a fresh instance's bytes then measure nothing.
    pgVacuumed: isPg && process.env.BENCH_GROWTH_PG_VACUUM !== '0',
    emptyTriggersPerSec: first.triggersPerSec,
    largestTriggersPerSec: lastR.triggersPerSec,
    throughputRatio: round(lastR.triggersPerSec / first.triggersPerSec, 2),
    p99Ratio: round(lastR.latencyP99Ms / first.latencyP99Ms, 2),
    rounds,
    ...marginal,
  };
}

/**
 * On the full store: `n` one-task instances (hours before the seeded history) measured fresh (WAIT),
 * then run to SUCCESS with their history, then given ~4 KiB of log each in 1 KiB appends.
 */
async function measureMarginal(plan: SeedPlan, flows: FlowWithTasks[], n: number, sizeNow: () => Promise<StoreSize>, close: () => Promise<void>, reopen: () => Promise<void>): Promise<Record<string, unknown>> {
  const oneTask = flows.filter((f) => f.tasks.length === 1);
  const hours = Math.ceil(n / oneTask.length);
  const p: SeedPlan = { ...plan, flows: oneTask, pastStart: plan.pastStart - (hours + 2) * HOUR };
  const count = hours * oneTask.length;
  const measure = async () => {
    await close();
    const s = await sizeNow();
    await reopen();
    p.store = plan.store;
    return s;
  };
  const s0 = await measure();
  const made = await createInstances(p, 0, count, () => 'SUCCESS');
  const s1 = await measure();
  await endInstances(p, made);
  const s2 = await measure();
  const chunk = 'step 3/7: loading partition 2026-01-01 into warehouse.sales_daily ... 12873 rows, 0 rejected\n'.repeat(11).slice(0, 1024);
  let logBytes = 0;
  for (let k = 0; k < 4; k++) {
    await Promise.all(made.map((m) => p.store.appendLog(m.n.tasks[0].id, 1, chunk)));
    logBytes += chunk.length * made.length;
  }
  const s3 = await measure();
  const only = INSTANCE_TABLES.filter((t) => t !== 'task_logs');
  return {
    marginalInstances: count,
    freshOneTaskBytes: delta(s0, s1, count).perUnit,
    freshOneTaskByTable: delta(s0, s1, count).byTable,
    finishedOneTaskBytes: delta(s0, s2, count).perUnit,
    finishedOneTaskByTable: delta(s0, s2, count).byTable,
    finishedOneTaskWithoutLogBytes: delta(s0, s2, count, only).perUnit,
    bytesPerLogByte: round((bytesOf(s3.tables.task_logs) - bytesOf(s2.tables.task_logs)) / logBytes, 3),
  };
}
