// The only place that builds a response envelope (contract §1): V2.1 `{code,msg,requestId,data}`,
// V2.0 `{status,msg:"Success",requestId,data}`. Errors carry `data: null` and the version's wording.
import { assertNever } from '../domain/status.js';
import type { ApiError } from './errors.js';
import type { VersionSpec } from './operation.js';

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

/** A message in a version's own words: the first matching `[from, to]` prefix is replaced. */
export function reword(msg: string, texts: VersionSpec['errorTexts']): string {
  const hit = texts?.find(([from]) => msg.startsWith(from));
  return hit ? hit[1] + msg.slice(hit[0].length) : msg;
}

export function failure(version: Pick<VersionSpec, 'envelope' | 'errorTexts'>, err: ApiError, requestId: string): Record<string, unknown> {
  const kind = version.envelope;
  const msg = reword(err.msg, version.errorTexts);
  switch (kind) {
    case 'v2.1':
      return { code: err.code, msg, requestId, data: null };
    case 'v2.0':
      return { status: err.code, msg, requestId, data: null };
    default:
      return assertNever(kind);
  }
}
