// The OpenAPI document (GET /openapi.json) and Swagger UI (/docs): every route fastify registers under
// the API prefixes is documented (each operation at its alias path `<prefix>/<resource>/<action>`, its
// EnOS `?action=` form in x-enos-action); the document is valid OpenAPI 3.1; every operation has its texts,
// examples and response schema; examples pass the real request schemas; the documented response
// schemas hold for what the service really answers; the UI and its assets are served locally.
import { channel } from 'node:diagnostics_channel';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyOperation, VersionSpec } from '../../src/api/operation.js';
import { buildOpenApiDocument } from '../../src/api/openapi/document.js';
import { EXAMPLES } from '../../src/api/openapi/examples.js';
import { RESPONSES } from '../../src/api/openapi/responses.js';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { API_VERSIONS } from '../../src/api/versions.js';
import { makeWorld, type World } from '../helpers/world.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Route {
  method: string;
  url: string;
  action: string | undefined;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'trace'];
const mounted = (v: VersionSpec) => OPERATIONS.filter((op) => !op.versions || op.versions.includes(v.name));

let w: World;
let doc: Json;
const routes: Route[] = [];

// Fastify announces every new instance on this channel before any route exists: the hook sees all of
// buildApp's routes, including any added outside the operation registry.
const initChannel = channel('fastify.initialization');
const onInit = (msg: unknown) => {
  (msg as { fastify: FastifyInstance }).fastify.addHook('onRoute', (r: RouteOptions) => {
    for (const m of [r.method].flat()) routes.push({ method: m, url: r.url ?? '', action: (r.constraints as Json | undefined)?.action });
  });
};

beforeAll(async () => {
  initChannel.subscribe(onInit);
  try {
    w = await makeWorld();
  } finally {
    initChannel.unsubscribe(onInit);
  }
  const res = await w.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(async () => {
  await w.close();
});

/** The data schema of a streaming operation's text/event-stream, else undefined. */
const streamOf = (o: Json): Json | undefined => o.responses['200'].content['text/event-stream'];

/** [pathKey, method, Operation Object] of every operation in the document. */
function operations(d: Json): Array<[string, string, Json]> {
  return Object.entries(d.paths as Json).flatMap(([key, item]) =>
    Object.entries(item as Json)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, o]) => [key, m, o as Json] as [string, string, Json]),
  );
}

function docOp(v: VersionSpec, op: AnyOperation): Json {
  const found = operations(doc).find(([, , o]) => o['x-batchflow-route']?.version === v.name && o['x-batchflow-route']?.operation === op.name);
  if (!found) throw new Error(`${op.name} (${v.name}) is not in the document`);
  return found[2];
}

function resolveRef(d: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), d);
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

// Request schemas are checked as fastify checks them (src/api/app.ts's ajv options).
const requestAjv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: true });
// Response schemas are OpenAPI 3.1 (JSON Schema 2020-12); components.schemas are reachable as $defs.
const responseAjv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

function checkRequest(schema: TSchema | undefined, value: unknown, what: string): void {
  if (!schema) return;
  const validate = requestAjv.compile(schema);
  expect(validate(structuredClone(value)), `${what}: ${requestAjv.errorsText(validate.errors)}`).toBe(true);
}

