// The guards of the flow writes, read or checked inside the writing transaction (contract §2, §3): the
// edit lock columns (mapping and rule in SQL), why a guarded UPDATE of a flows row matched nothing, and
// references between flows. Used by flows.ts and by flowInstances.ts (triggers, cancel); no writes here.
// A read inside a writing transaction is as good as a lock on SQLite (BEGIN IMMEDIATE: one writer at a
// time). On PostgreSQL what these checks read is locked: the deleted flows row FOR UPDATE before its
// checks, referenced, triggered and cancelled-for flows rows FOR KEY SHARE (see `locking` in db.ts). The
// guarded UPDATEs (Save, Enable, Disable) need nothing more: their WHERE is re-checked under the row lock.
import type { ExpressionBuilder, Selectable } from 'kysely';
import { EditLockedError, FlowChangedError, invalid, StaleError, StaleFlowError } from '../domain/errors.js';
import { lockHeldByOther } from '../domain/editLock.js';
import type { EditLock, FlowRefNode } from '../domain/types.js';
import type { NewFlowInstance } from '../domain/instances.js';
import { locking, num, parseJson, type Ctx, type DB, type FlowsTable, type StoreDialect, type Tx } from './db.js';
import { forgetFlowToRun } from './flowCache.js';

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

/**
 * Why a create must fail alone, from its flow's row as the creating transaction read it (undefined: no
 * row), in this order: the flow is gone (StaleError), it moved past the version the create was built from
 * (StaleFlowError), or another user's lock refuses a manual trigger (EditLockedError); null when none. A
 * refused flow leaves this process's cache of flows to run. Both create paths (flowInstances.ts, and
 * instanceBulkInsert.ts on PostgreSQL) decide with it.
 */
