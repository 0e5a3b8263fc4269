// Who may do what to a flow (contract §2): owners everything; visitors and other members of the org
// reads only; another org's flows never reach here (the store hides them). Also the edit lock (62106)
// and the locked-account rule (62105). Pure checks over loaded objects: no store access. They answer
// early; the store's writes check the lock again in their transaction (src/store/flowGuards.ts), with
// the same rule (src/domain/editLock.ts) and the same error (EditLockedError).
import { lockHeldByOther as otherUsersLock } from '../domain/editLock.js';
import { DomainError, EditLockedError } from '../domain/errors.js';
import type { Flow, User } from '../domain/types.js';
import type { Caller } from './context.js';

/** The names of a `;`-separated user list, trimmed, without empties or repeats. */
export function splitNames(list: string): string[] {
  return [...new Set(list.split(';').map((s) => s.trim()).filter((s) => s !== ''))];
}

export function joinNames(names: string[]): string {
  return [...new Set(names)].join(';');
}

export function isOwner(flow: Pick<Flow, 'creatorId' | 'owners'>, user: User): boolean {
  return flow.creatorId === user.id || splitNames(flow.owners).includes(user.name);
}

/** The store only returns flows of the caller's org; every member may read them. */
export function canRead(flow: Pick<Flow, 'orgId'>, user: User): boolean {
  return flow.orgId === user.orgId;
}

export function requireOwner(flow: Pick<Flow, 'id' | 'creatorId' | 'owners'>, caller: Caller): void {
  if (!isOwner(flow, caller.user)) {
    throw new DomainError('noPrivilege', `${caller.user.name} is not an owner of workflow ${flow.id}`);
  }
}

export function requireActiveUser(caller: Caller): void {
  if (caller.user.locked) throw new DomainError('userLocked', `user ${caller.user.name}; contact an administrator`);
}

/** The edit lock held by someone other than the caller, if it has not expired. */
export function lockHeldByOther(flow: Pick<Flow, 'editLock'>, caller: Caller, now: number): Flow['editLock'] {
  return otherUsersLock(flow.editLock, caller.user.id, now);
}

export function requireNoEditLock(flow: Pick<Flow, 'id' | 'editLock'>, caller: Caller, now: number): void {
  const l = lockHeldByOther(flow, caller, now);
  if (l) throw new EditLockedError(flow.id, l);
}

/** The checks every write to a flow makes, in the order their errors take precedence. */
export function requireWritable(flow: Pick<Flow, 'id' | 'creatorId' | 'owners' | 'editLock'>, caller: Caller, now: number): void {
  requireOwner(flow, caller);
  requireNoEditLock(flow, caller, now);
}
