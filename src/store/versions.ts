// Flow versions in the store: the flow_versions table (one row per distinct content of a flow, numbered
// 1, 2, 3 per flow), made by import and by every save that changes the content, and referenced by each
// instance's version_id instead of a copy of the flow. Versions are immutable, so the parsed content is
// cached per store by id (bounded, least recently used out): reading a page of instances of one flow
// parses its version once, not once per row.
import type { FlowWithTasks } from '../domain/types.js';
import { snapshotOf, versionHash, type FlowSnapshot, type FlowVersion, type FlowVersionRef } from '../domain/versions.js';
import type { ExpressionBuilder } from 'kysely';
import { allocateOn, compiledOnce, num, type Ctx, type DB, type QueryRunner } from './db.js';
import { storeCache } from './storeCache.js';

/** Parsed versions kept per store at most. */
const CACHE_SIZE = 2048;
/** Ids per `IN (...)` list at most. */
const IN_CHUNK = 100;

const cache = storeCache<number, FlowVersion>(CACHE_SIZE);

const remember = (ctx: Ctx, v: FlowVersion): void => cache.set(ctx, v.id, v);

interface VersionRow {
  id: number | string;
  flow_id: number | string;
  number: number | string;
  hash: string;
  created_at: number | string;
  created_by: string;
}

const toRef = (r: VersionRow): FlowVersionRef => ({
  id: num(r.id),
  flowId: num(r.flow_id),
  number: num(r.number),
  hash: r.hash,
  createdAt: num(r.created_at),
  createdBy: r.created_by,
});

const REF_COLUMNS = ['id', 'flow_id', 'number', 'hash', 'created_at', 'created_by'] as const;

/** Shape: the number of ids. */
const selectByIds = compiledOnce((db, v, shape) =>
  db
    .selectFrom('flow_versions')
    .select([...REF_COLUMNS, 'content'])
    .where(
      'id',
      'in',
      Array.from({ length: Number(shape) }, (_, i) => v(`id${i}`)),
    ),
);

// Reads: flow_versions rows by id (those not cached). Guard: none (ids come from instance rows).
/** The versions with these ids; throws when one is missing (an instance never outlives its version). */
export async function versionsByIds(ctx: Ctx, runner: QueryRunner, ids: Iterable<number>): Promise<Map<number, FlowVersion>> {
  const out = new Map<number, FlowVersion>();
  const missing: number[] = [];
  for (const id of new Set(ids)) {
    const hit = cache.get(ctx, id);
    if (hit) out.set(id, hit);
    else missing.push(id);
  }
  for (let i = 0; i < missing.length; i += IN_CHUNK) {
    const chunk = missing.slice(i, i + IN_CHUNK);
    const values = Object.fromEntries(chunk.map((id, k) => [`id${k}`, id]));
    for (const r of (await selectByIds(ctx, runner, String(chunk.length), values)).rows) {
      const v: FlowVersion = { ...toRef(r), snapshot: JSON.parse(r.content) as FlowSnapshot };
      remember(ctx, v);
      out.set(v.id, v);
    }
  }
  for (const id of missing) if (!out.has(id)) throw new Error(`flow version ${id} is missing from the store`);
  return out;
}

const selectByHash = compiledOnce((db, v) => db.selectFrom('flow_versions').select(REF_COLUMNS).where('flow_id', '=', v('flowId')).where('hash', '=', v('hash')));
const selectLastNumber = compiledOnce((db, v) =>
  db
    .selectFrom('flow_versions')
    .select((eb) => eb.fn.max('number').as('n'))
    .where('flow_id', '=', v('flowId')),
);
const insertVersion = compiledOnce((db, v) =>
  db.insertInto('flow_versions').values({
    id: v('id'),
    flow_id: v('flowId'),
    number: v('number'),
    hash: v('hash'),
    content: v('content'),
    created_at: v('createdAt'),
    created_by: v('createdBy'),
  }),
);

// Reads and writes: the flow_versions row of (flow, content hash), made when missing with the next number
// of the flow and an id from the 'flow_version' counter. Guard: the caller's transaction holds the flow's
// row lock (PostgreSQL: a Save's UPDATE, or lockFlowForVersion here), so two makers of one flow's next
// number queue; the unique keys (flow_id, hash) and (flow_id, number) stop anything else.
/** The version of this content of the flow, made if it is new (`hash`: versionHash(snapshot), if known). */
export async function ensureVersion(
  ctx: Ctx,
  conn: QueryRunner,
  v: { flowId: number; snapshot: FlowSnapshot; hash?: string },
  at: number,
  by: string,
  lockedAlready: boolean,
): Promise<FlowVersionRef> {
  const { flowId, snapshot } = v;
  const hash = v.hash ?? versionHash(snapshot);
  const found = (await selectByHash(ctx, conn, '', { flowId, hash })).rows[0];
  if (found) return toRef(found);
  if (!lockedAlready) {
    await ctx.dialect.lockFlowForStart(conn, flowId);
    const again = (await selectByHash(ctx, conn, '', { flowId, hash })).rows[0];
    if (again) return toRef(again);
  }
  const last = (await selectLastNumber(ctx, conn, '', { flowId })).rows[0];
  const number = num(last?.n ?? 0) + 1;
  const id = await allocateOn(ctx, conn, 'flow_version', 1);
  const content = JSON.stringify(snapshot);
  await insertVersion(ctx, conn, '', { id, flowId, number, hash, content, createdAt: at, createdBy: by });
  const ref: FlowVersionRef = { id, flowId, number, hash, createdAt: at, createdBy: by };
  remember(ctx, { ...ref, snapshot: JSON.parse(content) as FlowSnapshot });
  return ref;
}

/** ensureVersion for a flow as a Save or an import wrote it (inside that transaction, the row locked). */
export function ensureVersionOf(ctx: Ctx, conn: QueryRunner, fw: FlowWithTasks, by: string): Promise<FlowVersionRef> {
  return ensureVersion(ctx, conn, { flowId: fw.flow.id, snapshot: snapshotOf(fw) }, fw.flow.updatedAt, by, true);
}

const inOrg = (orgId: string) => (eb: ExpressionBuilder<DB, 'flow_versions'>) =>
  eb.exists(eb.selectFrom('flows').select('flows.id').whereRef('flows.id', '=', 'flow_versions.flow_id').where('flows.org_id', '=', orgId));

// Reads: the flow_versions rows of one flow (no content), newest first. Guard: the flow is in the org
// (another org's flow has no versions to show).
export async function listFlowVersions(ctx: Ctx, orgId: string, flowId: number): Promise<FlowVersionRef[]> {
  const rows = await ctx.db.selectFrom('flow_versions').select(REF_COLUMNS).where('flow_id', '=', flowId).where(inOrg(orgId)).orderBy('number', 'desc').execute();
  return rows.map(toRef);
}

// Reads: one flow_versions row of a flow by its number. Guard: the flow is in the org.
export async function getFlowVersion(ctx: Ctx, orgId: string, flowId: number, number: number): Promise<FlowVersion | null> {
  const r = await ctx.db
    .selectFrom('flow_versions')
    .select([...REF_COLUMNS, 'content'])
    .where('flow_id', '=', flowId)
    .where('number', '=', number)
    .where(inOrg(orgId))
    .executeTakeFirst();
  return r ? { ...toRef(r), snapshot: JSON.parse(r.content) as FlowSnapshot } : null;
}
