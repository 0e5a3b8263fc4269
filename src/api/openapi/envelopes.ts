// The response envelopes of each API version as schemas and example values, and the error catalogue
// in words. Example envelopes are built with src/api/envelope.ts and errors.ts themselves, so what the
// document shows is what the service sends.
import { Type, type TSchema } from '@sinclair/typebox';
import { failure, success } from '../envelope.js';
import { ERRORS, apiError, type ErrorKey } from '../errors.js';
import type { VersionSpec } from '../operation.js';

export const EXAMPLE_REQUEST_ID = '6cb7a013-52f4-4c3e-9a1d-0f2b8e4d7a91';

/** Distinct non-zero codes of the catalogue, ascending. */
export const ERROR_CODES: number[] = [...new Set(Object.values(ERRORS).map((e) => e.code))].sort((a, b) => a - b);

const codeKey = (v: VersionSpec) => (v.envelope === 'v2.0' ? 'status' : 'code');
const RequestId = Type.String({ format: 'uuid', description: 'unique id of this request (also in the service log)' });

export function successEnvelope(v: VersionSpec, data: TSchema): TSchema {
  return Type.Object(
    {
      [codeKey(v)]: Type.Literal(0, { description: '0: success' }),
      msg: Type.Literal(v.envelope === 'v2.0' ? 'Success' : 'OK'),
      requestId: RequestId,
      data,
    },
    { title: `Success envelope (${v.name})` },
  );
}

export function errorEnvelope(v: VersionSpec): TSchema {
  return Type.Object(
    {
      // An enum, not a union of literals: linters and generators see it exclude the success code 0.
      [codeKey(v)]: Type.Unsafe<number>({
        type: 'integer',
        enum: ERROR_CODES,
        description: `error code: ${ERROR_CODES.join(', ')} (see the catalogue in the document description)`,
      }),
      msg: Type.String({ description: 'what went wrong, naming the field or id at fault' }),
      requestId: RequestId,
      data: Type.Null(),
    },
    { title: `Error envelope (${v.name})` },
  );
}

export function successExample(v: VersionSpec, data: unknown): unknown {
  return success(v.envelope, data === undefined ? '' : data, EXAMPLE_REQUEST_ID);
}

export function errorExample(v: VersionSpec, key: ErrorKey, detail: string): unknown {
  return failure(v, apiError(key, detail), EXAMPLE_REQUEST_ID);
}

/** Markdown table of the whole catalogue (src/api/errors.ts). */
export function errorCatalogueTable(): string {
  const rows = Object.entries(ERRORS).map(([key, e]) => `| ${e.code} | ${e.http} | \`${key}\` | ${e.template.replace(/\|/g, '\\|')} |`);
  return ['| code | HTTP | key | message (`{detail}` names the field or id at fault) |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The catalogue entries answered with an HTTP status other than 200, by status. */
export function nonOkStatuses(): Map<number, ErrorKey[]> {
  const out = new Map<number, ErrorKey[]>();
  for (const [key, e] of Object.entries(ERRORS) as Array<[ErrorKey, (typeof ERRORS)[ErrorKey]]>) {
    if (e.http !== 200) out.set(e.http, [...(out.get(e.http) ?? []), key]);
  }
  return out;
}
