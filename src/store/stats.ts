// What the metrics and the readiness probe read from the store: a trivial query (ping), the engine's work
// counts (each one count over a partial index, never a table scan), and the store's size with its rows
// per main table (a scan on SQLite, catalog estimates on PostgreSQL: the caller caches it). Reads only.
import { sql } from 'kysely';
import type { Ctx } from './db.js';

/** The engine's work as the store sees it now (every process's, not only this one's). */
export interface WorkCounts {
  /** WAIT flow instances whose trigger (due) time has come: waiting for their flow's running instance. */
  dueWaiting: number;
  /** READY / RERUN task instances whose due time has come: claimable by any worker with a free slot. */
  readyTasks: number;
  runningInstances: number;
  /** Open (RUNNING) attempts: processes some engine runs or is recovering. */
  runningAttempts: number;
}

export interface StoreSize {
  /** The store on disk: SQLite's file (page_count x page_size), PostgreSQL's tables of the schema with indexes and TOAST. */
  bytes: number;
  /** Rows per main table. */
  rows: Record<string, number>;
  /** True when `rows` are estimates (PostgreSQL's reltuples, as of the last ANALYZE / autovacuum). */
  estimated: boolean;
}

/** The tables whose rows grow with use (what retention purges). */
export const MAIN_TABLES = ['flows', 'flow_versions', 'flow_instances', 'task_instances', 'attempts', 'task_logs', 'status_events'] as const;

// Reads: nothing (select 1). Guard: none. The readiness probe's "the store answers".
export async function ping(ctx: Ctx): Promise<void> {
  await sql`select 1`.execute(ctx.db);
}

const count = (n: unknown): number => Number(n ?? 0);

// Reads: WAIT flow_instances rows due by now (flow_instances_due_idx), READY/RERUN task_instances rows due
// by now (task_instances_claim_idx), RUNNING flow_instances (flow_instances_one_running_uq) and RUNNING
// attempts (attempts_engine_idx): partial indexes, so each count reads the live work only. The status
// literals are inline: SQLite uses a partial index only when the query names its condition literally.
export async function workCounts(ctx: Ctx, now: number): Promise<WorkCounts> {
  const { db } = ctx;
  const [due, ready, instances, attempts] = await Promise.all([
    db.selectFrom('flow_instances').select((eb) => eb.fn.countAll().as('n')).where(sql<boolean>`status = 'WAIT'`).where('due_at', '<=', now).executeTakeFirst(),
    db.selectFrom('task_instances as t').select((eb) => eb.fn.countAll().as('n')).where(sql<boolean>`t.status in ('READY', 'RERUN')`).where('t.due_at', '<=', now).executeTakeFirst(),
    db.selectFrom('flow_instances').select((eb) => eb.fn.countAll().as('n')).where(sql<boolean>`status = 'RUNNING'`).executeTakeFirst(),
    db.selectFrom('attempts').select((eb) => eb.fn.countAll().as('n')).where(sql<boolean>`status = 'RUNNING'`).executeTakeFirst(),
  ]);
  return { dueWaiting: count(due?.n), readyTasks: count(ready?.n), runningInstances: count(instances?.n), runningAttempts: count(attempts?.n) };
}

// Reads: SQLite: the page counters and count(*) of each main table (a scan of its smallest index: cache
// the answer). PostgreSQL: pg_class of the current schema (reltuples: estimates, no table read) and
// pg_total_relation_size of its tables; a table never analyzed (reltuples -1) is counted exactly.
export async function storeSize(ctx: Ctx): Promise<StoreSize> {
  const { db } = ctx;
  if (ctx.dialect.kind === 'sqlite') {
    const size = await sql<{ bytes: number }>`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`.execute(db);
    const rows: Record<string, number> = {};
    for (const t of MAIN_TABLES) rows[t] = count((await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(db)).rows[0]?.n);
    return { bytes: count(size.rows[0]?.bytes), rows, estimated: false };
  }
  const tables = await sql<{ name: string; tuples: number; bytes: string }>`
    select c.relname as name, c.reltuples::float8 as tuples, pg_total_relation_size(c.oid)::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p')`.execute(db);
  const rows: Record<string, number> = {};
  let bytes = 0;
  for (const t of tables.rows) {
    bytes += count(t.bytes);
    if (!(MAIN_TABLES as readonly string[]).includes(t.name)) continue;
    rows[t.name] = t.tuples >= 0 ? Math.round(t.tuples) : count((await sql<{ n: string }>`select count(*) as n from ${sql.table(t.name)}`.execute(db)).rows[0]?.n);
  }
  return { bytes, rows, estimated: true };
}
