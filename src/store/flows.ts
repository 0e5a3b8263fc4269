// Flows and their task definitions: create (ids allocated, nodes and relations built), read, search,
// Save Flow, enable/disable, the edit lock and delete (with everything that hangs off the flow).
// Row <-> domain mapping for flows and tasks lives here and nowhere else. No validation of the graph:
// the service validates before it calls; the store only keeps ids consistent. What the service checked
// on its read and can change before its write (the version, the edit lock, references) is checked again
// here, inside the writing transaction.
import { sql, type Insertable, type Selectable } from 'kysely';
import { invalid, ReferencedError, StaleError } from '../domain/errors.js';
import type { EditLock, Flow, FlowType, FlowWithTasks, Relation, TaskDef, TaskNode, TaskType } from '../domain/types.js';
import type { FlowHead, FlowSearch, FlowUpdate, NewFlow, NewTaskDef } from './store.js';
import { ensureVersionOf, versionsByIds } from './versions.js';
import { FLOW_COLUMNS, TASK_COLUMNS } from './columns.js';
import { cachedFlowToRun, rememberFlowToRun } from './flowCache.js';
import { lockAllows, lockRefusal, referrersOf, refusal, resolveReferences, toEditLock } from './flowGuards.js';
import { allocate, compiledOnce, likeContains, locking, num, parseJson, reserveUpTo, type Ctx, type FlowsTable, type QueryRunner, type TasksTable, type Tx } from './db.js';

// ---- row mapping ----

type FlowColumns = Omit<Insertable<FlowsTable>, 'id' | 'lock_user_id' | 'lock_user_name' | 'lock_expires_at' | 'schedule_from' | 'version' | 'version_id'>;

// schedule_from and version are not a caller's columns: createFlow, updateFlow and setFlowActive decide them.
function flowColumns(f: Omit<Flow, 'id' | 'editLock' | 'scheduleFrom' | 'version' | 'versionId'>): FlowColumns {
  return {
    org_id: f.orgId,
    dir_id: f.dirId,
    name: f.name,
    description: f.desc,
    type: f.type,
    active: f.active,
    freq: f.freq,
    cycle: f.cycle,
    owners: f.owners,
    visitors: f.visitors,
    do_as: f.doAs,
    alert_mode: f.alertMode,
    alert_to: f.alertTo,
    app_id: f.appId,
    sync_type: f.syncType,
    start_date: f.startDate,
    queue: f.queue,
    entry: f.entry,
    is_virtual: f.virtual ? 1 : 0,
    parameters: JSON.stringify(f.parameters),
    nodes: JSON.stringify(f.nodes),
    flow_refs: JSON.stringify(f.flowRefs),
    relations: JSON.stringify(f.relations),
    ref_timeout_sec: f.refTimeoutSec ?? null,
    creator_id: f.creatorId,
    creator_name: f.creatorName,
    update_user: f.updateUser,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
  };
}

export function toFlow(r: Selectable<FlowsTable>): Flow {
  return {
    id: num(r.id),
    orgId: r.org_id,
    dirId: r.dir_id,
    name: r.name,
    desc: r.description,
    type: r.type as FlowType,
    active: r.active === 1 ? 1 : 0,
    freq: r.freq,
    cycle: r.cycle,
    owners: r.owners,
    visitors: r.visitors,
    doAs: r.do_as,
    alertMode: r.alert_mode,
    alertTo: r.alert_to,
    appId: r.app_id,
    syncType: r.sync_type,
    startDate: r.start_date,
    queue: r.queue,
    entry: r.entry,
    virtual: r.is_virtual === 1,
    parameters: parseJson(r.parameters),
    nodes: parseJson(r.nodes),
    flowRefs: parseJson(r.flow_refs),
    relations: parseJson(r.relations),
    ...(r.ref_timeout_sec !== null && r.ref_timeout_sec !== undefined ? { refTimeoutSec: num(r.ref_timeout_sec) } : {}),
    creatorId: r.creator_id,
    creatorName: r.creator_name,
    updateUser: r.update_user,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    scheduleFrom: num(r.schedule_from),
    version: num(r.version),
    versionId: num(r.version_id),
    editLock: toEditLock(r),
  };
}

