// Typed domain errors. Store, service and engine throw these; src/api/errors.ts maps each kind to an
// EnOS code and message once. Messages name the field or id at fault, so a person can act on them.
// Errors that callers need to inspect (the edit lock holder, a flow's referrers) carry typed fields and
// format their message here, once, wherever they are thrown (service check or store guard).
import type { EditLock } from './types.js';

export type DomainErrorKind =
  | 'invalid' // 62102: bad input, unknown id
  | 'changed' // 62102: Save of a flow that another write changed since the request read it
  | 'outOfRange' // 62102: a number past its limit (the message names the field and the limit)
  | 'notFound' // 62102: "... not found" (also for other orgs' objects)
  | 'duplicateInstance' // 62102: same flow, same minute
  | 'unknownUser' // 62101
  | 'noPrivilege' // 62103
  | 'noTask' // 62104: trigger of a flow with no task
  | 'referenced' // 62104: delete of a flow another flow references
  | 'userLocked' // 62105
  | 'editLocked' // 62106
  | 'internal'; // 62109

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const invalid = (field: string, message: string) => new DomainError('invalid', message, field);
/** A number past what the service accepts for `field`; the message names the limit and the value given. */
export const outOfRange = (field: string, message: string) => new DomainError('outOfRange', message, field);
export const notFound = (what: string, id: string | number) => new DomainError('notFound', `${what} ${id} not found`);

/** A guarded write found the row no longer in the expected state: nothing was changed. */
export class StaleError extends Error {
  override readonly name = 'StaleError';
}

/**
 * A create was built from a cached read of its flow (NewFlowInstance.flowVersion) and the flows row has
 * been written since: nothing was written; the caller reads the flow again and decides afresh.
 */
export class StaleFlowError extends Error {
  override readonly name = 'StaleFlowError';
}

/** A unique key refused the row (e.g. a flow instance id that exists already). */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
}

/** A status change the transition tables of status.ts do not allow: refused, never written. */
export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

/** Another user's unexpired edit lock refused a write to the flow (62106), naming the holder and the expiry. */
export class EditLockedError extends DomainError {
  override readonly name = 'EditLockedError';
  constructor(
    readonly flowId: number,
    readonly lock: EditLock,
  ) {
    super('editLocked', `Workflow ${flowId} is locked for editing by ${lock.userName} until ${new Date(lock.expiresAt).toISOString()} (epoch ms ${lock.expiresAt})`);
  }
}

/** Save Flow's version guard: the flow was written (Save, Enable, Disable) after the request read it. */
export class FlowChangedError extends DomainError {
  override readonly name = 'FlowChangedError';
  constructor(
    readonly flowId: number,
    readonly updateUser: string,
  ) {
    super('changed', `workflow ${flowId} was changed by ${updateUser} since it was read; reload it and save again`, 'flowId');
  }
}

/** Delete Flow of a flow that other flows of its org reference (62104), naming them. */
export class ReferencedError extends DomainError {
  override readonly name = 'ReferencedError';
  constructor(
    readonly flowId: number,
    readonly referrers: ReadonlyArray<{ id: number; name: string }>,
  ) {
    super('referenced', `workflow ${flowId} is referenced by ${referrers.map((f) => `${f.id} (${f.name})`).join(', ')}`);
  }
}
