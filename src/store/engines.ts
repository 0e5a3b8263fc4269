// The engine registry (contract §5): engines register with host, pid and a lease they renew by heartbeat;
// an engine whose lease ran out is marked expired by the one that takes over its attempts (a guarded
// write: a heartbeat that arrives first wins). Also the open attempts an engine owns, for its own checks
// and for recovery, and the store's own id.
import type { Selectable } from 'kysely';
import type { FlowInstanceStatus, TaskInstanceStatus } from '../domain/status.js';
import type { EngineRecord, OpenAttempt } from './engineTypes.js';
import { ATTEMPT_OPEN, num, numOrNull, type Ctx, type EnginesTable } from './db.js';
import { toAttempt } from './taskInstances.js';

const toEngine = (r: Selectable<EnginesTable>): EngineRecord => ({
  id: r.id,
  host: r.host,
  pid: r.pid,
  procStart: r.proc_start,
  startedAt: num(r.started_at),
  heartbeatAt: num(r.heartbeat_at),
  leaseUntil: num(r.lease_until),
  state: r.state as EngineRecord['state'],
  endedAt: numOrNull(r.ended_at),
});

// Reads: the batchflow_meta row store_id (written by migration 0002). Guard: none.
export async function storeId(ctx: Ctx): Promise<string> {
  const r = await ctx.db.selectFrom('batchflow_meta').select('value').where('key', '=', 'store_id').executeTakeFirstOrThrow();
  return r.value;
}

// Writes: one engines row (state live). Guard: the primary key (engine ids are unique per process start).
export async function registerEngine(ctx: Ctx, e: EngineRecord): Promise<void> {
  await ctx.db
    .insertInto('engines')
    .values({
      id: e.id,
      host: e.host,
      pid: e.pid,
      proc_start: e.procStart,
      started_at: e.startedAt,
      heartbeat_at: e.heartbeatAt,
      lease_until: e.leaseUntil,
      state: 'live',
      ended_at: null,
    })
    .execute();
}

// Writes: heartbeat_at and lease_until of one engines row. Guard: still live (not taken over, not stopped).
export async function renewEngineLease(ctx: Ctx, id: string, now: number, leaseUntil: number): Promise<boolean> {
  const r = await ctx.db.updateTable('engines').set({ heartbeat_at: now, lease_until: leaseUntil }).where('id', '=', id).where('state', '=', 'live').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// Writes: state expired of one engines row. Guard: still live with the heartbeat the caller saw.
export async function expireEngine(ctx: Ctx, id: string, seenHeartbeatAt: number, now: number): Promise<boolean> {
  const r = await ctx.db
    .updateTable('engines')
    .set({ state: 'expired', ended_at: now })
    .where('id', '=', id)
    .where('state', '=', 'live')
    .where('heartbeat_at', '=', seenHeartbeatAt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// Writes: state stopped of one engines row. Guard: live (an expired engine stays expired).
export async function stopEngine(ctx: Ctx, id: string, now: number): Promise<void> {
  await ctx.db.updateTable('engines').set({ state: 'stopped', ended_at: now }).where('id', '=', id).where('state', '=', 'live').execute();
}

// Reads: every engines row that is live, or that still owns an open attempt. Guard: none.
export async function listEngines(ctx: Ctx): Promise<EngineRecord[]> {
  const rows = await ctx.db
    .selectFrom('engines')
    .selectAll()
    .where((eb) =>
      eb.or([eb('state', '=', 'live'), eb.exists(eb.selectFrom('attempts as a').select('a.run_num').whereRef('a.engine_id', '=', 'engines.id').where(ATTEMPT_OPEN))]),
    )
    .orderBy('started_at')
    .execute();
  return rows.map(toEngine);
}

// Reads: attempts rows still RUNNING of one engine (partial index), joined to their task and flow instance.
// Guard: none.
export async function listOpenAttemptsOf(ctx: Ctx, engineId: string): Promise<OpenAttempt[]> {
  const rows = await ctx.db
    .selectFrom('attempts as a')
    .innerJoin('task_instances as t', 't.id', 'a.task_instance_id')
    .innerJoin('flow_instances as fi', 'fi.id', 't.flow_instance_id')
    .selectAll('a')
    .select(['t.flow_instance_id', 't.status as task_status', 't.run_num as task_run_num', 'fi.status as instance_status', 'fi.flow_id'])
    .where('a.engine_id', '=', engineId)
    .where(ATTEMPT_OPEN)
    .orderBy('a.started_at')
    .execute();
  return rows.map((r) => ({
    ...toAttempt(r),
    flowInstanceId: r.flow_instance_id,
    flowId: num(r.flow_id),
    instanceStatus: r.instance_status as FlowInstanceStatus,
    taskStatus: r.task_status as TaskInstanceStatus,
    taskRunNum: r.task_run_num,
  }));
}
