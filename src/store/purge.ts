// Retention: removes terminal flow instances that ended before a cut-off with their task instances,
// attempts, history (status_events) and logs, in short batches, each its own transaction, yielding to the
// event loop between them, so the engine and the API never wait long for the store. It never touches flows
// or their versions, and never an instance that is not terminal or has a task or attempt still open.
// Also purgeInBackground(): the same over a Store with progress, for the benchmarks and the server's job.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { sql, type DeleteResult, type Kysely } from 'kysely';
import { invalid } from '../domain/errors.js';
import { AttemptStatus, isOpen, isTerminalFlowInstance, TaskInstanceStatus, type FlowInstanceStatus } from '../domain/status.js';
import type { TriggerKind } from '../domain/types.js';
import { locking, num, type Ctx, type DB, type Tx } from './db.js';
import type { PurgeCounts, PurgeRequest, PurgeResult, Store } from './store.js';

const OPEN_TASK = Object.values(TaskInstanceStatus).filter(isOpen);
const SCHEDULED: TriggerKind = 'schedule';

export const DEFAULT_PURGE_BATCH = 500;
/**
 * Per backend: what one batch may hold the store for, and the largest share of the time the purge works.
 * SQLite: 10 ms, since every other writer (a trigger, an engine commit) waits for a batch; half the time.
 * PostgreSQL: writers take row locks and a batch holds up nothing but its own rows, but its work competes
 * for the same CPU and WAL flushes as every commit: 100 ms (its round trips alone take 10 ms on a loaded
 * machine) and a quarter of the time.
 */
const DEFAULTS: Record<Ctx['dialect']['kind'], { batchMs: number; share: number }> = {
  sqlite: { batchMs: 10, share: 0.5 },
  postgres: { batchMs: 100, share: 0.25 },
};
/** The first batch is small: its time tells how large the next may be (a 50-task flow costs 50 x a 1-task one). */
const FIRST_BATCH = 50;

export interface Cursor {
  endedAt: number;
  id: string;
}

export const noCounts = (): PurgeCounts => ({ flow_instances: 0, task_instances: 0, attempts: 0, status_events: 0, task_logs: 0 });

// Reads: flow_instances (ended_at, id) past the cursor, from the partial index flow_instances_ended_idx
// alone (0008: covering). Guard: none; these are candidates, the batch re-checks each in its transaction.
// Exported for the query-plan test (test/store/purge.sqlite.test.ts).
export function candidatesQuery(db: Kysely<DB>, before: number, cursor: Cursor | null, limit: number) {
  let q = db
    .selectFrom('flow_instances')
    .select(['id', 'ended_at'])
    // Literal, as the index's own term: SQLite uses a partial index only for a query that repeats it.
    .where(sql<boolean>`ended_at is not null`)
    .where('ended_at', '<', before);
  if (cursor) {
    const c = cursor;
    // A row-value comparison: both planners seek the index to the cursor (an OR of the two cases reads it
    // from the start on SQLite, each batch again).
    q = q.where((eb) => eb(eb.refTuple('ended_at', 'id'), '>', eb.tuple(c.endedAt, c.id)));
  }
  return q.orderBy('ended_at').orderBy('id').limit(limit);
}

async function candidates(ctx: Ctx, before: number, cursor: Cursor | null, limit: number): Promise<Cursor[]> {
  const rows = await candidatesQuery(ctx.db, before, cursor, limit).execute();
  return rows.map((r) => ({ id: r.id, endedAt: num(r.ended_at!) }));
}

// Reads: the batch's flow_instances rows that may go, probing task_instances (task_instances_status_idx),
// attempts (primary key) and a newer scheduled fire of the same flow (flow_instances_fires_idx).
// Guard: the rule itself. An instance goes only when terminal, ended before the cut-off, with no open task
// instance or attempt (a FAIL or CANCEL instance may still have a task running until the engine stops it),
// and, for a scheduled fire, when a newer fire of its flow exists: the newest is the cron scheduler's memory
// of the fires made (Store.lastScheduledFireTime); without it a restart could fire it again.
// PostgreSQL: the flows rows are locked FOR KEY SHARE first, in id order, as Delete Flow locks its flow before
// its instances (so the two queue instead of deadlocking); the instances FOR UPDATE SKIP LOCKED, so that a
// second purger (another process) skips what this one holds.
async function purgeable(ctx: Ctx, db: Kysely<DB> | Tx, ids: string[], before: number): Promise<string[]> {
  if (ctx.dialect.kind === 'postgres') {
    const flowsOf = db.selectFrom('flow_instances').select('flow_id').where('id', 'in', ids);
    await locking(db.selectFrom('flows').select('id').where('id', 'in', flowsOf).orderBy('id'), 'postgres', 'keyShare').execute();
  }
  const rows = await purgeableQuery(db, ctx.dialect.kind, ids).execute();
  return rows.filter((r) => isTerminalFlowInstance(r.status as FlowInstanceStatus) && r.ended_at !== null && num(r.ended_at) < before).map((r) => r.id);
}

