// List Flow Instances' store side: the org's instances filtered (flow type, expression, owner, trigger
// time range, statuses, readable flows), one page in the API's sort order plus the exact count of all
// matches. Row mapping stays in flowInstances.ts (toFlowInstance); nothing here writes.
import { sql } from 'kysely';
import type { FlowInstance } from '../domain/types.js';
import type { InstanceSearch } from './store.js';
import { likeContains, type Ctx } from './db.js';
import { toFlowInstance } from './flowInstances.js';

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
