// The wire contract common to every operation: envelope, routing on action, HTTP statuses, identity.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Store } from '../../src/store/store.js';
import { call, fails, ok, op, V21 } from '../helpers/api.js';
import { flowJson, importFlow, trigger } from '../helpers/flows.js';
import { makeWorld, type World } from '../helpers/world.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let w: World;
beforeEach(async () => {
  w = await makeWorld({ timezone: 'Asia/Shanghai' });
});
afterEach(async () => {
  await w.close();
});

describe('the V2.1 envelope', () => {
  it('has exactly code, msg, requestId (a fresh uuid) and data on success', async () => {
    const a = await op(w, 'admin', 'GET', 'directories', 'listWorkFlowDirs');
    const b = await op(w, 'admin', 'GET', 'directories', 'listWorkFlowDirs');
    expect(Object.keys(a.env).sort()).toEqual(['code', 'data', 'msg', 'requestId']);
    expect(a.env.requestId).toMatch(UUID);
    expect(b.env.requestId).not.toBe(a.env.requestId);
    ok(a);
  });

  it('answers errors with HTTP 200, a non-zero code, data null and a requestId', async () => {
    const r = await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId: 999 } });
    fails(r, 62102, 'Workflow 999 not found');
    expect(Object.keys(r.env).sort()).toEqual(['code', 'data', 'msg', 'requestId']);
    expect(r.env.requestId).toMatch(UUID);
  });

  it('gives void operations data ""', async () => {
    const id = await trigger(w, await importFlow(w), w.clock.now() + 3_600_000);
    expect(ok(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: id } }))).toBe('');
  });
});

describe('routing on (method, path, action)', () => {
  it('answers an unknown action on a known path with 62102 naming the action', async () => {
    fails(await op(w, 'admin', 'POST', 'flows', 'foo', { body: {} }), 62102, 'Unknown action "foo" for POST /flows');
    fails(await op(w, 'admin', 'GET', 'flows', 'trigger'), 62102, 'Unknown action "trigger" for GET /flows');
  });

  it('answers a missing action with 62102 naming the parameter', async () => {
    const r = await call(w.app, 'GET', `${V21}/flows`, { query: { userId: 'u-admin', orgId: 'o-default' } });
    fails(r, 62102, 'Missing parameter: action');
  });

  // It was routed on its first value while the operation saw an array: `?action=delete&action=get` deleted the flow.
  it('refuses a repeated action with 62102, whichever values, and runs no operation', async () => {
    const flowId = await importFlow(w);
    const id = 'userId=u-admin&orgId=o-default';
    for (const actions of ['action=delete&action=get', 'action=get&action=delete', 'action=delete&action=delete', 'action=delete&action=']) {
      const r = await call(w.app, 'GET', `${V21}/flows?${actions}&flowId=${flowId}&${id}`);
      fails(r, 62102, /^Invalid parameter: action must be given once, got \[".*"\] \(for GET \/flows\)$/);
    }
    const v20 = await call(w.app, 'POST', `/dataflow-batch-service/v2.0/flows?action=disable&action=enable&${id}`, { body: { flowId } });
    expect(v20.env as unknown).toMatchObject({ status: 62102, msg: 'Invalid parameter: action must be given once, got ["disable","enable"] (for POST /flows)', data: null });
    fails(await call(w.app, 'GET', `${V21}/time?action=getCurrentTime&action=getTimeZone`), 62102, 'action must be given once');
    ok(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } }));
  });

  // fastify made a HEAD twin of every GET route: `HEAD /flows?action=delete` deleted the flow.
  it('runs no operation for HEAD: 404, and the flow is still there', async () => {
    const flowId = await importFlow(w);
    const res = await w.app.inject({ method: 'HEAD', url: `${V21}/flows?action=delete&flowId=${flowId}&userId=u-admin&orgId=o-default` });
    expect(res.statusCode).toBe(404);
    ok(await op(w, 'admin', 'GET', 'flows', 'get', { query: { flowId } }));
  });

  it('answers an unknown path with HTTP 404 and the envelope', async () => {
    fails(await call(w.app, 'GET', `${V21}/nothing?action=get`), 62102, 'No such path', 404);
    fails(await call(w.app, 'GET', '/elsewhere'), 62102, 'No such path', 404);
    fails(await call(w.app, 'PUT' as 'GET', `${V21}/flows?action=get`), 62102, 'No such path', 404);
  });

  it('names a __proto__ key, and a charset other than UTF-8, instead of calling them malformed JSON', async () => {
    fails(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: '{"flowId": 1, "__proto__": {"x": 1}}' }), 62102, /^Invalid request body: the keys "__proto__" and "constructor"."prototype" are not accepted$/);
    const res = await w.app.inject({
      method: 'POST',
      url: `${V21}/flows?action=trigger&userId=u-admin&orgId=o-default`,
      headers: { 'content-type': 'application/json; charset=utf-16' },
      payload: '{"flowId":1,"triggerTime":1709374830000}',
    });
    expect(res.json()).toMatchObject({ code: 62102, msg: 'Invalid request body: charset utf-16 is not accepted; send UTF-8 JSON', data: null });
  });

  it('a repeated userId or orgId is named as such (62101)', async () => {
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-admin&userId=u-bob&orgId=o-default`), 62101, 'userId must be given once, got it 2 times');
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default&orgId=o-other`), 62101, 'orgId must be given once, got it 2 times');
  });

  it('answers malformed JSON with 62102 (HTTP 200)', async () => {
    fails(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: '{"flowId": 1,' }), 62102, /Invalid request body: malformed JSON/);
  });

  it('answers a body that is not an object with 62102', async () => {
    fails(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: '[1,2]' }), 62102, 'Invalid request body');
  });
});

