// The cron scheduler's questions to the store: a flow by id in any org (a fire snapshots it) and the
// latest fire already made for a flow (kind 'schedule' instances). Reads only: fires are written by
// createFlowInstance like any trigger, and flows.schedule_from is written by flows.ts.
import { sql } from 'kysely';
import type { FlowWithTasks } from '../domain/types.js';
import { num, type Ctx } from './db.js';
import { getFlow } from './flows.js';

// Reads: the org_id of one flows row, then that flow with its tasks (flows.ts). Guard: none (engine side).
export async function getFlowById(ctx: Ctx, flowId: number): Promise<FlowWithTasks | null> {
  const row = await ctx.db.selectFrom('flows').select('org_id').where('id', '=', flowId).executeTakeFirst();
  return row ? getFlow(ctx, row.org_id, flowId) : null;
}

// Reads: max(trigger_time) of the flow's flow_instances rows of kind 'schedule' (the partial index
// flow_instances_fires_idx, its condition repeated as a literal: one seek). Guard: none.
export async function lastScheduledFireTime(ctx: Ctx, flowId: number): Promise<number | null> {
  const row = await ctx.db
    .selectFrom('flow_instances')
    .select((eb) => eb.fn.max('trigger_time').as('last'))
    .where('flow_id', '=', flowId)
    .where(sql<boolean>`kind = 'schedule'`)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? null : num(row.last);
}
