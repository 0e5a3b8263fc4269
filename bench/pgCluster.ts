// A batchflow deployment on PostgreSQL for one benchmark: a fresh database (created here, dropped by
// close()), then `batchflow serve` processes of the roles asked for (each `node --import tsx` with
// bench/engineProbe.ts preloaded, its own --data dir, the probe's IPC channel), a V2.1 client of the first
// API process, and runs of one flow instance with every task's stamps collected from all processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { apiCaller, type TaskStamps } from './harness.js';
import type { ProbeEvent, ProbeMessage } from './engineProbe.js';

/** Where the benchmarks create their databases (BENCH_DATABASE_URL; any database of the server will do). */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROOT = path.resolve(import.meta.dirname, '..');
const PROBE = path.join(import.meta.dirname, 'engineProbe.ts');

export const nowMono = () => Number(process.hrtime.bigint()) / 1e6;

export interface ProcSpec {
  role: 'all' | 'api' | 'scheduler' | 'worker';
  /** Engine slots (worker, all). */
  concurrency?: number;
}

export interface BfProcess {
  spec: ProcSpec;
  child: ChildProcess;
  port: number;
  dataDir: string;
  /** Rejects when the process exits before it is told to stop (a crash, a PostgreSQL restart it did not survive). */
  died: Promise<never>;
}

/** One task attempt's stamps, on CLOCK_MONOTONIC, with the pid of the worker that ran it. */
export interface PgTaskStamps extends TaskStamps {
  task: string;
  workerPid: number;
}

export interface PgRun {
  /** In the order their taskStarted was stamped (spawnHr). */
  tasks: PgTaskStamps[];
  triggerHr: number;
  instanceEndedHr: number;
  status: string;
  sql?: Record<string, { n: number; ms: number }>;
  /** With BENCH_PG_SQL_PROFILE=trace: every query of the engines during the run, by start time. */
  trace?: Array<{ pid: number; at: number; ms: number; text: string }>;
}

export interface PgCluster {
  database: string;
  url: string;
  procs: BfProcess[];
  call<T = any>(method: 'GET' | 'POST', resource: string, action: string, body?: unknown): Promise<T>;
  importFlow(name: string, cmds: string[], edges: Array<[number, number]>): Promise<number>;
  runInstance(flowId: number, triggerTime: number): Promise<PgRun>;
  close(): Promise<void>;
}

/** Runs `fn` on a connection of its own to ADMIN_URL's database. */
export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * The PostgreSQL round trip of this moment: `select 1` `n` times on one connection of the benchmark's
 * process, after 20 unmeasured; the median of the single round trips, in ms. Measured beside each run:
 * every engine statement pays one (the statements are sent one after the other).
 */
export async function pgRoundTripMs(n = 200): Promise<number> {
  return admin(async (c) => {
    for (let i = 0; i < 20; i++) await c.query('select 1');
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await c.query('select 1');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(n / 2)];
  });
}

/** The URL of another database on the same server. */
const urlOf = (database: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
};

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

function startProc(url: string, spec: ProcSpec, env: Record<string, string>): Promise<BfProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `batchflow-bench-pg-${spec.role}-`));
  const port = freePort();
  const args = ['serve', ...(url ? ['--database-url', url] : []), '--role', spec.role, '--data', dataDir, '--port', String(port)];
  if (spec.concurrency !== undefined) args.push('--concurrency', String(spec.concurrency));
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', '--import', PROBE, 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, BATCHFLOW_LOG_LEVEL: 'warn', BATCHFLOW_AUTH: 'false', ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.on('error', () => {}); // a send on a closed channel: `died` tells
  let out = '';
  const died = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`batchflow serve --role ${spec.role} exited (${signal ?? code}): ${out.slice(-500)}`))));
  died.catch(() => {});
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // Every role prints this line once it does what it was started for.
      if (/batchflow: role \w+:/.test(out)) resolve({ spec, child, port, dataDir, died });
    });
    died.catch(reject);
  });
}