describe('HTTP statuses other than 200', () => {
  it('answers 413 with the envelope for a body over the limit', async () => {
    const small = await makeWorld({ bodyLimitBytes: 1024 });
    try {
      const r = await op(small, 'admin', 'POST', 'flows', 'trigger', { body: { flowId: 1, triggerTime: 1, pad: 'x'.repeat(2000) } });
      fails(r, 62102, 'Request body too large', 413);
    } finally {
      await small.close();
    }
  });

  it('answers 503 with the envelope while shutting down', async () => {
    let down = false;
    const app = await buildApp({ store: w.store, config: w.config, clock: w.clock, isShuttingDown: () => down });
    try {
      ok(await call(app, 'GET', `${V21}/time?action=getCurrentTime`));
      down = true;
      fails(await call(app, 'GET', `${V21}/time?action=getCurrentTime`), 62109, 'shutting down', 503);
    } finally {
      await app.close();
    }
  });

  it('answers an unexpected failure with 62109 Internal server exception', async () => {
    const broken = new Proxy(w.store, {
      get: (t, k: keyof Store) => (k === 'getFlow' ? async () => { throw new Error('disk on fire'); } : (t[k] as unknown)),
    }) as Store;
    const app = await buildApp({ store: broken, config: w.config, clock: w.clock });
    try {
      const r = await call(app, 'GET', `${V21}/flows`, { query: { action: 'get', flowId: 1, userId: 'u-admin', orgId: 'o-default' } });
      fails(r, 62109, 'Internal server exception');
      expect(r.env.msg).not.toContain('disk on fire');
    } finally {
      await app.close();
    }
  });
});

describe('time operations', () => {
  it('getCurrentTime answers the clock in epoch ms without userId/orgId', async () => {
    const r = await call(w.app, 'GET', `${V21}/time?action=getCurrentTime`);
    expect(ok(r)).toBe(w.clock.now());
  });

  it('getTimeZone answers GMT+N of the service zone', async () => {
    expect(ok(await call(w.app, 'GET', `${V21}/time?action=getTimeZone`))).toEqual({ timezone: 'GMT+8' });
    const india = await makeWorld({ timezone: 'Asia/Kolkata' });
    try {
      expect(ok(await call(india.app, 'GET', `${V21}/time?action=getTimeZone`))).toEqual({ timezone: 'GMT+5:30' });
    } finally {
      await india.close();
    }
  });
});

describe('identity (62101)', () => {
  const TEXT = 'userId does not exist, or it does not match to orgId.';
  it('refuses a missing userId or orgId', async () => {
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&orgId=o-default`), 62101, TEXT);
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-admin`), 62101, TEXT);
  });

  it('refuses an unknown user and a user of another org', async () => {
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-nobody&orgId=o-default`), 62101, TEXT);
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-eve&orgId=o-default`), 62101, TEXT);
    fails(await call(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-nope`), 62101, TEXT);
  });

  it('applies to writes too, before the body is looked at', async () => {
    const r = await call(w.app, 'POST', `${V21}/flows?action=import&userId=u-x&orgId=o-default`, { body: {} });
    fails(r, 62101, TEXT);
  });

  it('accepts snake_case and string ids', async () => {
    const flowId = await importFlow(w, flowJson());
    ok(await op(w, 'admin', 'GET', 'flows', 'export', { query: { flow_id: String(flowId) } }));
    ok(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flow_id: String(flowId), trigger_time: String(w.clock.now()) } }));
  });
});
