// Calling the API through inject(): one function per request, the envelope parsed.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { World, Who } from './world.js';

export const V21 = '/batch-processing-service/v2.1';

export interface Envelope {
  code: number;
  msg: string;
  requestId: string;
  data: unknown;
}

export interface CallOptions {
  query?: Record<string, string | number>;
  /** An object is sent as JSON; a string is sent as it is (malformed JSON tests). */
  body?: unknown;
  /** Leave out userId/orgId. */
  anonymous?: boolean;
}

export interface Reply {
  status: number;
  env: Envelope;
}

export async function call(app: FastifyInstance, method: 'GET' | 'POST', url: string, opts: CallOptions = {}): Promise<Reply> {
  const res = await app.inject({
    method,
    url,
    query: Object.fromEntries(Object.entries(opts.query ?? {}).map(([k, v]) => [k, String(v)])),
    ...(opts.body === undefined
      ? {}
      : { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body), headers: { 'content-type': 'application/json;charset=UTF-8' } }),
  });
  return { status: res.statusCode, env: res.json() as Envelope };
}

/** A V2.1 operation as a user of the world: `op(w, 'admin', 'POST', 'flows', 'trigger', { body })`. */
export async function op(
  w: World,
  who: Who,
  method: 'GET' | 'POST',
  resource: string,
  action: string,
  opts: CallOptions = {},
): Promise<Reply> {
  const u = w.users[who];
  const identity: Record<string, string> = opts.anonymous ? {} : { userId: u.id, orgId: u.orgId };
  return call(w.app, method, `${V21}/${resource}`, { ...opts, query: { action, ...identity, ...(opts.query ?? {}) } });
}

/** The data of a successful reply (fails the test with the message otherwise). */
export function ok<T = Record<string, unknown>>(r: Reply): T {
  expect({ status: r.status, code: r.env.code, msg: r.env.msg }).toEqual({ status: 200, code: 0, msg: 'OK' });
  return r.env.data as T;
}

/** Asserts an error reply: HTTP status, code, data null, and a message matching `msg`. */
export function fails(r: Reply, code: number, msg: RegExp | string, status = 200): void {
  expect(r.status, JSON.stringify(r.env)).toBe(status);
  expect(r.env.code, JSON.stringify(r.env)).toBe(code);
  expect(r.env.data).toBeNull();
  if (typeof msg === 'string') expect(r.env.msg).toContain(msg);
  else expect(r.env.msg).toMatch(msg);
}