/** purgeable()'s read (exported for the query-plan test): the batch's rows by primary key, with the probes. */
export function purgeableQuery(db: Kysely<DB> | Tx, kind: Ctx['dialect']['kind'], ids: string[]) {
  // Status and end time are checked on the rows read, not in the WHERE clause: given a term on them,
  // SQLite's planner reads an index of every CANCEL (or ended) instance instead of the batch's ids.
  const q = db
    .selectFrom('flow_instances as fi')
    .select(['fi.id', 'fi.status', 'fi.ended_at'])
    .where('fi.id', 'in', ids)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('task_instances as t').select('t.id').whereRef('t.flow_instance_id', '=', 'fi.id').where('t.status', 'in', OPEN_TASK))),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('task_instances as t')
            .innerJoin('attempts as a', 'a.task_instance_id', 't.id')
            .select('a.run_num')
            .whereRef('t.flow_instance_id', '=', 'fi.id')
            .where('a.status', '=', AttemptStatus.RUNNING),
        ),
      ),
    )
    .where((eb) =>
      eb.or([
        eb('fi.kind', '<>', SCHEDULED),
        eb.exists(
          eb
            .selectFrom('flow_instances as n')
            .select('n.id')
            .whereRef('n.flow_id', '=', 'fi.flow_id')
            // A literal: the condition of the partial index flow_instances_fires_idx (0009).
            .where(sql<boolean>`n.kind = 'schedule'`)
            .whereRef('n.trigger_time', '>', 'fi.trigger_time'),
        ),
      ]),
    )
    .orderBy('fi.id');
  return kind === 'postgres' ? q.forUpdate(['fi']).skipLocked() : q;
}

const deleted = (r: DeleteResult) => Number(r.numDeletedRows);

// Writes: deletes the task_logs, status_events, attempts, task_instances and flow_instances rows of `ids`.
// Guard: purgeable() in the same transaction. Children first: the foreign keys (SQLite enforces them) go
// task_logs -> attempts -> task_instances -> flow_instances.
async function remove(trx: Tx, ids: string[]): Promise<PurgeCounts> {
  if (ids.length === 0) return noCounts();
  const tis = trx.selectFrom('task_instances').select('id').where('flow_instance_id', 'in', ids);
  const task_logs = deleted(await trx.deleteFrom('task_logs').where('task_instance_id', 'in', tis).executeTakeFirst());
  // taskMode 2 key states (migration 0010): one row per task instance, not counted apart.
  await trx.deleteFrom('task_keys').where('task_instance_id', 'in', tis).execute();
  // Reference waits (migration 0011) of the purged instances: ended with them, not counted apart.
  await trx.deleteFrom('reference_waits').where('instance_id', 'in', ids).execute();
  // Their alerts (migration 0012): the outbox rows and their delivery records go with them.
  await trx.deleteFrom('alerts').where('instance_id', 'in', ids).execute();
  const status_events = deleted(await trx.deleteFrom('status_events').where('flow_instance_id', 'in', ids).executeTakeFirst());
  const attempts = deleted(await trx.deleteFrom('attempts').where('task_instance_id', 'in', tis).executeTakeFirst());
  const task_instances = deleted(await trx.deleteFrom('task_instances').where('flow_instance_id', 'in', ids).executeTakeFirst());
  const flow_instances = deleted(await trx.deleteFrom('flow_instances').where('id', 'in', ids).executeTakeFirst());
  return { flow_instances, task_instances, attempts, status_events, task_logs };
}

