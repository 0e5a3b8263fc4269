// The one error catalogue: every error the API answers with, its EnOS code, HTTP status and message
// template, and the one function mapping thrown errors onto it. docs/errors.md lists every key (a test
// keeps the two in step). Messages keep the reference's texts at their start; `{detail}` adds specifics.
import type { FastifyError } from 'fastify';
import { DomainError, DuplicateKeyError, StaleError, type DomainErrorKind } from '../domain/errors.js';
import { assertNever } from '../domain/status.js';
import { REFERENCED_TEXT } from '../service/flowLifecycle.js';
import { AuthError, type AuthCode } from '../service/auth/errors.js';
import { RateLimitedError } from './rateLimit.js';
import { ONE_MINUTE_TEXT } from '../service/triggers.js';

const AUTH_KEYS: Record<AuthCode, ErrorKey> = {
  1001: 'authReplayed',
  1002: 'authUnknownApp',
  1003: 'authBadSignature',
  1004: 'authInvalid',
  1202: 'authMissing',
  1203: 'authExpired',
  1204: 'authRefreshFailed',
};

export interface CatalogueEntry {
  code: number;
  http: number;
  template: string;
}

export const ERRORS = {
  unknownUser: { code: 62101, http: 200, template: 'userId does not exist, or it does not match to orgId. ({detail})' },
  invalidParameter: { code: 62102, http: 200, template: '{detail}' },
  outOfRange: { code: 62102, http: 200, template: '{detail}' },
  notFound: { code: 62102, http: 200, template: '{detail}' },
  unknownAction: { code: 62102, http: 200, template: '{detail}' },
  malformedBody: { code: 62102, http: 200, template: 'Invalid request body: {detail}' },
  duplicateInstance: { code: 62102, http: 200, template: `${ONE_MINUTE_TEXT} ({detail})` },
  flowChanged: { code: 62102, http: 200, template: '{detail}' },
  staleWrite: { code: 62102, http: 200, template: 'The object changed while the request ran; retry: {detail}' },
  duplicateKey: { code: 62102, http: 200, template: 'Already exists: {detail}' },
  noPrivilege: { code: 62103, http: 200, template: 'User has no privilege. {detail}' },
  noTask: { code: 62104, http: 200, template: 'This workflow has no task. You cannot trigger it. ({detail})' },
  referenced: { code: 62104, http: 200, template: `${REFERENCED_TEXT} ({detail})` },
  userLocked: { code: 62105, http: 200, template: 'Your account has been locked ({detail})' },
  editLocked: { code: 62106, http: 200, template: '{detail}' },
  internal: { code: 62109, http: 200, template: 'Internal server exception' },
  noSuchPath: { code: 62102, http: 404, template: 'No such path: {detail}' },
  bodyTooLarge: { code: 62102, http: 413, template: 'Request body too large: {detail}' },
  malformedRequest: { code: 62102, http: 400, template: 'Malformed HTTP request: {detail}' },
  headersTooLarge: { code: 62102, http: 431, template: 'Request headers or URL too large: {detail}' },
  shuttingDown: { code: 62109, http: 503, template: 'The service is shutting down; retry later' },
  // Authentication (contract §9), by the gateway's codes (reference §3.3); HTTP 401.
  authReplayed: { code: 1001, http: 401, template: 'Repeated request: {detail}' },
  authUnknownApp: { code: 1002, http: 401, template: 'The appKey does not exist: {detail}' },
  authBadSignature: { code: 1003, http: 401, template: 'Invalid signature: {detail}' },
  authInvalid: { code: 1004, http: 401, template: 'Invalid parameter: {detail}' },
  authMissing: { code: 1202, http: 401, template: 'A parameter is empty: {detail}' },
  authExpired: { code: 1203, http: 401, template: 'The access token has expired: {detail}' },
  authRefreshFailed: { code: 1204, http: 401, template: 'Failed to refresh the access token: {detail}' },
  // Extension: the gateway's table has no code for it.
  rateLimited: { code: 1006, http: 429, template: 'Too many requests: {detail}' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorKey = keyof typeof ERRORS;

export interface ApiError {
  key: ErrorKey;
  code: number;
  http: number;
  msg: string;
}

export function apiError(key: ErrorKey, detail = ''): ApiError {
  const e: CatalogueEntry = ERRORS[key];
  // Without a detail, its slot goes with the brackets or separator around it.
  const msg = detail === '' ? e.template.replace(/\s*:?\s*\(?\{detail\}\)?/, '').trim() : e.template.replace('{detail}', detail);
  return { key, code: e.code, http: e.http, msg };
}

function keyOfKind(kind: DomainErrorKind): ErrorKey {
  switch (kind) {
    case 'invalid':
      return 'invalidParameter';
    case 'outOfRange':
      return 'outOfRange';
    case 'notFound':
      return 'notFound';
    case 'changed':
      return 'flowChanged';
    case 'duplicateInstance':
      return 'duplicateInstance';
    case 'unknownUser':
      return 'unknownUser';
    case 'noPrivilege':
      return 'noPrivilege';
    case 'noTask':
      return 'noTask';
    case 'referenced':
      return 'referenced';
    case 'userLocked':
      return 'userLocked';
    case 'editLocked':
      return 'editLocked';
    case 'internal':
      return 'internal';
    default:
      return assertNever(kind);
  }
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string };
}

/** A schema validation failure, as a message naming the field ("Missing parameter: flowId"). */
export function validationMessage(errors: AjvError[], context: string | undefined): string {
  // With allErrors off, ajv stops at the first fault; for a union the last entry is the union itself.
  const e = errors[errors.length - 1];
  const path = e.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  if (e.keyword === 'required') {
    const missing = String(e.params.missingProperty);
    return `Missing parameter: ${path ? `${path}.${missing}` : missing}`;
  }
  if (path === '') return `Invalid request ${context === 'body' ? 'body' : context ?? 'input'}: ${context === 'body' ? 'must be a JSON object' : e.message}`;
  const expected = e.parentSchema?.description ?? e.message ?? 'is invalid';
  return `Invalid parameter: ${path} ${expected.startsWith('must') ? expected : `must be ${expected}`}`;
}

/** Maps anything thrown while serving a request to a catalogue entry. `internal` means: log it. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof DomainError) return apiError(keyOfKind(err.kind), err.message);
  if (err instanceof AuthError) return apiError(AUTH_KEYS[err.code], err.message);
  if (err instanceof RateLimitedError) return apiError('rateLimited', err.message);
  if (err instanceof StaleError) return apiError('staleWrite', err.message);
  if (err instanceof DuplicateKeyError) return apiError('duplicateKey', err.message);
  const fe = err as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation) && fe.validation.length > 0) {
    return apiError('invalidParameter', validationMessage(fe.validation, fe.validationContext));
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('bodyTooLarge', fe.message ?? '');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return apiError('malformedBody', `malformed JSON (${fe.message})`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return apiError('malformedBody', 'send Content-Type: application/json');
    default:
  }
  if (err instanceof SyntaxError && (fe as { statusCode?: number }).statusCode === 400) {
    return apiError('malformedBody', `malformed JSON (${err.message})`);
  }
  const status = (fe as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 413) {
    return apiError('malformedBody', fe.message ?? 'bad request');
  }
  return apiError('internal');
}