export function createRefusal(
  ctx: Ctx,
  input: NewFlowInstance,
  row: (Pick<Selectable<FlowsTable>, 'lock_user_id' | 'lock_user_name' | 'lock_expires_at'> & { version: number }) | undefined,
): Error | null {
  const i = input.instance;
  const refused = !row
    ? new StaleError(`flow ${i.flowId} not found`)
    : input.flowVersion !== undefined && row.version !== input.flowVersion
      ? new StaleFlowError(`flow ${i.flowId} is at version ${row.version}, the create was built from ${input.flowVersion}`)
      : input.lockUserId === undefined
        ? null
        : lockRefusal(i.flowId, row, input.lockUserId, i.createdAt);
  if (refused) forgetFlowToRun(ctx, i.flowId);
  return refused;
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

// Reads: the flows rows of the org that `refs` name (by id, or by name when the import form gave only a
// name), the referenced tasks rows, and flow_refs along chains of references, inside the writing
// transaction of an Import or Save. Guard (contract §10; DomainError 'invalid' naming the first fault,
// nothing written): each referenced workflow exists in the org, once by that name, is periodic (type 1)
// and is not the flow itself; a referenced task belongs to it and has asLink; no chain of references
// leads back to the flow. Answers the references resolved: ids filled, names as stored.
// With deleteFlow's referrersOf check this is the pair that keeps references from dangling: whichever of
// a Save adding a reference and a Delete of its target commits second sees the other's write.
export async function resolveReferences(
  trx: Tx,
  kind: StoreDialect['kind'],
  orgId: string,
  refs: FlowRefNode[],
  fieldOf: (k: number) => string,
  selfId: number | null,
): Promise<FlowRefNode[]> {
  if (refs.length === 0) return refs;
  const out: FlowRefNode[] = [];
  for (const [k, ref] of refs.entries()) {
    const field = fieldOf(k);
    const byName = ref.flowId === '';
    const name = ref.isVirtual ? (ref.sourceFlowName ?? '') : ref.flowName;
    // FOR KEY SHARE on PostgreSQL: a Delete of a referenced flow waits for this write (then sees the reference).
    const q = trx.selectFrom('flows').select(['id', 'name', 'type']).where('org_id', '=', orgId);
    const rows = await locking(byName ? q.where('name', '=', name) : q.where('id', '=', Number(ref.flowId)), kind, 'keyShare').execute();
    if (rows.length === 0) {
      if (byName) throw invalid(`${field}.sourceFlowName`, `Incorrect parameter: ${field}.sourceFlowName: no workflow named ${JSON.stringify(name)} in this organization`);
      throw invalid(`${field}.flowId`, `Incorrect parameter: ${field}.flowId: referenced workflow ${ref.flowId} not found`);
    }
    if (rows.length > 1) throw invalid(`${field}.sourceFlowName`, `Incorrect parameter: ${field}.sourceFlowName: ${rows.length} workflows are named ${JSON.stringify(name)} in this organization (ids ${rows.map((r) => num(r.id)).join(', ')}): give flowId`);
    const row = rows[0];
    const id = num(row.id);
    if (selfId !== null && id === selfId) throw invalid(`${field}.flowId`, `Incorrect parameter: ${field}.flowId: workflow ${id} cannot reference itself`);
    if (row.type !== 1) {
      throw invalid(`${field}.flowId`, `Incorrect parameter: ${field}.flowId: referenced workflow ${JSON.stringify(row.name)} (${id}) is not periodic (type ${row.type}): only periodic workflows (type 1) can be referenced`);
    }
    if (!ref.isVirtual) {
      out.push({ ...ref, flowId: String(id), flowName: row.name });
      continue;
    }
    const tq = trx.selectFrom('tasks').select(['id', 'name', 'as_link']).where('flow_id', '=', id);
    const byTaskName = ref.taskId === undefined || ref.taskId <= 0;
    const task = await (byTaskName ? tq.where('name', '=', ref.sourceTaskName ?? '') : tq.where('id', '=', ref.taskId!)).executeTakeFirst();
    const taskText = byTaskName ? JSON.stringify(ref.sourceTaskName ?? '') : `id ${ref.taskId}`;
    if (!task) throw invalid(`${field}.sourceTaskName`, `Incorrect parameter: ${field}.sourceTaskName: workflow ${JSON.stringify(row.name)} (${id}) has no task ${taskText}`);
    if (task.as_link !== 1) {
      throw invalid(`${field}.sourceTaskName`, `Incorrect parameter: ${field}.sourceTaskName: task ${JSON.stringify(task.name)} of workflow ${JSON.stringify(row.name)} does not allow references (its asLink is false)`);
    }
    const taskId = num(task.id);
    out.push({ ...ref, flowId: String(id), flowName: `${taskId}(${task.name})`, taskId, sourceFlowName: row.name, sourceTaskName: task.name });
  }
  if (selfId !== null) await refuseReferenceCycle(trx, orgId, selfId, out, fieldOf);
  return out;
}

/** A chain of references from the flow's referenced flows back to the flow: 62102 naming the chain. */
async function refuseReferenceCycle(trx: Tx, orgId: string, selfId: number, refs: FlowRefNode[], fieldOf: (k: number) => string): Promise<void> {
  for (const [k, ref] of refs.entries()) {
    const start = Number(ref.flowId);
    const parent = new Map<number, number>([[start, selfId]]);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const at = queue[i];
      const row = await trx.selectFrom('flows').select(['flow_refs']).where('id', '=', at).where('org_id', '=', orgId).executeTakeFirst();
      for (const next of row ? parseJson<FlowRefNode[]>(row.flow_refs).map((r) => Number(r.flowId)) : []) {
        if (next === selfId) {
          const chain = [selfId, at];
          for (let p = parent.get(at)!; p !== selfId; p = parent.get(p)!) chain.splice(1, 0, p);
          throw invalid(`${fieldOf(k)}.flowId`, `Incorrect parameter: ${fieldOf(k)}.flowId: the references make a cycle: ${[...chain, selfId].join(' -> ')}`);
        }
        if (!parent.has(next)) {
          parent.set(next, at);
          queue.push(next);
        }
      }
    }
  }
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

