// The alerts outbox (contract §12, migration 0012): rows written inside the engine decision that ends an
// instance FAIL / INTERNAL_ERROR or closes an attempt by timeout (called from transitions.ts), claimed by
// a sender under a lease, and given their delivery result by that claim only. Nothing here sends; the
// sender (src/alerts/) never holds a transaction open while it sends.
import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Alert, AlertEvent, AlertStatus, ClaimedAlert, Delivery } from '../domain/alerts.js';
import { compiledOnce, num, numOrNull, parseJson, type AlertsTable, type Ctx, type QueryRunner } from './db.js';

// The columns of a new row taken from the flow as it is now (its current alertMode and alertTo), the rest
// bound. Casts: a bare parameter in a select list is untyped on PostgreSQL.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const newRowColumns = (v: (k: string) => any, task: boolean) => [
  sql<string>`cast(${v('id')} as text)`.as('id'),
  sql<string>`cast(${v('instanceId')} as text)`.as('instance_id'),
  sql<number>`f.id`.as('flow_id'),
  sql<string>`f.org_id`.as('org_id'),
  sql<string>`cast(${v('event')} as text)`.as('event'),
  (task ? sql<string | null>`cast(${v('taskInstanceId')} as text)` : sql<string | null>`cast(null as text)`).as('task_instance_id'),
  (task ? sql<number | null>`cast(${v('runNum')} as integer)` : sql<number | null>`cast(null as integer)`).as('run_num'),
  sql<string | null>`cast(${v('reason')} as text)`.as('reason'),
  sql<number>`f.alert_mode`.as('alert_mode'),
  sql<string>`f.alert_to`.as('alert_to'),
  sql<string>`'PENDING'`.as('status'),
  sql<number>`0`.as('tries'),
  sql<number>`cast(${v('at')} as bigint)`.as('next_at'),
  sql<string>`'[]'`.as('deliveries'),
  sql<number>`cast(${v('at')} as bigint)`.as('created_at'),
  sql<number>`cast(${v('at')} as bigint)`.as('updated_at'),
];
const NEW_COLUMNS = ['id', 'instance_id', 'flow_id', 'org_id', 'event', 'task_instance_id', 'run_num', 'reason', 'alert_mode', 'alert_to', 'status', 'tries', 'next_at', 'deliveries', 'created_at', 'updated_at'] as const;

// One statement: the flow's row decides (alert_mode 0 inserts nothing), so a flow without alerts costs one
// primary-key probe on an instance's failure and nothing at all on any other move.
const insertInstanceAlert = compiledOnce((db, v) =>
  db
    .insertInto('alerts')
    .columns(NEW_COLUMNS)
    .expression((eb) => eb.selectFrom('flows as f').select(newRowColumns(v, false)).where('f.id', '=', v('flowId')).where('f.alert_mode', 'in', [1, 2, 3])),
);
const insertTimeoutAlert = compiledOnce((db, v) =>
  db
    .insertInto('alerts')
    .columns(NEW_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom('flow_instances as fi')
        .innerJoin('flows as f', 'f.id', 'fi.flow_id')
        .select(newRowColumns(v, true))
        .where('fi.id', '=', v('instanceId'))
        .where('f.alert_mode', 'in', [1, 2, 3]),
    ),
);

// Writes: one alerts row (PENDING, due at once) for an instance that ended FAIL or INTERNAL_ERROR, when
// its flow alerts. Guard: none of its own; it runs inside the transaction of the end (the caller's).
export async function writeInstanceAlert(ctx: Ctx, conn: QueryRunner, a: { instanceId: string; flowId: number; event: Exclude<AlertEvent, 'TIMEOUT'>; reason: string | null; at: number }): Promise<void> {
  await insertInstanceAlert(ctx, conn, '', { id: randomUUID(), ...a });
}

// Writes: one alerts row for attempt `runNum` of a task instance that ended by its timeout, when the flow
// of its instance alerts. Guard: as writeInstanceAlert (inside the attempt's end).
export async function writeTimeoutAlert(ctx: Ctx, conn: QueryRunner, a: { instanceId: string; taskInstanceId: string; runNum: number; reason: string | null; at: number }): Promise<void> {
  await insertTimeoutAlert(ctx, conn, '', { id: randomUUID(), event: 'TIMEOUT', ...a });
}

