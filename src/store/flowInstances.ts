// Flow instances: creation with their task instances (the one-minute rule is the primary key; creates of
// one event-loop turn share a transaction, on PostgreSQL one statement: instanceBulkInsert.ts), reads, cancel, and the engine's wake-up questions
// (what is due, what stalled). Starting an instance is an engine decision (engineTx.ts + the planner).
// Row mapping for flow instances lives here; task instance rows are mapped in taskInstances.ts.
import { sql, type Insertable, type Selectable } from 'kysely';
import { noTransitions } from '../domain/plan.js';
import { applyTransitions } from './transitions.js';
import { nextDeadline } from './referenceWaits.js';
import { DuplicateKeyError, StaleError } from '../domain/errors.js';
import type { FlowInstanceStatus } from '../domain/status.js';
import { applyOverrides } from '../domain/instances.js';
import type { FlowInstance, Param, TriggerKind } from '../domain/types.js';
import { snapshotOf, versionHash, type FlowSnapshot, type FlowVersion, type FlowVersionRef } from '../domain/versions.js';
import { ensureVersion, versionsByIds } from './versions.js';
import type { NewFlowInstance } from './store.js';
import { CLAIMABLE, locking, compiledOnce, num, numOrNull, parseJson, type Ctx, type FlowInstancesTable, type QueryRunner, type TaskInstancesTable } from './db.js';
import { createRefusal, lockRefusal } from './flowGuards.js';
import { canInsertAtOnce, insertInstancesAtOnce } from './instanceBulkInsert.js';
import { FLOW_INSTANCE_COLUMNS } from './columns.js';

/** A flow_instances row with the version it references (see resolveInstances). */
export function toFlowInstance(r: Selectable<FlowInstancesTable>, v: FlowVersion): FlowInstance {
  const overrides = parseJson<Param[]>(r.overrides);
  const { snapshot, ...version } = v;
  return {
    id: r.id,
    flowId: num(r.flow_id),
    orgId: r.org_id,
    seq: num(r.seq),
    kind: r.kind as TriggerKind,
    startTaskId: numOrNull(r.start_task_id),
    triggerTime: num(r.trigger_time),
    dueAt: num(r.due_at),
    status: r.status as FlowInstanceStatus,
    owner: r.owner,
    // Derived, not stored: the version's global parameters with the instance's overrides applied.
    parameters: applyOverrides(snapshot.flow.parameters, overrides),
    overrides,
    snapshot,
    version,
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    endedAt: numOrNull(r.ended_at),
    reason: r.reason,
  };
}

/** Rows to instances, their versions read in one query (and cached: versions never change). */
export async function resolveInstances(ctx: Ctx, runner: QueryRunner, rows: Array<Selectable<FlowInstancesTable>>): Promise<FlowInstance[]> {
  if (rows.length === 0) return [];
  const versions = await versionsByIds(ctx, runner, rows.map((r) => num(r.version_id)));
  return rows.map((r) => toFlowInstance(r, versions.get(num(r.version_id))!));
}

// ---- creation: group commit ----
// Creates arriving in the same event-loop turn (an HTTP server under load parses many requests per turn)
// are written in ONE transaction: a commit per trigger costs more than the inserts themselves. Each create
// still resolves only after its transaction committed, and a duplicate (flow, minute) fails only its own
// create: the insert is ON CONFLICT (id) DO NOTHING, and a row not inserted is that create's
// DuplicateKeyError (never check-then-write). Likewise a create whose flow is gone (StaleError) or, for a
// manual trigger, locked by another user (EditLockedError) fails alone: its flows row is read in the
// transaction just before its insert. Any other error fails the batch's transaction; its creates then run
// again one transaction each, so that error reaches only the create that caused it.

/** Creates per transaction at most (bounds the time the write lock is held). */
const MAX_BATCH = 256;

interface PendingCreate {
  input: NewFlowInstance;
  resolve(inst: FlowInstance): void;
  reject(err: unknown): void;
}

const queues = new WeakMap<Ctx, PendingCreate[]>();

// Writes: one flow_instances row (status WAIT), all its task_instances rows (multi-row inserts) and the
// 'flow_instance_seq' counter, in one transaction shared with the other creates of the same turn.
// Guards, in that transaction: its flows row exists in its org (else StaleError) and, with lockUserId,
// its edit lock is free, expired at createdAt or that user's (else EditLockedError); then the
// flow_instances primary key (flow + minute): a create whose id exists -> DuplicateKeyError.
export function createFlowInstance(ctx: Ctx, input: NewFlowInstance): Promise<FlowInstance> {
  return new Promise((resolve, reject) => {
    let queue = queues.get(ctx);
    if (!queue) queues.set(ctx, (queue = []));
    queue.push({ input, resolve, reject });
    if (queue.length === 1) setImmediate(() => void flushCreates(ctx));
  });
}

