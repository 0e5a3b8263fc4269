// The service's Prometheus metrics on one Registry per app (tests build many apps in one process; the
// global default registry is never used). Engine metrics come from the engine's typed events (nothing
// reads engine internals); store gauges are read at scrape time: the work counts through partial indexes
// (cached 1 s, shared by the gauges of one scrape), the size and row counts cached 30 s, so that scrapes
// never scan a big table more than twice a minute. A store that fails or hangs never fails a scrape: its
// gauges keep their last values and batchflow_store_up says 0. Node's process metrics live on one
// process-wide registry of their own (they are the process's, and collecting them twice would double
// their observers).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../domain/clock.js';
import type { Engine } from '../engine/engine.js';
import { StartTimes } from '../engine/engineLog.js';
import type { EngineEvents } from '../engine/events.js';
import type { Store, StoreSize, WorkCounts } from '../store/store.js';

/** What the metrics read of an engine: its events and its state. */
export type EngineView = Pick<Engine, 'events' | 'state' | 'runningCount'>;

export interface MetricsOptions {
  store: Store;
  clock: Clock;
  engine?: EngineView | null;
  /** How long the size and row counts are reused (default 30 s). */
  sizeCacheMs?: number;
  /** How long a scrape waits for the store (default 2 s). */
  storeTimeoutMs?: number;
}

