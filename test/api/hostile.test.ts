// Hostile input (issue 8 item 5): fast-check sends well over 10,000 generated malformed requests to every
// operation of both API versions, enumerated from the registry (OPERATIONS x API_VERSIONS, so a new
// operation is covered without a line here): valid-shaped requests with fields replaced by hostile values
// (wrong types, huge / negative / NaN numbers, 1e308, -0, 2^63, 1 MB strings, unicode with lone surrogates
// and NUL, SQL and shell metacharacters, path traversal, 10,000-deep nesting), malformed JSON, wrong content
// types, empty bodies, duplicate query keys, unknown actions, wrong methods and paths. Each request is made
// to be refused (see `rejected` below: a fault that no service may accept, or a caller who may not write);
// reads may succeed, as they write nothing. Every answer must be the envelope of its version, never 5xx,
// never 62109; the store (row counts and a checksum of every row of every table) must not change, checked
// after every request that saw a commit; and the server still answers at the end. Then the big ones and
// what Node's HTTP parser refuses itself go over a real socket. A summary is printed for the record.
// A failure prints fast-check's seed and path; HOSTILE_SEED=<seed> replays a run, HOSTILE_RUNS=<n> sizes it.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type { TObject, TSchema } from '@sinclair/typebox';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyOperation, VersionSpec } from '../../src/api/operation.js';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { API_VERSIONS, V2_1 } from '../../src/api/versions.js';
import { camelKeys } from '../../src/service/input.js';
import { ok, op } from '../helpers/api.js';
import { driver } from '../helpers/drive.js';
import { flowJson, importFlow, saveBodyOf, taskIds, trigger } from '../helpers/flows.js';
import { storeReader, type StoreReader, type StoreSum } from '../helpers/storeChecksum.js';
import { makeWorld, type World } from '../helpers/world.js';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const SEED = process.env.HOSTILE_SEED === undefined ? undefined : Number(process.env.HOSTILE_SEED);
const MAX_MS = 253_402_300_799_999;

let w: World;
let reader: StoreReader;
let baseline: StoreSum;
/** Every id of the store (flows, tasks, directories, instances, task instances, users): a "missing" id is none of these. */
const existing = new Set<string>();
const ctx = { root: '', flowId: 0, visitedFlowId: 0, a: 0, b: 0, inst: '', waitingInst: '', taskInstId: '', save: {} as Record<string, unknown> };

// ---------------------------------------------------------------------------------------------------------
// Hostile values. Big and deep ones are Specials: built once, printed by name in a counterexample.

class Special {
  private made: unknown;
  private madeText: string | undefined;
  constructor(
    readonly label: string,
    private readonly make: () => unknown,
    /** Its JSON text, for values too deep for JSON.stringify's recursion. */
    private readonly makeText?: () => string,
  ) {}
  get value(): unknown {
    if (this.made === undefined) this.made = this.makeText ? JSON.parse(this.text) : this.make();
    return this.made;
  }
  get text(): string {
    if (this.madeText === undefined) this.madeText = this.makeText ? this.makeText() : JSON.stringify(this.make());
    return this.madeText;
  }
  [fc.toStringMethod](): string {
    return this.label;
  }
}

const deepArrayText = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObjectText = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const MB = 1_000_000;
const SPECIALS = [
  new Special('1 MB of "a"', () => 'a'.repeat(MB)),
  new Special('1 MB of digits', () => '9'.repeat(MB)),
  new Special('1 MB of spaces then 1', () => `${' '.repeat(MB - 1)}1`),
  new Special('1 MB of "1 "', () => '1 '.repeat(MB / 2)),
  new Special('1 MB of NUL', () => '\u0000'.repeat(MB)),
  new Special('1 MB of "%00"', () => '%00'.repeat(MB / 3)),
  new Special('1 MB SQL', () => "'; drop table flows; --".repeat(MB / 23)),
  new Special('1 MB of "-"', () => '-'.repeat(MB)),
  new Special('250k unicorns (1 MB UTF-8)', () => '🦄'.repeat(MB / 4)),
  new Special('100k lone surrogates', () => '\uD800'.repeat(100_000)),
  new Special('10,000-deep array', () => undefined, () => deepArrayText(10_000)),
  new Special('10,000-deep object', () => undefined, () => deepObjectText(10_000)),
  new Special('10,000-deep array as JSON text', () => deepArrayText(10_000)),
  new Special('10,000-deep object as JSON text', () => deepObjectText(10_000)),
  new Special('100k-element array', () => new Array(100_000).fill(0)),
  new Special('20k-key object', () => Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
];

const NAMED: unknown[] = [
  1e308, -1e308, -0, 2 ** 63, -(2 ** 63), 2 ** 64, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -1, -2_147_483_649, 2_147_483_648, 0.5, 5e-324, 1e21,
  '1e308', 'NaN', 'Infinity', '-Infinity', '-0', '0x1F', '1_000', '1.0', '١٢٣', '９', '9223372036854775808', '-9223372036854775809', '18446744073709551616',
  '99999999999999999999999999', ' 7 ', '\t1\n', '', ' ', '\u0000', 'a\u0000b', '%00', '%', '%zz', '%ED%A0%80', '+', '&', '=', '#', '?',
  "'; drop table flows; --", "' OR '1'='1", '" OR ""="', '1; DELETE FROM users', "'); DELETE FROM flows WHERE ('1'='1", '%\'; --', '_%',
  '$(rm -rf /)', '`rm -rf /`', '; rm -rf / #', '| cat /etc/passwd', '&& shutdown -h now', '\n/bin/sh -c id\n',
  '../../../../etc/passwd', '..\\..\\..\\windows\\win.ini', '/etc/passwd\u0000.png', '....//....//etc/passwd', '%2e%2e%2f%2e%2e%2f',
  '\uD800', '\uDFFF', 'a\uD800b', '\uDC00\uD800', '\uFEFF', '\u202Eevil', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', '🦄🦄', '\u2028\u2029', '\r\n\r\nHTTP/1.1 200 OK',
  '<script>alert(1)</script>', '${jndi:ldap://127.0.0.1/a}', '{{7*7}}', '%s%s%n', 'null', 'undefined', 'true', '{}', '[]',
  '{"__proto__":{"polluted":1}}', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  true, false, null, {}, [], [null], [[]], { '': '' }, JSON.parse('{"__proto__":{"polluted":true}}'), { constructor: { prototype: { polluted: true } } },
  { toString: 1, valueOf: 2 }, [1, 'a', null, {}], { pageNo: 1e308, pageSize: -1, sorters: [{ field: "'; drop table flows; --", order: 'ASC' }] },
];

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd700, max: 0xe000 }).map((c) => String.fromCharCode(c)), maxLength: 8 });
const hostileString = fc.oneof(
  fc.constantFrom(...NAMED.filter((v): v is string => typeof v === 'string')),
  fc.string({ unit: 'binary', maxLength: 24 }),
  loneSurrogates,
  fc.string({ unit: fc.constantFrom("'", '"', ';', '-', '`', '$', '(', ')', '|', '&', '\\', '/', '.', '%', '\u0000', '\n', ' ', '*', '{', '}'), maxLength: 16 }),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
);
// Specials are rare (about 1 value in 60, so 3 requests in 100): each costs tens of milliseconds.
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMED), weight: 24 },
  { arbitrary: hostileString, weight: 16 },
  { arbitrary: fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constantFrom(-0, 2 ** 63)), weight: 12 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 8 },
  { arbitrary: fc.constantFrom(...SPECIALS), weight: 1 },
);

