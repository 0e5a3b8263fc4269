// One OpenAPI Operation Object for one operation in one API version, keyed by its alias path
// `<prefix>/<resource>/<action>` (served by mount.ts next to the EnOS `?action=` form, which each
// operation names in `x-enos-action`): parameters (identity, the querystring schema's properties), request body (the TypeBox schema itself), the 200 response
// (success or error envelope, with examples) and the non-200 ones. Gaps in docs/examples/responses
// are reported to the caller, never thrown: a missing entry must not stop the service from starting.
import type { TSchema } from '@sinclair/typebox';
import { ERRORS } from '../errors.js';
import { aliasPath } from '../mount.js';
import type { AnyOperation, VersionSpec } from '../operation.js';
import { OPERATION_DOCS, type OperationError } from './docs.js';
import { errorExample, nonOkStatuses, successEnvelope, successExample } from './envelopes.js';
import { EXAMPLES, type OperationExample } from './examples.js';
import { RESPONSES } from './responses.js';

export type Json = Record<string, unknown>;

/** TypeBox schemas carry symbols and are shared: the document gets plain copies. */
export const plain = (s: unknown): Json => JSON.parse(JSON.stringify(s)) as Json;

/** The primary version's operations are named as the registry names them; older versions get a suffix. */
export const operationId = (op: AnyOperation, v: VersionSpec) => (v.name === PRIMARY_VERSION ? op.name : `${op.name}_${v.name.replace(/\W/g, '_')}`);
export const PRIMARY_VERSION = 'v2.1';
export const tagName = (v: VersionSpec, resource: string) => `${v.name} ${resource}`;
/** The documented path: the alias path mount.ts serves (`/flows/get`), a plain path without a query. */
export const pathKey = (op: AnyOperation, v: VersionSpec) => `${v.prefix}${aliasPath(op)}`;
/** The EnOS form of the same call, as the reference writes it. */
export const enosUrl = (op: AnyOperation, v: VersionSpec) => `${v.prefix}/${op.resource}?action=${op.action}`;
export const SECURITY_SCHEME_NAMES = ['apimAccessToken', 'apimTimestamp', 'apimSignature'] as const;
export const componentName = (v: VersionSpec, what: string) => `${v.name}.${what}`;
export const statusResponseName = (v: VersionSpec, status: number) => componentName(v, `http${status}`);

/** Canonical input name -> the spelling this version documents (V2.0: expression -> searchValue). */
function wireName(v: VersionSpec, canonical: string): string {
  const old = Object.entries(v.inputAliases ?? {}).find(([, to]) => to === canonical);
  return old ? old[0] : canonical;
}

function commonErrors(op: AnyOperation): OperationError[] {
  const out: OperationError[] = [];
  if (op.access !== 'public') out.push({ key: 'unknownUser', when: 'userId or orgId is missing, unknown, or the user is not in that organization', detail: 'userId u-nobody, orgId o-default' });
  if (op.access === 'write') out.push({ key: 'userLocked', when: 'the caller\'s account is locked (every write)', detail: 'user lou; contact an administrator' });
  if (op.schema.querystring || op.schema.body) out.push({ key: 'invalidParameter', when: 'an input is missing or of the wrong type (the message names it)', detail: 'Missing parameter: flowId' });
  if (op.method === 'POST') out.push({ key: 'malformedBody', when: 'the body is not JSON or not sent as application/json', detail: 'malformed JSON (Unexpected end of JSON input)' });
  out.push({ key: 'internal', when: 'an unexpected failure (never for bad input)', detail: '' });
  return out;
}

function errorList(errors: OperationError[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of errors) {
    if (seen.has(`${e.key}:${e.when}`)) continue;
    seen.add(`${e.key}:${e.when}`);
    lines.push(`- **${ERRORS[e.key].code}** \`${e.key}\`: ${e.when}`);
  }
  return lines.join('\n');
}

function parameters(op: AnyOperation, v: VersionSpec, ex: OperationExample | undefined, meaning: Record<string, string> = {}): Json[] {
  // No `action` parameter: the alias path names the operation (x-enos-action gives the EnOS form).
  const params: Json[] = [];
  if (op.access !== 'public') {
    params.push({ $ref: `#/components/parameters/userId` }, { $ref: `#/components/parameters/orgId` });
  }
  const qs = op.schema.querystring as (TSchema & { properties?: Record<string, TSchema>; required?: string[] }) | undefined;
  for (const [name, schema] of Object.entries(qs?.properties ?? {})) {
    const wire = wireName(v, name);
    const value = ex?.query?.[name];
    const text = [meaning[name], schema.description, wire !== name ? `\`${name}\` is accepted too` : undefined].filter(Boolean).join('; ');
    params.push({
      name: wire,
      in: 'query',
      required: (qs?.required ?? []).includes(name),
      ...(text ? { description: text } : {}),
      schema: plain(schema),
      ...(value === undefined ? {} : { example: value }),
    });
  }
  if (op.idempotent) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Optional (contract §12): the first request with a key runs once, even when copies arrive together; a repeat with the same key and body within 24 hours gets that answer again (header `idempotent-replayed: true`), with another body 62102 naming the key. Keys are per app (per user without authentication); 1 to 255 visible ASCII characters.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return params;
}