/** Validates against a document schema, then the JSON text of every `contentSchema` field inside it. */
function checkResponse(schema: Json, value: unknown, what: string): void {
  const rooted = JSON.parse(JSON.stringify(schema).replace(/#\/components\/schemas\//g, '#/$defs/')) as Json;
  const validate = responseAjv.compile({ ...rooted, $defs: JSON.parse(JSON.stringify(doc.components.schemas).replace(/#\/components\/schemas\//g, '#/$defs/')) });
  expect(validate(value), `${what}: ${responseAjv.errorsText(validate.errors)}`).toBe(true);
  checkContent(rooted, value, what);
}

function checkContent(schema: Json, value: unknown, what: string): void {
  if (!schema || typeof schema !== 'object') return;
  if (schema.contentSchema && typeof value === 'string') checkResponse(schema.contentSchema, JSON.parse(value), `${what} (JSON text)`);
  if (schema.properties && value && typeof value === 'object') {
    for (const [k, s] of Object.entries(schema.properties as Json)) checkContent(s, (value as Json)[k], `${what}.${k}`);
  }
  if (schema.items && Array.isArray(value)) value.forEach((x, i) => checkContent(schema.items, x, `${what}[${i}]`));
}

/** The `data` schema of an operation's success envelope in the document. */
function dataSchema(o: Json): Json {
  const success = o.responses['200'].content['application/json'].schema.oneOf[0];
  return success.properties.data;
}

describe('the OpenAPI document', () => {
  it('documents every (method, path, action) route registered under the API prefixes', () => {
    const api = routes.filter((r) => API_VERSIONS.some((v) => r.url.startsWith(`${v.prefix}/`)) && r.method !== 'HEAD');
    expect(api.length).toBeGreaterThan(0);
    const documented = new Set(operations(doc).map(([, m, o]) => `${m.toUpperCase()} ${o['x-enos-action'].path} ${o['x-enos-action'].action}`));
    const paths = new Set(operations(doc).map(([, m, o]) => `${m.toUpperCase()} ${o['x-enos-action'].path}`));
    const aliases = new Set(operations(doc).map(([key, m]) => `${m.toUpperCase()} ${key}`));
    // A route without an action is an alias path (the document's key) or the unknown-action fallback of a documented (method, path).
    const missing = api.filter((r) => (r.action === undefined ? !paths.has(`${r.method} ${r.url}`) && !aliases.has(`${r.method} ${r.url}`) : !documented.has(`${r.method} ${r.url} ${r.action}`)));
    expect(missing.map((r) => `${r.method} ${r.url}${r.action ? `?action=${r.action}` : ''}`), 'routes missing from /openapi.json').toEqual([]);
    const registered = new Set(api.map((r) => `${r.method} ${r.url} ${r.action}`));
    expect([...documented].filter((d) => !registered.has(d)), 'documented EnOS forms with no route').toEqual([]);
    expect([...aliases].filter((a) => !registered.has(`${a} undefined`)), 'documented alias paths with no route').toEqual([]);
  });

  it('has one path item per registry operation per version, keyed by its alias path <prefix>/<resource>/<action>', () => {
    for (const v of API_VERSIONS) {
      for (const op of mounted(v)) {
        const key = `${v.prefix}/${op.resource}/${op.action}`;
        const o = doc.paths[key]?.[op.method.toLowerCase()];
        expect(o?.['x-batchflow-route']?.operation, key).toBe(op.name);
        expect(Object.keys(doc.paths[key]).filter((m) => METHODS.includes(m)), key).toEqual([op.method.toLowerCase()]);
        expect(o['x-enos-action'], key).toEqual({ method: op.method, path: `${v.prefix}/${op.resource}`, action: op.action, url: `${v.prefix}/${op.resource}?action=${op.action}` });
        expect(o.operationId, key).toBe(v.name === 'v2.1' ? op.name : `${op.name}_${v.name.replace(/\W/g, '_')}`);
      }
    }
    expect(Object.keys(doc.paths).filter((k) => k.includes('?')), 'no query in a path key').toEqual([]);
    expect(operations(doc)).toHaveLength(API_VERSIONS.reduce((n, v) => n + mounted(v).length, 0));
  });

  it('has docs, examples and a response schema for every operation', () => {
    const { gaps } = buildOpenApiDocument();
    expect(gaps, 'add the missing entries to src/api/openapi/{docs,examples,responses}.ts').toEqual([]);
  });

  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? [], 'OpenAPI 3.1 schema validation').toEqual([]);
    expect(result.valid).toBe(true);
    expect(String(doc.info.description)).toContain('?action=');
  });

  it('resolves every $ref and gives unique operationIds', () => {
    const unresolved = collectRefs(doc).filter((r) => resolveRef(doc, r) === undefined);
    expect(unresolved).toEqual([]);
    const ids = operations(doc).map(([, , o]) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every operation a summary, description, tag, its EnOS form, security, examples and responses', () => {
    for (const [key, , o] of operations(doc)) {
      const route = o['x-batchflow-route'];
      expect(o.summary, key).toBeTruthy();
      expect(o.description, key).toMatch(/Who may call it/);
      expect(o.description, key).toContain(`${route.method} ${o['x-enos-action'].url}`);
      expect(o.tags, key).toEqual([`${route.version} ${route.path.split('/').pop()}`]);
      expect((o.parameters as Json[]).find((p) => p.name === 'action'), `${key}: the alias path needs no action parameter`).toBeUndefined();
      const op = OPERATIONS.find((x) => x.name === route.operation);
      expect(o.security, key).toEqual(op?.access === 'public' ? [] : [{ apimAccessToken: [], apimTimestamp: [], apimSignature: [] }]);
      const ok = o.responses['200'].content['application/json'];
      if (streamOf(o)) {
        expect(streamOf(o)?.example, key).toMatch(/^event: /m);
        expect(Object.keys(ok.examples), key).toEqual(['error']);
      } else expect(Object.keys(ok.examples).sort(), key).toEqual(['error', 'success']);
      if (o.requestBody) expect(o.requestBody.content['application/json'].examples?.example?.value, key).toBeDefined();
      expect(o.responses['404'], key).toBeDefined();
    }
  });

  it('asks for userId and orgId on every operation except the public ones', () => {
    for (const v of API_VERSIONS) {
      for (const op of mounted(v)) {
        const refs = (docOp(v, op).parameters as Json[]).map((p) => p.$ref).filter(Boolean);
        expect(refs, `${op.name} ${v.name}`).toEqual(op.access === 'public' ? [] : ['#/components/parameters/userId', '#/components/parameters/orgId']);
      }
    }
  });

  it('lists every error code of the catalogue in its description', () => {
    for (const code of [62101, 62102, 62103, 62104, 62105, 62106, 62109]) expect(doc.info.description).toContain(`| ${code} |`);
  });
});

describe('the examples', () => {
  it('send requests that pass each operation\'s own schema', () => {
    for (const v of API_VERSIONS) {
      for (const op of mounted(v)) {
        const o = docOp(v, op);
        // What a client sends: query values are strings; the version's spellings are mapped as mount.ts does.
        const query: Json = {};
        for (const p of o.parameters as Json[]) {
          if (p.in !== 'query' || p.example === undefined || ['action', 'userId', 'orgId'].includes(p.name)) continue;
          query[v.inputAliases?.[p.name] ?? p.name] = String(p.example);
        }
        checkRequest(op.schema.querystring, query, `${op.name} ${v.name} query`);
        checkRequest(op.schema.body, o.requestBody?.content['application/json'].examples.example.value, `${op.name} ${v.name} body`);
      }
    }
  });

  it('show responses that match the documented schemas', () => {
    for (const [key, , o] of operations(doc)) {
      const content = o.responses['200'].content['application/json'];
      for (const [name, ex] of Object.entries(content.examples as Json)) checkResponse(content.schema, ex.value, `${key} ${name}`);
      const stream = streamOf(o);
      if (stream) {
        checkResponse(stream.schema, stream.example, `${key} event stream`);
        continue;
      }
      // Again for `data` alone: that walk also reaches the JSON texts (graph, parameters) inside it.
      checkResponse(dataSchema(o), content.examples.success.value.data, `${key} success data`);
    }
    for (const [name, r] of Object.entries(doc.components.responses as Json)) {
      const c = r.content['application/json'];
      checkResponse(c.schema, c.example, name);
    }
  });

  it('are keyed by operation names of the registry, or of operations being added', () => {
    const known = new Set([...OPERATIONS.map((op) => op.name), 'deleteFlow', 'enableFlow', 'disableFlow', 'getMyFlow', 'searchFlow', 'searchFlowInstances', 'loadFlowForEdit']);
    expect(Object.keys(EXAMPLES).filter((n) => !known.has(n))).toEqual([]);
    expect(Object.keys(RESPONSES).filter((n) => !known.has(n))).toEqual([]);
  });
});

describe('the documented response schemas', () => {
  it('hold for what the service answers, in both versions', async () => {
    const checked = new Set<string>();
    for (const v of API_VERSIONS) {
      const ops = new Map(mounted(v).map((op) => [op.name, op]));
      const call = async (name: string, input: { query?: Json; body?: unknown } = {}): Promise<Json | undefined> => {
        const op = ops.get(name);
        if (!op) return undefined;
        const res = await w.app.inject({
          method: op.method,
          url: `${v.prefix}/${op.resource}`,
          query: { action: op.action, ...(op.access === 'public' ? {} : { userId: 'u-admin', orgId: 'o-default' }), ...input.query },
          ...(input.body === undefined ? {} : { payload: input.body as Json }),
        });
        const env = res.json() as Json;
        expect({ status: res.statusCode, code: env.code ?? env.status, msg: env.msg }, `${name} ${v.name}`).toMatchObject({ status: 200, code: 0 });
        checkResponse(dataSchema(docOp(v, op)), env.data, `${name} ${v.name} live data`);
        checked.add(name);
        return env as Json;
      };
      const dirId = await w.rootDir();
      const importBody = (EXAMPLES.importFlow(v).body ?? {}) as Json;
      const imported = await call('importFlow', { body: { ...importBody, dirId, flowName: `sales_${v.name}` } });
      const flowId = imported?.data.flowId as number;
      await call('listWorkFlowDirs');
      await call('createDirectory', { body: { parentId: dirId, dirName: `reports_${v.name}` } });
      await call('getFlow', { query: { flowId } });
      await call('exportFlow', { query: { flowId } });
      await call('loadFlowForEdit', { query: { flowId } });
      await call('getMyFlow', { query: { [v.inputAliases ? 'searchValue' : 'expression']: 'sales' } });
      await call('searchFlow', { body: { expression: 'sales', pagination: { pageNo: v.pageBase, pageSize: 10 } } });
      await call('disableFlow', { body: { flowId } });
      await call('enableFlow', { body: { flowId } });
      const later = (h: number) => w.clock.now() + h * 3_600_000;
      const inst = (await call('triggerFlow', { body: { flowId, triggerTime: later(1) } }))?.data.flowInstanceId as string;
      await call('updateAndTriggerFlow', { body: { flowId, triggerTime: later(2), parameters: [{ key: 'region', value: 'ap-east' }] } });
      const flow = (await call('getFlow', { query: { flowId } }))?.data as Json;
      const tasks = JSON.parse(flow.graph as string).tasks as Json[];
      await call('triggerFlowFromTask', { body: { flowId, taskId: tasks[1].taskId, triggerTime: later(3) } });
      const { flowName: name, owner: owners, visitor: visitors, freq, cycle, alertMode, doAs, startTime, active, type } = flow;
      await call('saveFlow', { body: { id: flowId, type, name, freq, cycle, alertMode, doAs, owners, visitors, startTime, active } });
      const versions = (await call('listFlowVersions', { query: { flowId } }))?.data as Json | undefined;
      if (versions) expect(versions.currentVersion).toBe(1);
      await call('getFlowVersion', { query: { flowId, version: 1 } });
      await call('compareFlowVersions', { query: { flowId, from: 1, to: 1 } });
      const instance = (await call('getFlowInstance', { query: { flowInstId: inst } }))?.data as Json;
      const taskInstId = JSON.parse(instance.graph as string).tasks[0].taskInstId as string;
      await call('getTaskInstance', { query: { taskInstId } });
      const page = await call('searchFlowInstances', {
        body: { type: 1, expression: '', owner: '', fromTriggerTime: 0, toTriggerTime: later(24), status: '', pagination: { pageNo: v.pageBase, pageSize: 10 } },
      });
      if (page) expect((page.data.flowInsts as unknown[]).length).toBeGreaterThan(0);
      await call('cancelFlowInstance', { body: { flowInstId: inst } });
      // Cancelled while WAIT (no task ran): a rerun of the failed part takes it back to WAIT.
      await call('rerunFlowInstance', { body: { flowInstId: inst, mode: 'failed' } });
      await call('backfillFlow', { body: { flowId, fromTime: later(-48), toTime: later(-24), cron: '0 0 12 * * ? *' } });
      await call('getCurrentTime');
      await call('getTimeZone');
      const doomed = (await call('importFlow', { body: { ...importBody, dirId, flowName: `doomed_${v.name}` } }))?.data.flowId as number;
      await call('deleteFlow', { query: { flowId: doomed } });
    }
    // A world without an engine has no task log to show (nor a stream that ends); every other operation must be called above.
    const unchecked = OPERATIONS.map((op) => op.name).filter((n) => !checked.has(n) && n !== 'getTaskInstanceLog' && n !== 'streamTaskInstanceLog');
    expect(unchecked, 'operations with no live call in this test: add one').toEqual([]);
  });
});

describe('the alias paths', () => {
  it('answer as the EnOS ?action= form does, with no action parameter; a contradicting action is refused', async () => {
    for (const v of API_VERSIONS) {
      const codeKey = v.envelope === 'v2.0' ? 'status' : 'code';
      const who = { userId: 'u-admin', orgId: 'o-default' };
      const zone = await w.app.inject({ method: 'GET', url: `${v.prefix}/time/getTimeZone` });
      expect(zone.json(), v.name).toMatchObject({ [codeKey]: 0, data: { timezone: expect.any(String) } });
      const viaEnos = await w.app.inject({ method: 'GET', url: `${v.prefix}/directories`, query: { action: 'listWorkFlowDirs', ...who } });
      const viaAlias = await w.app.inject({ method: 'GET', url: `${v.prefix}/directories/listWorkFlowDirs`, query: who });
      expect(viaAlias.statusCode).toBe(200);
      expect({ ...viaAlias.json(), requestId: '' }).toEqual({ ...viaEnos.json(), requestId: '' });
      const same = await w.app.inject({ method: 'GET', url: `${v.prefix}/directories/listWorkFlowDirs`, query: { action: 'listWorkFlowDirs', ...who } });
      expect(same.json()).toMatchObject({ [codeKey]: 0 });
      const other = await w.app.inject({ method: 'GET', url: `${v.prefix}/directories/listWorkFlowDirs`, query: { action: 'create', ...who } });
      expect(other.json()).toMatchObject({ [codeKey]: 62102, data: null, msg: expect.stringContaining('contradicts the path') });
      // Same validation and identity checks as the EnOS form.
      expect((await w.app.inject({ method: 'GET', url: `${v.prefix}/flows/get`, query: who })).json()).toMatchObject({ [codeKey]: 62102, msg: 'Missing parameter: flowId' });
      expect((await w.app.inject({ method: 'GET', url: `${v.prefix}/flows/get`, query: { flowId: '1' } })).json()).toMatchObject({ [codeKey]: 62101 });
      // Only the operation's own method; an unknown action is no path.
      expect((await w.app.inject({ method: 'POST', url: `${v.prefix}/flows/get`, query: who, payload: {} })).statusCode).toBe(404);
      expect((await w.app.inject({ method: 'GET', url: `${v.prefix}/flows/nothing`, query: who })).statusCode).toBe(404);
    }
  });
});

describe('serving the document and Swagger UI', () => {
  it('answers GET /openapi.json without identity, and /docs/json with the same document', async () => {
    const json = await w.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual(doc);
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument().document)));
  });

  it('serves Swagger UI HTML whose assets all come from this service', async () => {
    for (const url of ['/docs', '/docs/']) {
      const page = await w.app.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(assets.some((a) => a.endsWith('swagger-ui-bundle.js'))).toBe(true);
      expect(assets.filter((a) => /^(https?:)?\/\//.test(a)), 'no CDN').toEqual([]);
      for (const a of assets) {
        const abs = a.startsWith('/') ? a : `${url.endsWith('/') ? url : `${url}/`}${a.replace(/^\.\//, '')}`;
        const res = await w.app.inject({ method: 'GET', url: abs });
        expect(res.statusCode, abs).toBe(200);
        expect(res.body.length, abs).toBeGreaterThan(0);
      }
    }
    const init = await w.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain("resolveUrl('./json')");
  });

  it('leaves the API\'s own 404 envelope and identity checks in place', async () => {
    for (const v of API_VERSIONS) {
      const res = await w.app.inject({ method: 'GET', url: `${v.prefix}/nothing?action=get` });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ [v.envelope === 'v2.0' ? 'status' : 'code']: 62102, data: null });
    }
    const outside = await w.app.inject({ method: 'GET', url: '/docs/static/nothing.js' });
    expect(outside.statusCode).toBe(404);
    expect(outside.json()).toMatchObject({ code: 62102, data: null });
    const anonymous = await w.app.inject({ method: 'GET', url: `${API_VERSIONS[0].prefix}/flows?action=get&flowId=1` });
    expect(anonymous.json()).toMatchObject({ code: 62101 });
  });
});
