// Per-app rate limiting (contract §1: 429 with the envelope): a token bucket per access key in this
// process's memory, refilled at `perSec` up to `burst`. Several API processes each keep their own
// buckets, so a deployment's limit per app is this times the API processes (docs/security.md).
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
  ) {}

  get enabled(): boolean {
    return this.perSec > 0;
  }

  /** Takes one call's token for `key` at `now`; false (and the wait in ms) when the bucket is empty. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (!this.enabled) return { ok: true };
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 100_000) this.sweep(now);
      this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.perSec) / 1000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) * 1000) / this.perSec) };
  }

  /** Forgets buckets that have refilled completely (they hold nothing a new bucket would not). */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.at) * this.perSec) / 1000 >= this.burst) this.buckets.delete(k);
  }
}

/** A call refused by the limiter: 429, with Retry-After. */
export class RateLimitedError extends Error {
  override readonly name: string = 'RateLimitedError';
  constructor(readonly retryAfterMs: number) {
    super(`this app's limit is reached; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}
