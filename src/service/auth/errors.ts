// Authentication failures, by the gateway's codes (reference §3.3): the API answers them with HTTP 401
// and its envelope, the token service with its own. Messages name what is wrong and never carry a
// secret or a token. Also the one timestamp check both the token service and signed calls make.
import { parseTimestamp, withinWindow } from '../../domain/signature.js';

export type AuthCode = 1001 | 1002 | 1003 | 1004 | 1202 | 1203 | 1204;

export class AuthError extends Error {
  override readonly name: string = 'AuthError';
  constructor(
    readonly code: AuthCode,
    message: string,
  ) {
    super(message);
  }
}

/** A request's epoch-ms timestamp (`name` as the client sent it), within `windowMs` of `now`; 1004 otherwise. */
export function checkedTimestamp(raw: unknown, name: string, now: number, windowMs: number): number {
  const ts = parseTimestamp(raw);
  if (ts === null) throw new AuthError(1004, `${name} must be epoch milliseconds`);
  if (!withinWindow(ts, now, windowMs)) throw new AuthError(1004, `${name} is ${Math.round((ts - now) / 1000)} s from the service's clock; the window is ±${windowMs / 1000} s`);
  return ts;
}