function taskColumns(t: NewTaskDef, id: number, flowId: number): Insertable<TasksTable> {
  return {
    id,
    flow_id: flowId,
    name: t.name,
    type: t.type,
    cmd: t.cmd,
    resource: t.resource,
    sync_type: t.syncType,
    submitter: t.submitter,
    file_package: t.filePackage,
    cron: t.cron,
    priority_level: t.priorityLevel,
    timeout_sec: t.timeoutSec,
    retry_limit: t.retryLimit,
    retry_interval_sec: t.retryIntervalSec,
    success_code: t.successCode,
    as_link: t.asLink ? 1 : 0,
    run_mode: t.runMode,
    parameters: JSON.stringify(t.parameters),
    wait_code: t.waitCode,
  };
}

export function toTask(r: Selectable<TasksTable>): TaskDef {
  return {
    id: num(r.id),
    flowId: num(r.flow_id),
    name: r.name,
    type: r.type as TaskType,
    cmd: r.cmd,
    resource: r.resource,
    syncType: r.sync_type,
    submitter: r.submitter,
    filePackage: r.file_package,
    cron: r.cron,
    priorityLevel: r.priority_level,
    timeoutSec: r.timeout_sec,
    retryLimit: r.retry_limit,
    retryIntervalSec: r.retry_interval_sec,
    successCode: r.success_code,
    asLink: r.as_link === 1,
    runMode: r.run_mode,
    parameters: parseJson(r.parameters),
    waitCode: r.wait_code,
  };
}

/** Tasks in node order (FlowWithTasks.tasks); a task without a node (should not happen) goes last. */
export function inNodeOrder(nodes: TaskNode[], tasks: TaskDef[]): TaskDef[] {
  const pos = new Map(nodes.map((n, i) => [n.taskId, i]));
  const at = (t: TaskDef) => pos.get(t.id) ?? nodes.length;
  return [...tasks].sort((a, b) => at(a) - at(b) || a.id - b.id);
}

// ---- queries ----

async function insertTasks(trx: Tx, rows: Insertable<TasksTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await trx.insertInto('tasks').values(rows.slice(i, i + 200)).execute();
}

// Compiled once: every trigger reads its flow, so Kysely's per-call build is worth skipping here.
const selectFlow = compiledOnce((db, v) => db.selectFrom('flows').select(FLOW_COLUMNS).where('id', '=', v('flowId')).where('org_id', '=', v('orgId')));
const selectTasks = compiledOnce((db, v) => db.selectFrom('tasks').select(TASK_COLUMNS).where('flow_id', '=', v('flowId')));

/** The flow with its tasks, on `runner` (the store's Kysely instance or a transaction). */
async function readFlow(ctx: Ctx, runner: QueryRunner, orgId: string, flowId: number): Promise<FlowWithTasks | null> {
  const row = (await selectFlow(ctx, runner, '', { flowId, orgId })).rows[0];
  if (!row) return null;
  const flow = toFlow(row);
  const tasks = (await selectTasks(ctx, runner, '', { flowId })).rows.map(toTask);
  return { flow, tasks: inNodeOrder(flow.nodes, tasks) };
}

