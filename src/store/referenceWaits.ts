// Reference waits (contract §10, migration 0011): the rows the engine keeps for the references of running
// instances, and the reads that bind a reference to the referenced workflow's instance. Writes happen only
// inside an engine decision's transaction (applyTransitions), reads inside it or for Get Flow Instance.
import { sql } from 'kysely';
import type { Binding, ReferenceWaitStatus, ReferenceWaitView } from '../domain/referenceWaits.js';
import type { NewReferenceWait, ReferenceMove } from '../domain/plan.js';
import { compiledOnce, locking, num, parseJson, type Ctx, type QueryRunner } from './db.js';
import { REFERENCE_WAIT_COLUMNS } from './columns.js';

interface WaitRecord {
  instance_id: string;
  node_id: string;
  cycle_gap: string;
  status: string;
  targets: string;
  window_start: number | string;
  window_end: number | string;
  deadline: number | string;
  ref_flow_id: number | string;
  ref_task_id: number | string | null;
  bound_id: string | null;
  bound_status: string | null;
  reason: string | null;
  created_at: number | string;
  ended_at: number | string | null;
}

const toView = (r: WaitRecord): ReferenceWaitView => ({
  instanceId: r.instance_id,
  nodeId: r.node_id,
  cycleGap: r.cycle_gap,
  status: r.status as ReferenceWaitStatus,
  targets: parseJson<string[]>(r.targets),
  windowStart: num(r.window_start),
  windowEnd: num(r.window_end),
  deadline: num(r.deadline),
  refFlowId: num(r.ref_flow_id),
  refTaskId: r.ref_task_id === null ? null : num(r.ref_task_id),
  boundId: r.bound_id,
  boundStatus: r.bound_status,
  reason: r.reason,
  createdAt: num(r.created_at),
  endedAt: r.ended_at === null ? null : num(r.ended_at),
});

const insertWait = compiledOnce((db, v) =>
  db.insertInto('reference_waits').values({
    instance_id: v('instanceId'),
    node_id: v('nodeId'),
    cycle_gap: v('cycleGap'),
    flow_id: v('flowId'),
    ref_flow_id: v('refFlowId'),
    ref_task_id: v('refTaskId'),
    window_start: v('windowStart'),
    window_end: v('windowEnd'),
    deadline: v('deadline'),
    status: v('status'),
    targets: v('targets'),
    bound_id: v('boundId'),
    bound_status: v('boundStatus'),
    reason: null,
    created_at: v('at'),
    ended_at: v('endedAt'),
  }),
);

const endWait = compiledOnce((db, v) =>
  db
    .updateTable('reference_waits')
    .set({ status: v('to'), bound_id: v('boundId'), bound_status: v('boundStatus'), reason: v('reason'), ended_at: v('at') })
    .where('instance_id', '=', v('instanceId'))
    .where('node_id', '=', v('nodeId'))
    .where('cycle_gap', '=', v('cycleGap'))
    .where(sql<boolean>`status = 'WAITING'`),
);

const endWaitsOf = compiledOnce((db, v) =>
  db
    .updateTable('reference_waits')
    .set({ status: v('to'), reason: v('reason'), ended_at: v('at') })
    .where('instance_id', '=', v('instanceId'))
    .where(sql<boolean>`status = 'WAITING'`),
);

/** Writes the waits of an instance that starts. */
export async function openWaits(ctx: Ctx, conn: QueryRunner, waits: NewReferenceWait[], at: number): Promise<void> {
  for (const w of waits) {
    await insertWait(ctx, conn, '', {
      ...w,
      targets: JSON.stringify(w.targets),
      at,
      endedAt: w.status === 'WAITING' ? null : at,
    });
  }
}

/** Ends a wait; false when it was not WAITING any more (the caller's plan is stale). */
export async function moveWait(ctx: Ctx, conn: QueryRunner, m: ReferenceMove, at: number): Promise<boolean> {
  const r = await endWait(ctx, conn, '', { ...m, at });
  return Number(r.numAffectedRows ?? 0) > 0;
}

/** Ends every WAITING wait of an instance that ended (CANCEL or SKIP). */
export async function closeWaitsOf(ctx: Ctx, conn: QueryRunner, instanceId: string, to: 'CANCEL' | 'SKIP', reason: string, at: number): Promise<void> {
  await endWaitsOf(ctx, conn, '', { instanceId, to, reason, at });
}