export interface Metrics {
  registry: Registry;
  /** One HTTP request answered: its operation (bounded), the envelope code or HTTP status, and its duration. */
  observeHttp(operation: string, code: string, seconds: number): void;
  /** The text of a scrape: this app's metrics, then the process's. */
  scrape(): Promise<string>;
  contentType: string;
  /** Stops listening to the engine (the app closes). */
  close(): void;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600];
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The step's kind: its work-loop key up to the first ':' (flow:12 -> flow), a bounded label. */
export const stepKind = (where: string): string => where.split(':')[0] ?? where;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'TIMEOUT' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A value read at most once per `ttlMs` (concurrent readers share one read); a failed read is not kept. */
function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let at = -Infinity;
  let value: Promise<T> | null = null;
  return () => {
    const now = performance.now();
    if (value && now - at < ttlMs) return value;
    at = now;
    const v = read();
    value = v;
    v.catch(() => {
      if (value === v) value = null;
    });
    return v;
  };
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const timeoutMs = opts.storeTimeoutMs ?? 2_000;
  // ---- HTTP ------------------------------------------------------------------------------------------
  const httpRequests = new Counter({
    name: 'batchflow_http_requests_total',
    help: 'HTTP requests answered, by operation (registry name, else route pattern, else "unmatched") and code (the envelope code, else the HTTP status)',
    labelNames: ['operation', 'code'],
    registers,
  });
  const httpDuration = new Histogram({ name: 'batchflow_http_request_duration_seconds', help: 'HTTP request latency by operation', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers });

  // ---- store gauges (every process's work, read at scrape time) ----------------------------------------
  const counts = cached<WorkCounts>(1_000, () => withTimeout(opts.store.workCounts(opts.clock.now()), timeoutMs, 'the store'));
  const size = cached<StoreSize>(opts.sizeCacheMs ?? 30_000, () => withTimeout(opts.store.storeSize(), timeoutMs * 5, 'the store'));
  // A collect() of the gauge `this`: the read's value, or (the store failed or hung) the last value kept.
  const fromStore = <T>(read: () => Promise<T>, set: (g: Gauge, v: T) => void) =>
    async function collect(this: Gauge): Promise<void> {
      const v = await read().catch(() => undefined);
      if (v !== undefined) set(this, v);
    };
  new Gauge({
    name: 'batchflow_store_up',
    help: 'Whether the store answered this scrape\'s work counts (1) or failed or timed out (0)',
    registers,
    async collect() {
      this.set(await counts().then(() => 1, () => 0));
    },
  });
  const workGauge = (name: string, help: string, key: keyof WorkCounts) => new Gauge({ name, help, registers, collect: fromStore(counts, (g, c) => g.set(c[key])) });
  workGauge('batchflow_instances_due_waiting', "WAIT flow instances whose trigger time has come (waiting for their flow's running instance, or for an engine)", 'dueWaiting');
  workGauge('batchflow_task_instances_ready', 'READY/RERUN task instances whose due time has come (claimable by a worker with a free slot)', 'readyTasks');
  workGauge('batchflow_instances_running', 'RUNNING flow instances in the store (all processes)', 'runningInstances');
  workGauge('batchflow_task_attempts_running', 'Open (RUNNING) task attempts in the store (all processes)', 'runningAttempts');
  new Gauge({
    name: 'batchflow_store_size_bytes',
    help: 'The store on disk: SQLite page_count*page_size; PostgreSQL pg_total_relation_size of the schema\'s tables (cached 30 s)',
    registers,
    collect: fromStore(size, (g, s) => g.set(s.bytes)),
  });
  new Gauge({
    name: 'batchflow_store_rows',
    help: 'Rows per main table: exact count(*) on SQLite; on PostgreSQL the planner\'s estimate (pg_class.reltuples, as of the last ANALYZE/autovacuum) (cached 30 s)',
    labelNames: ['table'],
    registers,
    collect: fromStore(size, (g, s) => {
      for (const [table, n] of Object.entries(s.rows)) g.set({ table }, n);
    }),
  });

  // ---- engine (absent in a process without one) --------------------------------------------------------
  const detach: Array<() => void> = [];
  const engine = opts.engine;
  if (engine) {
    const instancesStarted = new Counter({ name: 'batchflow_instances_started_total', help: 'Flow instances this process\'s engine started', registers });
    const instancesEnded = new Counter({ name: 'batchflow_instances_ended_total', help: 'Flow instances that ended in this process\'s engine, by final status', labelNames: ['status'], registers });
    const attemptsStarted = new Counter({ name: 'batchflow_task_attempts_started_total', help: 'Task attempts this process\'s engine spawned', registers });
    const attemptsEnded = new Counter({ name: 'batchflow_task_attempts_ended_total', help: 'Task attempts whose end this process\'s engine committed, by the task instance status it led to', labelNames: ['status'], registers });
    const instanceDuration = new Histogram({ name: 'batchflow_instance_duration_seconds', help: 'Flow instance run time (start to end, both seen by this process), by final status', labelNames: ['status'], buckets: DURATION_BUCKETS, registers });
    const attemptDuration = new Histogram({ name: 'batchflow_task_attempt_duration_seconds', help: 'Task attempt run time (spawn to committed end), by status', labelNames: ['status'], buckets: DURATION_BUCKETS, registers });
    const stepDuration = new Histogram({ name: 'batchflow_engine_step_duration_seconds', help: 'Engine work-loop step latency by step kind (flow, ends, claim, due, sweep, stall, record, recover) and outcome', labelNames: ['step', 'outcome'], buckets: LATENCY_BUCKETS, registers });
    const stepFailures = new Counter({ name: 'batchflow_engine_step_failures_total', help: 'Engine steps that failed (retried with backoff), by step kind', labelNames: ['step'], registers });
    const commitDuration = new Histogram({ name: 'batchflow_store_commit_duration_seconds', help: 'Engine decision transactions (one engineTx each: begin, reads, writes, commit), by outcome', labelNames: ['outcome'], buckets: LATENCY_BUCKETS, registers });
    const leaseLost = new Counter({ name: 'batchflow_engine_lease_lost_total', help: 'Times this engine lost its lease (taken over, or fenced by an unreachable store)', labelNames: ['why'], registers });
    const recovered = new Counter({ name: 'batchflow_engine_attempts_recovered_total', help: 'Attempts of gone engines this engine recovered', registers });
    new Gauge({ name: 'batchflow_engine_attempts_running', help: 'Task processes this process\'s engine runs now', registers, collect() { this.set(engine.runningCount()); } });
    new Gauge({ name: 'batchflow_engine_running', help: 'Whether this process\'s engine is running (1) or starting, fenced or stopped (0)', registers, collect() { this.set(engine.state === 'running' ? 1 : 0); } });

    const instances = new StartTimes();
    const attempts = new StartTimes();
    const sub = <K extends keyof EngineEvents>(name: K, fn: (...a: EngineEvents[K]) => void) => {
      engine.events.on(name, fn as never);
      detach.push(() => engine.events.off(name, fn as never));
    };
    sub('instanceStarted', (e) => {
      instancesStarted.inc();
      instances.start(e.instanceId, e.hr);
    });
    sub('instanceEnded', (e) => {
      instancesEnded.inc({ status: e.status });
      const d = instances.end(e.instanceId, e.hr);
      if (d !== null) instanceDuration.observe({ status: e.status }, d / 1000);
    });
    sub('taskStarted', (e) => {
      attemptsStarted.inc();
      attempts.start(`${e.taskInstanceId}:${e.runNum}`, e.spawnHr);
    });
    sub('taskEnded', (e) => {
      attemptsEnded.inc({ status: e.status });
      const d = attempts.end(`${e.taskInstanceId}:${e.runNum}`, e.hr);
      if (d !== null) attemptDuration.observe({ status: e.status }, d / 1000);
    });
    sub('stepDone', (e) => stepDuration.observe({ step: stepKind(e.where), outcome: e.ok ? 'ok' : 'failed' }, e.ms / 1000));
    sub('stepFailed', (e) => stepFailures.inc({ step: stepKind(e.where) }));
    sub('txDone', (e) => commitDuration.observe({ outcome: e.ok ? 'ok' : 'failed' }, e.ms / 1000));
    sub('leaseLost', (e) => leaseLost.inc({ why: e.why }));
    sub('attemptRecovered', () => recovered.inc());
  }

  return {
    registry,
    observeHttp(operation, code, seconds) {
      httpRequests.inc({ operation, code });
      httpDuration.observe({ operation }, seconds);
    },
    async scrape() {
      const [mine, proc] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
      return `${mine}\n${proc}`;
    },
    contentType: registry.contentType,
    close() {
      for (const d of detach.splice(0)) d();
    },
  };
}
