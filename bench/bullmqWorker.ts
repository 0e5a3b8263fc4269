// The BullMQ baseline's own process (compiled to JavaScript and started with plain `node` by
// bench/bullmq.ts, so that the worker forks from a process holding BullMQ and ioredis only, as a deployed
// BullMQ worker would, and not from the benchmark's service-sized one). One FlowProducer and ONE Worker (concurrency 8, like batchflow's) on a queue under a
// prefix unique to this process, against Redis at 127.0.0.1:6379. The processor spawns `/bin/sh -c true`
// (the executor's stdio and process-group options) and completes the job when the child closes.
//
// Shapes: `chain`, a flow nested N deep (in BullMQ a parent runs after its children, so the deepest child
// t0 runs first and the root t(N-1) last), or, if BullMQ refuses to add it, jobs added one by one, each
// when its predecessor completes; `fanout`, a parent (the join) with N children. Each run: the floor from
// a bare `node` (sequential N for the chain, 8 in flight + 1 for the fan-out), then the flow, timed from
// just before FlowProducer.add to the Worker's `completed` event of the last job. All keys under the
// prefix are deleted at the end, whatever happened.
//
// Input: argv[2], JSON {shape, n, runs, concurrency}. Output: the result as one JSON line on stdout.
import { FlowProducer, Queue, Worker, type FlowJob, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { median, round, spread } from './machine.js';
import { measureBareNodeSpawnFloor } from './spawnFloor.js';

export type BullmqShape = 'chain' | 'fanout';

export interface BullmqInput {
  shape: BullmqShape;
  /** Chain: its length. Fan-out: the parent's children (the flow has N + 1 jobs). */
  n: number;
  runs: number;
  concurrency: number;
  /** Chain only: start with jobs added one by one on completion instead of a nested flow (to compare the two). */
  chainAddedOnCompletion?: boolean;
}

export interface BullmqResult {
  date: string;
  shape: BullmqShape;
  /** Jobs in the flow (chain: N; fan-out: N + 1). */
  tasks: number;
  width?: number;
  runs: number;
  concurrency: number;
  bullmqVersion: string;
  redisVersion: string;
  /** How the chain was built: one nested flow, or each job added when its predecessor completed. */
  build: 'nested flow' | 'flow (parent with children)' | 'added on completion';
  /** Why the nested flow could not be used, if it could not. */
  nestedError?: string;
  /** FlowProducer.add called -> it resolved (the flow is in Redis), per run. */
  addMs: number[];
  /** FlowProducer.add called -> the last job's `completed`, per run. */
  totalMs: number[];
  bestTotalMs: number;
  medianTotalMs: number;
  floorTotalMs: number;
  floorPerTaskMs: number;
  floorSamplesMs: number[];
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor) / tasks. */
  overheadPerTaskMs: number;
  /** Per job: the processor called -> spawn() returned; spawn() returned -> `close`. */
  spawnCallMedianMs: number;
  runMedianMs: number;
  /** Chain only: a job's child closed -> the next job's processor called (BullMQ's completion, its parent's move to wait, the fetch). */
  exitToNextSpawnMedianMs?: number;
  exitToNextSpawnP99Ms?: number;
  /** The worker process's resident memory at the end (its forks copy its page tables). */
  workerRssMiB: number;
  maxInFlight: number;
}

interface Stamp {
  called: number;
  spawned: number;
  closed: number;
  completed?: number;
}

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

function runTrue(stamp: Stamp): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
    stamp.spawned = performance.now();
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      stamp.closed = performance.now();
      if (code === 0) resolve();
      else reject(new Error(`true exited ${code}`));
    });
  });
}