// The binding (contract §10): the referenced workflow's instance with the latest trigger time in the
// window (ties: the later created). Index flow_instances (flow_id, trigger_time). FOR SHARE on PostgreSQL:
// the end of that instance (which locks it FOR UPDATE) and this read are ordered, so a wait opened while
// the bound instance ends is either seen by that end's wake-up or sees the end itself.
const selectBinding = compiledOnce((db, v, _shape, kind) =>
  locking(
    db
      .selectFrom('flow_instances')
      .select(['id', 'status'])
      .where('flow_id', '=', v('flowId'))
      .where('trigger_time', '>=', v('start'))
      .where('trigger_time', '<', v('end'))
      .orderBy('trigger_time', 'desc')
      .orderBy('seq', 'desc')
      .limit(1),
    kind,
    'share',
  ),
);
const selectTaskOf = compiledOnce((db, v) => db.selectFrom('task_instances').select(['id', 'status']).where('flow_instance_id', '=', v('instanceId')).where('task_id', '=', v('taskId')));

export async function bindingOf(ctx: Ctx, conn: QueryRunner, refFlowId: number, refTaskId: number | null, start: number, end: number): Promise<Binding | null> {
  const inst = (await selectBinding(ctx, conn, '', { flowId: refFlowId, start, end })).rows[0];
  if (!inst) return null;
  if (refTaskId === null) return { instanceId: inst.id, status: inst.status };
  const task = (await selectTaskOf(ctx, conn, '', { instanceId: inst.id, taskId: refTaskId })).rows[0];
  return { instanceId: inst.id, status: task ? task.status : 'NONE' };
}

// Partial index reference_waits_on_idx (ref_flow_id, window_start) WHERE status = 'WAITING'.
const selectWaitingOn = compiledOnce((db, v) =>
  db
    .selectFrom('reference_waits')
    .selectAll()
    .where('ref_flow_id', '=', v('flowId'))
    .where(sql<boolean>`status = 'WAITING'`)
    .where('window_start', '<=', v('t'))
    .where('window_end', '>', v('t'))
    .orderBy('instance_id')
    .orderBy('node_id')
    .limit(v('limit')),
);

/** WAITING waits on `refFlowId` whose window holds `triggerTime` (what an end of that instance may satisfy). */
export async function waitingOn(ctx: Ctx, conn: QueryRunner, refFlowId: number, triggerTime: number, limit: number): Promise<ReferenceWaitView[]> {
  return (await selectWaitingOn(ctx, conn, '', { flowId: refFlowId, t: triggerTime, limit })).rows.map(toView);
}

// Partial index reference_waits_deadline_idx (deadline) WHERE status = 'WAITING'.
const selectExpired = compiledOnce((db, v) =>
  db.selectFrom('reference_waits').selectAll().where(sql<boolean>`status = 'WAITING'`).where('deadline', '<=', v('now')).orderBy('deadline').limit(v('limit')),
);
const selectNextDeadline = compiledOnce((db) =>
  db.selectFrom('reference_waits').select((eb) => eb.fn.min('deadline').as('at')).where(sql<boolean>`status = 'WAITING'`),
);

export async function expiredWaits(ctx: Ctx, conn: QueryRunner, now: number, limit: number): Promise<ReferenceWaitView[]> {
  return (await selectExpired(ctx, conn, '', { now, limit })).rows.map(toView);
}

export async function nextDeadline(ctx: Ctx, conn: QueryRunner): Promise<number | null> {
  const at = (await selectNextDeadline(ctx, conn, '', {})).rows[0]?.at;
  return at === null || at === undefined ? null : num(at);
}

const selectWaitsOf = compiledOnce((db, v) => db.selectFrom('reference_waits').select(REFERENCE_WAIT_COLUMNS).where('instance_id', '=', v('instanceId')).orderBy('node_id').orderBy('cycle_gap'));
const selectOneWaiting = compiledOnce((db, v) => db.selectFrom('reference_waits').select('node_id').where('instance_id', '=', v('instanceId')).where(sql<boolean>`status = 'WAITING'`).limit(1));

export async function waitsOf(ctx: Ctx, conn: QueryRunner, instanceId: string): Promise<ReferenceWaitView[]> {
  return (await selectWaitsOf(ctx, conn, '', { instanceId })).rows.map(toView);
}

export async function anyWaiting(ctx: Ctx, conn: QueryRunner, instanceId: string): Promise<boolean> {
  return (await selectOneWaiting(ctx, conn, '', { instanceId })).rows.length > 0;
}
