// Rerun (contract §12): an owner takes an ended instance back to WAIT, in one transaction. The plan is
// the domain's (src/domain/rerun.ts); here it is read, checked against the rerun tables of
// src/domain/status.ts, written with guards and recorded in the history. The engine then starts it like
// any WAIT instance (due now, behind what is already due, one instance of the flow at a time).
import type { Insertable, Selectable } from 'kysely';
import { IllegalTransitionError, StaleError } from '../domain/errors.js';
import { nodeIdOf } from '../domain/graph.js';
import { planRerun, type RerunPlan } from '../domain/rerun.js';
import { canRerunFlowInstance, resetsOnRerun, type FlowInstanceStatus, type RerunMode, type TaskInstanceStatus } from '../domain/status.js';
import type { FlowInstance } from '../domain/types.js';
import { locking, num, parseJson, type Ctx, type FlowInstancesTable, type StatusEventsTable, type Tx } from './db.js';
import { lockRefusal } from './flowGuards.js';
import { resolveInstances } from './flowInstances.js';
import { versionsByIds } from './versions.js';

export interface RerunRequest {
  orgId: string;
  id: string;
  mode: RerunMode;
  at: number;
  /** Who reran it: its id for the edit lock, its name for the history. */
  userId: string;
  userName: string;
}

/** Why a rerun was refused (nothing written): the message names the instance and the reason. */
export class RerunRefusedError extends Error {}

// Writes: the flow_instances row (-> WAIT, due now or at its future trigger time, started/ended/reason cleared), the reset task_instances
// rows (-> INIT, waiting_on recomputed, attempt fields cleared, run_num kept), one status_events row per
// move; deletes the reference waits that open again and, with `all`, the key states of reset keyed tasks.
// Guards, in the transaction (the instance row FOR UPDATE on PostgreSQL): the instance is in the org; its
// flow's edit lock is free, expired or the user's (EditLockedError); the plan allows it (RerunRefusedError);
// every guarded UPDATE matches its row's status as read (else StaleError, nothing written).
export async function rerunInstance(ctx: Ctx, r: RerunRequest): Promise<{ instance: FlowInstance; reset: string[] }> {
  return ctx.db.transaction().execute(async (trx) => {
    const cur = await locking(trx.selectFrom('flow_instances').selectAll().where('id', '=', r.id).where('org_id', '=', r.orgId), ctx.dialect.kind, 'update').executeTakeFirst();
    if (!cur) throw new StaleError(`flow instance ${r.id} not found`);
    const flowId = num(cur.flow_id);
    const flow = await locking(trx.selectFrom('flows').select(['lock_user_id', 'lock_user_name', 'lock_expires_at']).where('id', '=', flowId).where('org_id', '=', r.orgId), ctx.dialect.kind, 'keyShare').executeTakeFirst();
    const locked = flow ? lockRefusal(flowId, flow, r.userId, r.at) : null;
    if (locked) throw locked;
    const tasks = await trx.selectFrom('task_instances').select(['id', 'node_id', 'status', 'run_num']).where('flow_instance_id', '=', r.id).orderBy('ord').execute();
    const plan = await planFor(ctx, trx, cur, tasks, r.mode);
    if (!plan.ok) throw new RerunRefusedError(plan.why);
    // Due as a trigger at its trigger time would be: now, or later for a future trigger time (a cancelled WAIT).
    const dueAt = Math.max(num(cur.trigger_time), r.at);
    await write(trx, r, plan, dueAt, new Map(tasks.map((t) => [t.id, num(t.run_num)])));
    const [instance] = await resolveInstances(ctx, trx, [{ ...cur, status: 'WAIT', due_at: dueAt, started_at: null, ended_at: null, reason: null, updated_at: r.at }]);
    return { instance, reset: plan.resets.map((x) => x.id) };
  });
}

