// The one place where statuses are written: applies a plan's Transitions inside the caller's transaction.
// Each move is checked against the transition tables of src/domain/status.ts (an illegal one throws
// IllegalTransitionError and nothing is written), guarded by the row's current status (and attempt
// number and owner), and recorded in status_events in the same transaction (a failing end also writes
// its alerts outbox row there, src/store/alerts.ts). A guard
// that matches no row throws StaleError: the caller's transaction rolls back as a whole.
import { sql, type Updateable } from 'kysely';
import { IllegalTransitionError, StaleError } from '../domain/errors.js';
import type { InstanceMove, TaskMove, Transitions } from '../domain/plan.js';
import { canTransitionFlowInstance, canTransitionTaskInstance, isTerminalFlowInstance, isTerminalTaskInstance, type TaskInstanceStatus } from '../domain/status.js';
import { compiledOnce, type Ctx, type FlowInstancesTable, type QueryRunner } from './db.js';
import { attemptMoveRecorded, closeAttemptUpdate, taskUpdate, updateTaskRecorded } from './taskMoveSql.js';
import { appendLogIn } from './logs.js';
import { alertEventOfInstanceEnd } from '../domain/alerts.js';
import { writeInstanceAlert, writeTimeoutAlert } from './alerts.js';
import { closeWaitsOf, moveWait, openWaits } from './referenceWaits.js';

const PENDING: readonly TaskInstanceStatus[] = ['INIT', 'READY', 'RERUN'];

/** Refuses a transition the tables do not allow, before anything is written. */
export function checkTransitions(t: Transitions): void {
  for (const m of t.instances) {
    if (!canTransitionFlowInstance(m.from, m.to)) throw new IllegalTransitionError(`flow instance ${m.id}: ${m.from} -> ${m.to} is not allowed`);
  }
  for (const m of t.tasks) {
    if (!canTransitionTaskInstance(m.from, m.to)) throw new IllegalTransitionError(`task instance ${m.id}: ${m.from} -> ${m.to} is not allowed`);
    if (m.start && m.to !== 'RUNNING') throw new IllegalTransitionError(`task instance ${m.id}: an attempt starts only with -> RUNNING`);
    if (m.finish && m.from !== 'RUNNING') throw new IllegalTransitionError(`task instance ${m.id}: an attempt ends only from RUNNING`);
  }
  for (const p of t.pending) {
    for (const from of PENDING) {
      if (!canTransitionTaskInstance(from, p.to)) throw new IllegalTransitionError(`instance ${p.instanceId}: ${from} -> ${p.to} is not allowed`);
    }
  }
}

// Writes: the rows every move names, and one history row per status change. Guard: see the file header.
export async function applyTransitions(ctx: Ctx, conn: QueryRunner, t: Transitions, at: number, engineId: string | null): Promise<void> {
  checkTransitions(t);
  for (const m of t.instances) await moveInstance(ctx, conn, m, at, engineId);
  for (const id of t.unblock) await unblock(ctx, conn, '', { id });
  for (const m of t.tasks) await moveTask(ctx, conn, m, at, engineId);
  for (const p of t.pending) {
    const values = { instanceId: p.instanceId, to: p.to, at, reason: p.reason, engineId };
    await pendingEvents(ctx, conn, '', values);
    await pendingMove(ctx, conn, '', values);
  }
  if (t.openReferences.length > 0) await openWaits(ctx, conn, t.openReferences, at);
  for (const m of t.references) {
    if (!(await moveWait(ctx, conn, m, at))) throw new StaleError(`reference ${m.nodeId} (${m.cycleGap}) of flow instance ${m.instanceId} is not WAITING (to ${m.to})`);
  }
  // An instance that ended (pending moves) waits on nothing more. After the moves above: a timed-out
  // reference's own FAIL is written first, the instance's other waits end SKIP.
  for (const p of t.pending) await closeWaitsOf(ctx, conn, p.instanceId, p.to, p.reason, at);
}

// ---- flow instances ----

const updateInstance = compiledOnce((db, v, shape) => {
  const set: Updateable<FlowInstancesTable> = { status: v('to'), updated_at: v('at') };
  if (shape.includes('W')) set.reason = v('reason');
  if (shape.includes('T')) set.ended_at = v('at');
  if (shape.includes('S')) set.started_at = v('at');
  return db.updateTable('flow_instances').set(set).where('id', '=', v('id')).where('status', '=', v('from'));
});