/** What a value is on the wire of a query string. */
function queryText(v: unknown): string {
  const x = v instanceof Special ? v.value : v;
  if (typeof x === 'string') return x;
  if (typeof x === 'number') return String(x);
  return v instanceof Special ? v.text : (JSON.stringify(x) ?? String(x));
}

/**
 * JSON text of a request value with Specials in it: each is put in as its own text (JSON.stringify would
 * overflow its stack on 10,000 levels), through a marker no generated string contains.
 */
function toJson(v: unknown): string {
  const specials: Special[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => (x instanceof Special ? `\u0001special:${specials.push(x) - 1}\u0001` : x)) ?? 'null';
  if (specials.length === 0) return text;
  return text.replace(/"\\u0001special:(\d+)\\u0001"/g, (_m, i: string) => specials[Number(i)].text);
}

/** What a body value is once sent as JSON and parsed again (NaN -> null, Specials made, -0 -> 0). */
function jsonRoundTrip(v: unknown): unknown {
  return JSON.parse(toJson(v));
}

/** Percent-encoding that also carries lone surrogates (as the bytes of their code unit, which no decoder accepts). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    let out = '';
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) out += `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
      else out += encodeURIComponent(ch);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The operations and what a refused request to each looks like.

interface Target {
  version: VersionSpec;
  op: AnyOperation;
  /** The operation sent to a version that lacks it (an unknown action there). */
  foreign: boolean;
}

const targetName = (t: Target) => `${t.version.name} ${t.op.name}${t.foreign ? ' (foreign)' : ''}`;

const TARGETS: Target[] = API_VERSIONS.flatMap((version) =>
  OPERATIONS.map((op) => {
    const t: Target = { version, op, foreign: !!op.versions && !op.versions.includes(version.name) };
    return Object.assign(t, { [fc.toStringMethod]: () => targetName(t) });
  }),
);

interface Plan {
  /** A valid request of admin's on the world's objects: `fields` go in the query (no body schema) or the body. */
  base(): Record<string, unknown>;
  /** Fields naming an existing object: naming none (a missing id) is refused. */
  refs?: string[];
  /** object: acts on an existing flow or instance (a caller who is not its owner may not write); org: creates in the org of its refs. */
  scope?: 'object' | 'org';
}

const PLANS: Record<string, Plan> = {
  getFlow: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  loadFlowForEdit: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  exportFlow: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  deleteFlow: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  getMyFlow: { base: () => ({ expression: '' }) },
  searchFlow: { base: () => ({ expression: '', pagination: { pageNo: 1, pageSize: 10, sorters: [{ field: 'update_time', order: 'DESC' }] } }) },
  importFlow: { base: () => ({ flowName: 'hostile', desc: '', dirId: ctx.root, flowJson: flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }) }), refs: ['dirId'], scope: 'org' },
  saveFlow: { base: () => structuredClone(ctx.save), refs: ['id'], scope: 'object' },
  enableFlow: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  disableFlow: { base: () => ({ flowId: ctx.flowId }), refs: ['flowId'], scope: 'object' },
  triggerFlow: { base: () => ({ flowId: ctx.flowId, triggerTime: w.clock.now() }), refs: ['flowId'], scope: 'object' },
  updateAndTriggerFlow: { base: () => ({ flowId: ctx.flowId, triggerTime: w.clock.now(), parameters: [{ key: 'p', value: '1' }] }), refs: ['flowId'], scope: 'object' },
  triggerFlowFromTask: { base: () => ({ flowId: ctx.flowId, taskId: ctx.b, triggerTime: w.clock.now() }), refs: ['flowId', 'taskId'], scope: 'object' },
  getFlowInstance: { base: () => ({ flowInstId: ctx.inst }), refs: ['flowInstId'], scope: 'object' },
  searchFlowInstances: { base: () => ({ type: 0, owner: '', status: '1,2', fromTriggerTime: 0, toTriggerTime: MAX_MS, pagination: { pageNo: 1, pageSize: 10 } }) },
  cancelFlowInstance: { base: () => ({ flowInstId: ctx.waitingInst }), refs: ['flowInstId'], scope: 'object' },
  rerunFlowInstance: { base: () => ({ flowInstId: ctx.inst, mode: 'all' }), refs: ['flowInstId'], scope: 'object' },
  backfillFlow: { base: () => ({ flowId: ctx.flowId, fromTime: w.clock.now() - 3_600_000, toTime: w.clock.now(), cron: '0 0 * * * ? *' }), refs: ['flowId'], scope: 'object' },
  getTaskInstance: { base: () => ({ taskInstId: ctx.taskInstId }), refs: ['taskInstId'], scope: 'object' },
  getTaskInstanceLog: { base: () => ({ taskInstId: ctx.taskInstId, maxLength: '100' }), refs: ['taskInstId'], scope: 'object' },
  createDirectory: { base: () => ({ parentId: ctx.root, dirName: 'hostile-dir' }), refs: ['parentId'], scope: 'org' },
};

