// Task instances and their attempts: reads, and the engine's guarded commit (task and instance
// transitions, attempt open/close, log chunks) applied atomically. Row mapping for task instances and
// attempts lives here. Each transition is one UPDATE whose WHERE is the guard; zero rows -> StaleError,
// which rolls back the whole commit.
import { sql, type Selectable, type Updateable } from 'kysely';
import { StaleError } from '../domain/errors.js';
import { isTerminalFlowInstance, isTerminalTaskInstance, type TaskInstanceStatus } from '../domain/status.js';
import type { Attempt, AttemptStatus, TaskInstance } from '../domain/types.js';
import type { EngineCommit, InstanceTransition, TaskTransition } from './store.js';
import { compiledOnce, num, numOrNull, type AttemptsTable, type Ctx, type FlowInstancesTable, type QueryRunner, type TaskInstancesTable } from './db.js';
import { appendLogIn } from './logs.js';

export function toTaskInstance(r: Selectable<TaskInstancesTable>): TaskInstance {
  return {
    id: r.id,
    flowInstanceId: r.flow_instance_id,
    flowId: num(r.flow_id),
    taskId: num(r.task_id),
    nodeId: r.node_id,
    taskName: r.task_name,
    status: r.status as TaskInstanceStatus,
    runNum: r.run_num,
    startedAt: numOrNull(r.started_at),
    endedAt: numOrNull(r.ended_at),
    nextRunAt: numOrNull(r.next_run_at),
    exitCode: r.exit_code,
    isTimeout: r.is_timeout === 1,
    updatedAt: num(r.updated_at),
  };
}

function toAttempt(r: Selectable<AttemptsTable>): Attempt {
  return {
    taskInstanceId: r.task_instance_id,
    runNum: r.run_num,
    status: r.status as AttemptStatus,
    startedAt: num(r.started_at),
    endedAt: numOrNull(r.ended_at),
    host: r.host,
    engineId: r.engine_id,
    pid: r.pid,
    pgid: r.pgid,
    procStart: r.proc_start,
    exitCode: r.exit_code,
    signal: r.signal,
  };
}

// Reads: task_instances rows of one flow instance, in node order. Guard: none (the caller holds the instance).
export async function listTaskInstances(ctx: Ctx, flowInstanceId: string): Promise<TaskInstance[]> {
  const rows = await ctx.db.selectFrom('task_instances').selectAll().where('flow_instance_id', '=', flowInstanceId).orderBy('ord').execute();
  return rows.map(toTaskInstance);
}

// Reads: one task_instances row whose flow_instances row is in the org. Guard: org_id via the join.
export async function getTaskInstance(ctx: Ctx, orgId: string, id: string): Promise<TaskInstance | null> {
  const r = await ctx.db
    .selectFrom('task_instances as t')
    .innerJoin('flow_instances as fi', 'fi.id', 't.flow_instance_id')
    .selectAll('t')
    .where('t.id', '=', id)
    .where('fi.org_id', '=', orgId)
    .executeTakeFirst();
  return r ? toTaskInstance(r) : null;
}

// Reads: one task_instances row in any org (engine side). Guard: none.
export async function getTaskInstanceById(ctx: Ctx, id: string): Promise<TaskInstance | null> {
  const r = await ctx.db.selectFrom('task_instances').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toTaskInstance(r) : null;
}

// Reads: attempts rows of one task instance, by run_num. Guard: none.
export async function listAttempts(ctx: Ctx, taskInstanceId: string): Promise<Attempt[]> {
  return (await ctx.db.selectFrom('attempts').selectAll().where('task_instance_id', '=', taskInstanceId).orderBy('run_num').execute()).map(toAttempt);
}

// Reads: attempts rows still RUNNING (partial index). Guard: none.
export async function listOpenAttempts(ctx: Ctx): Promise<Attempt[]> {
  return (await ctx.db.selectFrom('attempts').selectAll().where('status', '=', 'RUNNING').execute()).map(toAttempt);
}

const recordProcess = compiledOnce((db, v) =>
  db
    .updateTable('attempts')
    .set({ pid: v('pid'), pgid: v('pgid'), proc_start: v('procStart') })
    .where('task_instance_id', '=', v('id'))
    .where('run_num', '=', v('runNum'))
    .where('status', '=', 'RUNNING'),
);