async function flushCreates(ctx: Ctx): Promise<void> {
  const queue = queues.get(ctx)!;
  const batch = queue.splice(0, MAX_BATCH);
  if (queue.length > 0) setImmediate(() => void flushCreates(ctx));
  let created: Array<FlowInstance | Error | null>;
  try {
    const inputs = batch.map((p) => p.input);
    // PostgreSQL: the batch as one statement, atomic without a transaction (instanceBulkInsert.ts).
    created =
      ctx.dialect.kind === 'postgres' && canInsertAtOnce(inputs)
        ? await insertInstancesAtOnce(ctx, ctx.db, inputs)
        : await ctx.dialect.transaction((conn) => insertInstances(ctx, conn, inputs));
  } catch (err) {
    if (batch.length === 1) return fail(ctx, batch[0], err);
    // Nothing of the batch was written: each create alone, so the error reaches only its own.
    for (const p of batch) {
      await ctx.dialect.transaction((conn) => insertInstances(ctx, conn, [p.input])).then(
        ([inst]) => settle(p, inst),
        (e: unknown) => fail(ctx, p, e),
      );
    }
    return;
  }
  batch.forEach((p, k) => settle(p, created[k]));
}

function settle(p: PendingCreate, inst: FlowInstance | Error | null): void {
  if (inst instanceof Error) p.reject(inst);
  else if (inst) p.resolve(inst);
  else p.reject(new DuplicateKeyError(`flow instance ${p.input.instance.id} exists`));
}

function fail(ctx: Ctx, p: PendingCreate, err: unknown): void {
  // A task instance id already taken means the same (task, minute) exists: the duplicate it stands for.
  p.reject(ctx.dialect.isUniqueViolation(err) ? new DuplicateKeyError(`flow instance ${p.input.instance.id} exists`) : err);
}

const insertInstance = compiledOnce((db, v) =>
  db
    .insertInto('flow_instances')
    .values({
      id: v('id'),
      flow_id: v('flowId'),
      org_id: v('orgId'),
      seq: v('seq'),
      kind: v('kind'),
      start_task_id: v('startTaskId'),
      trigger_time: v('triggerTime'),
      due_at: v('dueAt'),
      status: 'WAIT',
      owner: v('owner'),
      overrides: v('overrides'),
      version_id: v('versionId'),
      created_at: v('createdAt'),
      started_at: null,
      ended_at: null,
      updated_at: v('createdAt'),
      reason: null,
    })
    .onConflict((oc) => oc.column('id').doNothing()),
);

const TASK_COLUMNS = ['id', 'flowInstanceId', 'flowId', 'ord', 'taskId', 'nodeId', 'taskName', 'status', 'endedAt', 'updatedAt', 'waitingOn'] as const;
/** Task instance rows per INSERT at most (single-row statements measured faster than multi-row ones for
 * the instance rows themselves; a flow's task rows go in one statement, compiled once per row count). */
const TASK_ROWS_PER_INSERT = 64;

/** Shape: the number of rows. */
const insertTaskRows = compiledOnce((db, v, shape) =>
  db.insertInto('task_instances').values(
    Array.from({ length: Number(shape) }, (_, k): Insertable<TaskInstancesTable> => {
      const c = (name: (typeof TASK_COLUMNS)[number]) => v(`${name}${k}`);
      return {
        id: c('id'),
        flow_instance_id: c('flowInstanceId'),
        flow_id: c('flowId'),
        ord: c('ord'),
        task_id: c('taskId'),
        node_id: c('nodeId'),
        task_name: c('taskName'),
        status: c('status'),
        run_num: 0,
        started_at: null,
        ended_at: c('endedAt'),
        next_run_at: null,
        exit_code: null,
        is_timeout: 0,
        updated_at: c('updatedAt'),
        waiting_on: c('waitingOn'),
        due_at: null,
      };
    }),
  ),
);

// FOR KEY SHARE on PostgreSQL: a trigger or cancel waits for a Delete of the flow and then finds it gone.
const selectFlowLock = compiledOnce((db, v, _shape, kind) =>
  locking(db.selectFrom('flows').select(['lock_user_id', 'lock_user_name', 'lock_expires_at', 'version']).where('id', '=', v('flowId')).where('org_id', '=', v('orgId')), kind, 'keyShare'),
);

/** Why this create must fail alone (flowGuards.createRefusal over its flow's row), or null. */
async function flowRefusal(ctx: Ctx, conn: QueryRunner, input: NewFlowInstance): Promise<Error | null> {
  const i = input.instance;
  const row = (await selectFlowLock(ctx, conn, '', { flowId: i.flowId, orgId: i.orgId })).rows[0];
  return createRefusal(ctx, input, row && { ...row, version: num(row.version) });
}

