// The EngineTx of one engine decision: the reads a plan depends on, run on the decision's transaction
// (StoreDialect.transaction), and apply() for its writes (transitions.ts). Reads touch a bounded number of
// rows (one task and its successors, a few index probes), never a whole instance, so a step costs the
// same in a 2,000-task instance as in a 2-task one. Statements are compiled once (the engine's hot path).
import type { ClaimCandidate, InstanceRow, TaskRow } from '../domain/plan.js';
import type { FlowInstanceStatus, TaskInstanceStatus } from '../domain/status.js';
import type { Claimable, EngineTx } from './engineTypes.js';
import { sql } from 'kysely';
import { ATTEMPT_OPEN, CLAIMABLE, compiledOnce, locking, num, type Ctx, type QueryRunner } from './db.js';
import { resolveInstances } from './flowInstances.js';
import { applyTransitions } from './transitions.js';
import { anyWaiting, bindingOf, expiredWaits, waitingOn } from './referenceWaits.js';
import { FLOW_INSTANCE_COLUMNS } from './columns.js';

/** Ids per `IN (...)` list at most (SQLite binds up to 32,766 parameters; keep statements small). */
const IN_CHUNK = 200;

interface TaskRowRecord {
  id: string;
  flow_instance_id: string;
  node_id: string;
  task_name: string;
  status: string;
  run_num: number;
  waiting_on: number;
}

const toRow = (r: TaskRowRecord): TaskRow => ({
  id: r.id,
  instanceId: r.flow_instance_id,
  nodeId: r.node_id,
  taskName: r.task_name,
  status: r.status as TaskInstanceStatus,
  runNum: Number(r.run_num),
  waitingOn: Number(r.waiting_on),
});

const ROW_COLUMNS = ['id', 'flow_instance_id', 'node_id', 'task_name', 'status', 'run_num', 'waiting_on'] as const;
const slots = (prefix: string, n: number, v: (k: string) => unknown) => Array.from({ length: n }, (_, i) => v(`${prefix}${i}`) as string);
const valuesOf = (prefix: string, list: readonly string[]) => Object.fromEntries(list.map((x, i) => [`${prefix}${i}`, x]));

// Row locks (PostgreSQL; SQLite has one writer at a time): a decision about an instance as a whole (an
// attempt's end, a stall) locks its flow_instances row FOR UPDATE first, and a claim takes the rows it
// claims FOR UPDATE SKIP LOCKED with their instance FOR SHARE SKIP LOCKED. So the reads an instance's
// end is decided on ("is anything else active?") cannot be overtaken by a claim of another process, and
// claims of several workers never wait on one another. Lock order is always flow, instance, task.
const selectInstance = compiledOnce((db, v, _shape, kind) => locking(db.selectFrom('flow_instances').select(['id', 'flow_id', 'status']).where('id', '=', v('id')), kind, 'update'));
const selectInstanceDetails = compiledOnce((db, v) => db.selectFrom('flow_instances').select(FLOW_INSTANCE_COLUMNS).where('id', '=', v('id')));
/** Shape: the number of ids. */
const selectTasks = compiledOnce((db, v, shape) => db.selectFrom('task_instances').select(ROW_COLUMNS).where('id', 'in', slots('id', Number(shape), v)));
const selectEndState = compiledOnce((db, v, _shape, kind) =>
  locking(db
    .selectFrom('task_instances as t')
    .innerJoin('flow_instances as fi', 'fi.id', 't.flow_instance_id')
    .leftJoin('attempts as a', (j) => j.onRef('a.task_instance_id', '=', 't.id').on('a.run_num', '=', v('runNum')).on(ATTEMPT_OPEN))
    .select(['t.id', 't.flow_instance_id', 't.node_id', 't.task_name', 't.status', 't.run_num', 't.waiting_on', 'a.engine_id', 'fi.flow_id', 'fi.status as instance_status'])
    .where('t.id', '=', v('id')), kind, 'update', ['fi']),
);
/** Shape: the number of ids. PostgreSQL only. */
const lockInstances = compiledOnce((db, v, shape) =>
  db
    .selectFrom('flow_instances')
    .select('id')
    .where('id', 'in', db.selectFrom('task_instances').select('flow_instance_id').where('id', 'in', slots('id', Number(shape), v)))
    .orderBy('id')
    .forUpdate(),
);
const countFailed = compiledOnce((db, v) =>
  db
    .selectFrom('attempts')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('task_instance_id', '=', v('id'))
    .where('status', 'in', ['FAIL', 'TIMEOUT', 'LOST']),
);
/** Shape: the number of statuses. Index (flow_instance_id, status). */
const selectWithStatus = compiledOnce((db, v, shape) =>
  db
    .selectFrom('task_instances')
    .select(ROW_COLUMNS)
    .where('flow_instance_id', '=', v('instanceId'))
    .where('status', 'in', slots('s', Number(shape), v))
    .orderBy('ord')
    .limit(v('limit')),
);
const selectRoots = compiledOnce((db, v) =>
  db.selectFrom('task_instances').select(ROW_COLUMNS).where('flow_instance_id', '=', v('instanceId')).where('status', '=', 'INIT').where('waiting_on', '=', 0).orderBy('ord'),
);
// The one-instance-per-flow rule in one statement: the first due WAIT instance, if nothing of the flow runs.
const selectNextInstance = compiledOnce((db, v) =>
  db
    .selectFrom('flow_instances as w')
    .select(['w.id', 'w.flow_id', 'w.status'])
    .where('w.flow_id', '=', v('flowId'))
    // Statuses as literals: each condition is the one of a partial index (0009: flow_instances_wait_idx,
    // flow_instances_one_running_uq, task_instances_running_idx), which SQLite uses only when repeated.
    .where(sql<boolean>`w.status = 'WAIT'`)
    .where('w.due_at', '<=', v('now'))
    .where((eb) =>
      eb.and([
        eb.not(eb.exists(eb.selectFrom('flow_instances as r').select('r.id').where('r.flow_id', '=', v('flowId')).where(sql<boolean>`r.status = 'RUNNING'`))),
        eb.not(eb.exists(eb.selectFrom('task_instances as t').select('t.id').where('t.flow_id', '=', v('flowId')).where(sql<boolean>`t.status = 'RUNNING'`))),
      ]),
    )
    .orderBy('w.due_at')
    .orderBy('w.seq')
    .limit(1),
);
// Partial index task_instances_claim_idx (due_at, ord) WHERE status IN ('READY', 'RERUN'): the status
// test is written as literals (SQLite uses a partial index only when the query repeats its condition, and
// a bound parameter does not), and the cross join keeps task_instances the outer loop, so the index gives
// the rows in claim order without a sort however many instances run.
const selectClaimable = compiledOnce((db, v, _shape, kind) => {
  const q = db
    .selectFrom('task_instances as t')
    .crossJoin('flow_instances as fi')
    .select(['t.id', 't.flow_instance_id', 't.node_id', 't.task_name', 't.status', 't.run_num', 't.waiting_on', 't.due_at', 't.task_id', 'fi.flow_id'])
    .where(CLAIMABLE)
    .where('t.due_at', '<=', v('now'))
    .whereRef('fi.id', '=', 't.flow_instance_id')
    .where('fi.status', '=', 'RUNNING')
    .orderBy('t.due_at')
    .orderBy('t.ord')
    .limit(v('limit'));
  return kind === 'postgres' ? q.modifyEnd(sql.raw('for update of t skip locked for share of fi skip locked')) : q;
});

