// Virtual time for the simulator: one clock, and timer domains (one per engine incarnation, one for the
// host's processes, one for the scenario) that all queue on it. A crash kills its engine's domain: its
// timers never fire. Timers due at the same instant fire in the order they were set.
import type { Clock, Timers } from '../../src/domain/clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  domain: TimerDomain;
  cancelled: boolean;
}

export class TimerDomain implements Timers {
  dead = false;
  constructor(
    readonly name: string,
    private readonly vt: VirtualTime,
  ) {}
  setTimeout(fn: () => void, ms: number): unknown {
    return this.vt.schedule(this, fn, Math.max(0, ms));
  }
  clearTimeout(handle: unknown): void {
    if (handle) (handle as Entry).cancelled = true;
  }
  /** No timer of this domain fires any more. */
  kill(): void {
    this.dead = true;
  }
}

export class VirtualTime implements Clock {
  private t: number;
  private seq = 0;
  private queue: Entry[] = [];
  private stopped = false;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  domain(name: string): TimerDomain {
    return new TimerDomain(name, this);
  }

  schedule(domain: TimerDomain, fn: () => void, ms: number): Entry {
    if (this.stopped) return { at: Infinity, seq: -1, fn, domain, cancelled: true };
    const e: Entry = { at: this.t + ms, seq: this.seq++, fn, domain, cancelled: false };
    // Keep the queue sorted by (at, seq): binary search for the insertion point.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid]!;
      if (q.at < e.at || (q.at === e.at && q.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, e);
    return e;
  }

  private prune(): void {
    while (this.queue.length > 0 && (this.queue[0]!.cancelled || this.queue[0]!.domain.dead)) this.queue.shift();
  }

  /** The run is over: no timer fires any more. */
  stop(): void {
    this.queue = [];
    this.stopped = true;
  }

  /** When the next live timer fires, or null. */
  nextAt(): number | null {
    this.prune();
    return this.queue[0]?.at ?? null;
  }

  /** Advances to the next timer and runs it; false when there is none. */
  runNext(): boolean {
    this.prune();
    const e = this.queue.shift();
    if (!e) return false;
    this.t = Math.max(this.t, e.at);
    e.fn();
    return true;
  }

  /** Moves the clock forward without running anything (never backwards). */
  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
  }
}