const insertInstanceEvent = compiledOnce((db, v) =>
  db.insertInto('status_events').values({
    flow_instance_id: v('id'),
    task_instance_id: null,
    run_num: null,
    at: v('at'),
    from_status: v('from'),
    to_status: v('to'),
    reason: v('reason'),
    engine_id: v('engineId'),
  }),
);

async function moveInstance(ctx: Ctx, conn: QueryRunner, m: InstanceMove, at: number, engineId: string | null): Promise<void> {
  const shape = `${m.reason !== null ? 'W' : ''}${isTerminalFlowInstance(m.to) ? 'T' : ''}${m.to === 'RUNNING' ? 'S' : ''}`;
  const values = { id: m.id, from: m.from, to: m.to, at, reason: m.reason, engineId };
  const r = await updateInstance(ctx, conn, shape, values);
  if (Number(r.numAffectedRows ?? 0) === 0) throw new StaleError(`flow instance ${m.id} is not ${m.from} (to ${m.to})`);
  await insertInstanceEvent(ctx, conn, '', values);
  // Its alert (contract §12) in the same transaction as the end: an end rolled back alerts nobody.
  const event = alertEventOfInstanceEnd(m.to);
  if (event) await writeInstanceAlert(ctx, conn, { instanceId: m.id, flowId: m.flowId, event, reason: m.reason, at });
}

// ---- task instances ----

const updateTask = compiledOnce((db, v, shape) => taskUpdate(db, v, shape));

const insertTaskEvent = compiledOnce((db, v) =>
  db.insertInto('status_events').values({
    task_instance_id: v('id'),
    flow_instance_id: v('instanceId'),
    run_num: v('runNum'),
    at: v('at'),
    from_status: v('from'),
    to_status: v('to'),
    reason: v('reason'),
    engine_id: v('engineId'),
  }),
);

const closeAttempt = compiledOnce((db, v) => closeAttemptUpdate(db, v));

const openAttempt = compiledOnce((db, v) =>
  db.insertInto('attempts').values({
    task_instance_id: v('id'),
    run_num: v('runNum'),
    status: 'RUNNING',
    started_at: v('at'),
    ended_at: null,
    host: v('host'),
    engine_id: v('engineId'),
    pid: null,
    pgid: null,
    proc_start: null,
    exit_code: null,
    signal: null,
  }),
);

const insertBanner = compiledOnce((db, v) => db.insertInto('task_logs').values({ task_instance_id: v('id'), run_num: v('runNum'), seq: 0, text: v('text') }));

const unblock = compiledOnce((db, v) =>
  db
    .updateTable('task_instances')
    .set((eb) => ({ waiting_on: eb('waiting_on', '-', 1) }))
    .where('id', '=', v('id'))
    .where('status', '=', 'INIT')
    .where('waiting_on', '>', 0),
);