// Writes: one flows row, its tasks rows, its first flow_versions row, the 'flow', 'task' and
// 'flow_version' counters, in one transaction.
// Guard: the desired id is used only when no flows row has it; otherwise a fresh id is allocated. Every
// reference is valid (resolveReferences: contract §10), else nothing is written.
export async function createFlow(ctx: Ctx, input: NewFlow): Promise<FlowWithTasks> {
  return ctx.db.transaction().execute(async (trx) => {
    const flowRefs = await resolveReferences(trx, ctx.dialect.kind, input.flow.orgId, input.flow.flowRefs, input.refFieldOf ?? ((k) => `flowJson.flowLinks[${k}]`), null);
    const wanted = input.id;
    const usable =
      wanted !== undefined &&
      Number.isSafeInteger(wanted) &&
      wanted > 0 &&
      !(await trx.selectFrom('flows').select('id').where('id', '=', wanted).executeTakeFirst());
    let flowId: number;
    if (usable) {
      flowId = wanted;
      await reserveUpTo(trx, 'flow', wanted);
    } else {
      flowId = await allocate(trx, 'flow', 1);
    }
    const firstTaskId = input.tasks.length > 0 ? await allocate(trx, 'task', input.tasks.length) : 0;
    const nodes: TaskNode[] = input.tasks.map((t, i) => ({ nodeId: `t_${firstTaskId + i}`, taskId: firstTaskId + i, taskName: t.name, x: t.x, y: t.y }));
    const nodeByName = new Map(nodes.map((n) => [n.taskName, n.nodeId]));
    const nodeOf = (name: string): string => {
      const id = nodeByName.get(name);
      if (id === undefined) throw invalid('relations', `relation names unknown task ${name}`);
      return id;
    };
    const relations: Relation[] = [
      ...input.flow.relations,
      ...input.relationsByName.map((r) => ({ source: r.sourceNodeId ?? nodeOf(r.sourceTaskName), target: nodeOf(r.targetTaskName), cycleGap: r.cycleGap ?? 'D0', rerun: r.rerun })),
    ];
    await trx
      .insertInto('flows')
      .values({ id: flowId, ...flowColumns({ ...input.flow, flowRefs, nodes, relations }), schedule_from: input.flow.createdAt })
      .execute();
    await insertTasks(trx, input.tasks.map(({ x: _x, y: _y, ...t }, i) => taskColumns(t, firstTaskId + i, flowId)));
    return withVersion(ctx, trx, (await readFlow(ctx, trx, input.flow.orgId, flowId))!, input.flow.updateUser || input.flow.creatorName);
  });
}

// Writes: flows.version_id of a flow just written (inside its transaction), and its flow_versions row if
// the content is new. Guard: the caller's transaction wrote the flows row (so holds its lock).
async function withVersion(ctx: Ctx, trx: Tx, fw: FlowWithTasks, by: string): Promise<FlowWithTasks> {
  const v = await ensureVersionOf(ctx, trx, fw, by);
  if (v.id !== fw.flow.versionId) await trx.updateTable('flows').set({ version_id: v.id }).where('id', '=', fw.flow.id).execute();
  return { ...fw, flow: { ...fw.flow, versionId: v.id } };
}

// Reads: one flows row of the org and its tasks rows. Guard: org_id (other orgs' flows are invisible).
export async function getFlow(ctx: Ctx, orgId: string, flowId: number): Promise<FlowWithTasks | null> {
  return readFlow(ctx, ctx.db, orgId, flowId);
}

// Reads: one flows row of the org and, for its tasks, the flow_versions row it names (cached by id once
// read: a trigger of a known version costs this one read). Both come from one committed write (a Save
// sets version_id with its task rows), so they agree. Without a version (none made yet): as getFlow.
// Guard: org_id.
// With maybeStale: from this process's memory when there (flowCache.ts), no read at all.
export async function getFlowToRun(ctx: Ctx, orgId: string, flowId: number, opts: { maybeStale?: boolean } = {}): Promise<FlowWithTasks | null> {
  if (opts.maybeStale) {
    const cached = cachedFlowToRun(ctx, orgId, flowId);
    if (cached) return cached;
  }
  const row = (await selectFlow(ctx, ctx.db, '', { flowId, orgId })).rows[0];
  if (!row) return null;
  const flow = toFlow(row);
  const version = flow.versionId > 0 ? (await versionsByIds(ctx, ctx.db, [flow.versionId])).get(flow.versionId) : undefined;
  if (!version) return { flow, tasks: inNodeOrder(flow.nodes, (await selectTasks(ctx, ctx.db, '', { flowId })).rows.map(toTask)) };
  const fw = { flow, tasks: version.snapshot.tasks };
  rememberFlowToRun(ctx, fw);
  return fw;
}

