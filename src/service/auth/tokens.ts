// The token service (contract §9, reference §3.2): Get Access Token answers an app's valid token, or
// issues one, for a fresh `encryption` over its key, a timestamp within the window and its secret;
// Refresh replaces a token of the app by a new one. Checks in the order whose answer leaks least: the
// app, the timestamp, the encryption, and only then the replay record (nobody can burn another's nonce).
import { createHash, randomBytes } from 'node:crypto';
import { sameDigest, tokenEncryption } from '../../domain/signature.js';
import type { AccessToken, App } from '../../domain/types.js';
import type { Deps } from '../context.js';
import { AuthError, checkedTimestamp } from './errors.js';
import type { SecretBox } from './secretBox.js';

export interface TokenAnswer {
  accessToken: string;
  /** Seconds the token stays valid. */
  expire: number;
}

export const tokenHashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null || v === '') throw new AuthError(1202, `${name} is empty`);
  if (typeof v !== 'string' && !(typeof v === 'number' && name === 'timestamp')) throw new AuthError(1004, `${name} must be a string`);
  return String(v);
}

/** The app of a token request, after its key, timestamp and encryption checked out and were not seen before. */
async function checkedApp(deps: Deps, box: SecretBox, body: unknown): Promise<App> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AuthError(1004, 'the body must be a JSON object {appKey, encryption, timestamp}');
  const b = body as Record<string, unknown>;
  const appKey = field(b, 'appKey');
  const encryption = field(b, 'encryption');
  const rawTs = field(b, 'timestamp');
  const app = await deps.store.getApp(appKey);
  if (!app || app.revokedAt !== null) throw new AuthError(1002, `appKey ${appKey.slice(0, 64)} does not exist`);
  const window = deps.config.signatureWindowMs;
  const ts = checkedTimestamp(rawTs, 'timestamp', deps.clock.now(), window);
  if (!sameDigest(encryption.toLowerCase(), tokenEncryption(appKey, rawTs, box.open(app.secretSealed, app.accessKey)))) {
    throw new AuthError(1003, 'encryption is not SHA-256 of appKey + timestamp + appSecret');
  }
  if (!(await deps.store.rememberNonce(`enc:${encryption.toLowerCase()}`, ts + window + 1))) throw new AuthError(1001, 'this encryption was used before: make a new one with a new timestamp');
  return app;
}

function newToken(box: SecretBox, accessKey: string, now: number, ttlSec: number): { record: AccessToken; token: string } {
  const token = randomBytes(24).toString('base64url');
  const tokenHash = tokenHashOf(token);
  return { token, record: { tokenHash, accessKey, tokenSealed: box.seal(token, tokenHash), issuedAt: now, expiresAt: now + ttlSec * 1000 } };
}

const answerOf = (box: SecretBox, t: AccessToken, now: number): TokenAnswer => ({
  accessToken: box.open(t.tokenSealed, t.tokenHash),
  expire: Math.max(0, Math.floor((t.expiresAt - now) / 1000)),
});

export async function getAccessToken(deps: Deps, box: SecretBox, body: unknown): Promise<TokenAnswer> {
  const app = await checkedApp(deps, box, body);
  const now = deps.clock.now();
  // A token about to expire is not handed out again: the caller gets at least a minute of use.
  const got = await deps.store.tokenFor(app.accessKey, now + 60_000, () => newToken(box, app.accessKey, now, deps.config.tokenTtlSec).record);
  if (!got) throw new AuthError(1002, `appKey ${app.accessKey} does not exist`);
  return answerOf(box, got.token, now);
}

export async function refreshAccessToken(deps: Deps, box: SecretBox, body: unknown): Promise<TokenAnswer> {
  const app = await checkedApp(deps, box, body);
  const old = (body as Record<string, unknown>).accessToken;
  if (typeof old !== 'string' || old === '') throw new AuthError(1202, 'accessToken is empty');
  const now = deps.clock.now();
  const next = newToken(box, app.accessKey, now, deps.config.tokenTtlSec);
  if (!(await deps.store.replaceToken(tokenHashOf(old), next.record))) throw new AuthError(1204, 'accessToken is not a token of this app (or was already refreshed)');
  return { accessToken: next.token, expire: deps.config.tokenTtlSec };
}
