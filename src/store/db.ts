// The Kysely table types of the store (snake_case, one interface per table) and the small `StoreDialect`
// hook that keeps the few backend-specific bits (unique-violation detection, row locks, events) out of
// the query files. Shared by every adapter; nothing here opens a connection.
// Integer columns are declared `number`; bigint columns may arrive as strings from some drivers (pg), so
// row mappers pass them through Number(). Times are epoch ms, booleans 0/1, JSON columns are text.
import { sql, type Compilable, type CompiledQuery, type DatabaseConnection, type Driver, type Generated, type Kysely, type QueryResult, type Transaction } from 'kysely';
import type { SpaceReport, StoreEvent } from './store.js';

export interface CountersTable {
  name: string;
  value: number;
}

export interface OrgsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  name: string;
  org_id: string;
  locked: number;
  created_at: number;
  email: Generated<string>;
  phone: Generated<string>;
}

export interface DirectoriesTable {
  id: string;
  org_id: string;
  parent_id: string | null;
  name: string;
  created_at: number;
}

export interface FlowsTable {
  id: number;
  org_id: string;
  dir_id: string;
  name: string;
  description: string;
  type: number;
  active: number;
  freq: string;
  cycle: string;
  owners: string;
  visitors: string;
  do_as: string;
  alert_mode: number;
  alert_to: string;
  app_id: string;
  sync_type: number;
  start_date: string;
  queue: string;
  entry: number;
  is_virtual: number;
  parameters: string;
  nodes: string;
  flow_refs: string;
  relations: string;
  creator_id: string;
  creator_name: string;
  update_user: string;
  created_at: number;
  updated_at: number;
  lock_user_id: string | null;
  lock_user_name: string | null;
  lock_expires_at: number | null;
  /** Epoch ms when periodic scheduling of the flow (re)started; see Flow.scheduleFrom. */
  schedule_from: number;
  /** Flow.version (migration 0003): +1 on every content write; Save's guard. */
  version: Generated<number>;
  /** Flow.versionId (migration 0006): the flow_versions row of the current content. */
  version_id: Generated<number>;
  /** Flow.refTimeoutSec (migration 0011); null: the default. */
  ref_timeout_sec: number | null;
}

/** A reference of a running instance waiting on (or done waiting on) another workflow (migration 0011). */
export interface ReferenceWaitsTable {
  instance_id: string;
  node_id: string;
  cycle_gap: string;
  flow_id: number;
  ref_flow_id: number;
  ref_task_id: number | null;
  window_start: number;
  window_end: number;
  deadline: number;
  status: string;
  targets: string;
  bound_id: string | null;
  bound_status: string | null;
  reason: string | null;
  created_at: number;
  ended_at: number | null;
}

export interface TasksTable {
  id: number;
  flow_id: number;
  name: string;
  type: string;
  cmd: string;
  resource: string;
  sync_type: number;
  submitter: string;
  file_package: string;
  cron: string;
  priority_level: number;
  timeout_sec: number;
  retry_limit: number;
  retry_interval_sec: number;
  success_code: string;
  as_link: number;
  run_mode: string;
  parameters: string;
  wait_code: string;
}

export interface FlowInstancesTable {
  id: string;
  flow_id: number;
  org_id: string;
  seq: number;
  kind: string;
  start_task_id: number | null;
  trigger_time: number;
  due_at: number;
  status: string;
  owner: string;
  overrides: string;
  /** The flow version it runs (migration 0006; the copy of the flow and the parameters it replaced are
   * derived from the version: parameters = applyOverrides(version's parameters, overrides)). */
  version_id: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
  reason: string | null;
}

export interface FlowVersionsTable {
  id: number;
  flow_id: number;
  /** 1, 2, 3, ... per flow. */
  number: number;
  /** SHA-256 hex of the content in canonical JSON (src/domain/versions.ts). */
  hash: string;
  /** The FlowSnapshot as JSON. */
  content: string;
  created_at: number;
  created_by: string;
}