async function stopProc(p: BfProcess): Promise<void> {
  const c = p.child;
  if (c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
  rmSync(p.dataDir, { recursive: true, force: true });
}

function ask(p: BfProcess): Promise<Extract<ProbeMessage, { events: ProbeEvent[] }>> {
  const answer = new Promise<Extract<ProbeMessage, { events: ProbeEvent[] }>>((resolve) => {
    const on = (m: ProbeMessage) => {
      if (!('events' in m)) return;
      p.child.off('message', on);
      resolve(m);
    };
    p.child.on('message', on);
    p.child.send('flush');
  });
  return Promise.race([answer, p.died]);
}

/**
 * Runs `fn` (one deployment's benchmark) again once when it failed: the PostgreSQL server of this machine
 * is shared, and other sessions restart it at times. The result says how many attempts it took.
 */
export async function withRetry<T extends object>(label: string, fn: () => Promise<T>): Promise<T & { attempts: number }> {
  try {
    return { ...(await fn()), attempts: 1 };
  } catch (err) {
    console.error(`${label}: failed (${(err as Error).message.split('\n')[0]}); once more`);
    return { ...(await fn()), attempts: 2 };
  }
}

/**
 * Starts the processes in order (the first API process first: it bootstraps the organization and user of
 * an empty store; the others together) on a fresh database, or, with `store: 'sqlite'`, one `--role all`
 * process on its own SQLite store. `env` goes to every process (e.g. BENCH_PG_SQL_PROFILE).
 */
export async function startCluster(specs: ProcSpec[], opts: { store?: 'postgres' | 'sqlite'; env?: Record<string, string> } = {}): Promise<PgCluster> {
  const env = opts.env ?? {};
  // SQLite (the reference: one `--role all` process on the embedded store, started the same way).
  const sqlite = opts.store === 'sqlite';
  if (sqlite && (specs.length !== 1 || specs[0].role !== 'all')) throw new Error('the SQLite store serves one process with the role all');
  const database = sqlite ? '' : `bf_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  if (!sqlite) await admin((c) => c.query(`create database ${database}`));
  const url = sqlite ? '' : urlOf(database);
  const procs: BfProcess[] = [];
  const close = async () => {
    await Promise.all(procs.map(stopProc));
    if (!sqlite) await admin((c) => c.query(`drop database if exists ${database} with (force)`));
  };
  try {
    const first = specs.findIndex((s) => s.role === 'api' || s.role === 'all');
    if (first < 0) throw new Error('a cluster needs an api or all process');
    procs.push(await startProc(url, specs[first], env));
    procs.push(...(await Promise.all(specs.filter((_, i) => i !== first).map((s) => startProc(url, s, env)))));
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  const api = procs[0];
  const base = `http://127.0.0.1:${api.port}/batch-processing-service/v2.1`;
  const call = apiCaller(base);
  const engines = procs.filter((p) => p.spec.role === 'worker' || p.spec.role === 'all');
  return {
    database,
    url,
    procs,
    call,
    async importFlow(name, cmds, edges) {
      const dirs = await call('GET', 'directories', 'listWorkFlowDirs');
      const flowJson = {
        name,
        type: 0,
        tasks: cmds.map((cmd, i) => ({ name: `t${i}`, type: 'SHELL', cmd, timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' })),
        relations: edges.map(([a, b]) => ({ sourceTaskName: `t${a}`, targetTaskName: `t${b}`, rerun: true })),
        parameters: [],
      };
      return Number((await call('POST', 'flows', 'import', { flowName: name, desc: '', dirId: dirs[0].key, flowJson })).flowId);
    },
    async runInstance(flowId, triggerTime) {
      await Promise.all(engines.map(ask)); // drop what came before (the sweeps, earlier instances)
      for (const p of engines) p.child.send('resetSql');
      let instanceId = '';
      const seen = new Map<string, ProbeEvent>();
      let wake: () => void = () => {};
      const onMsg = (m: ProbeMessage) => {
        if ('instanceEnded' in m && m.instanceEnded.k === 'instanceEnded') {
          seen.set(m.instanceEnded.instance, m.instanceEnded);
          wake();
        }
      };
      for (const p of engines) p.child.on('message', onMsg);
      try {
        const triggerHr = nowMono();
        instanceId = String((await call('POST', 'flows', 'trigger', { flowId, triggerTime })).flowInstanceId);
        const deadline = Date.now() + 300_000;
        while (!seen.has(instanceId)) {
          if (Date.now() > deadline) throw new Error(`instance ${instanceId} did not end within 300 s`);
          await Promise.race([
            new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 1000);
            }),
            ...procs.map((p) => p.died),
          ]);
        }
        const end = seen.get(instanceId) as Extract<ProbeEvent, { k: 'instanceEnded' }>;
        const flushed = await Promise.all(engines.map(ask));
        const byTask = new Map<string, PgTaskStamps>();
        for (const e of flushed.flatMap((f) => f.events)) {
          if (e.k === 'started' && e.instance === instanceId) byTask.set(e.task, { task: e.task, workerPid: e.pid, spawnHr: e.spawnHr, spawnedHr: e.spawnedHr });
        }
        for (const e of flushed.flatMap((f) => f.events)) {
          const t = e.k === 'ended' && e.instance === instanceId ? byTask.get(e.task) : undefined;
          if (t && e.k === 'ended') Object.assign(t, { exitSeenHr: e.exitSeenHr, exitedHr: e.exitedHr, endedHr: e.endedHr });
        }
        const tasks = [...byTask.values()].sort((a, b) => a.spawnHr - b.spawnHr);
        if (tasks.some((t) => t.exitedHr === undefined)) throw new Error('not every task reported its end');
        const sql: Record<string, { n: number; ms: number }> = {};
        for (const f of flushed) for (const [k, v] of Object.entries(f.sql ?? {})) sql[k] = { n: (sql[k]?.n ?? 0) + v.n, ms: (sql[k]?.ms ?? 0) + v.ms };
        const trace = flushed.flatMap((f, i) => (f.trace ?? []).map((q) => ({ pid: engines[i].child.pid!, ...q }))).sort((a, b) => a.at - b.at);
        return { tasks, triggerHr, instanceEndedHr: end.hr, status: end.status, sql: Object.keys(sql).length ? sql : undefined, trace: trace.length ? trace : undefined };
      } finally {
        for (const p of engines) p.child.off('message', onMsg);
      }
    },
    close,
  };
}