async function planFor(ctx: Ctx, trx: Tx, cur: Selectable<FlowInstancesTable>, tasks: Array<{ id: string; node_id: string; status: string }>, mode: RerunMode): Promise<RerunPlan> {
  const version = (await versionsByIds(ctx, trx, [num(cur.version_id)])).get(num(cur.version_id));
  if (!version) throw new Error(`flow instance ${cur.id}: its version ${cur.version_id} is missing`);
  const flow = version.snapshot.flow;
  const byTask = new Map(flow.nodes.map((n) => [n.taskId, n.nodeId]));
  return planRerun(
    {
      instance: { id: cur.id, status: cur.status as FlowInstanceStatus, startTaskId: cur.start_task_id === null ? null : num(cur.start_task_id) },
      graph: { nodes: flow.nodes, flowRefs: flow.flowRefs, relations: flow.relations },
      tasks: tasks.map((t) => ({ id: t.id, nodeId: t.node_id, status: t.status as TaskInstanceStatus })),
      mode,
    },
    (taskId) => byTask.get(taskId) ?? nodeIdOf(taskId),
  );
}

async function write(trx: Tx, r: RerunRequest, plan: Extract<RerunPlan, { ok: true }>, dueAt: number, runNums: Map<string, number>): Promise<void> {
  if (!canRerunFlowInstance(plan.from, r.mode)) throw new IllegalTransitionError(`flow instance ${r.id}: ${plan.from} -> WAIT is not allowed by a rerun (${r.mode})`);
  const reason = `rerun (${r.mode}) by ${r.userName}`;
  const moved = await trx
    .updateTable('flow_instances')
    .set({ status: 'WAIT', due_at: dueAt, started_at: null, ended_at: null, reason: null, updated_at: r.at })
    .where('id', '=', r.id)
    .where('status', '=', plan.from)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 0) throw new StaleError(`flow instance ${r.id} is not ${plan.from} (to WAIT)`);
  const events: Array<Insertable<StatusEventsTable>> = [{ flow_instance_id: r.id, task_instance_id: null, run_num: null, at: r.at, from_status: plan.from, to_status: 'WAIT', reason, engine_id: null }];
  for (const t of plan.resets) {
    if (!resetsOnRerun(t.from, r.mode)) throw new IllegalTransitionError(`task instance ${t.id}: ${t.from} -> INIT is not allowed by a rerun (${r.mode})`);
    const u = await trx
      .updateTable('task_instances')
      .set({ status: 'INIT', waiting_on: t.waitingOn, started_at: null, ended_at: null, next_run_at: null, due_at: null, exit_code: null, is_timeout: 0, updated_at: r.at })
      .where('id', '=', t.id)
      .where('status', '=', t.from)
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) === 0) throw new StaleError(`task instance ${t.id} is not ${t.from} (to INIT)`);
    events.push({ flow_instance_id: r.id, task_instance_id: t.id, run_num: runNums.get(t.id) ?? 0, at: r.at, from_status: t.from, to_status: 'INIT', reason, engine_id: null });
  }
  for (let k = 0; k < events.length; k += 200) await trx.insertInto('status_events').values(events.slice(k, k + 200)).execute();
  await dropReopenedWaits(trx, r.id, new Set(plan.resets.map((t) => t.id)));
  // `all`: keyed tasks run every key again (`failed` keeps the keys that succeeded: only the others run).
  if (r.mode === 'all' && plan.resets.length > 0) await trx.deleteFrom('task_keys').where('task_instance_id', 'in', plan.resets.map((t) => t.id)).execute();
}

/**
 * The reference waits that open again at the next start: those with a reset target (or that did not
 * succeed). A satisfied wait whose targets all kept their SUCCESS stays as it was (the engine does not
 * open it again: src/engine/referenceSteps.ts openReferences).
 */
async function dropReopenedWaits(trx: Tx, instanceId: string, reset: Set<string>): Promise<void> {
  const waits = await trx.selectFrom('reference_waits').select(['node_id', 'cycle_gap', 'status', 'targets']).where('instance_id', '=', instanceId).execute();
  for (const w of waits) {
    const targets = parseJson<string[]>(w.targets);
    if (w.status === 'SUCCESS' && !targets.some((t) => reset.has(t))) continue;
    await trx.deleteFrom('reference_waits').where('instance_id', '=', instanceId).where('node_id', '=', w.node_id).where('cycle_gap', '=', w.cycle_gap).execute();
  }
}