/** Inserts the creates in order inside one transaction; null where the id already existed, the error where
 * the create's flow refused it. */
export async function insertInstances(ctx: Ctx, conn: QueryRunner, inputs: NewFlowInstance[]): Promise<Array<FlowInstance | Error | null>> {
  // Seqs are taken in arrival order; a duplicate's stays unused (seqs order instances, they need not be dense).
  const seqs = await ctx.dialect.allocateSeq(conn, inputs.length);
  const out: Array<FlowInstance | Error | null> = [];
  // Creates of one batch mostly trigger the same few flow versions: each is looked up once.
  const versions = new Map<string, FlowVersionRef>();
  for (const [k, input] of inputs.entries()) {
    const i = input.instance;
    const seq = seqs[k];
    const refused = await flowRefusal(ctx, conn, input);
    if (refused) {
      out.push(refused);
      continue;
    }
    // With the version's id (every create of the service's) its cached content is the snapshot, shared
    // as toFlowInstance shares it; without, the caller's is normalized (it may carry bookkeeping fields).
    let snapshot: FlowSnapshot;
    let version: FlowVersionRef;
    if (i.versionId !== undefined) {
      ({ snapshot, ...version } = (await versionsByIds(ctx, conn, [i.versionId])).get(i.versionId)!);
    } else {
      snapshot = snapshotOf(i.snapshot);
      version = await versionOf(ctx, conn, i.flowId, snapshot, i, versions);
    }
    const r = await insertInstance(ctx, conn, '', {
      id: i.id,
      flowId: i.flowId,
      orgId: i.orgId,
      seq,
      kind: i.kind,
      startTaskId: i.startTaskId,
      triggerTime: i.triggerTime,
      dueAt: i.dueAt,
      owner: i.owner,
      overrides: JSON.stringify(i.overrides),
      versionId: version.id,
      createdAt: i.createdAt,
    });
    // No row: the id exists (committed before, or an earlier create of this batch): this create's duplicate.
    if (Number(r.numAffectedRows ?? 0) === 0) {
      out.push(null);
      continue;
    }
    await insertTaskInstances(ctx, conn, input);
    const { versionId: _v, ...created } = i;
    out.push({ ...created, snapshot, seq, version, status: 'WAIT', startedAt: null, endedAt: null, reason: null });
  }
  return out;
}

/** The version of a snapshot given without its id: by its hash, found or made (once per batch). */
async function versionOf(
  ctx: Ctx,
  conn: QueryRunner,
  flowId: number,
  snapshot: FlowSnapshot,
  i: NewFlowInstance['instance'],
  seen: Map<string, FlowVersionRef>,
): Promise<FlowVersionRef> {
  const hash = versionHash(snapshot);
  const key = `${flowId}:${hash}`;
  let version = seen.get(key);
  if (!version) {
    version = await ensureVersion(ctx, conn, { flowId, snapshot, hash }, i.createdAt, i.owner, false);
    seen.set(key, version);
  }
  return version;
}

async function insertTaskInstances(ctx: Ctx, conn: QueryRunner, input: NewFlowInstance): Promise<void> {
  const i = input.instance;
  for (let from = 0; from < input.tasks.length; from += TASK_ROWS_PER_INSERT) {
    const chunk = input.tasks.slice(from, from + TASK_ROWS_PER_INSERT);
    const values: Record<string, unknown> = {};
    chunk.forEach((t, k) => {
      values[`id${k}`] = t.id;
      values[`flowInstanceId${k}`] = i.id;
      values[`flowId${k}`] = t.flowId;
      values[`ord${k}`] = from + k;
      values[`taskId${k}`] = t.taskId;
      values[`nodeId${k}`] = t.nodeId;
      values[`taskName${k}`] = t.taskName;
      values[`status${k}`] = t.status;
      // A node skipped at creation (outside a triggerFromTask run set) has ended as it was created.
      values[`endedAt${k}`] = t.status === 'SKIP' ? i.createdAt : null;
      values[`updatedAt${k}`] = i.createdAt;
      values[`waitingOn${k}`] = t.waitingOn;
    });
    await insertTaskRows(ctx, conn, String(chunk.length), values);
  }
}

// Reads: one flow_instances row of the org. Guard: org_id (other orgs' instances are invisible).
export async function getFlowInstance(ctx: Ctx, orgId: string, id: string): Promise<FlowInstance | null> {
  const r = await ctx.db.selectFrom('flow_instances').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  return r ? (await resolveInstances(ctx, ctx.db, [r]))[0] : null;
}

// Reads: one flow_instances row in any org (engine side). Guard: none.
export async function getFlowInstanceById(ctx: Ctx, id: string): Promise<FlowInstance | null> {
  const r = await ctx.db.selectFrom('flow_instances').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? (await resolveInstances(ctx, ctx.db, [r]))[0] : null;
}