export interface TaskInstancesTable {
  id: string;
  flow_instance_id: string;
  flow_id: number;
  /** Position in the instance's node list (listTaskInstances keeps node order). */
  ord: number;
  task_id: number;
  node_id: string;
  task_name: string;
  status: string;
  run_num: number;
  started_at: number | null;
  ended_at: number | null;
  next_run_at: number | null;
  exit_code: number | null;
  is_timeout: number;
  updated_at: number;
  /** Upstream nodes of the run set not yet passed (INIT -> READY at 0). */
  waiting_on: number;
  /** READY: since when; RERUN: when the retry is due; null otherwise. The claim order. */
  due_at: number | null;
}

export interface AttemptsTable {
  task_instance_id: string;
  run_num: number;
  status: string;
  started_at: number;
  ended_at: number | null;
  host: string;
  engine_id: string;
  pid: number | null;
  pgid: number | null;
  proc_start: string | null;
  exit_code: number | null;
  signal: string | null;
}

export interface TaskLogsTable {
  task_instance_id: string;
  run_num: number;
  seq: number;
  text: string;
}

/** taskMode 2: the status of each key of a task instance, one character per key (migration 0010; src/domain/keyStatus.ts). */
export interface TaskKeysTable {
  task_instance_id: string;
  /** The attempt that wrote `states`. */
  run_num: number;
  states: string;
  updated_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface EnginesTable {
  id: string;
  host: string;
  pid: number;
  proc_start: string | null;
  started_at: number;
  heartbeat_at: number;
  lease_until: number;
  state: string;
  ended_at: number | null;
}

export interface StatusEventsTable {
  id: Generated<number>;
  flow_instance_id: string;
  /** null: a change of the flow instance itself. */
  task_instance_id: string | null;
  run_num: number | null;
  at: number;
  from_status: string;
  to_status: string;
  reason: string | null;
  engine_id: string | null;
}

export interface AppsTable {
  access_key: string;
  org_id: string;
  name: string;
  secret_sealed: string;
  created_at: number;
  revoked_at: number | null;
}

export interface AppTokensTable {
  token_hash: string;
  access_key: string;
  token_sealed: string;
  issued_at: number;
  expires_at: number;
}

export interface AuthNoncesTable {
  nonce: string;
  expires_at: number;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  /** PENDING (the first copy runs) | DONE (answer kept) */
  status: string;
  answer: string | null;
  created_at: number;
  lease_until: number;
  expires_at: number;
}

export interface AlertsTable {
  id: string;
  instance_id: string;
  flow_id: number;
  org_id: string;
  /** FAIL | INTERNAL_ERROR | TIMEOUT */
  event: string;
  task_instance_id: string | null;
  run_num: number | null;
  reason: string | null;
  alert_mode: number;
  alert_to: string;
  /** PENDING | SENT | FAILED */
  status: string;
  tries: Generated<number>;
  next_at: number;
  claimed_by: string | null;
  claimed_until: number | null;
  /** JSON: per channel its recipients, status, tries and last error. */
  deliveries: string;
  created_at: number;
  updated_at: number;
}

export interface MigrationsTable {
  name: string;
  applied_at: number;
}

export interface DB {
  batchflow_counters: CountersTable;
  batchflow_migrations: MigrationsTable;
  orgs: OrgsTable;
  users: UsersTable;
  directories: DirectoriesTable;
  flows: FlowsTable;
  tasks: TasksTable;
  flow_instances: FlowInstancesTable;
  flow_versions: FlowVersionsTable;
  task_instances: TaskInstancesTable;
  attempts: AttemptsTable;
  task_logs: TaskLogsTable;
  task_keys: TaskKeysTable;
  batchflow_meta: MetaTable;
  engines: EnginesTable;
  status_events: StatusEventsTable;
  apps: AppsTable;
  app_tokens: AppTokensTable;
  auth_nonces: AuthNoncesTable;
  reference_waits: ReferenceWaitsTable;
  idempotency_keys: IdempotencyKeysTable;
  alerts: AlertsTable;
}

/** What differs between backends; everything else is shared Kysely builder code. */
export interface StoreDialect {
  /** Which backend: a few statements (row locks, sequences) exist on PostgreSQL only. */
  kind: 'sqlite' | 'postgres';
  /**
   * `n` new instance seqs (they order a flow's instances; unique, increasing per caller, not dense).
   * SQLite: a block of the counters row (the write lock serializes). PostgreSQL: a sequence, so that no
   * counter row is hot across concurrent triggers.
   */
  allocateSeq(conn: QueryRunner, n: number): Promise<number[]>;
  /** True when `err` is a unique / primary key violation (mapped to DuplicateKeyError). */
  isUniqueViolation(err: unknown): boolean;
  /**
   * Serializes the start of a flow's next instance across connections. SQLite: no-op (BEGIN IMMEDIATE on
   * the single connection already serializes writers). PostgreSQL: `SELECT 1 FROM flows WHERE id = $1 FOR UPDATE`.
   */
  lockFlowForStart(conn: QueryRunner, flowId: number): Promise<void>;
  /** Serializes migrate() across processes. SQLite: BEGIN IMMEDIATE suffices. PostgreSQL: pg_advisory_xact_lock. */
  lockMigrations(trx: Transaction<DB>): Promise<void>;
  /**
   * Runs `fn` inside one write transaction (SQLite: BEGIN IMMEDIATE) on one connection, handing it the
   * driver's connection itself: compiled statements (compiledOnce) then cost one driver call each instead
   * of a pass through Kysely's executor. For the hot paths (engine commits, batched instance creation);
   * everything else uses `db.transaction()`. Adapters implement it with `driverTransaction`.
   */
  transaction<T>(fn: (conn: QueryRunner) => Promise<T>): Promise<T>;
  /** Store.reclaimSpace: SQLite's auto_vacuum (sqliteSpace.ts); PostgreSQL leaves it to autovacuum. */
  reclaimSpace(opts?: { fullVacuum?: boolean; signal?: AbortSignal }): Promise<SpaceReport>;
  /** Delivery of committed-write events (SQLite: in-process; PostgreSQL may add LISTEN/NOTIFY). */
  publish(e: StoreEvent): void;
  subscribe(listener: (e: StoreEvent) => void): () => void;
  /** Releases the connection(s). */
  close(): Promise<void>;
}

/** What every query function gets. */
export interface Ctx {
  db: Kysely<DB>;
  dialect: StoreDialect;
}

/** A transaction handle: query functions that must run inside one take it. */
export type Tx = Transaction<DB>;

/** What runs a compiled query: a Kysely instance (or transaction), or a driver connection (see StoreDialect.transaction). */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * StoreDialect.transaction for any Kysely driver: the same acquire / begin / commit-or-rollback / release
 * sequence as Kysely's own transaction(), so it serializes with Kysely's transactions on that driver.
 */
export async function driverTransaction<T>(driver: Driver, fn: (conn: QueryRunner) => Promise<T>): Promise<T> {
  const conn: DatabaseConnection = await driver.acquireConnection();
  try {
    await driver.beginTransaction(conn, {});
    try {
      const result = await fn(conn as QueryRunner);
      await driver.commitTransaction(conn);
      return result;
    } catch (err) {
      // Also after a failed COMMIT: the connection must not stay inside a transaction.
      await driver.rollbackTransaction(conn).catch(() => {});
      throw err;
    }
  } finally {
    await driver.releaseConnection(conn);
  }
}

// ---- small shared helpers for the query files (no domain logic) ----

/** bigint columns may come back as strings (pg); integer ones as numbers. */
export const num = (v: number | string | bigint): number => Number(v);
export const numOrNull = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));
export const parseJson = <T>(text: string): T => JSON.parse(text) as T;