// Reads: every flows row of the org, by id. Guard: org_id.
export async function listFlows(ctx: Ctx, orgId: string): Promise<Flow[]> {
  return (await ctx.db.selectFrom('flows').selectAll().where('org_id', '=', orgId).orderBy('id').execute()).map(toFlow);
}

// Reads: the flows rows of the org `user` may be related to (created, or named in owners or visitors: a
// substring test, a superset the service narrows to exact names), only the columns Get My Flow shows or
// decides by (no JSON parsed). Guard: org_id.
export async function listFlowHeads(ctx: Ctx, orgId: string, user: { id: string; name: string }): Promise<FlowHead[]> {
  const has = (col: 'owners' | 'visitors') => (ctx.dialect.kind === 'postgres' ? sql<boolean>`strpos(${sql.ref(col)}, ${user.name}) > 0` : sql<boolean>`instr(${sql.ref(col)}, ${user.name}) > 0`);
  const rows = await ctx.db
    .selectFrom('flows')
    .select(['id', 'name', 'cycle', 'creator_id', 'owners', 'visitors'])
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('creator_id', '=', user.id), has('owners'), has('visitors')]))
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: num(r.id), name: r.name, cycle: r.cycle, creatorId: r.creator_id, owners: r.owners, visitors: r.visitors }));
}

const flowSortColumn = { createTime: 'created_at', updateTime: 'updated_at', startTime: 'start_date' } as const;