async function deleteKeys(prefix: string): Promise<number> {
  const r = new Redis(connection);
  let cursor = '0';
  let n = 0;
  try {
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

async function main(input: BullmqInput): Promise<BullmqResult> {
  const { shape, n, runs, concurrency } = input;
  const tasks = shape === 'chain' ? n : n + 1;
  const prefix = `batchflow-bench-${process.pid}-${Date.now()}`;
  const queueName = 'tasks';
  // Jobs in flight of the current run, by job name, and the one whose completion ends the run.
  let stamps = new Map<string, Stamp>();
  let lastName = '';
  let onLast: (() => void) | undefined;
  let onCompleted: ((job: Job) => void) | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  let failure: Error | undefined;
  const worker = new Worker(
    queueName,
    async (job) => {
      const stamp: Stamp = { called: performance.now(), spawned: 0, closed: 0 };
      stamps.set(job.name, stamp);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        await runTrue(stamp);
      } finally {
        inFlight--;
      }
      return 0;
    },
    { connection, prefix, concurrency },
  );
  worker.on('completed', (job) => {
    const s = stamps.get(job.name);
    if (s) s.completed = performance.now();
    onCompleted?.(job);
    if (job.name === lastName) onLast?.();
  });
  worker.on('failed', (job, err) => {
    failure = new Error(`BullMQ job ${job?.name} failed: ${err.message}`);
    onLast?.();
  });
  const producer = new FlowProducer({ connection, prefix });
  const queue = new Queue(queueName, { connection, prefix });
  const redis = new Redis(connection);
  try {
    await Promise.all([worker.waitUntilReady(), producer.waitUntilReady(), queue.waitUntilReady()]);
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const bullmqVersion = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
    let build: BullmqResult['build'] = shape === 'fanout' ? 'flow (parent with children)' : input.chainAddedOnCompletion ? 'added on completion' : 'nested flow';
    let nestedError: string | undefined;
    const addMs: number[] = [];
    const totals: number[] = [];
    const floors: number[] = [];
    const spawnCalls: number[] = [];
    const lives: number[] = [];
    const exitToNext: number[] = [];
    let attempts = 0;
    for (let r = 0; r < runs; r++) {
      floors.push((await measureBareNodeSpawnFloor(n, shape === 'chain' ? {} : { parallel: concurrency, join: true })).totalMs);
      stamps = new Map();
      failure = undefined;
      // Job names unique over the whole process (a retried run gets new ones).
      const tag = ++attempts;
      const names = Array.from({ length: tasks }, (_, i) => `a${tag}-t${i}`);
      lastName = names[tasks - 1];
      const finished = new Promise<void>((resolve) => (onLast = resolve));
      const timeout = setTimeout(() => {
        failure = new Error(`BullMQ run ${r} did not finish in time`);
        onLast?.();
      }, 60_000 + tasks * 100);
      // The flow's description is built before the clock starts: only the add and what follows are timed.
      let flow: FlowJob | undefined;
      if (build !== 'added on completion') {
        if (shape === 'chain') {
          flow = { name: names[0], queueName, data: {} };
          for (let i = 1; i < tasks; i++) flow = { name: names[i], queueName, data: {}, children: [flow] };
        } else {
          flow = { name: names[n], queueName, data: {}, children: names.slice(0, n).map((name) => ({ name, queueName, data: {} })) };
        }
      }
      const indexOf = new Map(names.map((name, i) => [name, i]));
      const t0 = performance.now();
      if (!flow) {
        onCompleted = (job) => {
          const i = indexOf.get(job.name);
          if (i !== undefined && i < tasks - 1) void queue.add(names[i + 1], {}).catch((e: Error) => ((failure = e), onLast?.()));
        };
        await queue.add(names[0], {});
      } else {
        onCompleted = undefined;
        try {
          await producer.add(flow);
        } catch (e) {
          if (shape !== 'chain' || r > 0) throw e;
          // BullMQ could not add a flow this deep: say why, and build the chain by adding each job when its
          // predecessor completes (one more round trip per task, through this process).
          nestedError = (e as Error).message.slice(0, 300);
          build = 'added on completion';
          r--;
          floors.pop();
          clearTimeout(timeout);
          continue;
        }
      }
      addMs.push(performance.now() - t0);
      await finished;
      clearTimeout(timeout);
      if (failure) throw failure;
      const end = stamps.get(lastName)!.completed!;
      totals.push(end - t0);
      const ordered = names.map((name) => stamps.get(name)!);
      if (ordered.some((s) => !s?.closed)) throw new Error(`BullMQ run ${r}: not every job ran`);
      for (const s of ordered) {
        spawnCalls.push(s.spawned - s.called);
        lives.push(s.closed - s.spawned);
      }
      if (shape === 'chain') for (let i = 1; i < tasks; i++) exitToNext.push(ordered[i].called - ordered[i - 1].closed);
    }
    const med = median(totals);
    const floorMed = median(floors);
    const gap = shape === 'chain' ? spread(exitToNext) : undefined;
    return {
      date: new Date().toISOString(),
      shape,
      tasks,
      ...(shape === 'fanout' ? { width: n } : {}),
      runs,
      concurrency,
      bullmqVersion,
      redisVersion,
      build,
      ...(nestedError ? { nestedError } : {}),
      addMs: addMs.map((x) => round(x, 1)),
      totalMs: totals.map((x) => round(x, 1)),
      bestTotalMs: round(Math.min(...totals), 1),
      medianTotalMs: round(med, 1),
      floorTotalMs: round(floorMed, 1),
      floorPerTaskMs: round(floorMed / tasks),
      floorSamplesMs: floors.map((f) => round(f, 1)),
      ratioToFloor: round(med / floorMed, 2),
      bestRatioToFloor: round(Math.min(...totals) / Math.min(...floors), 2),
      overheadPerTaskMs: round((med - floorMed) / tasks),
      spawnCallMedianMs: round(median(spawnCalls)),
      runMedianMs: round(median(lives)),
      ...(gap ? { exitToNextSpawnMedianMs: gap.medianMs, exitToNextSpawnP99Ms: gap.p99Ms } : {}),
      workerRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      maxInFlight,
    };
  } finally {
    await Promise.allSettled([worker.close(), producer.close(), queue.close()]);
    redis.disconnect();
    await deleteKeys(prefix);
  }
}

const result = await main(JSON.parse(process.argv[2]) as BullmqInput);
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