/** The id sequences of batchflow_counters. */
export type Counter = 'flow' | 'task' | 'flow_instance_seq' | 'flow_version';

// Reads and writes: the batchflow_counters row `name`. Guard: none; the row update serializes allocators
// (SQLite: the write lock; PostgreSQL: the row lock), so ids are never handed out twice or reused.
/** Allocates `n` consecutive values; returns the first. */
export async function allocate(trx: Tx, name: Counter, n: number): Promise<number> {
  const row = await trx
    .updateTable('batchflow_counters')
    .set((eb) => ({ value: eb('value', '+', n) }))
    .where('name', '=', name)
    .returning('value')
    .executeTakeFirstOrThrow();
  return num(row.value) - n + 1;
}

const allocateCompiled = compiledOnce((db, v) =>
  db
    .updateTable('batchflow_counters')
    .set((eb) => ({ value: eb('value', '+', v('n')) }))
    .where('name', '=', v('name'))
    .returning('value'),
);

// Reads and writes: as allocate(), for a caller inside StoreDialect.transaction (a compiled statement).
export async function allocateOn(ctx: Ctx, conn: QueryRunner, name: Counter, n: number): Promise<number> {
  const row = (await allocateCompiled(ctx, conn, '', { name, n })).rows[0];
  if (!row) throw new Error(`counter ${name} is missing`);
  return num(row.value) - n + 1;
}

