// Authentication (contract §9) through the API: the token service's answers and codes, signed calls
// accepted over the raw query and the raw body as sent, and each way a call is refused (unsigned, bad
// signature, tampered query or body, replay, timestamp outside the window, expired, revoked, another
// org's app), rate limits, public routes, and no secret or token in any log line or answer.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { tokenEncryption } from '../../src/domain/signature.js';
import { addApp } from '../../src/service/auth/apps.js';
import { freshTimestamp, getToken, signedInject, tokenRequest, type SignOptions } from '../helpers/auth.js';
import { makeWorld, type World } from '../helpers/world.js';

const V21 = '/batch-processing-service/v2.1';
const V20 = '/dataflow-batch-service/v2.0';
const ADMIN = 'userId=u-admin&orgId=o-default';
const DIRS = `${V21}/directories?action=listWorkFlowDirs&${ADMIN}`;

let w: World;
beforeEach(async () => {
  w = await makeWorld({ auth: true });
});
afterEach(() => w.close());

const now = () => freshTimestamp(w.clock.now());
const creds = () => w.apps!.default;
const tokenBody = (over: Record<string, unknown> = {}) => {
  const at = now();
  return { appKey: creds().accessKey, encryption: tokenEncryption(creds().accessKey, at, creds().secretKey), timestamp: at, ...over };
};
async function signer(): Promise<SignOptions> {
  return { token: await getToken(w.app, creds(), now()), secret: creds().secretKey, timestamp: now() };
}

describe('token service', () => {
  it('Get Access Token answers the gateway envelope; while the token is valid the same one comes back', async () => {
    const r = await tokenRequest(w.app, tokenBody());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 0, msg: 'SUCCESS', business: 'apim-token-service', data: { expire: 7200 } });
    expect(r.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    w.clock.advance(600_000);
    const again = await tokenRequest(w.app, tokenBody());
    expect(again.body.data).toEqual({ accessToken: r.body.data!.accessToken, expire: 6600 });
  });

  it.each([
    ['an unknown appKey', () => ({ ...tokenBody(), appKey: 'nope' }), 1002, /appKey nope does not exist/],
    ['a wrong encryption', () => tokenBody({ encryption: 'ab'.repeat(32) }), 1003, /encryption is not SHA-256/],
    ['a timestamp 6 minutes old', () => {
      const at = w.clock.now() - 360_000;
      return tokenBody({ timestamp: at, encryption: tokenEncryption(creds().accessKey, at, creds().secretKey) });
    }, 1004, /timestamp is -360 s from the service's clock; the window is ±300 s/],
    ['a timestamp that is not epoch ms', () => tokenBody({ timestamp: '1e12' }), 1004, /timestamp must be epoch milliseconds/],
    ['no encryption', () => tokenBody({ encryption: '' }), 1202, /encryption is empty/],
    ['no appKey', () => tokenBody({ appKey: undefined }), 1202, /appKey is empty/],
    ['a body that is not an object', () => [1, 2], 1004, /must be a JSON object/],
  ])('refuses %s: 401 with its gateway code', async (_what, body, code, msg) => {
    const r = await tokenRequest(w.app, body());
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ status: code, business: 'apim-token-service', data: null });
    expect(r.body.msg).toMatch(msg);
  });

  it('refuses malformed JSON with 1004 and the gateway envelope', async () => {
    const r = await tokenRequest(w.app, '{"appKey":');
    expect(r).toMatchObject({ status: 401, body: { status: 1004, data: null } });
  });

  it('refuses a replayed encryption (1001), and a revoked app (1002)', async () => {
    const body = tokenBody();
    expect((await tokenRequest(w.app, body)).body.status).toBe(0);
    const replay = await tokenRequest(w.app, body);
    expect(replay).toMatchObject({ status: 401, body: { status: 1001 } });
    await w.store.revokeApp(creds().accessKey, w.clock.now());
    expect((await tokenRequest(w.app, tokenBody())).body.status).toBe(1002);
  });

  it('Refresh gives a new token for a full lifetime; the old one stops working, and a token of another app is refused (1204)', async () => {
    const old = await getToken(w.app, creds(), now());
    const r = await tokenRequest(w.app, tokenBody({ accessToken: old }), '/apim-token-service/v2.0/token/refresh');
    expect(r.body).toMatchObject({ status: 0, msg: 'SUCCESS', data: { expire: 7200 } });
    const fresh = r.body.data!.accessToken;
    expect(fresh).not.toBe(old);
    expect((await signedInject(w.app, 'GET', DIRS, undefined, { token: old, secret: creds().secretKey, timestamp: now() })).env.code).toBe(1203);
    expect((await signedInject(w.app, 'GET', DIRS, undefined, { token: fresh, secret: creds().secretKey, timestamp: now() })).env.code).toBe(0);
    const other = await getToken(w.app, w.apps!.other, now());
    const stolen = await tokenRequest(w.app, tokenBody({ accessToken: other }), '/apim-token-service/v2.0/token/refresh');
    expect(stolen).toMatchObject({ status: 401, body: { status: 1204 } });
  });
});

