// Benchmarks on PostgreSQL: the chain of N `true` tasks and the fan-out of N + 1 join, in one deployment
// per configuration (bench/pgCluster.ts): one `--role all` process (engine and store client in one
// process), or an api process plus 1, 2 or 4 worker processes sharing 8 slots; and, for reference, the
// same `--role all` process on SQLite, run the same way. Stamps are the engines' own events, collected
// from every process on CLOCK_MONOTONIC (bench/engineProbe.ts); floors are measured before each run.
import os from 'node:os';
import { maxOverlap, median, percentile, round } from './machine.js';
import { pgRoundTripMs, startCluster, withRetry, type PgRun, type ProcSpec } from './pgCluster.js';
import { measureBareNodeSpawnFloor } from './spawnFloor.js';

/** The total slots of every configuration: the "concurrency 8", and the floor's parallelism. */
export const SLOTS = 8;

export interface PgConfig {
  /** Key suffix and label: sqlite, all, w1, w2, w4. */
  name: string;
  store: 'postgres' | 'sqlite';
  /** Worker processes beside one api process; 0: a single `--role all` process. */
  workers: number;
}

export const PG_CONFIGS: PgConfig[] = [
  { name: 'sqlite', store: 'sqlite', workers: 0 },
  { name: 'all', store: 'postgres', workers: 0 },
  { name: 'w1', store: 'postgres', workers: 1 },
  { name: 'w2', store: 'postgres', workers: 2 },
  { name: 'w4', store: 'postgres', workers: 4 },
];

function specsOf(c: PgConfig): ProcSpec[] {
  if (c.workers === 0) return [{ role: 'all', concurrency: SLOTS }];
  return [{ role: 'api' }, ...Array.from({ length: c.workers }, () => ({ role: 'worker' as const, concurrency: SLOTS / c.workers }))];
}

interface Common {
  date: string;
  config: string;
  store: 'postgres' | 'sqlite';
  /** Worker processes (0: one `--role all` process). */
  workers: number;
  slotsPerWorker: number;
  tasks: number;
  runs: number;
  /** Trigger Flow request sent -> instanceEnded (in whichever process), per run, and its median / the median floor. */
  triggerToEndMs: number[];
  medianTriggerToEndMs: number;
  triggerToEndRatioToFloor: number;
  floorSamplesMs: number[];
  floorTotalMs: number;
  floorPerTaskMs: number;
  /** Median total / median floor, and best / best. */
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor) / tasks. */
  overheadPerTaskMs: number;
  totalMs: number[];
  medianTotalMs: number;
  bestTotalMs: number;
  /** Worker processes that ran at least one task of a run (median over runs). */
  workersUsed: number;
  /** Per attempt, over all runs: spawn asked -> spawned; exit seen -> exit learned by its engine. */
  spawnCallMedianMs: number;
  exitRelayMedianMs: number;
  /** PostgreSQL's round trip (`select 1` from the benchmark's process) measured before each run: median of the runs' medians. */
  pgRoundTripMs: number;
  /** Deployments it took (2: the first failed, e.g. PostgreSQL restarted by another session). */
  attempts?: number;
  /** os.loadavg()[0] (1-minute load of the 2 cores) when this deployment started and when it ended: other sessions' work shows here. */
  loadAvg: [number, number];
  /** BENCH_PG_SQL_PROFILE=1 only: per task, the engines' query count and time by kind (all runs). */
  sqlPerTask?: Record<string, { n: number; ms: number }>;
}

export interface PgChainResult extends Common {
  /** exit seen -> successor's spawn() returned (the chain gap, as bench/chain.ts defines it). */
  gapMedianMs: number;
  gapP99Ms: number;
  /** exit learned by the engine -> successor's spawn asked: the engine's decision (its transaction). */
  engineGapMedianMs: number;
  engineGapP99Ms: number;
  spawnCallP99Ms: number;
  exitRelayP99Ms: number;
  runMedianMs: number;
  /** Successors started by another worker process than their predecessor's, per run (median). */
  handoffs: number;
}

export interface PgFanoutResult extends Common {
  width: number;
  maxInFlight: number;
  /** The last of the N exits learned -> the join's spawn asked. */
  joinDecisionMedianMs: number;
}

const p = (sorted: number[], q: number) => round(percentile(sorted, q));
const sortAll = (...as: number[][]) => as.forEach((a) => a.sort((x, y) => x - y));



function addSql(into: Record<string, { n: number; ms: number }>, run: PgRun): void {
  for (const [k, v] of Object.entries(run.sql ?? {})) into[k] = { n: (into[k]?.n ?? 0) + v.n, ms: (into[k]?.ms ?? 0) + v.ms };
}

