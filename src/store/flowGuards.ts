// The guards of the flow writes, read or checked inside the writing transaction (contract §2, §3): the
// edit lock columns (mapping and rule in SQL), why a guarded UPDATE of a flows row matched nothing, and
// references between flows. Used by flows.ts and by flowInstances.ts (triggers, cancel); no writes here.
// A read inside a writing transaction is as good as a lock on SQLite (BEGIN IMMEDIATE: one writer at a
// time). On PostgreSQL what these checks read is locked: the deleted flows row FOR UPDATE before its
// checks, referenced, triggered and cancelled-for flows rows FOR KEY SHARE (see `locking` in db.ts). The
// guarded UPDATEs (Save, Enable, Disable) need nothing more: their WHERE is re-checked under the row lock.
import type { ExpressionBuilder, Selectable } from 'kysely';
import { EditLockedError, FlowChangedError, invalid, StaleError } from '../domain/errors.js';
import { lockHeldByOther } from '../domain/editLock.js';
import type { EditLock, FlowRefNode } from '../domain/types.js';
import { locking, num, parseJson, type DB, type FlowsTable, type StoreDialect, type Tx } from './db.js';

/** The lock columns of a flows row as the domain's EditLock (null when free). */
export function toEditLock(r: Pick<Selectable<FlowsTable>, 'lock_user_id' | 'lock_user_name' | 'lock_expires_at'>): EditLock | null {
  if (r.lock_user_id === null) return null;
  return { userId: r.lock_user_id, userName: r.lock_user_name ?? '', expiresAt: num(r.lock_expires_at ?? 0) };
}

/** The edit lock rule of src/domain/editLock.ts as a WHERE condition: the lock is free, expired at `now`, or `userId`'s. */
export function lockAllows(eb: ExpressionBuilder<DB, 'flows'>, userId: string, now: number) {
  return eb.or([eb('lock_user_id', 'is', null), eb('lock_expires_at', '<=', now), eb('lock_user_id', '=', userId)]);
}

/** The same rule over lock columns already read: the EditLockedError the write must fail with, or null. */
export function lockRefusal(
  flowId: number,
  r: Pick<Selectable<FlowsTable>, 'lock_user_id' | 'lock_user_name' | 'lock_expires_at'>,
  userId: string,
  now: number,
): EditLockedError | null {
  const other = lockHeldByOther(toEditLock(r), userId, now);
  return other ? new EditLockedError(flowId, other) : null;
}

// Reads: one flows row of the org (version, update_user, lock_*), inside the transaction whose guarded
// UPDATE of it matched nothing. Guard: none; it only names the reason, in order of precedence: the row is
// gone (StaleError), another user's lock (EditLockedError), or (when the write expected a version) the
// version moved (FlowChangedError, naming who wrote last).
export async function refusal(trx: Tx, orgId: string, flowId: number, userId: string, now: number, version?: number): Promise<Error> {
  const row = await trx
    .selectFrom('flows')
    .select(['version', 'update_user', 'lock_user_id', 'lock_user_name', 'lock_expires_at'])
    .where('id', '=', flowId)
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  if (!row) return new StaleError(`flow ${flowId} not found`);
  const locked = lockRefusal(flowId, row, userId, now);
  if (locked) return locked;
  if (version !== undefined && num(row.version) !== version) return new FlowChangedError(flowId, row.update_user);
  return new StaleError(`flow ${flowId} refused the write`);
}

// Reads: the ids of the flows rows of the org that `refs` name, inside the writing transaction of a Save.
// Guard: every referenced flow exists in the org, else DomainError 'invalid' naming the first missing one.
// With deleteFlow's referrersOf check this is the pair that keeps references from dangling: whichever of
// a Save adding a reference and a Delete of its target commits second sees the other's write.
export async function requireReferencedFlows(trx: Tx, kind: StoreDialect['kind'], orgId: string, refs: FlowRefNode[], field = 'flows'): Promise<void> {
  if (refs.length === 0) return;
  const ids = [...new Set(refs.map((r) => Number(r.flowId)))];
    // FOR KEY SHARE on PostgreSQL: a Delete of a referenced flow waits for this Save (then sees the reference).
  const rows = await locking(trx.selectFrom('flows').select('id').where('org_id', '=', orgId).where('id', 'in', ids), kind, 'keyShare').execute();
  const found = new Set(rows.map((r) => num(r.id)));
  const k = refs.findIndex((r) => !found.has(Number(r.flowId)));
  if (k >= 0) throw invalid(`${field}[${k}].flowId`, `Incorrect parameter: ${field}[${k}].flowId: referenced workflow ${refs[k].flowId} not found`);
}

// Reads: id, name, flow_refs of the org's other flows rows that have reference nodes, inside the deleting
// transaction. Guard: none; answers those whose references name `flowId`, by id.
export async function referrersOf(trx: Tx, orgId: string, flowId: number): Promise<Array<{ id: number; name: string }>> {
  const rows = await trx
    .selectFrom('flows')
    .select(['id', 'name', 'flow_refs'])
    .where('org_id', '=', orgId)
    .where('id', '!=', flowId)
    .where('flow_refs', '!=', '[]')
    .orderBy('id')
    .execute();
  return rows.filter((r) => parseJson<FlowRefNode[]>(r.flow_refs).some((ref) => Number(ref.flowId) === flowId)).map((r) => ({ id: num(r.id), name: r.name }));
}