// Reads: one page of flows rows of the org matching the expression. Guard: org_id; sort fields whitelisted.
// The match and the order are decided in flows_search_idx alone (id, name and the sort keys); only the
// page's rows are read whole.
export async function searchFlows(ctx: Ctx, q: FlowSearch): Promise<Flow[]> {
  const order = <Q extends { orderBy: (c: 'id' | 'created_at' | 'updated_at' | 'start_date', d: 'asc' | 'desc') => Q }>(query: Q): Q => {
    let out = query;
    for (const s of q.sort) out = out.orderBy(flowSortColumn[s.field], s.desc ? 'desc' : 'asc');
    return out.orderBy('id', q.sort[0]?.desc === false ? 'asc' : 'desc');
  };
  let ids = ctx.db.selectFrom('flows').select('id').where('org_id', '=', q.orgId);
  if (q.expression) {
    const p = likeContains(q.expression);
    ids = ids.where(sql<boolean>`(cast(id as text) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  const page = order(ids).offset(q.offset).limit(q.limit);
  return (await order(ctx.db.selectFrom('flows').selectAll().where('id', 'in', page)).execute()).map(toFlow);
}

// Writes: one flows row (settings, graph, version + 1, the saver's edit lock released), its tasks rows
// (update, insert, delete), the 'task' counter and, when the content changed, a new flow_versions row, in
// one transaction.
// Guard: one UPDATE ... WHERE id, org_id, version = guard.version and the lock is free, expired or the
// saver's; no row -> the refusal (StaleError gone, EditLockedError, FlowChangedError). Then every flow the
// references name exists in the org (else 'invalid'), and every updated task belongs to the flow (else
// StaleError). Any refusal rolls back everything, task rows and counter included.
export async function updateFlow(ctx: Ctx, orgId: string, u: FlowUpdate): Promise<FlowWithTasks> {
  const flowId = u.flow.id;
  const { version, userId, now } = u.guard;
  return ctx.db.transaction().execute(async (trx) => {
    const firstNew = u.newTasks.length > 0 ? await allocate(trx, 'task', u.newTasks.length) : 0;
    const renamed = new Map<string, string>();
    const nodes = u.flow.nodes.map((n) => {
      if (n.taskId >= 0) return n;
      const taskId = firstNew - n.taskId - 1;
      if (-n.taskId > u.newTasks.length) throw invalid('nodes', `node ${n.nodeId} refers to new task ${-n.taskId - 1}, which is not given`);
      renamed.set(n.nodeId, `t_${taskId}`);
      return { ...n, taskId, nodeId: `t_${taskId}` };
    });
    const relations = u.flow.relations.map((r) => ({ ...r, source: renamed.get(r.source) ?? r.source, target: renamed.get(r.target) ?? r.target }));
    const flowRefs = await resolveReferences(trx, ctx.dialect.kind, orgId, u.flow.flowRefs, u.refFieldOf ?? ((k) => `flows[${k}]`), flowId);
    const { created_at: _c, ...cols } = flowColumns({ ...u.flow, orgId, nodes, relations, flowRefs });
    const updated = await trx
      .updateTable('flows')
      .set((eb) => {
        const held = eb('lock_user_id', '=', userId);
        // Scheduling restarts now when the fire times change or the flow is re-activated (old row values).
        const restart = [eb('freq', '!=', u.flow.freq), eb('start_date', '!=', u.flow.startDate)];
        if (u.flow.active === 1) restart.push(eb('active', '=', 0));
        return {
          ...cols,
          version: eb('version', '+', 1),
          schedule_from: eb.case().when(eb.or(restart)).then(u.flow.updatedAt).else(eb.ref('schedule_from')).end(),
          lock_user_id: eb.case().when(held).then(null).else(eb.ref('lock_user_id')).end(),
          lock_user_name: eb.case().when(held).then(null).else(eb.ref('lock_user_name')).end(),
          lock_expires_at: eb.case().when(held).then(null).else(eb.ref('lock_expires_at')).end(),
        };
      })
      .where('id', '=', flowId)
      .where('org_id', '=', orgId)
      .where('version', '=', version)
      .where((eb) => lockAllows(eb, userId, now))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw await refusal(trx, orgId, flowId, userId, now, version);
    if (u.deletedTaskIds.length > 0) {
      await trx.deleteFrom('tasks').where('flow_id', '=', flowId).where('id', 'in', u.deletedTaskIds).execute();
    }
    for (const t of u.updatedTasks) {
      const { id: _id, flow_id: _f, ...set } = taskColumns(t, t.id, flowId);
      const r = await trx.updateTable('tasks').set(set).where('id', '=', t.id).where('flow_id', '=', flowId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new StaleError(`task ${t.id} is not a task of flow ${flowId}`);
    }
    await insertTasks(trx, u.newTasks.map((t, i) => taskColumns(t, firstNew + i, flowId)));
    // A Save that changed the content makes the next version; one that changed none finds the current one.
    return withVersion(ctx, trx, (await readFlow(ctx, trx, orgId, flowId))!, u.flow.updateUser);
  });
}

// Writes: flows.active, update_user, updated_at and version + 1 of one row, and schedule_from = at when a
// paused flow is enabled (scheduling resumes from then), in one transaction.
// Guard: the row exists in the org (else StaleError) and its lock is free, expired at `at` or `userId`'s
// (else EditLockedError): one guarded UPDATE, the refusal read after it.
export async function setFlowActive(ctx: Ctx, orgId: string, flowId: number, active: 0 | 1, updateUser: string, at: number, userId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('flows')
      .set((eb) => ({
        active,
        update_user: updateUser,
        updated_at: at,
        version: eb('version', '+', 1),
        ...(active === 1 ? { schedule_from: eb.case().when('active', '=', 0).then(at).else(eb.ref('schedule_from')).end() } : {}),
      }))
      .where('id', '=', flowId)
      .where('org_id', '=', orgId)
      .where((eb) => lockAllows(eb, userId, at))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw await refusal(trx, orgId, flowId, userId, at);
  });
}

// Writes: the lock_* columns of one flows row; not the version (a lock is no change of the workflow, so
// the holder renewing it never fails his own Save). Guard: written only when unlocked, expired
// (expires_at <= now) or held by the same user; otherwise the current lock is returned unchanged.
// StaleError when no such flow.
export async function takeEditLock(ctx: Ctx, orgId: string, flowId: number, lock: EditLock, now: number): Promise<EditLock | null> {
  return ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('flows')
      .set({ lock_user_id: lock.userId, lock_user_name: lock.userName, lock_expires_at: lock.expiresAt })
      .where('id', '=', flowId)
      .where('org_id', '=', orgId)
      .where((eb) => lockAllows(eb, lock.userId, now))
      .execute();
    const row = await trx
      .selectFrom('flows')
      .select(['lock_user_id', 'lock_user_name', 'lock_expires_at'])
      .where('id', '=', flowId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (!row) throw new StaleError(`flow ${flowId} not found`);
    return toEditLock(row);
  });
}

// Writes (deletes): the flows row, its tasks, flow_instances, task_instances, attempts, task_logs,
// status_events and flow_versions rows, in one transaction, children first. Guards, all read inside that transaction, in
// this order: the flows row exists in the org (else StaleError); its lock is free, expired at `now` or `userId`'s (else
// EditLockedError); no other flow of the org references it (else ReferencedError naming them: a Save
// adding a reference either committed before, and is seen here, or runs after and finds this flow gone);
// no flow_instances row and no task_instances row of the flow is RUNNING (a failed instance's branches may
// still run; else StaleError naming what blocks it). A refusal deletes nothing.
export async function deleteFlow(ctx: Ctx, orgId: string, flowId: number, userId: string, now: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    // Locked first (PostgreSQL): a Save adding a reference to it, a trigger and an engine starting an
    // instance of it each wait for this transaction, or it waits for theirs and then sees their writes.
    const flow = await locking(
      trx.selectFrom('flows').select(['id', 'lock_user_id', 'lock_user_name', 'lock_expires_at']).where('id', '=', flowId).where('org_id', '=', orgId),
      ctx.dialect.kind,
      'update',
    ).executeTakeFirst();
    if (!flow) throw new StaleError(`flow ${flowId} not found`);
    const locked = lockRefusal(flowId, flow, userId, now);
    if (locked) throw locked;
    const referrers = await referrersOf(trx, orgId, flowId);
    if (referrers.length > 0) throw new ReferencedError(flowId, referrers);
    // The RUNNING checks repeat the partial indexes' conditions as literals (0009).
    const running = await trx.selectFrom('flow_instances').select('id').where('flow_id', '=', flowId).where(sql<boolean>`status = 'RUNNING'`).executeTakeFirst();
    if (running) throw new StaleError(`its instance ${running.id} is RUNNING (cancel it or wait for it to end)`);
    const task = await trx.selectFrom('task_instances').select('id').where('flow_id', '=', flowId).where(sql<boolean>`status = 'RUNNING'`).executeTakeFirst();
    if (task) throw new StaleError(`its task instance ${task.id} is still RUNNING`);
    // Through the flow's instances: task_instances has no index of every row by flow (0009).
    const instancesOfFlow = trx.selectFrom('flow_instances').select('id').where('flow_id', '=', flowId);
    const taskInstancesOfFlow = trx.selectFrom('task_instances').select('id').where('flow_instance_id', 'in', instancesOfFlow);
    await trx.deleteFrom('task_logs').where('task_instance_id', 'in', taskInstancesOfFlow).execute();
    await trx.deleteFrom('task_keys').where('task_instance_id', 'in', taskInstancesOfFlow).execute();
    await trx.deleteFrom('status_events').where('flow_instance_id', 'in', instancesOfFlow).execute();
    await trx.deleteFrom('attempts').where('task_instance_id', 'in', taskInstancesOfFlow).execute();
    await trx.deleteFrom('task_instances').where('flow_instance_id', 'in', instancesOfFlow).execute();
    await trx.deleteFrom('flow_instances').where('flow_id', '=', flowId).execute();
    await trx.deleteFrom('flow_versions').where('flow_id', '=', flowId).execute();
    await trx.deleteFrom('tasks').where('flow_id', '=', flowId).execute();
    await trx.deleteFrom('flows').where('id', '=', flowId).execute();
  });
}

// Reads: flows rows with type 1 (periodic) and active 1, of every org. Guard: none.
export async function listPeriodicFlows(ctx: Ctx): Promise<Flow[]> {
  return (await ctx.db.selectFrom('flows').selectAll().where('type', '=', 1).where('active', '=', 1).orderBy('id').execute()).map(toFlow);
}