function perTask(sql: Record<string, { n: number; ms: number }>, tasks: number): Record<string, { n: number; ms: number }> | undefined {
  const out = Object.entries(sql)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([k, v]) => [k, { n: round(v.n / tasks, 2), ms: round(v.ms / tasks) }] as const);
  return out.length ? Object.fromEntries(out) : undefined;
}

/** Totals, floors and the figures both shapes share. */
function common(c: PgConfig, tasks: number, runs: PgRun[], totals: number[], floors: number[], sql: Record<string, { n: number; ms: number }>, load0: number, pings: number[]): Common {
  const spawnCalls = runs.flatMap((r) => r.tasks.map((t) => t.spawnedHr - t.spawnHr));
  const relays = runs.flatMap((r) => r.tasks.map((t) => t.exitedHr! - t.exitSeenHr!));
  sortAll(spawnCalls, relays);
  const med = median(totals);
  const floor = median(floors);
  const triggerToEnd = runs.map((r) => r.instanceEndedHr - r.triggerHr);
  return {
    date: new Date().toISOString(),
    config: c.name,
    store: c.store,
    workers: c.workers,
    slotsPerWorker: c.workers === 0 ? SLOTS : SLOTS / c.workers,
    tasks,
    runs: runs.length,
    triggerToEndMs: triggerToEnd.map((x) => round(x, 1)),
    medianTriggerToEndMs: round(median(triggerToEnd), 1),
    triggerToEndRatioToFloor: round(median(triggerToEnd) / floor, 2),
    floorSamplesMs: floors.map((x) => round(x, 1)),
    floorTotalMs: round(floor, 1),
    floorPerTaskMs: round(floor / tasks),
    ratioToFloor: round(med / floor, 2),
    bestRatioToFloor: round(Math.min(...totals) / Math.min(...floors), 2),
    overheadPerTaskMs: round((med - floor) / tasks),
    totalMs: totals.map((x) => round(x, 1)),
    medianTotalMs: round(med, 1),
    bestTotalMs: round(Math.min(...totals), 1),
    workersUsed: median(runs.map((r) => new Set(r.tasks.map((t) => t.workerPid)).size)),
    spawnCallMedianMs: p(spawnCalls, 50),
    exitRelayMedianMs: p(relays, 50),
    pgRoundTripMs: round(median(pings)),
    loadAvg: [round(load0, 2), round(os.loadavg()[0], 2)],
    sqlPerTask: perTask(sql, tasks * runs.length),
  };
}

function chainResult(c: PgConfig, n: number, runs: PgRun[], floors: number[], sql: Record<string, { n: number; ms: number }>, load0: number, pings: number[]): PgChainResult {
  const gaps: number[] = [];
  const engineGaps: number[] = [];
  const spawnCalls: number[] = [];
  const relays: number[] = [];
  const lives: number[] = [];
  const handoffs: number[] = [];
  const totals: number[] = [];
  runs.forEach((run, r) => {
    const t = run.tasks;
    if (t.length !== n) throw new Error(`chain run ${r}: ${t.length} of ${n} tasks reported`);
    let moved = 0;
    for (let i = 0; i < n; i++) {
      spawnCalls.push(t[i].spawnedHr - t[i].spawnHr);
      relays.push(t[i].exitedHr! - t[i].exitSeenHr!);
      lives.push(t[i].exitSeenHr! - t[i].spawnedHr);
      if (i === 0) continue;
      if (t[i].spawnHr < t[i - 1].exitedHr!) throw new Error(`chain run ${r}: task ${i} started before its predecessor ended`);
      gaps.push(t[i].spawnedHr - t[i - 1].exitSeenHr!);
      engineGaps.push(t[i].spawnHr - t[i - 1].exitedHr!);
      if (t[i].workerPid !== t[i - 1].workerPid) moved++;
    }
    handoffs.push(moved);
    totals.push(t[n - 1].exitedHr! - t[0].spawnHr);
  });
  sortAll(gaps, engineGaps, spawnCalls, relays, lives);
  return {
    ...common(c, n, runs, totals, floors, sql, load0, pings),
    gapMedianMs: p(gaps, 50),
    gapP99Ms: p(gaps, 99),
    engineGapMedianMs: p(engineGaps, 50),
    engineGapP99Ms: p(engineGaps, 99),
    spawnCallP99Ms: p(spawnCalls, 99),
    exitRelayP99Ms: p(relays, 99),
    runMedianMs: p(lives, 50),
    handoffs: median(handoffs),
  };
}

