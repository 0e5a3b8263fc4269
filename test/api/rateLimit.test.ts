// The per-app token bucket: a burst, then one call per 1/rate seconds, each app its own bucket, the wait
// it reports, and 0 as "no limit".
import { expect, it } from 'vitest';
import { RateLimiter } from '../../src/api/rateLimit.js';

it('allows a burst, then refills at the rate; each key has its own bucket', () => {
  const l = new RateLimiter(2, 3);
  const at = (t: number, key = 'a') => l.take(key, t).ok;
  expect([at(0), at(0), at(0), at(0)]).toEqual([true, true, true, false]);
  expect(l.take('a', 0)).toEqual({ ok: false, retryAfterMs: 500 });
  expect(at(0, 'b')).toBe(true);
  expect(at(499)).toBe(false);
  expect(at(500)).toBe(true);
  expect(at(500)).toBe(false);
  // A long quiet spell refills up to the burst, never beyond.
  expect([at(60_000), at(60_000), at(60_000), at(60_000)]).toEqual([true, true, true, false]);
});

it('a rate of 0 never limits', () => {
  const l = new RateLimiter(0, 1);
  expect(l.enabled).toBe(false);
  for (let i = 0; i < 1000; i++) expect(l.take('a', 0).ok).toBe(true);
});
