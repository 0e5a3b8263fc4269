// The gateway's signing algorithms (contract §9, reference §3.2), as pure functions over bytes: the token
// request's `encryption`, and the per-request `apim-signature` over the raw query and the raw body as
// received. Comparison in constant time. Used by the service to verify and by the CLI to sign.
import { createHash, timingSafeEqual } from 'node:crypto';
import { paramsData } from './paramsData.js';

/** lowercaseHex(SHA256(appKey + timestamp + appSecret)): Get Access Token's `encryption`. */
export function tokenEncryption(appKey: string, timestamp: string | number, appSecret: string): string {
  return createHash('sha256').update(`${appKey}${timestamp}${appSecret}`, 'utf8').digest('hex');
}

export { paramsData };

export interface SignedParts {
  accessToken: string;
  /** The raw query string (without `?`). */
  rawQuery: string;
  /** The body's bytes exactly as sent (empty for none). */
  rawBody: Buffer | string;
  /** `apim-timestamp` as sent (epoch ms, decimal). */
  timestamp: string;
  appSecret: string;
}

/** lowercaseHex(SHA256(accessToken + paramsData + rawBody + timestamp + appSecret)). */
export function requestSignature(p: SignedParts): string {
  const h = createHash('sha256');
  h.update(p.accessToken, 'utf8');
  h.update(paramsData(p.rawQuery), 'utf8');
  // Bytes, not a re-encoded string: a body that is not valid UTF-8 is still signed as it was sent.
  if (typeof p.rawBody === 'string') h.update(p.rawBody, 'utf8');
  else h.update(p.rawBody);
  h.update(p.timestamp, 'utf8');
  h.update(p.appSecret, 'utf8');
  return h.digest('hex');
}

/** Equality of two hex digests without a timing side channel (false for different lengths). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An epoch-ms timestamp header or field: decimal digits only, else null. */
export function parseTimestamp(raw: unknown): number | null {
  const s = typeof raw === 'number' ? String(raw) : raw;
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) return null;
  return Number(s);
}

/** Whether `ts` lies within `windowMs` of `now`, either side. */
export const withinWindow = (ts: number, now: number, windowMs: number): boolean => Math.abs(now - ts) <= windowMs;
