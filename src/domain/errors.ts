// Typed domain errors. Store, service and engine throw these; src/api/errors.ts maps each kind to an
// EnOS code and message once. Messages name the field or id at fault, so a person can act on them.

export type DomainErrorKind =
  | 'invalid' // 62102: bad input, unknown id
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

/** A unique key refused the row (e.g. a flow instance id that exists already). */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
}

/** A status change the transition tables of status.ts do not allow: refused, never written. */
export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}