export interface BuiltOperation {
  operation: Json;
  gaps: string[];
}

export function buildOperation(op: AnyOperation, v: VersionSpec): BuiltOperation {
  const gaps: string[] = [];
  const doc = OPERATION_DOCS[op.name];
  const ex = EXAMPLES[op.name]?.(v);
  const data = RESPONSES[op.name]?.(v);
  if (!doc) gaps.push(`${op.name}: no summary/description in src/api/openapi/docs.ts`);
  if (!ex) gaps.push(`${op.name}: no example in src/api/openapi/examples.ts`);
  if (!data) gaps.push(`${op.name}: no response data schema in src/api/openapi/responses.ts`);
  if (ex && op.schema.body && ex.body === undefined) gaps.push(`${op.name}: its example in src/api/openapi/examples.ts has no request body`);

  const specific = doc?.errors ?? [];
  const errors = [...specific, ...commonErrors(op)];
  const shown = specific[0] ?? errors[0];
  const description = [
    doc?.description ?? 'Not documented yet.',
    `**Who may call it** (contract §2): ${doc?.who ?? (op.access === 'public' ? 'anyone' : 'members of the organization')}`,
    ...(v.inputAliases && Object.keys(v.inputAliases).length > 0
      ? [`**${v.name} spellings:** ${Object.entries(v.inputAliases).map(([o, c]) => `\`${o}\` for \`${c}\``).join(', ')} (both accepted).`]
      : []),
    `**Errors** (HTTP 200, \`${v.envelope === 'v2.0' ? 'status' : 'code'}\` != 0; see the catalogue in the description of this API):\n${errorList(errors)}`,
    doc ? `Reference: enos-api-reference.md §${doc.ref}.` : '',
  ]
    .filter((s) => s !== '')
    .join('\n\n');

  const successSchema = successEnvelope(v, data ?? ({} as TSchema));
  // From the catalogue: every status other than 200 it declares (413 only where a body is read).
  const non200: Json = {};
  for (const status of nonOkStatuses().keys()) {
    if (status === 413 && op.method !== 'POST') continue;
    non200[String(status)] = { $ref: `#/components/responses/${statusResponseName(v, status)}` };
  }
  const errorRef = { $ref: `#/components/schemas/${componentName(v, 'ErrorEnvelope')}` };
  const errorEx = { summary: `Error ${ERRORS[shown.key].code}: ${shown.when}`, value: errorExample(v, shown.key, shown.detail) };
  const ok: Json = op.stream
    ? {
        description: 'A stream of server-sent events (`text/event-stream`) once the request is accepted; a request refused before the first event gets the error envelope (`application/json`, HTTP 200) instead.',
        content: {
          'text/event-stream': { schema: plain(data ?? { type: 'string' }), ...(typeof ex?.data === 'string' ? { example: ex.data } : {}) },
          'application/json': { schema: errorRef, examples: { error: errorEx } },
        },
      }
    : {
        description: 'The envelope: success (`data` below) or a business error (non-zero code, `data` null).',
        content: {
          'application/json': {
            schema: { oneOf: [plain(successSchema), errorRef] },
            examples: {
              ...(ex ? { success: { summary: 'Success', value: successExample(v, ex.data) } } : {}),
              error: errorEx,
            },
          },
        },
      };
  const enos = enosUrl(op, v);
  const operation: Json = {
    operationId: operationId(op, v),
    summary: doc?.summary ?? op.name,
    description: `${description}\n\n**EnOS form** (primary, what the reference documents): \`${op.method} ${enos}\`, with the same other parameters and body.`,
    tags: [tagName(v, op.resource)],
    // Public operations (the /time ones) are not signed; every other one needs the three apim-* headers.
    security: op.access === 'public' ? [] : [Object.fromEntries(SECURITY_SCHEME_NAMES.map((n) => [n, []]))],
    parameters: parameters(op, v, ex, doc?.params),
    ...(op.schema.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: plain(op.schema.body), ...(ex?.body === undefined ? {} : { examples: { example: { summary: `${doc?.summary ?? op.name} request`, value: ex.body } } }) } },
          },
        }
      : {}),
    responses: { '200': ok, ...non200 },
    'x-enos-action': { method: op.method, path: `${v.prefix}/${op.resource}`, action: op.action, url: enos },
    'x-batchflow-route': { version: v.name, method: op.method, path: `${v.prefix}/${op.resource}`, action: op.action, alias: pathKey(op, v), operation: op.name },
  };
  return { operation, gaps };
}