const toAlert = (r: Selectable<AlertsTable>): Alert => ({
  id: r.id,
  instanceId: r.instance_id,
  flowId: num(r.flow_id),
  orgId: r.org_id,
  event: r.event as AlertEvent,
  taskInstanceId: r.task_instance_id,
  runNum: numOrNull(r.run_num),
  reason: r.reason,
  alertMode: num(r.alert_mode),
  alertTo: r.alert_to,
  status: r.status as AlertStatus,
  tries: num(r.tries),
  nextAt: num(r.next_at),
  deliveries: parseJson<Delivery[]>(r.deliveries),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

// Claims by moving next_at to the lease's end: the due index (alerts_due_idx, partial on PENDING) is then
// the only test, and a claim whose process died is due again when its lease runs out. The status test is a
// literal: SQLite uses a partial index only when the query repeats its condition.
const claimDue = compiledOnce((db, v, _shape, kind) => {
  let due = db.selectFrom('alerts').select('id').where(sql<boolean>`status = 'PENDING'`).where('next_at', '<=', v('now')).orderBy('next_at').limit(v('limit'));
  if (kind === 'postgres') due = due.forUpdate().skipLocked();
  return db
    .updateTable('alerts')
    .set((eb) => ({ claimed_by: v('owner'), claimed_until: v('until'), next_at: v('until'), tries: eb('tries', '+', 1), updated_at: v('now') }))
    .where('id', 'in', due)
    .where(sql<boolean>`status = 'PENDING'`)
    .returningAll();
});

// Writes: up to `limit` due PENDING alerts rows (claimed_by, claimed_until = next_at = now + leaseMs,
// tries + 1). Guard: PostgreSQL FOR UPDATE SKIP LOCKED (concurrent claimers never take one row twice nor
// wait on each other); SQLite's single writer.
export async function claimAlerts(ctx: Ctx, owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAlert[]> {
  const rows = (await claimDue(ctx, ctx.db, '', { owner, now, until: now + leaseMs, limit })).rows;
  return rows.map((r) => ({ ...toAlert(r), claimedBy: owner, claimedUntil: now + leaseMs })).sort((a, b) => a.createdAt - b.createdAt);
}

const recordResult = compiledOnce((db, v) =>
  db
    .updateTable('alerts')
    .set({ status: v('status'), deliveries: v('deliveries'), next_at: v('nextAt'), claimed_by: null, claimed_until: null, updated_at: v('now') })
    .where('id', '=', v('id'))
    .where(sql<boolean>`status = 'PENDING'`)
    .where('claimed_by', '=', v('owner'))
    .where('claimed_until', '=', v('until')),
);

// Writes: one alerts row's status, deliveries and next_at, and releases its claim. Guard: the row is still
// PENDING under exactly this claim (owner and lease end): a claim that ran out and was taken again by
// another sender records nothing (false).
export async function recordAlertResult(
  ctx: Ctx,
  claim: Pick<ClaimedAlert, 'id' | 'claimedBy' | 'claimedUntil'>,
  result: { status: AlertStatus; deliveries: Delivery[]; nextAt: number },
  now: number,
): Promise<boolean> {
  const r = await recordResult(ctx, ctx.db, '', {
    id: claim.id, owner: claim.claimedBy, until: claim.claimedUntil, status: result.status, deliveries: JSON.stringify(result.deliveries), nextAt: result.nextAt, now,
  });
  return Number(r.numAffectedRows ?? 0) > 0;
}

// Reads: the alerts rows of one instance, oldest first (alerts_instance_idx). Guard: none.
export async function listAlerts(ctx: Ctx, instanceId: string): Promise<Alert[]> {
  const rows = await ctx.db.selectFrom('alerts').selectAll().where('instance_id', '=', instanceId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toAlert);
}

// Reads: the smallest next_at of the PENDING alerts (alerts_due_idx), or null. Guard: none.
export async function nextAlertAt(ctx: Ctx): Promise<number | null> {
  const r = await ctx.db.selectFrom('alerts').select((eb) => eb.fn.min('next_at').as('at')).where(sql<boolean>`status = 'PENDING'`).executeTakeFirst();
  return r?.at === null || r?.at === undefined ? null : num(r.at);
}
