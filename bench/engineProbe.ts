// Loaded into each batchflow process of the PostgreSQL benchmarks (`node --import tsx --import
// ./bench/engineProbe.ts src/cli/main.ts serve ...`): records the engine's own events (taskStarted,
// taskEnded, instanceEnded: the same stamps bench/chain.ts reads in-process) on CLOCK_MONOTONIC, which
// every process of the machine shares, and hands them to the benchmark over the IPC channel on request.
// With BENCH_PG_SQL_PROFILE=1 it also times every pg query by kind (a profiling aid, off in measured runs);
// BENCH_PG_PREPARED=0 and BENCH_PG_NO_NOTIFY=1 switch parts of the store off for before/after comparisons.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { EngineEmitter } from '../src/engine/events.js';
import { compiledTexts } from '../src/store/db.js';

/** performance.now() + SHIFT = process.hrtime() in ms (CLOCK_MONOTONIC, the same in every process). */
const SHIFT = (() => {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const p = performance.now();
    best = Math.min(best, Number(process.hrtime.bigint()) / 1e6 - p);
  }
  return best;
})();

export type ProbeEvent =
  | { k: 'started'; pid: number; task: string; instance: string; spawnHr: number; spawnedHr: number }
  | { k: 'ended'; pid: number; task: string; instance: string; status: string; exitSeenHr: number; exitedHr: number; endedHr: number }
  | { k: 'instanceEnded'; pid: number; instance: string; status: string; hr: number };

export type ProbeMessage = { events: ProbeEvent[]; sql?: Record<string, { n: number; ms: number }>; trace?: Array<{ at: number; ms: number; text: string }> } | { instanceEnded: ProbeEvent };

const events: ProbeEvent[] = [];
const send = (m: ProbeMessage) => process.send?.(m);

// Every emit of every engine of this process; the listener-free path costs one array push.
const emit = EventEmitter.prototype.emit;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
(EngineEmitter.prototype as any).emit = function (this: EngineEmitter, name: string, e: any) {
  const pid = process.pid;
  if (name === 'taskStarted') events.push({ k: 'started', pid, task: e.taskInstanceId, instance: e.instanceId, spawnHr: e.spawnHr + SHIFT, spawnedHr: e.spawnedHr + SHIFT });
  else if (name === 'taskEnded') events.push({ k: 'ended', pid, task: e.taskInstanceId, instance: e.instanceId, status: e.status, exitSeenHr: e.exitSeenHr + SHIFT, exitedHr: e.exitedHr + SHIFT, endedHr: e.hr + SHIFT });
  else if (name === 'instanceEnded') {
    const x: ProbeEvent = { k: 'instanceEnded', pid, instance: e.instanceId, status: e.status, hr: e.hr + SHIFT };
    events.push(x);
    send({ instanceEnded: x });
  }
  // eslint-disable-next-line prefer-rest-params
  return emit.apply(this, arguments as unknown as [string, ...unknown[]]);
};

// ---- for before/after comparisons (BENCH_PG_PREPARED=0): the store's compiled statements sent unnamed ----
if (process.env.BENCH_PG_PREPARED === '0') compiledTexts.has = () => false;

// ---- experiment (BENCH_PG_NO_NOTIFY=1): pg_notify answered at once, never sent (an upper bound of its cost) ----
if (process.env.BENCH_PG_NO_NOTIFY === '1') {
  const query = pg.Client.prototype.query;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (pg.Client.prototype as any).query = function (this: pg.Client, ...args: any[]) {
    if (typeof args[0] === 'string' && args[0].startsWith('select pg_notify')) {
      const cb = args[args.length - 1];
      if (typeof cb === 'function') return void setImmediate(() => cb(null, { rows: [] }));
      return Promise.resolve({ rows: [] });
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (query as any).apply(this, args);
  };
}

// ---- optional: pg query times by kind ----
const sql: Record<string, { n: number; ms: number }> = {};
/** BENCH_PG_SQL_PROFILE=trace: also every query's start (monotonic), duration and text, in order. */
const trace: Array<{ at: number; ms: number; text: string }> = [];
const tracing = process.env.BENCH_PG_SQL_PROFILE === 'trace';
if (process.env.BENCH_PG_SQL_PROFILE === '1' || tracing) {
  const kindOf = (text: string) => {
    const t = text.trimStart().slice(0, 80).toLowerCase();
    if (/^(begin|commit|rollback)/.test(t)) return t.split(/\s/)[0];
    if (t.startsWith('select pg_notify')) return 'notify';
    const m = /^(select|insert into|update|delete from)\s+(?:1 from\s+)?"?(\w+)"?/.exec(t);
    const table = /\bfrom\s+"?(\w+)"?/.exec(t)?.[1];
    return m ? `${m[1].split(' ')[0]} ${m[1] === 'select' ? (table ?? m[2]) : m[2]}` : t.slice(0, 24);
  };
  const query = pg.Client.prototype.query;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (pg.Client.prototype as any).query = function (this: pg.Client, ...args: any[]) {
    const text = typeof args[0] === 'string' ? args[0] : args[0]?.text ?? '';
    const kind = kindOf(text);
    const t0 = performance.now();
    const done = () => {
      const s = (sql[kind] ??= { n: 0, ms: 0 });
      s.n++;
      s.ms += performance.now() - t0;
      if (tracing) trace.push({ at: t0 + SHIFT, ms: performance.now() - t0, text: text.slice(0, 160) });
    };
    const cb = args[args.length - 1];
    if (typeof cb === 'function') {
      args[args.length - 1] = (...r: unknown[]) => {
        done();
        return cb(...r);
      };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (query as any).apply(this, args);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = (query as any).apply(this, args);
    if (out && typeof out.then === 'function') out.then(done, done);
    return out;
  };
}

process.on('message', (m: unknown) => {
  if (m === 'flush') send({ events: events.splice(0), sql: process.env.BENCH_PG_SQL_PROFILE ? { ...sql } : undefined, trace: tracing ? trace.splice(0) : undefined });
  if (m === 'resetSql') {
    for (const k of Object.keys(sql)) delete sql[k];
    trace.length = 0;
  }
});
// The channel must not keep a process alive that is told to stop.
process.channel?.unref();
