// The history of status changes (status_events), written by transitions.ts in the same transaction as
// each change; here only read, in the order the changes were committed.
import type { Selectable } from 'kysely';
import type { TransitionRecord } from '../domain/types.js';
import { num, type Ctx, type StatusEventsTable } from './db.js';

const toRecord = (r: Selectable<StatusEventsTable>): TransitionRecord => ({
  entityId: r.task_instance_id ?? r.flow_instance_id,
  kind: r.task_instance_id === null ? 'instance' : 'task',
  from: r.from_status,
  to: r.to_status,
  at: num(r.at),
  reason: r.reason,
  engineId: r.engine_id,
  runNum: r.run_num,
});

// Reads: status_events rows of one flow instance and its task instances, in commit order. Guard: none.
export async function listHistory(ctx: Ctx, flowInstanceId: string): Promise<TransitionRecord[]> {
  return (await ctx.db.selectFrom('status_events').selectAll().where('flow_instance_id', '=', flowInstanceId).orderBy('id').execute()).map(toRecord);
}

// Reads: status_events rows of one task instance, in commit order. Guard: none.
export async function listTaskHistory(ctx: Ctx, taskInstanceId: string): Promise<TransitionRecord[]> {
  return (await ctx.db.selectFrom('status_events').selectAll().where('task_instance_id', '=', taskInstanceId).orderBy('id').execute()).map(toRecord);
}
