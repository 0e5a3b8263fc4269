// Verifying a signed API call (contract §9): the three apim-* headers, the timestamp window, the token
// (known, unexpired, its app live), the signature over the raw query and raw body as received, and last
// the replay record, so that only a request that proved the secret can use up its signature.
import { parseTimestamp, requestSignature, sameDigest, withinWindow } from '../../domain/signature.js';
import type { App } from '../../domain/types.js';
import type { Deps } from '../context.js';
import { AuthError } from './errors.js';
import type { SecretBox } from './secretBox.js';
import { tokenHashOf } from './tokens.js';

export interface SignedRequest {
  headers: Record<string, string | string[] | undefined>;
  /** What follows `?` in the request line, as received. */
  rawQuery: string;
  /** The body's bytes as received; empty for none. */
  rawBody: Buffer;
}

function header(req: SignedRequest, name: string): string {
  const v = req.headers[name];
  if (v === undefined || v === '') throw new AuthError(1202, `the ${name} header is missing: sign the request (apim-accesstoken, apim-signature, apim-timestamp)`);
  if (Array.isArray(v)) throw new AuthError(1004, `the ${name} header is sent more than once`);
  return v;
}

/** The app that signed `req`; AuthError otherwise. */
export async function verifySignedCall(deps: Deps, box: SecretBox, req: SignedRequest): Promise<App> {
  const token = header(req, 'apim-accesstoken');
  const signature = header(req, 'apim-signature').toLowerCase();
  const rawTs = header(req, 'apim-timestamp');
  const ts = parseTimestamp(rawTs);
  if (ts === null) throw new AuthError(1004, 'apim-timestamp must be epoch milliseconds');
  const now = deps.clock.now();
  const window = deps.config.signatureWindowMs;
  if (!withinWindow(ts, now, window)) throw new AuthError(1004, `apim-timestamp is ${Math.round((ts - now) / 1000)} s from the service's clock; the window is ±${window / 1000} s`);
  const found = await deps.store.findToken(tokenHashOf(token));
  if (!found || found.app.revokedAt !== null) throw new AuthError(1203, 'unknown token (never issued, refreshed, expired and purged, or its app revoked); get a new one (token/get)');
  if (found.token.expiresAt <= now) throw new AuthError(1203, `it expired ${Math.round((now - found.token.expiresAt) / 1000)} s ago; get a new one (token/get) or refresh it`);
  const expected = requestSignature({ accessToken: token, rawQuery: req.rawQuery, rawBody: req.rawBody, timestamp: rawTs, appSecret: box.open(found.app.secretSealed, found.app.accessKey) });
  if (!sameDigest(signature, expected)) {
    throw new AuthError(1003, 'apim-signature does not match the request: sign accessToken + sorted query (key+value, decoded) + the body exactly as sent + apim-timestamp + appSecret');
  }
  if (!(await deps.store.rememberNonce(`sig:${signature}`, ts + window + 1))) throw new AuthError(1001, 'this signature was used before (a replay): sign each request anew');
  return found.app;
}
