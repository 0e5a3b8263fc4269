// Flow instances: creation with their task instances (the one-minute rule is the primary key), reads,
// search, cancel, and the scheduler's questions (what is due, start the next one of a flow).
// Row mapping for flow instances lives here; task instance rows are mapped in taskInstances.ts.
import { sql, type Insertable, type Selectable } from 'kysely';
import { DuplicateKeyError, StaleError } from '../domain/errors.js';
import type { FlowInstanceStatus } from '../domain/status.js';
import type { FlowInstance, TaskInstance, TriggerKind } from '../domain/types.js';
import type { InstanceSearch, NewFlowInstance } from './store.js';
import { allocate, likeContains, num, numOrNull, parseJson, type Ctx, type FlowInstancesTable, type TaskInstancesTable } from './db.js';
import { toTaskInstance } from './taskInstances.js';

export function toFlowInstance(r: Selectable<FlowInstancesTable>): FlowInstance {
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
    parameters: parseJson(r.parameters),
    overrides: parseJson(r.overrides),
    snapshot: parseJson(r.snapshot),
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    endedAt: numOrNull(r.ended_at),
    reason: r.reason,
  };
}

// Writes: one flow_instances row (status WAIT), all its task_instances rows (multi-row inserts) and the
// 'flow_instance_seq' counter, in one transaction.
// Guard: the flow_instances primary key (flow + minute): a second create of the id -> DuplicateKeyError.
export async function createFlowInstance(ctx: Ctx, input: NewFlowInstance): Promise<FlowInstance> {
  const i = input.instance;
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const seq = await allocate(trx, 'flow_instance_seq', 1);
      const row: Insertable<FlowInstancesTable> = {
        id: i.id,
        flow_id: i.flowId,
        org_id: i.orgId,
        seq,
        kind: i.kind,
        start_task_id: i.startTaskId,
        trigger_time: i.triggerTime,
        due_at: i.dueAt,
        status: 'WAIT',
        owner: i.owner,
        parameters: JSON.stringify(i.parameters),
        overrides: JSON.stringify(i.overrides),
        snapshot: JSON.stringify(i.snapshot),
        created_at: i.createdAt,
        started_at: null,
        ended_at: null,
        updated_at: i.createdAt,
        reason: null,
      };
      await trx.insertInto('flow_instances').values(row).execute();
      const tasks: Insertable<TaskInstancesTable>[] = input.tasks.map((t, ord) => ({
        id: t.id,
        flow_instance_id: i.id,
        flow_id: t.flowId,
        ord,
        task_id: t.taskId,
        node_id: t.nodeId,
        task_name: t.taskName,
        status: t.status,
        run_num: 0,
        started_at: null,
        // A node skipped at creation (outside a triggerFromTask run set) has ended as it was created.
        ended_at: t.status === 'SKIP' ? i.createdAt : null,
        next_run_at: null,
        exit_code: null,
        is_timeout: 0,
        updated_at: i.createdAt,
      }));
      for (let k = 0; k < tasks.length; k += 500) await trx.insertInto('task_instances').values(tasks.slice(k, k + 500)).execute();
      return { ...i, seq, status: 'WAIT', startedAt: null, endedAt: null, reason: null };
    });
  } catch (err) {
    if (ctx.dialect.isUniqueViolation(err)) throw new DuplicateKeyError(`flow instance ${i.id} exists`);
    throw err;
  }
}

// Reads: one flow_instances row of the org. Guard: org_id (other orgs' instances are invisible).
export async function getFlowInstance(ctx: Ctx, orgId: string, id: string): Promise<FlowInstance | null> {
  const r = await ctx.db.selectFrom('flow_instances').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  return r ? toFlowInstance(r) : null;
}

// Reads: one flow_instances row in any org (engine side). Guard: none.
export async function getFlowInstanceById(ctx: Ctx, id: string): Promise<FlowInstance | null> {
  const r = await ctx.db.selectFrom('flow_instances').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toFlowInstance(r) : null;
}

const instanceSortColumn = {
  createTime: 'fi.created_at',
  updateTime: 'fi.updated_at',
  startTime: 'fi.started_at',
  triggerTime: 'fi.trigger_time',
  endTime: 'fi.ended_at',
} as const;

// Reads: flow_instances rows of the org joined to their flows row (type, name, creator), one page plus the
// count of all matches. Guard: org_id; sort fields whitelisted; flowIds limits to readable flows.
export async function searchFlowInstances(ctx: Ctx, q: InstanceSearch): Promise<{ instances: FlowInstance[]; total: number }> {
  if (q.flowIds && q.flowIds.length === 0) return { instances: [], total: 0 };
  let base = ctx.db.selectFrom('flow_instances as fi').innerJoin('flows as f', 'f.id', 'fi.flow_id').where('fi.org_id', '=', q.orgId);
  if (q.flowType !== undefined) base = base.where('f.type', '=', q.flowType);
  if (q.expression) {
    const p = likeContains(q.expression);
    base = base.where(sql<boolean>`(lower(fi.id) like ${p} escape '\\' or lower(f.name) like ${p} escape '\\')`);
  }
  if (q.owner) {
    // A scheduler fire has owner "": it belongs to the flow's creator (FlowInstance.owner).
    const owner = q.owner;
    base = base.where((eb) => eb.or([eb('fi.owner', '=', owner), eb.and([eb('fi.owner', '=', ''), eb('f.creator_name', '=', owner)])]));
  }
  if (q.fromTriggerTime !== undefined) base = base.where('fi.trigger_time', '>=', q.fromTriggerTime);
  if (q.toTriggerTime !== undefined) base = base.where('fi.trigger_time', '<=', q.toTriggerTime);
  if (q.statuses && q.statuses.length > 0) base = base.where('fi.status', 'in', q.statuses);
  if (q.flowIds) base = base.where('fi.flow_id', 'in', q.flowIds);

  const count = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  let page = base.selectAll('fi');
  // Explicit NULLS LAST: backends disagree on where NULL sorts (unstarted instances have no startTime).
  for (const s of q.sort) page = page.orderBy(instanceSortColumn[s.field], (ob) => (s.desc ? ob.desc() : ob.asc()).nullsLast());
  page = page.orderBy('fi.seq', q.sort[0]?.desc === false ? 'asc' : 'desc');
  const rows = await page.offset(q.offset).limit(q.limit).execute();
  return { instances: rows.map(toFlowInstance), total: Number(count.n) };
}

