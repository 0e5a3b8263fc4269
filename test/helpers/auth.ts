// Signed calls through inject() (contract §9): a token from the world's token service, the signature over
// the query and the exact body bytes sent, and knobs to break each part on purpose (the matrix and the
// authentication tests use them).
import type { FastifyInstance } from 'fastify';
import { requestSignature, tokenEncryption } from '../../src/domain/signature.js';
import type { Credentials } from '../../src/client/signer.js';
import type { Envelope } from './api.js';

export const TOKEN_GET = '/apim-token-service/v2.0/token/get';

export interface TokenReply {
  status: number;
  body: { status: number; msg: string; business?: string; requestId?: string; data: { accessToken: string; expire: number } | null };
}

let lastTs = 0;
/**
 * Epoch ms near `now`, never the same twice in a row (two identical requests must sign differently). A
 * `now` far behind the last one (another test's fake clock) starts over from it.
 */
export function freshTimestamp(now = Date.now()): number {
  lastTs = now > lastTs || lastTs - now > 1_000 ? now : lastTs + 1;
  return lastTs;
}

export async function tokenRequest(app: FastifyInstance, body: unknown, path = TOKEN_GET): Promise<TokenReply> {
  const res = await app.inject({ method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json() };
}

export async function getToken(app: FastifyInstance, creds: Credentials, at = freshTimestamp()): Promise<string> {
  const r = await tokenRequest(app, { appKey: creds.accessKey, encryption: tokenEncryption(creds.accessKey, at, creds.secretKey), timestamp: at });
  if (r.body.status !== 0 || !r.body.data) throw new Error(`token/get: ${JSON.stringify(r.body)}`);
  return r.body.data.accessToken;
}

export interface SignOptions {
  token: string;
  secret: string;
  timestamp?: number;
  /** Replace the computed signature. */
  signature?: string;
  /** Leave these headers out. */
  omit?: Array<'apim-accesstoken' | 'apim-signature' | 'apim-timestamp'>;
}

export function signHeaders(url: string, body: string, o: SignOptions): Record<string, string> {
  const q = url.indexOf('?');
  const timestamp = String(o.timestamp ?? freshTimestamp());
  const signature = o.signature ?? requestSignature({ accessToken: o.token, rawQuery: q < 0 ? '' : url.slice(q + 1), rawBody: body, timestamp, appSecret: o.secret });
  const h: Record<string, string> = { 'apim-accesstoken': o.token, 'apim-signature': signature, 'apim-timestamp': timestamp };
  for (const k of o.omit ?? []) delete h[k];
  return h;
}

export interface SignedReply {
  status: number;
  env: Envelope & { status?: number };
  headers: Record<string, unknown>;
}

/** One signed inject: `url` with its query as it goes on the wire, `body` the exact text sent (or none). */
export async function signedInject(app: FastifyInstance, method: 'GET' | 'POST', url: string, body: string | undefined, o: SignOptions | null): Promise<SignedReply> {
  const headers: Record<string, string> = o ? signHeaders(url, body ?? '', o) : {};
  if (body !== undefined) headers['content-type'] = 'application/json;charset=UTF-8';
  const res = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
  return { status: res.statusCode, env: res.json(), headers: res.headers };
}