function fanoutResult(c: PgConfig, width: number, runs: PgRun[], floors: number[], sql: Record<string, { n: number; ms: number }>, load0: number, pings: number[]): PgFanoutResult {
  const n = width + 1;
  const totals: number[] = [];
  const joins: number[] = [];
  let maxInFlight = 0;
  runs.forEach((run, r) => {
    const t = run.tasks;
    if (t.length !== n) throw new Error(`fan-out run ${r}: ${t.length} of ${n} tasks reported`);
    const join = t[n - 1];
    const lastOfWidth = Math.max(...t.slice(0, width).map((x) => x.exitedHr!));
    if (join.spawnHr < lastOfWidth) throw new Error(`fan-out run ${r}: the join started before all its predecessors ended`);
    joins.push(join.spawnHr - lastOfWidth);
    maxInFlight = Math.max(maxInFlight, maxOverlap(t));
    totals.push(join.exitedHr! - t[0].spawnHr);
  });
  return { ...common(c, n, runs, totals, floors, sql, load0, pings), width, maxInFlight, joinDecisionMedianMs: round(median(joins)) };
}

export interface PgFlowsOptions {
  n: number;
  runs: number;
  configs?: PgConfig[];
  /** Passed to every process: BENCH_PG_SQL_PROFILE=1 adds sqlPerTask (and costs a little per query). */
  env?: Record<string, string>;
}

/**
 * One deployment of configuration `c`: imports both flows, runs the fan-out once unmeasured (it opens the
 * pools' connections and warms the plans), then the chain `runs` times and the fan-out `runs` times, each
 * run after its floor and PostgreSQL's round trip.
 */
async function benchConfig(c: PgConfig, opts: PgFlowsOptions): Promise<{ chain: PgChainResult; fan: PgFanoutResult }> {
  const { n, runs } = opts;
  const load0 = os.loadavg()[0];
  const cluster = await startCluster(specsOf(c), { store: c.store, env: opts.env });
  try {
    const chainId = await cluster.importFlow('chain', Array.from({ length: n }, () => 'true'), Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]));
    const fanId = await cluster.importFlow('fanout', Array.from({ length: n + 1 }, () => 'true'), Array.from({ length: n }, (_, i) => [i, n] as [number, number]));
    // Each run its own minute (instance ids are per minute), all counted from one base.
    const base = Date.now();
    const minute = (k: number) => base - (k + 1) * 60_000;
    const check = (run: PgRun, what: string) => {
      if (run.status !== 'SUCCESS') throw new Error(`${c.name} ${what} ended ${run.status}`);
      return run;
    };
    check(await cluster.runInstance(fanId, minute(0)), 'warm-up');
    const shape = async (flowId: number, firstMinute: number, floor: () => Promise<{ totalMs: number }>, what: string) => {
      const got = { runs: [] as PgRun[], floors: [] as number[], sql: {}, pings: [] as number[], load0: os.loadavg()[0] };
      for (let r = 0; r < runs; r++) {
        got.floors.push((await floor()).totalMs);
        got.pings.push(await pgRoundTripMs());
        const run = check(await cluster.runInstance(flowId, minute(firstMinute + r)), what);
        addSql(got.sql, run);
        got.runs.push(run);
      }
      return got;
    };
    const ch = await shape(chainId, 0, () => measureBareNodeSpawnFloor(n), 'chain');
    const fa = await shape(fanId, 1, () => measureBareNodeSpawnFloor(n, { parallel: SLOTS, join: true }), 'fan-out');
    return {
      chain: chainResult(c, n, ch.runs, ch.floors, ch.sql, load0, ch.pings),
      fan: fanoutResult(c, n, fa.runs, fa.floors, fa.sql, fa.load0, fa.pings),
    };
  } finally {
    await cluster.close();
  }
}

/** Every configuration in turn (a failed deployment is run once more). Results by key: pgChain-<config>, pgFanout-<config>. */
export async function benchPgFlows(opts: PgFlowsOptions): Promise<Record<string, PgChainResult | PgFanoutResult>> {
  const out: Record<string, PgChainResult | PgFanoutResult> = {};
  for (const c of opts.configs ?? PG_CONFIGS) {
    const { chain, fan, attempts } = await withRetry(`PostgreSQL flows, ${c.name}`, () => benchConfig(c, opts));
    out[`pgChain-${c.name}`] = { ...chain, attempts };
    out[`pgFanout-${c.name}`] = { ...fan, attempts };
  }
  return out;
}
