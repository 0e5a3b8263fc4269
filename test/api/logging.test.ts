// What the API writes to the service log, captured from a pino stream: one access line per request
// (requestId, method, path without the query, operation, envelope code, HTTP status, duration), never a
// body; and an internal error (62109) logged at error level with its stack and the requestId.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { call, V21, type Reply } from '../helpers/api.js';
import { flowJson, importFlow } from '../helpers/flows.js';
import { spyStore } from '../helpers/spyStore.js';
import { makeWorld, type World } from '../helpers/world.js';

const V20 = '/dataflow-batch-service/v2.0';
const BROKEN_FLOW = 4242;
const SECRET = 'do-not-log-this-body-text';

let w: World;
let app: FastifyInstance;
let flowId: number;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  w = await makeWorld();
  flowId = await importFlow(w, flowJson());
  // getFlow of one flow id throws a plain Error: an internal error, as a broken disk would give.
  const spy = spyStore(w.store, {
    getFlow: async (orgId, id) => {
      if (id === BROKEN_FLOW) throw new Error('the disk is on fire');
      return w.store.getFlow(orgId, id);
    },
  });
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'info', base: { service: 'batchflow' } }, stream).child({ component: 'api' });
  app = await buildApp({ store: spy.store, config: w.config, clock: w.clock, logger });
});
afterAll(async () => {
  await app.close();
  await w.close();
});
beforeEach(() => {
  lines.length = 0;
});

const who = () => ({ userId: w.users.admin.id, orgId: w.users.admin.orgId });
/** pino writes synchronously to the stream; the response hook runs just after the reply is sent. */
const settle = () => new Promise((r) => setImmediate(r));
const linesOf = (r: Reply) => lines.filter((l) => l.requestId === r.env.requestId);

describe('the access log', () => {
  it('writes one info line per request with its fields, and nothing else', async () => {
    const cases: Array<{ reply: Promise<Reply>; method: string; path: string; operation: string | null; code: number; status: number }> = [
      { reply: call(app, 'GET', `${V21}/flows`, { query: { action: 'get', flowId, ...who() } }), method: 'GET', path: `${V21}/flows`, operation: 'getFlow', code: 0, status: 200 },
      { reply: call(app, 'POST', `${V21}/flows`, { query: { action: 'trigger', ...who() }, body: { flowId, triggerTime: 1e12, note: SECRET } }), method: 'POST', path: `${V21}/flows`, operation: 'triggerFlow', code: 0, status: 200 },
      { reply: call(app, 'POST', `${V21}/flows`, { query: { action: 'trigger', ...who() }, body: { flowId: SECRET, triggerTime: 1 } }), method: 'POST', path: `${V21}/flows`, operation: 'triggerFlow', code: 62102, status: 200 },
      { reply: call(app, 'GET', `${V21}/time`, { query: { action: 'getCurrentTime' } }), method: 'GET', path: `${V21}/time`, operation: 'getCurrentTime', code: 0, status: 200 },
      { reply: call(app, 'GET', `${V20}/flows`, { query: { action: 'getMyFlow', ...who() } }), method: 'GET', path: `${V20}/flows`, operation: 'getMyFlow', code: 0, status: 200 },
      { reply: call(app, 'GET', `${V21}/flows`, { query: { action: 'bogus', ...who() } }), method: 'GET', path: `${V21}/flows`, operation: 'flows/bogus', code: 62102, status: 200 },
      { reply: call(app, 'GET', `${V21}/nowhere`, { query: { a: 1 } }), method: 'GET', path: `${V21}/nowhere`, operation: null, code: 62102, status: 404 },
      { reply: call(app, 'GET', `${V21}/flows`, { query: { action: 'get', flowId: BROKEN_FLOW, ...who() } }), method: 'GET', path: `${V21}/flows`, operation: 'getFlow', code: 62109, status: 200 },
    ];
    const replies: Reply[] = [];
    for (const c of cases) replies.push(await c.reply);
    await settle();
    const access = lines.filter((l) => l.msg === 'request');
    expect(access).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const r = replies[i];
      const mine = access.filter((l) => l.requestId === r.env.requestId);
      expect(mine, `${c.operation}: one access line`).toHaveLength(1);
      expect(mine[0]).toMatchObject({ level: 30, component: 'api', service: 'batchflow', method: c.method, path: c.path, operation: c.operation, code: c.code, status: c.status });
      expect(typeof mine[0].durationMs).toBe('number');
      expect(mine[0].durationMs as number).toBeGreaterThanOrEqual(0);
      expect(r.status).toBe(c.status);
    });
    // Only the internal error adds a line of its own; no query string and no body anywhere.
    expect(lines.filter((l) => l.msg !== 'request')).toHaveLength(1);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('action=');
  });
});

describe('an internal error', () => {
  it('answers 62109 and logs the error with its stack and the requestId', async () => {
    const r = await call(app, 'GET', `${V21}/flows`, { query: { action: 'get', flowId: BROKEN_FLOW, ...who() } });
    expect([r.env.code, r.env.msg, r.env.data]).toEqual([62109, 'Internal server exception', null]);
    await settle();
    const [error, access] = linesOf(r);
    expect(error).toMatchObject({ level: 50, requestId: r.env.requestId, component: 'api', method: 'GET', path: `${V21}/flows`, msg: 'internal error (62109)' });
    const err = error.err as { type: string; message: string; stack: string };
    expect(err).toMatchObject({ type: 'Error', message: 'the disk is on fire' });
    expect(err.stack).toMatch(/^Error: the disk is on fire\n\s+at /);
    expect(access).toMatchObject({ msg: 'request', code: 62109, operation: 'getFlow' });
  });

  it('is not logged for bad input: a 62102 writes only its access line', async () => {
    const r = await call(app, 'GET', `${V21}/flows`, { query: { action: 'get', flowId: String(2 ** 53), ...who() } });
    expect(r.env.code).toBe(62102);
    await settle();
    expect(linesOf(r).map((l) => l.msg)).toEqual(['request']);
  });
});