// Writes: pid, pgid, proc_start of one attempts row. Guard: the attempt is still RUNNING, else StaleError.
// Once per spawn: a compiled statement.
export async function recordAttemptProcess(
  ctx: Ctx,
  taskInstanceId: string,
  runNum: number,
  p: { pid: number; pgid: number; procStart: string | null },
): Promise<void> {
  const r = await recordProcess(ctx, ctx.db, '', { id: taskInstanceId, runNum, pid: p.pid, pgid: p.pgid, procStart: p.procStart });
  if (Number(r.numAffectedRows ?? 0) === 0) throw new StaleError(`attempt ${runNum} of task instance ${taskInstanceId} is not open`);
}

// Writes: flow_instances, task_instances, attempts and task_logs rows named by the commit, in one transaction.
// Instance transitions go first, so a task start in the same commit sees the instance's new status.
// Guard: every transition's WHERE (status in from, run_num, parent instance RUNNING for a start, attempt
// still RUNNING for a finish); the first that matches no row throws StaleError and nothing is written.
// This is the engine's hot path (one commit per task end): statements compiled once per shape
// (compiledOnce), run straight on the transaction's connection (StoreDialect.transaction).
export async function commit(ctx: Ctx, c: EngineCommit): Promise<void> {
  if (c.tasks.length === 0 && c.instances.length === 0) return;
  await ctx.dialect.transaction(async (conn) => {
    for (const t of c.instances) await applyInstanceTransition(ctx, conn, t);
    for (const t of c.tasks) await applyTaskTransition(ctx, conn, t);
  });
}

/** Shape: `<from count>:<flags>`; flags name the optional clauses present. */
const shapeOf = (n: number, flags: Record<string, boolean>) => `${n}:${Object.keys(flags).filter((k) => flags[k]).join('')}`;
const has = (shape: string, flag: string) => shape.slice(shape.indexOf(':') + 1).includes(flag);
const fromValues = (from: readonly string[]) => Object.fromEntries(from.map((s, i) => [`from${i}`, s]));
const fromSlots = (shape: string, v: (k: string) => unknown) => Array.from({ length: parseInt(shape, 10) }, (_, i) => v(`from${i}`) as string);

const updateInstance = compiledOnce((db, v, shape) => {
  const set: Updateable<FlowInstancesTable> = { status: v('to'), updated_at: v('at') };
  if (has(shape, 'W')) set.reason = v('reason');
  if (has(shape, 'T')) set.ended_at = v('at');
  if (has(shape, 'S')) set.started_at = v('at');
  return db.updateTable('flow_instances').set(set).where('id', '=', v('id')).where('status', 'in', fromSlots(shape, v));
});

async function applyInstanceTransition(ctx: Ctx, conn: QueryRunner, t: InstanceTransition): Promise<void> {
  if (t.from.length === 0) throw new StaleError(`flow instance ${t.id}: empty from-status guard`);
  const shape = shapeOf(t.from.length, { W: t.reason !== undefined, T: isTerminalFlowInstance(t.to), S: t.to === 'RUNNING' });
  const r = await updateInstance(ctx, conn, shape, { id: t.id, to: t.to, at: t.at, reason: t.reason ?? null, ...fromValues(t.from) });
  if (Number(r.numAffectedRows ?? 0) > 0) return;
  const cur = (await conn.executeQuery(ctx.db.selectFrom('flow_instances').select('status').where('id', '=', t.id).compile())).rows[0];
  throw new StaleError(
    cur ? `flow instance ${t.id} is ${cur.status}, expected ${t.from.join('|')} (to ${t.to})` : `flow instance ${t.id} not found`,
  );
}