// Writes: one flow_instances row (-> CANCEL, reason, ended_at) and its INIT/READY/RERUN task_instances rows
// (-> CANCEL), with their history rows, in one transaction (transitions.ts). Guards, in it: the instance is
// in the org; the lock columns of its flows row are free, expired at `at` or `userId`'s (else
// EditLockedError); it is WAIT or RUNNING, else StaleError naming its status. RUNNING task instances are
// left to the engine that owns their attempts (it stops their processes).
export async function cancelInstance(ctx: Ctx, orgId: string, id: string, at: number, reason: string, userId: string): Promise<FlowInstance> {
  return ctx.dialect.transaction(async (conn) => {
    const cur = (await selectOwnInstance(ctx, conn, '', { id, orgId })).rows[0];
    if (!cur) throw new StaleError(`flow instance ${id} not found`);
    const flow = (await selectFlowLock(ctx, conn, '', { flowId: num(cur.flow_id), orgId })).rows[0];
    const locked = flow ? lockRefusal(num(cur.flow_id), flow, userId, at) : null;
    if (locked) throw locked;
    const from = cur.status as FlowInstanceStatus;
    if (from !== 'WAIT' && from !== 'RUNNING') throw new StaleError(`flow instance ${id} is ${from}: only WAIT or RUNNING can be cancelled`);
    await applyTransitions(
      ctx,
      conn,
      { ...noTransitions(), instances: [{ id, flowId: num(cur.flow_id), from, to: 'CANCEL', reason }], pending: [{ instanceId: id, to: 'CANCEL', reason }] },
      at,
      null,
    );
    return (await resolveInstances(ctx, conn, [{ ...cur, status: 'CANCEL', reason, ended_at: at, updated_at: at }]))[0];
  });
}

const selectOwnInstance = compiledOnce((db, v) => db.selectFrom('flow_instances').select(FLOW_INSTANCE_COLUMNS).where('id', '=', v('id')).where('org_id', '=', v('orgId')));

/** The condition of the partial indexes of waiting instances (0009), as the literal they need. */
const WAITING = sql<boolean>`status = 'WAIT'`;

// Reads: flow_instances rows WAIT with due_at <= now (distinct flow ids), in the partial index
// flow_instances_due_idx (its condition repeated as a literal). Guard: none.
export async function listFlowsWithDueInstances(ctx: Ctx, now: number): Promise<number[]> {
  const rows = await ctx.db.selectFrom('flow_instances').select('flow_id').distinct().where(WAITING).where('due_at', '<=', now).execute();
  return rows.map((r) => num(r.flow_id));
}

// Reads: the smallest due_at later than now of WAIT flow_instances rows and of RERUN task_instances rows
// (the claim index). Guard: none.
export async function nextWakeAt(ctx: Ctx, now: number): Promise<number | null> {
  const inst = await ctx.db
    .selectFrom('flow_instances')
    .select((eb) => eb.fn.min('due_at').as('m'))
    .where(WAITING)
    .where('due_at', '>', now)
    .executeTakeFirst();
  const retry = await ctx.db
    .selectFrom('task_instances as t')
    .select('t.due_at')
    .where(CLAIMABLE)
    .where('t.due_at', '>', now)
    .orderBy('t.due_at')
    .orderBy('t.ord')
    .limit(1)
    .executeTakeFirst();
  // A reference's timeout is due then too (contract §10).
  const deadline = await nextDeadline(ctx, ctx.db);
  const times = [inst?.m, retry?.due_at, deadline].filter((m): m is number => m !== null && m !== undefined).map(num);
  return times.length === 0 ? null : Math.min(...times);
}

// Reads: RUNNING flow_instances rows (the partial index flow_instances_one_running_uq) with no READY,
// RUNNING or RERUN task_instances row and no WAITING reference (waiting on another workflow is not
// being stuck). Guard: none.
export async function listStalledInstances(ctx: Ctx, limit: number): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('flow_instances as fi')
    .select('fi.id')
    .where(sql<boolean>`fi.status = 'RUNNING'`)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('task_instances as t').select('t.id').whereRef('t.flow_instance_id', '=', 'fi.id').where('t.status', 'in', ['READY', 'RUNNING', 'RERUN']))),
    )
    .where((eb) => eb.not(eb.exists(eb.selectFrom('reference_waits as w').select('w.node_id').whereRef('w.instance_id', '=', 'fi.id').where(sql<boolean>`w.status = 'WAITING'`))))
    // `+seq`: sort the few RUNNING rows; a plain `seq` makes SQLite walk every instance in seq order instead.
    .orderBy(sql`+fi.seq`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
