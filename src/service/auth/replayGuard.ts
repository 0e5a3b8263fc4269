// The replay record of signed calls, written in batches: the nonces of the calls that arrive within one
// turn of the event loop go to the store in one statement (one commit instead of one per call), each
// caller told whether its nonce was new. A nonce twice in one batch: the second is a replay.
import type { Store } from '../../store/store.js';

interface Waiter {
  nonce: string;
  expiresAt: number;
  resolve(fresh: boolean): void;
  reject(err: unknown): void;
}

export class ReplayGuard {
  private pending: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly store: Store) {}

  /** Resolves true when `nonce` was not seen before (it is recorded now), false for a replay. */
  remember(nonce: string, expiresAt: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ nonce, expiresAt, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    const first = new Map<string, Waiter>();
    const repeats: Waiter[] = [];
    for (const w of batch) {
      if (first.has(w.nonce)) repeats.push(w);
      else first.set(w.nonce, w);
    }
    for (const w of repeats) w.resolve(false);
    try {
      const fresh = await this.store.rememberNonces([...first.values()].map((w) => ({ nonce: w.nonce, expiresAt: w.expiresAt })));
      for (const w of first.values()) w.resolve(fresh.has(w.nonce));
    } catch (err) {
      for (const w of first.values()) w.reject(err);
    }
  }
}