const updateTask = compiledOnce((db, v, shape) => {
  let q = db
    .updateTable('task_instances')
    .set((eb) => {
      const set: Updateable<TaskInstancesTable> = { status: v('to'), updated_at: v('at'), next_run_at: v('nextRunAt') };
      if (has(shape, 'T')) set.ended_at = v('at');
      if (has(shape, 'S')) {
        // A new attempt: clear what the previous one left.
        Object.assign(set, { run_num: eb('run_num', '+', 1), started_at: eb.fn.coalesce('started_at', eb.val(v('at'))), ended_at: null, exit_code: null, is_timeout: 0 });
      }
      if (has(shape, 'E')) set.exit_code = v('exitCode');
      if (has(shape, 'O')) set.is_timeout = v('isTimeout');
      return set;
    })
    .where('id', '=', v('id'))
    .where('status', 'in', fromSlots(shape, v));
  if (has(shape, 'R')) q = q.where('run_num', '=', v('runNum'));
  if (has(shape, 'S')) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('flow_instances as fi')
          .select(sql.lit(1).as('one'))
          .whereRef('fi.id', '=', 'task_instances.flow_instance_id')
          .where('fi.status', '=', 'RUNNING'),
      ),
    );
  }
  return q.returning('run_num');
});

const finishAttempt = compiledOnce((db, v) =>
  db
    .updateTable('attempts')
    .set({ status: v('status'), ended_at: v('at'), exit_code: v('exitCode'), signal: v('signal') })
    .where('task_instance_id', '=', v('id'))
    .where('run_num', '=', v('runNum'))
    .where('status', '=', 'RUNNING'),
);

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

const insertBanner = compiledOnce((db, v) =>
  db.insertInto('task_logs').values({ task_instance_id: v('id'), run_num: v('runNum'), seq: 0, text: v('text') }),
);

async function applyTaskTransition(ctx: Ctx, conn: QueryRunner, t: TaskTransition): Promise<void> {
  if (t.from.length === 0) throw new StaleError(`task instance ${t.taskInstanceId}: empty from-status guard`);
  const start = t.startAttempt;
  const shape = shapeOf(t.from.length, {
    T: isTerminalTaskInstance(t.to),
    S: start !== undefined,
    E: t.exitCode !== undefined,
    O: t.isTimeout !== undefined,
    R: t.runNum !== undefined,
  });
  const res = await updateTask(ctx, conn, shape, {
    id: t.taskInstanceId,
    to: t.to,
    at: t.at,
    nextRunAt: t.to === 'RERUN' ? (t.nextRunAt ?? null) : null,
    exitCode: t.exitCode ?? null,
    isTimeout: t.isTimeout ? 1 : 0,
    runNum: t.runNum ?? null,
    ...fromValues(t.from),
  });
  const row = res.rows[0];
  if (!row) throw await staleTask(ctx, conn, t);
  const runNum = row.run_num;
  const id = t.taskInstanceId;

  if (t.finishAttempt) {
    const f = t.finishAttempt;
    const r = await finishAttempt(ctx, conn, '', { id, runNum, at: t.at, status: f.status, exitCode: f.exitCode, signal: f.signal });
    if (Number(r.numAffectedRows ?? 0) === 0) throw new StaleError(`attempt ${runNum} of task instance ${id} is not open`);
    await appendLogIn(ctx, conn, id, runNum, f.logTail);
  }
  if (start) {
    await openAttempt(ctx, conn, '', { id, runNum, at: t.at, host: start.host, engineId: start.engineId });
    await insertBanner(ctx, conn, '', { id, runNum, text: start.banner });
  }
}

/** Explains a task transition that matched no row (only on the failure path). */
async function staleTask(ctx: Ctx, conn: QueryRunner, t: TaskTransition): Promise<StaleError> {
  const query = ctx.db
    .selectFrom('task_instances as t')
    .innerJoin('flow_instances as fi', 'fi.id', 't.flow_instance_id')
    .select(['t.status', 't.run_num', 'fi.id as instance_id', 'fi.status as instance_status'])
    .where('t.id', '=', t.taskInstanceId);
  const cur = (await conn.executeQuery(query.compile())).rows[0];
  const id = `task instance ${t.taskInstanceId}`;
  if (!cur) return new StaleError(`${id} not found`);
  const expected = `${t.from.join('|')}${t.runNum !== undefined ? ` at runNum ${t.runNum}` : ''}`;
  if (!t.from.includes(cur.status as TaskInstanceStatus) || (t.runNum !== undefined && cur.run_num !== t.runNum)) {
    return new StaleError(`${id} is ${cur.status} at runNum ${cur.run_num}, expected ${expected} (to ${t.to})`);
  }
  return new StaleError(`${id} cannot start: flow instance ${cur.instance_id} is ${cur.instance_status}, not RUNNING`);
}