describe('signed calls', () => {
  it('accepts a signed call in both versions', async () => {
    const s = await signer();
    expect((await signedInject(w.app, 'GET', DIRS, undefined, s)).env).toMatchObject({ code: 0, msg: 'OK' });
    const r20 = await signedInject(w.app, 'GET', `${V20}/directories?action=listWorkFlowDirs&${ADMIN}`, undefined, { ...s, timestamp: now() });
    expect(r20.env).toMatchObject({ status: 0 });
  });

  it('signs the body exactly as sent: snake_case keys, odd spacing and unicode, normalised only after the check', async () => {
    const s = await signer();
    const dirId = await w.rootDir();
    const body = `{ "dir_name" : "数据 daily",\n  "parent_id": "${dirId}" }`;
    const r = await signedInject(w.app, 'POST', `${V21}/directories?action=create&${ADMIN}`, body, s);
    expect(r.env).toMatchObject({ code: 0 });
    // The same request with the body re-serialised (what a parser would see) is not what was signed.
    const tampered = await signedInject(w.app, 'POST', `${V21}/directories?action=create&${ADMIN}`, JSON.stringify(JSON.parse(body)), {
      ...s,
      timestamp: now(),
      signature: (await import('../helpers/auth.js')).signHeaders(`${V21}/directories?action=create&${ADMIN}`, body, { ...s, timestamp: now() })['apim-signature'],
    });
    expect(tampered).toMatchObject({ status: 401, env: { code: 1003, data: null } });
  });

  it('covers the query as sent: encoded values, repeated keys; a changed query is refused', async () => {
    const s = await signer();
    const url = `${V21}/flows?action=getMyFlow&${ADMIN}&keyword=a%20b%2Bc%E6%95%B0`;
    expect((await signedInject(w.app, 'GET', url, undefined, s)).env.code).toBe(0);
    const headers = (await import('../helpers/auth.js')).signHeaders(url, '', { ...s, timestamp: now() });
    const res = await w.app.inject({ method: 'GET', url: url.replace('keyword=a', 'keyword=b'), headers });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 1003 });
  });

  it.each([
    ['no headers at all', async () => null, 1202, /apim-accesstoken header is missing/],
    ['no signature', async () => ({ ...(await signer()), omit: ['apim-signature' as const] }), 1202, /apim-signature header is missing/],
    ['no timestamp', async () => ({ ...(await signer()), omit: ['apim-timestamp' as const] }), 1202, /apim-timestamp header is missing/],
    ['a wrong signature', async () => ({ ...(await signer()), signature: 'ab'.repeat(32) }), 1003, /apim-signature does not match/],
    ['the wrong secret', async () => ({ ...(await signer()), secret: 'not-the-secret' }), 1003, /apim-signature does not match/],
    ['an unknown token', async () => ({ ...(await signer()), token: 'made-up-token' }), 1203, /^The access token has expired: unknown token/],
    ['a timestamp 301 s in the future', async () => ({ ...(await signer()), timestamp: w.clock.now() + 301_000 }), 1004, /window is ±300 s/],
    ['a timestamp 301 s old', async () => ({ ...(await signer()), timestamp: w.clock.now() - 301_000 }), 1004, /window is ±300 s/],
  ])('refuses %s: 401 with the envelope and its code', async (_what, make, code, msg) => {
    const r = await signedInject(w.app, 'GET', DIRS, undefined, await make());
    expect(r.status).toBe(401);
    expect(r.env).toMatchObject({ code, data: null });
    expect(r.env.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.env.msg).toMatch(msg);
  });

  it('V2.0 answers a refused call with its own envelope', async () => {
    const r = await signedInject(w.app, 'GET', `${V20}/directories?action=listWorkFlowDirs&${ADMIN}`, undefined, null);
    expect(r.status).toBe(401);
    expect(r.env).toMatchObject({ status: 1202, data: null });
  });

  it('refuses a replayed signature inside the window (1001)', async () => {
    const s = await signer();
    expect((await signedInject(w.app, 'GET', DIRS, undefined, s)).env.code).toBe(0);
    const replay = await signedInject(w.app, 'GET', DIRS, undefined, s);
    expect(replay).toMatchObject({ status: 401, env: { code: 1001 } });
  });

  it('refuses an expired token (1203), and every token of a revoked app at once', async () => {
    const s = await signer();
    w.clock.advance(7_200_000);
    expect((await signedInject(w.app, 'GET', DIRS, undefined, { ...s, timestamp: now() })).env).toMatchObject({ code: 1203, msg: expect.stringMatching(/^The access token has expired: it expired 0 s ago; get a new one/) });
    const s2 = await signer();
    await w.store.revokeApp(creds().accessKey, w.clock.now());
    expect((await signedInject(w.app, 'GET', DIRS, undefined, s2)).env.code).toBe(1203);
  });

  it('a revoked app whose token this process just used stops working once the one-second lookup cache has passed', async () => {
    const s = await signer();
    expect((await signedInject(w.app, 'GET', DIRS, undefined, s)).env.code).toBe(0);
    await w.store.revokeApp(creds().accessKey, w.clock.now());
    w.clock.advance(1_001);
    expect((await signedInject(w.app, 'GET', DIRS, undefined, { ...s, timestamp: now() })).env.code).toBe(1203);
  });

  it("an app acts for its own org only: another org's app gets 62103 for a user of o-default", async () => {
    const other = w.apps!.other;
    const s = { token: await getToken(w.app, other, now()), secret: other.secretKey, timestamp: now() };
    const r = await signedInject(w.app, 'GET', DIRS, undefined, s);
    expect(r.env).toMatchObject({ code: 62103, data: null });
    expect(r.env.msg).toContain('acts for its own organization only');
    const own = await signedInject(w.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-eve&orgId=o-other`, undefined, { ...s, timestamp: now() });
    expect(own.env.code).toBe(0);
  });

  it('public routes need no signature: time, OpenAPI', async () => {
    expect((await w.app.inject({ method: 'GET', url: `${V21}/time?action=getCurrentTime` })).json()).toMatchObject({ code: 0 });
    expect((await w.app.inject({ method: 'GET', url: `${V20}/time?action=getTimeZone` })).json()).toMatchObject({ status: 0 });
    expect((await w.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('answers 429 with the envelope and Retry-After once an app spends its burst; another app is not affected', async () => {
    const limited = await makeWorld({ auth: true, rateLimitPerSec: 1, rateLimitBurst: 3 });
    try {
      const c = limited.apps!.default;
      const token = await getToken(limited.app, c, freshTimestamp(limited.clock.now()));
      const call = (creds = c, t = token) => signedInject(limited.app, 'GET', DIRS, undefined, { token: t, secret: creds.secretKey, timestamp: freshTimestamp(limited.clock.now()) });
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await call()).env.code);
      expect(codes.slice(0, 3)).toEqual([0, 0, 0]);
      const r = await call();
      expect(r.status).toBe(429);
      expect(r.env).toMatchObject({ code: 1006, data: null });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const o = limited.apps!.other;
      const ot = await getToken(limited.app, o, freshTimestamp(limited.clock.now()));
      const eve = await signedInject(limited.app, 'GET', `${V21}/directories?action=listWorkFlowDirs&userId=u-eve&orgId=o-other`, undefined, {
        token: ot,
        secret: o.secretKey,
        timestamp: freshTimestamp(limited.clock.now()),
      });
      expect(eve.env.code).toBe(0);
    } finally {
      await limited.close();
    }
  });
});

describe('secrets stay secret', () => {
  it('no log line and no answer carries an app secret or a whole token, whatever fails', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({ store: w.store, config: w.config, clock: w.clock, secrets: w.secrets, logger: pino({ level: 'trace' }, sink) });
    try {
      const made = await addApp(w.store, w.clock, w.secrets!, { orgId: 'o-default' });
      const token = await getToken(app, made, freshTimestamp(w.clock.now()));
      const answers: string[] = [];
      const s = { token, secret: made.secretKey };
      for (const o of [
        { ...s, timestamp: freshTimestamp(w.clock.now()) },
        { ...s, timestamp: freshTimestamp(w.clock.now()), signature: 'x' },
        { ...s, timestamp: w.clock.now() - 999_999 },
        { ...s, timestamp: freshTimestamp(w.clock.now()), secret: 'wrong' },
      ]) {
        const r = await signedInject(app, 'GET', DIRS, undefined, o);
        answers.push(JSON.stringify(r.env));
      }
      answers.push(JSON.stringify((await tokenRequest(app, { appKey: made.accessKey, encryption: 'x', timestamp: w.clock.now() })).body));
      const everything = [...lines, ...answers].join('\n');
      expect(lines.length).toBeGreaterThan(0);
      expect(everything).not.toContain(made.secretKey);
      expect(everything).not.toContain(token);
      // The store holds neither in clear.
      const row = await w.store.getApp(made.accessKey);
      expect(JSON.stringify(row)).not.toContain(made.secretKey);
    } finally {
      await app.close();
    }
  });
});
