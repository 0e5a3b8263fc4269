// The searches as they were before migration 0007 (commit fef0ce3's instanceSearch.ts and flows.ts),
// run on the bench's own read connection against the same rows: the "before" column of bench/search.ts.
// Nothing here is used by the service.
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../src/store/db.js';
import { likeContains } from '../../src/store/db.js';
import type { InstanceSearch } from '../../src/store/store.js';

const instanceSortColumn = { createTime: 'fi.created_at', updateTime: 'fi.updated_at', startTime: 'fi.started_at', triggerTime: 'fi.trigger_time', endTime: 'fi.ended_at' } as const;

export async function legacySearchFlowInstances(db: Kysely<DB>, q: InstanceSearch): Promise<{ ids: string[]; total: number }> {
  let base = db.selectFrom('flow_instances as fi').innerJoin('flows as f', 'f.id', 'fi.flow_id').where('fi.org_id', '=', q.orgId);
  if (q.flowType !== undefined) base = base.where('f.type', '=', q.flowType);
  if (q.expression) {
    const p = likeContains(q.expression);
    base = base.where(sql<boolean>`(lower(fi.id) like ${p} escape '\\' or lower(f.name) like ${p} escape '\\')`);
  }
  if (q.owner) {
    const owner = q.owner;
    base = base.where((eb) => eb.or([eb('fi.owner', '=', owner), eb.and([eb('fi.owner', '=', ''), eb('f.creator_name', '=', owner)])]));
  }
  if (q.fromTriggerTime !== undefined) base = base.where('fi.trigger_time', '>=', q.fromTriggerTime);
  if (q.toTriggerTime !== undefined) base = base.where('fi.trigger_time', '<=', q.toTriggerTime);
  if (q.statuses && q.statuses.length > 0) base = base.where('fi.status', 'in', q.statuses);
  const count = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  let page = base.selectAll('fi');
  for (const s of q.sort) page = page.orderBy(instanceSortColumn[s.field], (ob) => (s.desc ? ob.desc() : ob.asc()).nullsLast());
  page = page.orderBy('fi.seq', q.sort[0]?.desc === false ? 'asc' : 'desc');
  const rows = await page.offset(q.offset).limit(q.limit).execute();
  return { ids: rows.map((r) => r.id), total: Number(count.n) };
}

const flowSortColumn = { createTime: 'created_at', updateTime: 'updated_at', startTime: 'start_date' } as const;

export async function legacySearchFlows(db: Kysely<DB>, q: { orgId: string; expression?: string; sort: Array<{ field: keyof typeof flowSortColumn; desc: boolean }>; offset: number; limit: number }): Promise<number[]> {
  let query = db.selectFrom('flows').selectAll().where('org_id', '=', q.orgId);
  if (q.expression) {
    const p = likeContains(q.expression);
    query = query.where(sql<boolean>`(cast(id as text) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  for (const s of q.sort) query = query.orderBy(flowSortColumn[s.field], s.desc ? 'desc' : 'asc');
  query = query.orderBy('id', q.sort[0]?.desc === false ? 'asc' : 'desc');
  return (await query.offset(q.offset).limit(q.limit).execute()).map((r) => Number(r.id));
}