// Writes: one flow_instances row (-> CANCEL, reason, ended_at) and its INIT/READY/RERUN task_instances rows
// (-> CANCEL, ended_at), in one transaction. Guard: the instance is in the org and WAIT or RUNNING, else
// StaleError naming its status; RUNNING task instances are left to the engine.
export async function cancelInstance(ctx: Ctx, orgId: string, id: string, at: number, reason: string): Promise<FlowInstance> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('flow_instances')
      .set({ status: 'CANCEL', reason, ended_at: at, updated_at: at })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('status', 'in', ['WAIT', 'RUNNING'])
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      const cur = await trx.selectFrom('flow_instances').select('status').where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
      throw new StaleError(cur ? `flow instance ${id} is ${cur.status}: only WAIT or RUNNING can be cancelled` : `flow instance ${id} not found`);
    }
    await trx
      .updateTable('task_instances')
      .set({ status: 'CANCEL', ended_at: at, updated_at: at, next_run_at: null })
      .where('flow_instance_id', '=', id)
      .where('status', 'in', ['INIT', 'READY', 'RERUN'])
      .execute();
    return toFlowInstance(row);
  });
}

// Writes: at most one flow_instances row of the flow (WAIT -> RUNNING, started_at).
// Guard: in one statement, no flow_instances row of the flow is RUNNING and no task_instances row of the
// flow is RUNNING; the WAIT row with the smallest (due_at, seq) and due_at <= now is chosen. The dialect's
// lockFlowForStart serializes concurrent callers on backends with several connections.
export async function startNextInstance(ctx: Ctx, flowId: number, now: number): Promise<FlowInstance | null> {
  return ctx.db.transaction().execute(async (trx) => {
    await ctx.dialect.lockFlowForStart(trx, flowId);
    const row = await trx
      .updateTable('flow_instances')
      .set({ status: 'RUNNING', started_at: now, updated_at: now })
      .where('id', '=', (eb) =>
        eb
          .selectFrom('flow_instances')
          .select('id')
          .where('flow_id', '=', flowId)
          .where('status', '=', 'WAIT')
          .where('due_at', '<=', now)
          .orderBy('due_at')
          .orderBy('seq')
          .limit(1),
      )
      .where('status', '=', 'WAIT')
      .where((eb) =>
        eb.and([
          eb.not(eb.exists(eb.selectFrom('flow_instances as r').select('r.id').where('r.flow_id', '=', flowId).where('r.status', '=', 'RUNNING'))),
          eb.not(eb.exists(eb.selectFrom('task_instances as t').select('t.id').where('t.flow_id', '=', flowId).where('t.status', '=', 'RUNNING'))),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? toFlowInstance(row) : null;
  });
}

// Reads: flow_instances rows WAIT with due_at <= now (distinct flow ids). Guard: none.
export async function listFlowsWithDueInstances(ctx: Ctx, now: number): Promise<number[]> {
  const rows = await ctx.db.selectFrom('flow_instances').select('flow_id').distinct().where('status', '=', 'WAIT').where('due_at', '<=', now).execute();
  return rows.map((r) => num(r.flow_id));
}

// Reads: the smallest due_at of WAIT flow_instances rows later than now. Guard: none.
export async function nextDueAt(ctx: Ctx, now: number): Promise<number | null> {
  const r = await ctx.db
    .selectFrom('flow_instances')
    .select((eb) => eb.fn.min('due_at').as('m'))
    .where('status', '=', 'WAIT')
    .where('due_at', '>', now)
    .executeTakeFirst();
  return r?.m === null || r?.m === undefined ? null : num(r.m);
}

// Reads: RUNNING flow_instances rows and all their task_instances rows (two queries, no N+1). Guard: none.
export async function listRunningInstances(ctx: Ctx): Promise<Array<{ instance: FlowInstance; tasks: TaskInstance[] }>> {
  return ctx.db.transaction().execute(async (trx) => {
    const instances = (await trx.selectFrom('flow_instances').selectAll().where('status', '=', 'RUNNING').orderBy('seq').execute()).map(toFlowInstance);
    if (instances.length === 0) return [];
    const taskRows = await trx
      .selectFrom('task_instances')
      .selectAll()
      .where('flow_instance_id', 'in', (eb) => eb.selectFrom('flow_instances').select('id').where('status', '=', 'RUNNING'))
      .orderBy('flow_instance_id')
      .orderBy('ord')
      .execute();
    const byInstance = new Map<string, TaskInstance[]>(instances.map((i) => [i.id, []]));
    for (const r of taskRows) byInstance.get(r.flow_instance_id)?.push(toTaskInstance(r));
    return instances.map((instance) => ({ instance, tasks: byInstance.get(instance.id) ?? [] }));
  });
}
