// The only place that builds a response envelope (contract §1): V2.1 `{code,msg,requestId,data}`,
// V2.0 `{status,msg:"Success",requestId,data}`. Errors carry `data: null`.
import { assertNever } from '../domain/status.js';
import type { ApiError } from './errors.js';

export type EnvelopeKind = 'v2.1' | 'v2.0';

export function success(kind: EnvelopeKind, data: unknown, requestId: string): Record<string, unknown> {
  switch (kind) {
    case 'v2.1':
      return { code: 0, msg: 'OK', requestId, data };
    case 'v2.0':
      return { status: 0, msg: 'Success', requestId, data };
    default:
      return assertNever(kind);
  }
}

export function failure(kind: EnvelopeKind, err: ApiError, requestId: string): Record<string, unknown> {
  switch (kind) {
    case 'v2.1':
      return { code: err.code, msg: err.msg, requestId, data: null };
    case 'v2.0':
      return { status: err.code, msg: err.msg, requestId, data: null };
    default:
      return assertNever(kind);
  }
}