/** A new operation without a plan: its schema's default value, no refs (only faults no service accepts guard it). */
function planOf(op: AnyOperation): Plan {
  const schema = op.schema.body ?? op.schema.querystring;
  return PLANS[op.name] ?? { base: () => (schema ? (Value.Create(schema) as Record<string, unknown>) : {}) };
}

const inBody = (op: AnyOperation) => op.method === 'POST' || op.schema.body !== undefined;
const fieldSchema = (op: AnyOperation): TObject | undefined => (op.schema.body ?? op.schema.querystring) as TObject | undefined;
const fieldsOf = (op: AnyOperation) => Object.keys(fieldSchema(op)?.properties ?? {});
const requiredOf = (op: AnyOperation) => (fieldSchema(op)?.required ?? []) as string[];
/**
 * Fields whose schema some value fails, as the field travels: any JSON value in a body, a string in a query
 * (a query's `expression` takes any string; a body's flowName is Unknown: every value passes).
 */
const checkable = (op: AnyOperation) =>
  fieldsOf(op).filter((f) => {
    const s = fieldSchema(op)!.properties[f];
    const probes = inBody(op) ? [{}, [], 1, 'x', null, true, 1.5] : ['x', '', '-1', ' ', '1.5'];
    return probes.some((v) => !Value.Check(s, v));
  });

/** The key a request key ends up as after the version's input normalization (snake_case, aliases). */
function canonicalKey(k: string, v: VersionSpec): string {
  const camel = Object.keys(camelKeys({ [k]: 1 }))[0];
  return v.inputAliases?.[camel] ?? camel;
}

function actionsOf(v: VersionSpec, method: string, resource: string): Set<string> {
  return new Set(OPERATIONS.filter((o) => (!o.versions || o.versions.includes(v.name)) && o.method === method && o.resource === resource).map((o) => o.action));
}

// Callers. Which of them may not write, whatever the request says:
type Ident = 'admin' | 'bob' | 'vic' | 'eve' | 'lou' | 'unknown' | 'mismatch' | 'noUser' | 'noOrg' | 'dupUser' | 'dupOrg' | 'hostileUser';
const NEVER_WRITES: Ident[] = ['lou', 'unknown', 'mismatch', 'noUser', 'noOrg', 'dupUser', 'dupOrg', 'hostileUser'];
const NOT_OWNERS: Ident[] = ['bob', 'vic', 'eve'];

type Fault =
  | { kind: 'badValue'; field: string; value: unknown }
  | { kind: 'missing'; field: string }
  | { kind: 'missingRef'; field: string; value: unknown }
  | { kind: 'unknownAction'; action: string | null }
  | { kind: 'dupKey'; key: string; value: string; first: boolean }
  | { kind: 'method'; method: string }
  | { kind: 'path'; path: string }
  | { kind: 'bodyNotObject'; value: unknown }
  | { kind: 'malformed'; text: string }
  | { kind: 'truncated'; at: number }
  | { kind: 'garbageAfter'; suffix: string }
  | { kind: 'contentType'; type: string | null }
  | { kind: 'emptyBody'; contentType: boolean }
  | { kind: 'deepBody'; shape: 'array' | 'unclosed' | 'object' };

interface Gen {
  target: Target;
  ident: Ident;
  hostileUser: string;
  /** Hostile values at a field or a path inside one (e.g. "pagination.pageSize"). */
  overrides: Array<[string, unknown]>;
  /** Unknown query keys. */
  extras: Array<[string, string]>;
  faults: Fault[];
  contentType: string;
  /** Noise that no check relies on: an invalid UTF-8 byte in the body, odd headers. */
  badUtf8: boolean;
  headers: Record<string, string>;
}

const MALFORMED = ['{', '}', '{"flowId": ', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '[1,2', '{"a":1}{"b":2}', '{"a":01}', '"unterminated', '{"a":"\\x"}',
  '{"a":"\u0001"}', '\u0000', '{"a":1}\u0000', '//c\n{}', '{"a":Infinity}', '{"a":-}', '{"a" 1}', '{,}', '{"a":1', '\uFEFF{', '{"a":"\uD800', 'nul', 'tru', '{"__proto__":'];