async function moveTask(ctx: Ctx, conn: QueryRunner, m: TaskMove, at: number, engineId: string | null): Promise<void> {
  const f = m.finish;
  const s = m.start;
  const shape = `${isTerminalTaskInstance(m.to) ? 'T' : ''}${s ? 'S' : ''}${m.exitCode !== undefined ? 'E' : ''}${s || f ? 'R' : ''}`;
  const runNum = s ? s.runNum : (f?.runNum ?? null);
  const values = {
    id: m.id,
    from: m.from,
    to: m.to,
    at,
    nextRunAt: m.to === 'RERUN' ? m.dueAt : null,
    dueAt: m.to === 'READY' || m.to === 'RERUN' ? m.dueAt : null,
    runNum,
    guardRunNum: s ? s.runNum - 1 : (f?.runNum ?? null),
    exitCode: m.exitCode ?? null,
    isTimeout: m.isTimeout ? 1 : 0,
    reason: m.reason ?? null,
    engineId,
  };
  const staleAttempt = () => new StaleError(`attempt ${f!.runNum} of task instance ${m.id} is not open for engine ${f!.engineId}`);
  const staleTask = () => new StaleError(`task instance ${m.id} is not ${m.from}${runNum !== null ? ` at attempt ${s ? s.runNum - 1 : runNum}` : ''} (to ${m.to})`);
  const p = f?.process ?? null;
  const finishValues = f && {
    status: f.status, signal: f.signal, finishRunNum: f.runNum, finishEngineId: f.engineId,
    pid: p?.pid ?? null, pgid: p?.pgid ?? null, procStart: p?.procStart ?? null, attemptExitCode: f.exitCode,
  };
  if (ctx.dialect.kind === 'postgres') {
    if (f || s) {
      // One round trip for the whole move (taskMoveSql.ts).
      const parts = `${f ? 'F' : ''}${f && f.logTail !== '' ? 'L' : ''}${s ? 'O' : ''}`;
      const all = { ...values, ...finishValues, logTail: f?.logTail ?? '', host: s?.host ?? null, startEngineId: s?.engineId ?? null, banner: s?.banner ?? null };
      const r = (await attemptMoveRecorded(ctx, conn, `${shape}|${parts}`, all)).rows[0] as { closed: number; moved: number };
      if (f && Number(r.closed) === 0) throw staleAttempt();
      if (Number(r.moved) === 0) throw staleTask();
    } else if (Number((await updateTaskRecorded(ctx, conn, shape, values)).numAffectedRows ?? 0) === 0) throw staleTask();
    if (f && m.isTimeout) await writeTimeoutAlert(ctx, conn, { instanceId: m.instanceId, taskInstanceId: m.id, runNum: f.runNum, reason: m.reason ?? `attempt ${f.runNum} timed out`, at });
    return;
  }
  if (f) {
    if (Number((await closeAttempt(ctx, conn, '', { id: m.id, at, ...finishValues })).numAffectedRows ?? 0) === 0) throw staleAttempt();
    await appendLogIn(ctx, conn, m.id, f.runNum, f.logTail);
  }
  if (Number((await updateTask(ctx, conn, shape, values)).numAffectedRows ?? 0) === 0) throw staleTask();
  // An attempt that timed out alerts (contract §12), retried or not, in the transaction that closes it.
  if (f && m.isTimeout) await writeTimeoutAlert(ctx, conn, { instanceId: m.instanceId, taskInstanceId: m.id, runNum: f.runNum, reason: m.reason ?? `attempt ${f.runNum} timed out`, at });
  if (s) {
    await openAttempt(ctx, conn, '', { id: m.id, runNum: s.runNum, at, host: s.host, engineId: s.engineId });
    await insertBanner(ctx, conn, '', { id: m.id, runNum: s.runNum, text: s.banner });
  }
  await insertTaskEvent(ctx, conn, '', {
    id: m.id,
    instanceId: m.instanceId,
    runNum: runNum ?? m.runNum ?? (await currentRunNum(ctx, conn, m.id)),
    at,
    from: m.from,
    to: m.to,
    reason: m.reason ?? null,
    engineId,
  });
}

const selectRunNum = compiledOnce((db, v) => db.selectFrom('task_instances').select('run_num').where('id', '=', v('id')));

async function currentRunNum(ctx: Ctx, conn: QueryRunner, id: string): Promise<number> {
  return (await selectRunNum(ctx, conn, '', { id })).rows[0]?.run_num ?? 0;
}

// ---- every pending task instance of an instance at once (the instance ended) ----

const pendingEvents = compiledOnce((db, v) =>
  db.insertInto('status_events').columns(['task_instance_id', 'flow_instance_id', 'run_num', 'at', 'from_status', 'to_status', 'reason', 'engine_id']).expression((eb) =>
    eb
      .selectFrom('task_instances')
      // Casts: a bare parameter in a select list is untyped on PostgreSQL.
      .select([
        'id',
        'flow_instance_id',
        'run_num',
        sql<number>`cast(${v('at')} as bigint)`.as('at'),
        'status',
        sql<string>`cast(${v('to')} as text)`.as('to_status'),
        sql<string>`cast(${v('reason')} as text)`.as('reason'),
        sql<string | null>`cast(${v('engineId')} as text)`.as('engine_id'),
      ])
      .where('flow_instance_id', '=', v('instanceId'))
      .where('status', 'in', PENDING as TaskInstanceStatus[]),
  ),
);

const pendingMove = compiledOnce((db, v) =>
  db
    .updateTable('task_instances')
    .set({ status: v('to'), ended_at: v('at'), updated_at: v('at'), next_run_at: null, due_at: null })
    .where('flow_instance_id', '=', v('instanceId'))
    .where('status', 'in', PENDING as TaskInstanceStatus[]),
);