// Writes: the batchflow_counters row `name`. Guard: only ever raises the value (ids are never reused).
/** Records that `value` was taken outside allocate() (a desired flow id on import). */
export async function reserveUpTo(trx: Tx, name: 'flow' | 'task', value: number): Promise<void> {
  await trx
    .updateTable('batchflow_counters')
    .set((eb) => ({ value: eb.case().when('value', '<', value).then(value).else(eb.ref('value')).end() }))
    .where('name', '=', name)
    .execute();
}

/**
 * The conditions of the partial indexes, as literals: SQLite uses a partial index only for a query that
 * repeats its WHERE term, which a bound parameter does not.
 */
/**
 * Row locks for reads whose rows a decision depends on (PostgreSQL: several connections write at once;
 * SQLite: a transaction is the only writer, so a read is as good as a lock and the clause does not exist).
 */
export function locking<Q extends { forUpdate(of?: any): Q; forKeyShare(of?: any): Q; forShare(of?: any): Q }>(q: Q, kind: StoreDialect['kind'], mode: 'update' | 'keyShare' | 'share', of?: string[]): Q {
  if (kind !== 'postgres') return q;
  return mode === 'update' ? q.forUpdate(of as never) : mode === 'share' ? q.forShare(of as never) : q.forKeyShare(of as never);
}

export const CLAIMABLE = sql<boolean>`t.status in ('READY', 'RERUN')`;
export const ATTEMPT_OPEN = sql<boolean>`a.status = 'RUNNING'`;

/** Escapes LIKE wildcards so user text matches literally (used with `escape '\'`). */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Stands for a value in a query compiled once (see compiledOnce). */
class Slot {
  constructor(readonly key: string) {}
}

/**
 * The SQL texts compiledOnce has made: a bounded set (one per query and shape), so an adapter may keep each
 * one prepared per connection (postgres.ts names them; SQLite's driver prepares its own).
 */
export const compiledTexts = new Set<string>();

/**
 * Kysely builds and compiles a query on every call; on the hot paths (one commit per task end, one
 * instance per trigger) that costs more than SQLite's own work. `compiledOnce(build)` compiles once per
 * store and `shape`, then only substitutes values. Contract for `build`: structure (optional clauses, list
 * lengths) comes from `shape` alone, and every per-call value goes through `v(key)`; the caller passes
 * them in `values`. The query runs on `runner`: ctx.db, a transaction, or a StoreDialect.transaction
 * connection.
 */
export function compiledOnce<O>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  build: (db: Kysely<DB>, v: (key: string) => any, shape: string, kind: StoreDialect['kind']) => Compilable<O>,
): (ctx: Ctx, runner: QueryRunner, shape: string, values: Record<string, unknown>) => Promise<QueryResult<O>> {
  const cache = new WeakMap<StoreDialect, Map<string, CompiledQuery<O>>>();
  return (ctx, runner, shape, values) => {
    let byShape = cache.get(ctx.dialect);
    if (!byShape) cache.set(ctx.dialect, (byShape = new Map()));
    let q = byShape.get(shape);
    if (!q) {
      byShape.set(shape, (q = build(ctx.db, (key) => new Slot(key), shape, ctx.dialect.kind).compile()));
      compiledTexts.add(q.sql);
    }
    const parameters = q.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const value = values[p.key];
      if (value === undefined) throw new Error(`compiled query ${shape}: no value for ${p.key}`);
      return value;
    });
    return runner.executeQuery<O>({ ...q, parameters });
  };
}