/** The faults a request to `t` can carry: those of one field (badValue, missing, missingRef) and the rest. */
function faultArbs(t: Target, plan: Plan, base: Record<string, unknown>): { field: Array<fc.Arbitrary<Fault>>; other: Array<fc.Arbitrary<Fault>> } {
  const { op, version } = t;
  const body = inBody(op);
  const field: Array<fc.Arbitrary<Fault>> = [];
  const arbs: Array<fc.Arbitrary<Fault>> = [];
  const checkFields = checkable(op);
  const props = fieldSchema(op)?.properties ?? {};
  if (checkFields.length > 0) {
    field.push(
      fc.constantFrom(...checkFields).chain((field) =>
        hostile
          .filter((v) => (body ? !Value.Check(props[field] as TSchema, jsonRoundTrip(v)) : !Value.Check(props[field] as TSchema, queryText(v))))
          .map((value): Fault => ({ kind: 'badValue', field, value })),
      ),
    );
  }
  if (requiredOf(op).length > 0) field.push(fc.constantFrom(...requiredOf(op)).map((f): Fault => ({ kind: 'missing', field: f })));
  const refs = (plan.refs ?? []).filter((r) => r in base);
  if (refs.length > 0) {
    const absent = fc.oneof(fc.constantFrom(2_147_483_647, 999_999_999, 123_456, '987654321', ' 4242 ', 'f'.repeat(32), '999999-1', '1-999999'), hostile);
    field.push(
      fc.constantFrom(...refs).chain((f) =>
        absent.filter((v) => !existing.has(queryText(v).trim())).map((value): Fault => ({ kind: 'missingRef', field: f, value })),
      ),
    );
  }
  // Unknown under either method: a method fault drawn with it could otherwise turn it into another real
  // operation (POST enableFlow -> GET getMyFlow), a valid request (found by seed -876069608).
  const known = new Set([...actionsOf(version, 'GET', op.resource), ...actionsOf(version, 'POST', op.resource)]);
  arbs.push(
    fc.oneof(hostileString, fc.constantFrom(null, '', 'GET', 'get ', 'Get', ' get', 'trigger\u0000', ...OPERATIONS.map((o) => o.action)))
      .filter((a) => a === null || !known.has(a))
      .map((action): Fault => ({ kind: 'unknownAction', action })),
  );
  const dupKeys = [...(op.access === 'public' ? [] : ['userId', 'orgId']), ...(body ? [] : fieldsOf(op)), 'action'];
  arbs.push(
    fc.record({ key: fc.constantFrom(...dupKeys), value: fc.oneof(hostileString, fc.constantFrom(...OPERATIONS.map((o) => o.action), 'u-admin', 'o-default')), first: fc.boolean() })
      .map((r): Fault => ({ kind: 'dupKey', ...r })),
  );
  const other = op.method === 'GET' ? 'POST' : 'GET';
  const methods = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', ...(actionsOf(version, other, op.resource).has(op.action) ? [] : [other])];
  arbs.push(fc.constantFrom(...methods).map((method): Fault => ({ kind: 'method', method })));
  const r = op.resource;
  arbs.push(
    fc.constantFrom(`/${r}/`, `/${r.toUpperCase()}`, `/${r}%00`, `/${r}.json`, `//${r}`, `/${r}/x`, `/%zz${r}`, `/${r}%2F`, `/${r}/%zz`, `/${r}%`, `/x/../${r}x`, `/${r};x`,
      `/${r}/../../../../etc/passwd`, '', '/', `/v2.1/${r}`)
      .map((path): Fault => ({ kind: 'path', path })),
  );
  if (body) {
    arbs.push(hostile.filter((v) => { const x = jsonRoundTrip(v); return typeof x !== 'object' || x === null || Array.isArray(x); }).map((value): Fault => ({ kind: 'bodyNotObject', value })));
    arbs.push(fc.constantFrom(...MALFORMED).map((text): Fault => ({ kind: 'malformed', text })));
    arbs.push(fc.nat().map((at): Fault => ({ kind: 'truncated', at })));
    arbs.push(fc.constantFrom('x', '}', ',', ']', '\u0000', ' {', '{}', 'null').map((suffix): Fault => ({ kind: 'garbageAfter', suffix })));
    arbs.push(fc.constantFrom(null, 'text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream',
      'application/jsonx', 'application/json-patch+json', 'json', '*/*', 'application/*', "application/'; drop table flows; --").map((type): Fault => ({ kind: 'contentType', type })));
    arbs.push(fc.boolean().map((contentType): Fault => ({ kind: 'emptyBody', contentType })));
    arbs.push(fc.constantFrom<'array' | 'unclosed' | 'object'>('array', 'unclosed', ...(requiredOf(op).length > 0 ? (['object'] as const) : [])).map((shape): Fault => ({ kind: 'deepBody', shape })));
  }
  return { field, other: arbs };
}

/** Paths into a base value (objects and arrays), up to depth 3: where overrides go. */
function pathsOf(v: unknown, prefix = '', depth = 0): string[] {
  if (depth > 3 || typeof v !== 'object' || v === null) return [];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push(p, ...pathsOf(x, p, depth + 1));
  }
  return out;
}

/**
 * Requests: a third "focused" (admin, one fault of one field, nothing else: the 62102 must name that field),
 * the rest wild (any caller, up to three hostile values anywhere, up to two faults of any kind, noise).
 */
function genArb(): fc.Arbitrary<Gen> {
  return fc.constantFrom(...TARGETS).chain((target) => {
    const plan = planOf(target.op);
    const base = plan.base();
    const faults = faultArbs(target, plan, base);
    const all = [...faults.field, ...faults.other];
    const paths = [...new Set([...fieldsOf(target.op), ...pathsOf(base)])];
    const extraKeys = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'flow_id', 'dir_id', 'x-y', '', ' ', 'a[b]', 'a.b', '%00', 'SELECT', '$where'];
    const identArb: fc.Arbitrary<Ident> =
      target.op.access === 'write'
        ? fc.oneof(fc.constant<Ident>('admin'), fc.constantFrom<Ident>(...NEVER_WRITES, ...NOT_OWNERS))
        : fc.constantFrom<Ident>('admin', 'bob', 'vic', 'eve', ...NEVER_WRITES);
    const wild = fc.record({
      ident: identArb,
      hostileUser: hostileString.filter((u) => !['u-admin', 'u-bob', 'u-vic', 'u-eve', 'u-lou'].includes(u.trim())),
      overrides: fc.array(fc.tuple(fc.constantFrom(...(paths.length > 0 ? paths : ['x'])), hostile), { maxLength: 3 }),
      extras: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...extraKeys), hostileString), hostileString.map(queryText)), { maxLength: 2 }),
      faults: fc.array(fc.oneof(...all), { maxLength: 2 }),
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON'),
      badUtf8: fc.nat(9).map((n) => n === 0),
      headers: fc.constantFrom<Record<string, string>>({}, {}, { accept: '*/*' }, { 'content-encoding': 'gzip' }, { 'x-forwarded-for': "'; drop table flows; --" },
        { 'accept-language': '\u00ff' }, { 'x-request-id': '../../etc/passwd' }, { cookie: 'a=$(rm -rf /)' }),
    });
    const focused =
      faults.field.length > 0 && !target.foreign
        ? fc.oneof(...faults.field).map((f) => ({ ident: 'admin' as Ident, hostileUser: '', faults: [f], overrides: [], extras: [], contentType: 'application/json', badUtf8: false, headers: {} }))
        : undefined;
    const gen = focused ? fc.oneof({ arbitrary: focused, weight: 1 }, { arbitrary: wild, weight: 2 }) : wild;
    return gen.map((r): Gen => ({ target, ...r }));
  }).filter(rejected);
}