// Reads: counts of the rows remove() would delete for `ids`. Guard: none (a dry run changes nothing).
async function count(ctx: Ctx, ids: string[]): Promise<PurgeCounts> {
  if (ids.length === 0) return noCounts();
  const db = ctx.db;
  const n = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) => num((await q.executeTakeFirstOrThrow()).n);
  const tis = db.selectFrom('task_instances').select('id').where('flow_instance_id', 'in', ids);
  return {
    flow_instances: ids.length,
    task_instances: await n(db.selectFrom('task_instances').select((eb) => eb.fn.countAll<number>().as('n')).where('flow_instance_id', 'in', ids)),
    attempts: await n(db.selectFrom('attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('task_instance_id', 'in', tis)),
    status_events: await n(db.selectFrom('status_events').select((eb) => eb.fn.countAll<number>().as('n')).where('flow_instance_id', 'in', ids)),
    task_logs: await n(db.selectFrom('task_logs').select((eb) => eb.fn.countAll<number>().as('n')).where('task_instance_id', 'in', tis)),
  };
}

function add(into: PurgeCounts, c: PurgeCounts): void {
  for (const k of Object.keys(into) as Array<keyof PurgeCounts>) into[k] += c[k];
}

function checked(req: PurgeRequest, kind: Ctx['dialect']['kind']): { maxBatch: number; batchMs: number; pauseMs: number; share: number } {
  if (!Number.isFinite(req.before)) throw invalid('before', `before must be epoch milliseconds, got ${String(req.before)}`);
  const maxBatch = req.batchSize ?? DEFAULT_PURGE_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 10_000) throw invalid('batchSize', `batchSize must be an integer from 1 to 10000, got ${maxBatch}`);
  const batchMs = req.batchMs ?? DEFAULTS[kind].batchMs;
  if (!(batchMs > 0)) throw invalid('batchMs', `batchMs must be positive, got ${batchMs}`);
  const pauseMs = req.pauseMs ?? 0;
  if (!(pauseMs >= 0)) throw invalid('pauseMs', `pauseMs must be 0 or more, got ${pauseMs}`);
  const share = req.share ?? DEFAULTS[kind].share;
  if (!(share > 0 && share <= 1)) throw invalid('share', `share must be more than 0 and at most 1, got ${share}`);
  return { maxBatch, batchMs, pauseMs, share };
}

/** Store.purgeInstances: see its comment in store.ts. */
export async function purgeInstances(ctx: Ctx, req: PurgeRequest): Promise<PurgeResult> {
  const { maxBatch, batchMs, pauseMs, share } = checked(req, ctx.dialect.kind);
  const result: PurgeResult = { dryRun: req.dryRun === true, tables: noCounts(), kept: 0, batches: 0, stopped: false };
  let size = Math.min(maxBatch, FIRST_BATCH);
  let cursor: Cursor | null = null;
  for (;;) {
    if (req.signal?.aborted) {
      result.stopped = true;
      break;
    }
    const found = await candidates(ctx, req.before, cursor, size);
    if (found.length === 0) break;
    cursor = found[found.length - 1];
    const ids = found.map((c) => c.id);
    // Timed from inside: the wait for the connection (behind this process's other queries) is not the batch's.
    let started = performance.now();
    const counts = result.dryRun
      ? await count(ctx, await purgeable(ctx, ctx.db, ids, req.before))
      : await ctx.db.transaction().execute(async (trx) => {
          started = performance.now();
          return remove(trx, await purgeable(ctx, trx, ids, req.before));
        });
    const took = performance.now() - started;
    add(result.tables, counts);
    result.kept += ids.length - counts.flow_instances;
    result.batches++;
    req.onProgress?.({ ...result, tables: { ...result.tables } });
    if (found.length < size) break;
    // A batch that held the store longer than batchMs halves the next; a quick one doubles it (up to maxBatch).
    size = took > batchMs ? Math.max(1, size >> 1) : took < batchMs / 4 ? Math.min(maxBatch, size * 2) : size;
    // Then it waits so that it works at most `share` of the time (SQLite: as long as the batch took), and
    // what queued behind a batch (triggers, engine commits) runs before the next one.
    const pause = Math.max(pauseMs, (took * (1 - share)) / share);
    await (pause >= 1 ? sleep(pause) : nextTurn());
  }
  return result;
}

export interface BackgroundPurge {
  /** The running totals so far (a copy). */
  progress(): PurgeResult;
  /** Resolves with the final result (rejects when a batch failed: what committed before stays purged). */
  done: Promise<PurgeResult>;
  /** Stops after the batch in progress; resolves with the result. */
  stop(): Promise<PurgeResult>;
}

/**
 * Runs a purge in the background of this process (the growth benchmark measures Trigger Flow beside it):
 * the totals after every batch are at `progress()`, and `onProgress` hears of them too.
 */
export function purgeInBackground(store: Store, req: Omit<PurgeRequest, 'signal'>): BackgroundPurge {
  const abort = new AbortController();
  let last: PurgeResult = { dryRun: req.dryRun === true, tables: noCounts(), kept: 0, batches: 0, stopped: false };
  const done = store.purgeInstances({
    ...req,
    signal: abort.signal,
    onProgress: (p) => {
      last = p;
      req.onProgress?.(p);
    },
  });
  // A failure is the caller's to see through `done`; never an unhandled rejection meanwhile.
  done.catch(() => {});
  return {
    progress: () => ({ ...last, tables: { ...last.tables } }),
    done,
    stop() {
      abort.abort();
      return done;
    },
  };
}