export function engineTxOn(ctx: Ctx, conn: QueryRunner): EngineTx {
  return {
    async instance(id): Promise<InstanceRow | null> {
      const r = (await selectInstance(ctx, conn, '', { id })).rows[0];
      return r ? { id: r.id, flowId: num(r.flow_id), status: r.status as FlowInstanceStatus } : null;
    },
    async instanceDetails(id) {
      const r = (await selectInstanceDetails(ctx, conn, '', { id })).rows[0];
      return r ? (await resolveInstances(ctx, conn, [r]))[0] : null;
    },
    async tasks(ids) {
      const byId = new Map<string, TaskRow>();
      for (let i = 0; i < ids.length; i += IN_CHUNK) {
        const chunk = ids.slice(i, i + IN_CHUNK);
        for (const r of (await selectTasks(ctx, conn, String(chunk.length), valuesOf('id', chunk))).rows) byId.set(r.id, toRow(r));
      }
      return ids.map((id) => byId.get(id)).filter((r): r is TaskRow => r !== undefined);
    },
    async endState(id, runNum) {
      const r = (await selectEndState(ctx, conn, '', { id, runNum })).rows[0];
      if (!r) return null;
      return { task: toRow(r), owner: r.engine_id ?? null, instance: { id: r.flow_instance_id, flowId: num(r.flow_id), status: r.instance_status as FlowInstanceStatus } };
    },
    async lockInstancesOf(ids) {
      if (ctx.dialect.kind !== 'postgres' || ids.length === 0) return;
      for (let i = 0; i < ids.length; i += IN_CHUNK) {
        const chunk = ids.slice(i, i + IN_CHUNK);
        await lockInstances(ctx, conn, String(chunk.length), valuesOf('id', chunk));
      }
    },
    async failedAttempts(id) {
      return Number((await countFailed(ctx, conn, '', { id })).rows[0]?.n ?? 0);
    },
    async anyTask(instanceId, statuses, except) {
      // Reading one row more than `except` holds proves whether another one exists.
      const limit = except.length + 1;
      const rows = (await selectWithStatus(ctx, conn, String(statuses.length), { instanceId, limit, ...valuesOf('s', statuses) })).rows;
      const skip = new Set(except);
      return rows.some((r) => !skip.has(r.id));
    },
    async sampleTasks(instanceId, statuses, limit) {
      return (await selectWithStatus(ctx, conn, String(statuses.length), { instanceId, limit, ...valuesOf('s', statuses) })).rows.map(toRow);
    },
    async roots(instanceId) {
      return (await selectRoots(ctx, conn, '', { instanceId })).rows.map(toRow);
    },
    async nextInstanceToStart(flowId, now) {
      await ctx.dialect.lockFlowForStart(conn, flowId);
      const r = (await selectNextInstance(ctx, conn, '', { flowId, now })).rows[0];
      return r ? { id: r.id, flowId: num(r.flow_id), status: r.status as FlowInstanceStatus } : null;
    },
    async claimable(limit, now): Promise<Claimable[]> {
      if (limit <= 0) return [];
      const rows = (await selectClaimable(ctx, conn, '', { limit, now })).rows;
      return rows.map((r): Claimable & ClaimCandidate => ({ task: toRow(r), dueAt: num(r.due_at ?? 0), flowId: num(r.flow_id), taskId: num(r.task_id) }));
    },
    apply: (t, at, engineId) => applyTransitions(ctx, conn, t, at, engineId),
    referenceBinding: (refFlowId, refTaskId, start, end) => bindingOf(ctx, conn, refFlowId, refTaskId, start, end),
    waitingReferencesOn: (refFlowId, triggerTime, limit) => waitingOn(ctx, conn, refFlowId, triggerTime, limit),
    expiredReferences: (now, limit) => expiredWaits(ctx, conn, now, limit),
    anyWaitingReference: (instanceId) => anyWaiting(ctx, conn, instanceId),
  };
}
