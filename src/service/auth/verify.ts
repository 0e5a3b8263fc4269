// Verifying a signed API call (contract §9): the three apim-* headers, the timestamp window, the token
// (known, unexpired, its app live), the signature over the raw query and raw body as received, and last
// the replay record, so that only a request that proved the secret can use up its signature. Token
// lookups are cached for a second per process and replay records written in batches: a signed call
// costs one read a second per token and a share of one write per event-loop turn, not a commit each.
import { requestSignature, sameDigest } from '../../domain/signature.js';
import type { AccessToken, App } from '../../domain/types.js';
import type { Deps } from '../context.js';
import { AuthError, checkedTimestamp } from './errors.js';
import { ReplayGuard } from './replayGuard.js';
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

/** How long a process trusts a token lookup: a revoked app or a refreshed token stops working within this. */
export const TOKEN_CACHE_MS = 1_000;

interface Known {
  token: AccessToken;
  app: App;
  secret: string;
  until: number;
}

export interface Verifier {
  /** The app that signed `req`; AuthError otherwise. */
  verify(req: SignedRequest): Promise<App>;
}

/**
 * One per API process: token lookups (with the app's opened secret) kept for TOKEN_CACHE_MS, and the
 * replay record written in batches (ReplayGuard). The store stays the truth for both.
 */
export function createVerifier(deps: Deps, box: SecretBox): Verifier {
  const known = new Map<string, Known>();
  const replays = new ReplayGuard(deps.store);
  const lookup = async (hash: string, now: number): Promise<Known | null> => {
    const k = known.get(hash);
    if (k && k.until > now) return k;
    const found = await deps.store.findToken(hash);
    if (!found || found.app.revokedAt !== null) {
      known.delete(hash);
      return null;
    }
    if (known.size >= 10_000) known.clear();
    const entry = { ...found, secret: box.open(found.app.secretSealed, found.app.accessKey), until: now + TOKEN_CACHE_MS };
    known.set(hash, entry);
    return entry;
  };
  return {
    async verify(req) {
      const token = header(req, 'apim-accesstoken');
      const signature = header(req, 'apim-signature').toLowerCase();
      const rawTs = header(req, 'apim-timestamp');
      const now = deps.clock.now();
      const window = deps.config.signatureWindowMs;
      const ts = checkedTimestamp(rawTs, 'apim-timestamp', now, window);
      const found = await lookup(tokenHashOf(token), now);
      if (!found) throw new AuthError(1203, 'unknown token (never issued, refreshed, expired and purged, or its app revoked); get a new one (token/get)');
      if (found.token.expiresAt <= now) throw new AuthError(1203, `it expired ${Math.round((now - found.token.expiresAt) / 1000)} s ago; get a new one (token/get) or refresh it`);
      const expected = requestSignature({ accessToken: token, rawQuery: req.rawQuery, rawBody: req.rawBody, timestamp: rawTs, appSecret: found.secret });
      if (!sameDigest(signature, expected)) {
        throw new AuthError(1003, 'apim-signature does not match the request: sign accessToken + sorted query (key+value, decoded) + the body exactly as sent + apim-timestamp + appSecret');
      }
      if (!(await replays.remember(`sig:${signature}`, ts + window + 1))) throw new AuthError(1001, 'this signature was used before (a replay): sign each request anew');
      return found.app;
    },
  };
}
