// List Flow Instances' store side: the org's instances filtered (flow type, expression, owner, trigger
// time range, statuses, readable flows), one page in the API's sort order plus the exact count of all
// matches. Row mapping stays in flowInstances.ts (toFlowInstance); nothing here writes.
// The plan (migration 0007): the flow-side conditions (org, type, name, creator, the flow part of an id)
// are answered first from the org's flows; what is left are probes of flow_instances_search_idx per
// (flow, status) and trigger time range, which count without reading a row. An id fragment inside the
// stamp goes through instance_minutes to the trigger-time index (instanceMatch.ts). The page either
// walks the sort order's index until it has the page, when matches are dense, or sorts the matches.
import { sql, type ExpressionBuilder, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { FlowInstanceStatus } from '../domain/status.js';
import type { FlowInstance } from '../domain/types.js';
import type { InstanceSearch } from './store.js';
import { likeContains, num, type Ctx, type DB } from './db.js';
import { resolveInstances } from './flowInstances.js';
import { idMatch } from './instanceMatch.js';

const instanceSortColumn = {
  createTime: 'fi.created_at',
  updateTime: 'fi.updated_at',
  startTime: 'fi.started_at',
  triggerTime: 'fi.trigger_time',
  endTime: 'fi.ended_at',
} as const;

const ALL_STATUSES = Object.values(FlowInstanceStatus);
const MINUTE_MS = 60_000;

type FiEb = ExpressionBuilder<DB & { fi: DB['flow_instances'] }, 'fi'>;

/** What the flows of the org decide, before any instance is read. */
interface Plan {
  /** Flows whose instances match whatever their id (no expression, or the name / flow id matched). */
  whole: number[];
  /** Flows whose instances match only when their id does (through a stamp of instance_minutes). */
  byStamp: number[];
  /**
   * The stamp pattern (digits) of byStamp, its prefix when it is one (a range of the key), and how its
   * rows are found: through the minutes of matching stamps, or, when byStamp is a small part of the
   * flows (a fragment "A-B" keeps only flows ending in A), through those flows' index entries.
   */
  stamp: { like: string; prefix: string | null; byFlows: boolean } | null;
  /** With an owner filter: flows created by that owner (their scheduler fires have owner ""). */
  creatorOf: number[];
  /** The expression as a LIKE pattern (lowercased, escaped), for the rows read through a stamp. */
  pattern: string | null;
}

// Reads: flows rows of the org (id, type, creator, name; index flows_search_idx). Guard: org_id; the
// name test is the SQL `lower(name) like` of before, so each backend's case folding stays what it was.
async function planOf(ctx: Ctx, q: InstanceSearch): Promise<Plan> {
  const expression = q.expression ? q.expression.toLowerCase() : null;
  const pattern = q.expression ? likeContains(q.expression) : null;
  let query = ctx.db
    .selectFrom('flows')
    .select('id')
    .select(sql<number>`case when ${pattern === null ? sql`1 = 1` : sql`lower(name) like ${pattern} escape '\\'`} then 1 else 0 end`.as('named'))
    .select(sql<number>`case when creator_name = ${q.owner ?? ''} then 1 else 0 end`.as('mine'))
    .where('org_id', '=', q.orgId);
  if (q.flowType !== undefined) query = query.where('type', '=', q.flowType);
  const readable = q.flowIds ? new Set(q.flowIds) : null;
  const ids = expression === null ? null : idMatch(expression);
  const plan: Plan = { whole: [], byStamp: [], stamp: ids?.stamp ? { like: ids.stamp.like, prefix: ids.stamp.prefix, byFlows: false } : null, creatorOf: [], pattern };
  let flows = 0;
  for (const r of await query.execute()) {
    const id = num(r.id);
    if (readable && !readable.has(id)) continue;
    flows++;
    if (q.owner && num(r.mine) === 1) plan.creatorOf.push(id);
    if (num(r.named) === 1 || ids?.wholeFlow(id)) plan.whole.push(id);
    else if (ids?.stamp?.flow(id)) plan.byStamp.push(id);
  }
  if (plan.byStamp.length === 0) plan.stamp = null;
  else if (plan.byStamp.length * 10 <= flows) plan.stamp!.byFlows = true;
  return plan;
}

/** `col` in `ids`, as one parameter (10,000 flows would be 10,000 placeholders otherwise). */
function inIds(ctx: Ctx, col: Expression<unknown>, ids: number[]): Expression<SqlBool> {
  return ctx.dialect.kind === 'postgres' ? sql<SqlBool>`${col} = any(${ids}::bigint[])` : sql<SqlBool>`${col} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/** The conditions every match meets besides its flow: status, trigger time range, owner. */
function rowFilters(ctx: Ctx, q: InstanceSearch, plan: Plan, eb: FiEb, rangeOffIndex = false): Expression<SqlBool>[] {
  // All statuses rather than none: the index is then probed per (flow, status) instead of scanned.
  const out: Expression<SqlBool>[] = [eb('fi.status', 'in', q.statuses && q.statuses.length > 0 ? q.statuses : ALL_STATUSES)];
  // Through the minutes, each probe's range is its minute: SQLite would take the request's (wider) range
  // as the index range instead and read the whole range once per minute; unary plus keeps it a row check.
  const at = rangeOffIndex && ctx.dialect.kind === 'sqlite' ? sql`+fi.trigger_time` : sql`fi.trigger_time`;
  if (q.fromTriggerTime !== undefined) out.push(sql<SqlBool>`${at} >= ${q.fromTriggerTime}`);
  if (q.toTriggerTime !== undefined) out.push(sql<SqlBool>`${at} <= ${q.toTriggerTime}`);
  if (q.owner) {
    // A scheduler fire has owner "": it belongs to the flow's creator (FlowInstance.owner).
    const own = eb('fi.owner', '=', q.owner);
    out.push(plan.creatorOf.length === 0 ? own : eb.or([own, eb.and([eb('fi.owner', '=', ''), inIds(ctx, eb.ref('fi.flow_id'), plan.creatorOf)])]));
  }
  return out;
}

/** Instances of the `whole` flows that pass the filters (flow_instances_search_idx). */
function wholeArm(ctx: Ctx, q: InstanceSearch, plan: Plan) {
  return ctx.db
    .selectFrom('flow_instances as fi')
    .where((eb) => eb.and([inIds(ctx, eb.ref('fi.flow_id'), plan.whole), ...rowFilters(ctx, q, plan, eb)]));
}

/**
 * Instances of the `byStamp` flows whose id matches: the minutes of matching stamps, each a range probe
 * of flow_instances_org_trigger_idx, every row rechecked with the LIKE of before.
 */
function stampArm(ctx: Ctx, q: InstanceSearch, plan: Plan) {
  const st = plan.stamp!;
  const idLike = sql<SqlBool>`lower(fi.id) like ${plan.pattern} escape '\\'`;
  if (st.byFlows) {
    return ctx.db.selectFrom('flow_instances as fi').where((eb) => eb.and([inIds(ctx, eb.ref('fi.flow_id'), plan.byStamp), idLike, ...rowFilters(ctx, q, plan, eb)]));
  }
  const fromMin = Math.floor((q.fromTriggerTime ?? 0) / MINUTE_MS);
  const toMin = q.toTriggerTime === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(q.toTriggerTime / MINUTE_MS);
  // A prefix is a range of the key; any other fragment reads the (small) table once.
  const stampTest = st.prefix !== null ? sql`m.stamp >= ${st.prefix} and m.stamp < ${st.prefix + ':'}` : sql`m.stamp like ${st.like}`;
  const minutes = sql<{ lo: number }>`(select distinct minute * ${MINUTE_MS} as lo from instance_minutes m where ${stampTest} and m.minute >= ${fromMin} and m.minute <= ${toMin})`;
  // Unary plus (SQLite): the flow test is checked per row, never the index that drives the probes.
  const flowCol = ctx.dialect.kind === 'sqlite' ? sql`+fi.flow_id` : sql`fi.flow_id`;
  return ctx.db
    .selectFrom(minutes.as('m'))
    // CROSS JOIN: SQLite then keeps the minutes outside (each a range probe); PostgreSQL plans it as any join.
    .crossJoin('flow_instances as fi')
    .where((eb) => eb.and([
      sql<SqlBool>`fi.org_id = ${q.orgId} and fi.trigger_time >= m.lo and fi.trigger_time < m.lo + ${MINUTE_MS}`,inIds(ctx, flowCol, plan.byStamp), idLike, ...rowFilters(ctx, q, plan, eb, true)]));
}

// Reads: flows rows of the org, then flow_instances rows (and instance_minutes rows for an id fragment)
// of those flows; one page plus the count of all matches. Guard: org_id (only the org's flows are
// probed); sort fields whitelisted; flowIds limits to readable flows.
export async function searchFlowInstances(ctx: Ctx, q: InstanceSearch): Promise<{ instances: FlowInstance[]; total: number }> {
  if (q.flowIds && q.flowIds.length === 0) return { instances: [], total: 0 };
  const plan = await planOf(ctx, q);
  let total = 0;
  if (plan.whole.length > 0) total += Number((await wholeArm(ctx, q, plan).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  // The arms are disjoint: a flow is in `whole` or in `byStamp`, never both.
  if (plan.stamp) total += Number((await stampArm(ctx, q, plan).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const want = Math.min(q.limit, total - q.offset);
  if (want <= 0) return { instances: [], total };
  const rows = (await walkPage(ctx, q, plan, total, want)) ?? (await sortedPage(ctx, q, plan));
  return { instances: await resolveInstances(ctx, ctx.db, rows), total };
}

/** The API's order: the sorters (NULLS LAST: backends disagree on where NULL sorts), then seq. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ordered<Q extends SelectQueryBuilder<any, any, any>>(query: Q, q: InstanceSearch): Q {
  let out = query;
  for (const s of q.sort) out = out.orderBy(instanceSortColumn[s.field], (ob) => (s.desc ? ob.desc() : ob.asc()).nullsLast()) as Q;
  return out.orderBy('fi.seq', q.sort[0]?.desc === false ? 'asc' : 'desc') as Q;
}

/** The matches sorted: both arms' rows, then the page. Cost: every match is read once. */
async function sortedPage(ctx: Ctx, q: InstanceSearch, plan: Plan) {
  const arms = [plan.whole.length > 0 ? wholeArm(ctx, q, plan).selectAll('fi') : null, plan.stamp ? stampArm(ctx, q, plan).selectAll('fi') : null].filter((a) => a !== null);
  const union = arms.length === 1 ? arms[0] : arms[0].unionAll(arms[1]);
  const page = ordered(ctx.db.selectFrom(union.as('fi')).selectAll(), q);
  return page.offset(q.offset).limit(q.limit).execute();
}

/**
 * When matches are dense, the first rows in the sort order's own index (seq, or trigger time in the
 * range) hold the page: walk at most as many rows as sorting the matches would read, checking each row.
 * Null when the order has no index, the walk is not expected to pay, or it ended short of the page.
 */
async function walkPage(ctx: Ctx, q: InstanceSearch, plan: Plan, total: number, want: number) {
  const lead = q.sort[0]?.field;
  if (lead !== undefined && lead !== 'triggerTime') return null;
  const span = await ctx.db
    .selectNoFrom((eb) => [
      eb.selectFrom('flow_instances').select((e) => e.fn.max('seq').as('hi')).as('hi'),
      eb.selectFrom('flow_instances').select((e) => e.fn.min('seq').as('lo')).as('lo'),
    ])
    .executeTakeFirstOrThrow();
  const rowsEstimate = num(span.hi ?? 0) - num(span.lo ?? 0) + 1;
  // Expected rows walked: (offset + page) spread over the store at the matches' density.
  if (((q.offset + q.limit) * rowsEstimate) / total > total) return null;
  // The seq walk has no WHERE at all (the org follows from the flows the rows are checked against): any
  // condition here would let the planner prefer its index and sort the whole org instead of walking.
  let inner = ctx.db.selectFrom('flow_instances as fi').selectAll('fi');
  if (lead === 'triggerTime') {
    inner = inner.where('fi.org_id', '=', q.orgId);
    if (q.fromTriggerTime !== undefined) inner = inner.where('fi.trigger_time', '>=', q.fromTriggerTime);
    if (q.toTriggerTime !== undefined) inner = inner.where('fi.trigger_time', '<=', q.toTriggerTime);
  }
  const walked = ordered(inner, q).limit(total);
  const matches = (eb: FiEb): Expression<SqlBool> => {
    const arms: Expression<SqlBool>[] = [];
    if (plan.whole.length > 0) arms.push(inIds(ctx, eb.ref('fi.flow_id'), plan.whole));
    if (plan.stamp) arms.push(eb.and([inIds(ctx, eb.ref('fi.flow_id'), plan.byStamp), sql<SqlBool>`lower(fi.id) like ${plan.pattern} escape '\\'`]));
    return eb.and([eb.or(arms), ...rowFilters(ctx, q, plan, eb)]);
  };
  const page = ordered(ctx.db.selectFrom(walked.as('fi')).selectAll().where(matches), q);
  const rows = await page.offset(q.offset).limit(q.limit).execute();
  return rows.length === want ? rows : null;
}