/** A request the generator may send: refused for sure when it goes to anything that writes. */
function rejected(g: Gen): boolean {
  const { op, foreign } = g.target;
  if (foreign || op.access !== 'write') return true;
  return mustFail(g);
}

/** A request that must answer an error (code != 0). */
function mustFail(g: Gen): boolean {
  const { op, foreign } = g.target;
  if (foreign || g.faults.length > 0) return true; // every fault alone makes a service refuse the request
  if (op.access === 'public') return false;
  if (NEVER_WRITES.includes(g.ident) && (g.ident !== 'lou' || op.access === 'write')) return true;
  if (op.access !== 'write') return false;
  const scope = planOf(op).scope;
  return (NOT_OWNERS.includes(g.ident) && scope === 'object') || (g.ident === 'eve' && scope === 'org');
}

const USERS: Record<Ident, Array<[string, string]>> = {
  admin: [['userId', 'u-admin'], ['orgId', 'o-default']],
  bob: [['userId', 'u-bob'], ['orgId', 'o-default']],
  vic: [['userId', 'u-vic'], ['orgId', 'o-default']],
  eve: [['userId', 'u-eve'], ['orgId', 'o-other']],
  lou: [['userId', 'u-lou'], ['orgId', 'o-default']],
  unknown: [['userId', 'u-nobody'], ['orgId', 'o-default']],
  mismatch: [['userId', 'u-admin'], ['orgId', 'o-other']],
  noUser: [['orgId', 'o-default']],
  noOrg: [['userId', 'u-admin']],
  dupUser: [['userId', 'u-admin'], ['userId', 'u-bob'], ['orgId', 'o-default']],
  dupOrg: [['userId', 'u-admin'], ['orgId', 'o-default'], ['orgId', 'o-default']],
  hostileUser: [['orgId', 'o-default']],
};

function defineOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Sets a hostile value at "a.b.c" of the request's fields (own properties: "__proto__" is a key like any other). */
function setPath(root: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let o: Record<string, unknown> = root;
  for (const k of keys.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
    if (typeof next !== 'object' || next === null) return; // an earlier override replaced the container
    o = next as Record<string, unknown>;
  }
  defineOwn(o, keys[keys.length - 1], v);
}

function dropCanonical(fields: Record<string, unknown>, field: string, v: VersionSpec): void {
  for (const k of Object.keys(fields)) if (canonicalKey(k, v) === field) delete fields[k];
}

interface Built {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  version: VersionSpec;
  /** The body key whose string value got the bad UTF-8 bytes (g.badUtf8), if any. */
  badUtf8Key?: string;
}

