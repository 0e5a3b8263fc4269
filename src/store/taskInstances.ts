// Task instances and their attempts: reads, and recording an attempt's process group once known. Row
// mapping for task instances and attempts lives here. Status changes are never written here: they go
// through transitions.ts (checked against the transition tables, recorded in the history).
import type { Selectable } from 'kysely';
import { StaleError } from '../domain/errors.js';
import type { TaskInstanceStatus } from '../domain/status.js';
import type { Attempt, AttemptStatus, TaskInstance } from '../domain/types.js';
import { compiledOnce, num, numOrNull, type AttemptsTable, type Ctx, type TaskInstancesTable } from './db.js';

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
    waitingOn: r.waiting_on,
    dueAt: numOrNull(r.due_at),
  };
}

export function toAttempt(r: Selectable<AttemptsTable>): Attempt {
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

// Reads: attempts rows of every task instance of one flow instance (Get Flow Instance's decoded tasks), by
// task instance and run_num: task_instances by flow_instance_id, then the attempts primary key. Guard: none.
export async function listAttemptsOfInstance(ctx: Ctx, flowInstanceId: string): Promise<Attempt[]> {
  const rows = await ctx.db
    .selectFrom('task_instances as t')
    .innerJoin('attempts as a', 'a.task_instance_id', 't.id')
    .selectAll('a')
    .where('t.flow_instance_id', '=', flowInstanceId)
    .orderBy('a.task_instance_id')
    .orderBy('a.run_num')
    .execute();
  return rows.map(toAttempt);
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

// Reads: task_instances rows of several flow instances in one query (a page of List Flow Instances), in
// node order per instance. Every id given is a key of the answer ([] for one with no rows). Guard: none
// (the caller read the instances in its org). A page holds at most 1000 ids: one IN list.
export async function listTaskInstancesOf(ctx: Ctx, flowInstanceIds: string[]): Promise<Map<string, TaskInstance[]>> {
  const byInstance = new Map<string, TaskInstance[]>(flowInstanceIds.map((id) => [id, []]));
  if (flowInstanceIds.length === 0) return byInstance;
  const rows = await ctx.db
    .selectFrom('task_instances')
    .selectAll()
    .where('flow_instance_id', 'in', [...byInstance.keys()])
    .orderBy('flow_instance_id')
    .orderBy('ord')
    .execute();
  for (const r of rows) byInstance.get(r.flow_instance_id)?.push(toTaskInstance(r));
  return byInstance;
}