function build(g: Gen): Built {
  const { op, version } = g.target;
  const fields = planOf(op).base();
  for (const [path, v] of g.overrides) setPath(fields, path, v);
  let method: string = op.method;
  let path = `/${op.resource}`;
  let action: string | null = op.action;
  let contentType: string | null = g.contentType;
  let raw: string | undefined;
  let empty = false;
  const dups: Array<Extract<Fault, { kind: 'dupKey' }>> = [];
  for (const f of g.faults) {
    switch (f.kind) {
      case 'badValue':
      case 'missingRef':
        dropCanonical(fields, f.field, version);
        defineOwn(fields, f.field, f.value);
        break;
      case 'missing':
        dropCanonical(fields, f.field, version);
        break;
      case 'unknownAction':
        action = f.action;
        break;
      case 'dupKey':
        dups.push(f);
        break;
      case 'method':
        method = f.method;
        break;
      case 'path':
        path = f.path;
        break;
      case 'bodyNotObject':
        raw = toJson(f.value);
        break;
      case 'malformed':
        raw = f.text;
        break;
      case 'truncated': {
        const text = toJson(fields);
        raw = text.slice(0, f.at % text.length);
        break;
      }
      case 'garbageAfter':
        raw = toJson(fields) + f.suffix;
        break;
      case 'contentType':
        contentType = f.type;
        break;
      case 'emptyBody':
        empty = true;
        if (!f.contentType) contentType = null;
        break;
      case 'deepBody':
        raw = f.shape === 'array' ? deepArrayText(10_000) : f.shape === 'object' ? deepObjectText(10_000) : '['.repeat(10_000);
        break;
    }
  }
  const body = inBody(op);
  const reserved = new Set(['action', 'userId', 'orgId', ...fieldsOf(op)]);
  const pairs: Array<[string, string]> = [];
  if (action !== null) pairs.push(['action', action]);
  pairs.push(...USERS[g.ident]);
  if (g.ident === 'hostileUser') pairs.push(['userId', g.hostileUser]);
  if (!body) for (const [k, v] of Object.entries(fields)) if (v !== undefined) pairs.push([k, queryText(v)]);
  for (const [k, v] of g.extras) if (!reserved.has(canonicalKey(k, version))) pairs.push([k, v]);
  for (const d of dups) {
    const twice: Array<[string, string]> = pairs.some(([k]) => k === d.key) ? [[d.key, d.value]] : [[d.key, d.value], [d.key, `${d.value}x`]];
    if (d.first) pairs.unshift(...twice);
    else pairs.push(...twice);
  }
  const url = `${version.prefix}${path}?${pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
  const headers: Record<string, string> = { ...g.headers };
  let payload: string | Buffer | undefined;
  let badUtf8Key: string | undefined;
  if (body && !empty) {
    payload = raw ?? toJson(fields);
    if (g.badUtf8) {
      const at = payload.indexOf(':"');
      if (at >= 0) {
        badUtf8Key = /"([^"]*)"$/.exec(payload.slice(0, at))?.[1];
        payload = Buffer.concat([Buffer.from(payload.slice(0, at + 2)), Buffer.from([0xff, 0xfe]), Buffer.from(payload.slice(at + 2))]);
      }
    }
  }
  if (contentType !== null && (payload !== undefined || empty)) headers['content-type'] = contentType;
  return { method, url, headers, payload, version, badUtf8Key };
}

/** The version whose envelope answers a URL: by its path as the server sees it (inject resolves "..", a socket does not). */
const versionOfUrl = (url: string, resolveDots = true) => {
  const path = resolveDots ? new URL(url, 'http://localhost').pathname : url;
  return API_VERSIONS.find((v) => path.startsWith(v.prefix)) ?? V2_1;
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What is wrong with an answer (nothing: []): the envelope of the URL's version, no 5xx, no 62109. */
function envelopeProblems(url: string, status: number, contentType: string | undefined, text: string): { code?: number; problems: string[] } {
  const problems: string[] = [];
  if (status >= 500) problems.push(`HTTP ${status}`);
  if (!/^application\/json/.test(contentType ?? '')) problems.push(`content-type ${contentType}`);
  let env: Record<string, unknown>;
  try {
    env = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { problems: [...problems, `not JSON: ${text.slice(0, 200)}`] };
  }
  const v = versionOfUrl(url);
  const codeKey = v.envelope === 'v2.1' ? 'code' : 'status';
  const keys = Object.keys(env ?? {}).sort().join(',');
  const want = [codeKey, 'data', 'msg', 'requestId'].sort().join(',');
  if (keys !== want) problems.push(`envelope keys ${keys}, want ${want} (${v.name}): ${text.slice(0, 200)}`);
  const code = env[codeKey] as number;
  if (typeof code !== 'number') problems.push(`${codeKey} not a number`);
  if (code === 62109) problems.push(`62109: ${String(env.msg)}`);
  if (typeof env.requestId !== 'string' || !UUID.test(env.requestId)) problems.push(`requestId ${String(env.requestId)}`);
  if (code !== 0 && (env.data !== null || typeof env.msg !== 'string' || env.msg === '')) problems.push(`error without data:null and a message: ${text.slice(0, 200)}`);
  return { code, problems };
}

// ---------------------------------------------------------------------------------------------------------
// The record the lead's closing note quotes.

const tally = {
  requests: 0,
  injected: 0,
  overSocket: 0,
  byAnswer: new Map<string, number>(),
  fiveXx: 0,
  internal: 0,
  envelopeless: 0,
  unanswered: 0,
  succeededReads: 0,
  succeededWrites: 0,
  byTarget: new Map<string, number>(),
  byFault: new Map<string, number>(),
  /** Single-fault requests of a valid caller whose 62102 names the field (contract §1). */
  naming: { checked: 0, named: 0, misses: [] as string[] },
  commitsSeen: 0,
  slowest: [] as Array<[number, string]>,
  storeBefore: undefined as StoreSum | undefined,
  storeAfter: undefined as StoreSum | undefined,
  seed: 0,
};
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

function describeGen(g: Gen): string {
  return `${targetName(g.target)} as ${g.ident}; faults ${g.faults.map((f) => f.kind + ('field' in f ? `:${f.field}` : '')).join(',') || 'none'}; overrides ${g.overrides.map(([p]) => p).join(',') || 'none'}`;
}

async function storeUnchanged(what: string): Promise<void> {
  if (!(await reader.changed())) return;
  tally.commitsSeen += 1;
  const now = await reader.sum();
  if (now.sha256 !== baseline.sha256) {
    const diff = Object.entries(now.counts).filter(([t, n]) => baseline.counts[t] !== n).map(([t, n]) => `${t} ${baseline.counts[t]} -> ${n}`);
    throw new Error(`the store changed after ${what}: ${diff.join(', ') || 'same row counts, other content'}`);
  }
}

beforeAll(async () => {
  w = await makeWorld();
  ctx.root = await w.rootDir();
  ok(await op(w, 'admin', 'POST', 'directories', 'create', { body: { parentId: ctx.root, dirName: 'sub' } }));
  ctx.flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']], parameters: [{ key: 'p', value: '0' }] }));
  ctx.visitedFlowId = await importFlow(w, flowJson({ visitors: 'vic' }));
  await importFlow(w, flowJson({ type: 1, cron: '0 0 1 * * ? *' }));
  ({ a: ctx.a, b: ctx.b } = await taskIds(w, ctx.flowId));
  ctx.save = await saveBodyOf(w, ctx.flowId);
  ctx.inst = await trigger(w, ctx.flowId, w.clock.now() - 60_000);
  ctx.taskInstId = `${ctx.a}-${ctx.inst.split('-')[1]}`;
  const drive = driver(w.store);
  await drive.startInstance(ctx.flowId, w.clock.now());
  await drive.startTask(ctx.taskInstId, w.clock.now(), '== hostile ==\n');
  ctx.waitingInst = await trigger(w, ctx.visitedFlowId, w.clock.now() + 3_600_000);
  reader = storeReader(w.config.dataDir);
  for (const id of await reader.ids(['flows', 'tasks', 'directories', 'flow_instances', 'task_instances', 'users', 'orgs'])) existing.add(id);
  baseline = await reader.sum();
  tally.storeBefore = baseline;
  await reader.changed();
});

afterAll(async () => {
  const answers = Object.fromEntries([...tally.byAnswer].sort(([a], [b]) => a.localeCompare(b)));
  const diff = tally.storeBefore && tally.storeAfter ? (tally.storeBefore.sha256 === tally.storeAfter.sha256 ? 'none (same row counts and checksum)' : 'CHANGED') : 'not measured';
  const perTarget = [...tally.byTarget.values()];
  console.log(
    [
      `hostile input: ${tally.requests} requests (${tally.injected} through inject, ${tally.overSocket} over a socket), fast-check seed ${tally.seed}`,
      `  answers by "http code": ${JSON.stringify(answers)}`,
      `  5xx: ${tally.fiveXx}; 62109: ${tally.internal}; without the envelope: ${tally.envelopeless}; unanswered (socket closed): ${tally.unanswered}`,
      `  succeeded (code 0, reads only may): ${tally.succeededReads} reads, ${tally.succeededWrites} writes`,
      `  single-field faults of a valid caller answered 62102 naming the field: ${tally.naming.named}/${tally.naming.checked}${tally.naming.misses.length ? `; misses e.g. ${tally.naming.misses.slice(0, 5).join(' | ')}` : ''}`,
      `  faults sent: ${JSON.stringify(Object.fromEntries([...tally.byFault].sort(([a], [b]) => a.localeCompare(b))))}`,
      `  requests per (operation, version): ${perTarget.length} pairs, min ${Math.min(...perTarget)}, max ${Math.max(...perTarget)}`,
      `  commits seen while they ran: ${tally.commitsSeen}; store diff: ${diff}`,
      `  store rows: ${JSON.stringify(tally.storeAfter?.counts ?? tally.storeBefore?.counts)}, sha256 ${tally.storeAfter?.sha256.slice(0, 16) ?? '-'}...`,
      `  slowest: ${tally.slowest.map(([ms, d]) => `${ms} ms ${d}`).join(' | ')}`,
    ].join('\n'),
  );
  await reader?.close();
  await w?.close();
});

function record(key: string, status: number, code: number | undefined, problems: string[], ms: number): void {
  tally.requests += 1;
  bump(tally.byAnswer, `${status} ${code ?? '-'}`);
  if (status >= 500) tally.fiveXx += 1;
  if (code === 62109) tally.internal += 1;
  if (problems.some((p) => /^(envelope|not JSON|content-type)/.test(p))) tally.envelopeless += 1;
  if (tally.slowest.length < 5 || ms > tally.slowest[tally.slowest.length - 1][0]) {
    tally.slowest = [...tally.slowest, [ms, key] as [number, string]].sort((x, y) => y[0] - x[0]).slice(0, 5);
  }
}

describe('hostile input', () => {
  it(`${RUNS} generated malformed requests to every operation of both versions: the envelope, no 5xx, no 62109, the store unchanged`, async () => {
    tally.seed = SEED ?? (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
    await fc.assert(
      fc.asyncProperty(genArb(), async (g) => {
        const b = build(g);
        const t0 = performance.now();
        const res = await w.app.inject({ method: b.method as 'GET', url: b.url, headers: b.headers, ...(b.payload === undefined ? {} : { payload: b.payload }) });
        const ms = Math.round(performance.now() - t0);
        tally.injected += 1;
        bump(tally.byTarget, targetName(g.target));
        for (const f of g.faults) bump(tally.byFault, f.kind);
        const { code, problems } = envelopeProblems(b.url, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
        record(describeGen(g), res.statusCode, code, problems, ms);
        if (code === 0) {
          if (g.target.op.access === 'write') tally.succeededWrites += 1;
          else tally.succeededReads += 1;
          if (mustFail(g)) problems.push('answered code 0 to a request that must fail');
        }
        // Bad UTF-8 lands in the body's first string: in another field than the fault's, it is a second fault.
        const otherFieldCorrupted = b.badUtf8Key !== undefined && !(g.faults[0] && 'field' in g.faults[0] && g.faults[0].field === b.badUtf8Key);
        const single = g.faults.length === 1 && g.overrides.length === 0 && g.extras.length === 0 && g.ident === 'admin' && !g.target.foreign && !otherFieldCorrupted ? g.faults[0] : undefined;
        // A "__proto__" or "constructor.prototype" key makes fastify refuse the whole body (prototype poisoning).
        const poisoning = typeof b.payload === 'string' && /"(__proto__|prototype)":/.test(b.payload);
        // 413 only for a body past the limit (which may also be refused before it is read: path, content type).
        const tooLarge = b.payload !== undefined && Buffer.byteLength(b.payload) > w.config.bodyLimitBytes;
        if (res.statusCode === 413 && !tooLarge) problems.push('413 for a body within the limit');
        if (single && (single.kind === 'badValue' || single.kind === 'missing' || single.kind === 'missingRef') && code !== undefined && !poisoning && !tooLarge) {
          tally.naming.checked += 1;
          const msg = (JSON.parse(res.body) as { msg: string }).msg;
          const named = code === 62102 && (msg.includes(single.field) || (single.kind === 'missingRef' && /not found|does not exist/i.test(msg)));
          if (named) tally.naming.named += 1;
          else problems.push(`a fault of ${single.field} alone answered ${code} "${msg.slice(0, 200)}", not 62102 naming the field`);
        }
        await storeUnchanged(describeGen(g));
        if (problems.length > 0) throw new Error(`${describeGen(g)}\n  ${b.method} ${b.url.slice(0, 300)}\n  -> HTTP ${res.statusCode}: ${problems.join('; ')}`);
      }),
      { numRuns: RUNS, seed: tally.seed, endOnFailure: true },
    );
    for (const t of TARGETS) {
      expect(tally.byTarget.get(targetName(t)) ?? 0, `requests to ${targetName(t)}`).toBeGreaterThan(RUNS / TARGETS.length / 3);
    }
    expect(tally.injected).toBe(RUNS);
  }, 150_000);

  describe('over a real socket (Node\'s HTTP parser in the way)', () => {
    let port = 0;
    beforeAll(async () => {
      await w.app.listen({ port: 0, host: '127.0.0.1' });
      port = (w.app.server.address() as AddressInfo).port;
    });

    const V21 = V2_1.prefix;
    const V20 = API_VERSIONS.find((v) => v.name === 'v2.0')!.prefix;
    const ID = 'userId=u-admin&orgId=o-default';
    const post = (prefix: string, action: string, body: string | Buffer, extra = '') =>
      Buffer.concat([Buffer.from(`POST ${prefix}/flows?action=${action}&${ID} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n`), Buffer.from(body)]);
    const MB1 = '9'.repeat(1_000_000);
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const cases: Array<[name: string, request: () => string | Buffer, status: number, version: string]> = [
      ['a 5 MB body (V2.1)', () => post(V21, 'trigger', `{"flowId":"${'x'.repeat(5_000_000)}"}`), 413, V21],
      ['a 5 MB body (V2.0)', () => post(V20, 'import', `{"desc":"${'x'.repeat(5_000_000)}"}`), 413, V20],
      ['a body 10,000 levels deep', () => post(V21, 'trigger', deep), 200, V21],
      ['a field 10,000 levels deep', () => post(V20, 'updateAndTrigger', `{"flowId":${ctx.flowId},"triggerTime":1,"parameters":${deep}}`), 200, V20],
      ['a flowJson 10,000 levels deep', () => post(V21, 'import', `{"flowName":"deep","desc":"","dirId":"${ctx.root}","flowJson":{"tasks":${deep}}}`), 200, V21],
      ['a 1 MB string for an id', () => post(V21, 'trigger', `{"flowId":"${MB1}","triggerTime":1}`), 200, V21],
      ['a 1 MB search expression', () => post(V20, 'search', `{"searchValue":"${'a'.repeat(1_000_000)}"}`), 200, V20],
      ['a 1 MB string in a task command', () => post(V21, 'import', `{"flowName":"big","desc":"","dirId":"${'f'.repeat(32)}","flowJson":{"tasks":[{"name":"a","type":"SHELL","cmd":"${'a'.repeat(1_000_000)}"}]}}`), 200, V21],
      ['invalid UTF-8 in a body', () => post(V21, 'trigger', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), 200, V21],
      ['a malformed request line', () => 'GARBAGE\r\n\r\n', 400, V21],
      ['an unknown method', () => `FOO ${V20}/flows HTTP/1.1\r\nHost: x\r\n\r\n`, 400, V20],
      ['a header line without a colon', () => `GET ${V20}/flows?action=get HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n`, 400, V20],
      ['NUL in a header value', () => `GET ${V21}/flows?action=get HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n`, 400, V21],
      ['two Content-Lengths', () => `POST ${V21}/flows?action=trigger HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 400, V21],
      ['Content-Length and chunked', () => `POST ${V21}/flows?action=trigger HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, V21],
      ['a broken chunked body', () => `POST ${V20}/flows?action=trigger&${ID} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\nzz\r\n`, 400, V20],
      ['bare LF line ends', () => `GET ${V21}/time?action=getCurrentTime HTTP/1.1\nHost: x\n\n`, 400, V21],
      ['a header over 16 KiB', () => `GET ${V21}/flows?action=get HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, V21],
      ['a URL over 16 KiB (V2.0)', () => `GET ${V20}/flows?action=get&flowId=${'1'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, V20],
      ['a 1 MB URL', () => `GET ${V21}/flows?action=get&flowId=${MB1} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, V21],
      ['a path that is not valid percent-encoding', () => `GET ${V20}/flows%zz?action=get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 400, V20],
      ['no Host', () => `GET ${V21}/flows?action=get&flowId=1&${ID} HTTP/1.1\r\nConnection: close\r\n\r\n`, 400, V21],
      ['an unknown Expect', () => `POST ${V20}/flows?action=trigger&${ID} HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 2\r\n\r\n{}`, 400, V20],
      ['CONNECT', () => 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 400, V21],
      ['dot segments, not resolved by Node', () => `GET ${V20}/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 404, V20],
      ['a repeated action over the wire', () => `GET ${V21}/flows?action=delete&action=get&flowId=${ctx.flowId}&${ID} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 200, V21],
    ];

    it.each(cases)('%s: the envelope, and the server goes on', async (name, request, status, prefix) => {
      const t0 = performance.now();
      const r = await exchange(port, request());
      tally.overSocket += 1;
      const { code, problems } = r.status === 0 ? { code: undefined, problems: ['no answer: the connection closed'] } : envelopeProblems(prefix, r.status, r.contentType, r.body);
      if (r.status === 0) tally.unanswered += 1;
      record(`socket: ${name}`, r.status, code, problems, Math.round(performance.now() - t0));
      expect(problems, `${name}: ${r.head.slice(0, 200)} ${r.body.slice(0, 200)}`).toEqual([]);
      expect(r.status).toBe(status);
      expect(code).toBe(62102);
      await storeUnchanged(`socket: ${name}`);
      const again = await exchange(port, `GET ${V21}/directories?action=listWorkFlowDirs&${ID} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect([again.status, JSON.parse(again.body).code]).toEqual([200, 0]);
    });
  });

  it('afterwards the server still answers, both versions, and the store is as it was', async () => {
    const v21 = await w.app.inject({ method: 'GET', url: `${V2_1.prefix}/flows?action=get&flowId=${ctx.flowId}&userId=u-admin&orgId=o-default` });
    expect([v21.statusCode, v21.json().code, v21.json().data.flowId]).toEqual([200, 0, ctx.flowId]);
    const v20 = await w.app.inject({ method: 'GET', url: `/dataflow-batch-service/v2.0/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default` });
    expect([v20.statusCode, v20.json().status]).toEqual([200, 0]);
    tally.storeAfter = await reader.sum();
    expect(tally.storeAfter).toEqual(baseline);
    expect({ fiveXx: tally.fiveXx, internal: tally.internal, envelopeless: tally.envelopeless, unanswered: tally.unanswered }).toEqual({ fiveXx: 0, internal: 0, envelopeless: 0, unanswered: 0 });
    // The detector itself: one write that succeeds is seen, by data_version and by the checksum.
    ok(await op(w, 'admin', 'POST', 'directories', 'create', { body: { parentId: ctx.root, dirName: 'written after the run' } }));
    expect(await reader.changed()).toBe(true);
    expect((await reader.sum()).counts.directories).toBe(baseline.counts.directories + 1);
  });
});

interface Exchanged {
  status: number;
  head: string;
  contentType: string | undefined;
  body: string;
}

/** Raw bytes to the listening app, read until the server closes (a write refused halfway is fine: the answer counts). */
function exchange(port: number, request: string | Buffer, ms = 30_000): Promise<Exchanged> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(request, () => undefined));
    const timer = setTimeout(() => s.destroy(), ms);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      // A 100 Continue comes before the answer.
      const answer = text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const at = answer.indexOf('\r\n\r\n');
      const head = at < 0 ? answer : answer.slice(0, at);
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        contentType: /^content-type: *(.*)$/im.exec(head)?.[1],
        body: at < 0 ? '' : answer.slice(at + 4),
      });
    });
  });
}
