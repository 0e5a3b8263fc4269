// The engine's one loop: keyed work items (start flow 12, commit the pending ends, claim, check instance X,
// ...) run one at a time, most urgent first. An item is a request to re-derive a decision from the store,
// so adding a key that is already pending merges into it, and a failed item is simply run again later:
// with backoff (10 ms doubling to 5 s) per key, so that one failing decision never blocks the others and
// a store that is down is not hammered. Nothing here throws to its caller, and nothing is ever dropped.
import type { Clock, Timers } from '../domain/clock.js';

export interface WorkFailure {
  key: string;
  error: unknown;
  /** Failures in a row of this key (1 on the first). */
  failures: number;
  retryInMs: number;
}

interface Item {
  key: string;
  priority: number;
  run: (failures: number) => Promise<void>;
  notBefore: number;
  failures: number;
}

export const BACKOFF_MIN_MS = 10;
export const BACKOFF_MAX_MS = 5_000;

export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1));
}

export class WorkLoop {
  private readonly items = new Map<string, Item>();
  /** A key added again while it ran: run it once more after it finishes. */
  private readonly again = new Map<string, Item>();
  private running: string | null = null;
  private draining = false;
  private timer: unknown = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onFailure: (f: WorkFailure) => void,
    /** Told after every run of an item, failed or not, with its wall-clock duration (the step latency metric). */
    private readonly onDone?: (key: string, ms: number, ok: boolean) => void,
  ) {}

  /**
   * Asks for `run` under `key`; lower priorities run first, ties in the order added. A key already
   * pending keeps its place and its backoff, and takes the newest `run`.
   */
  add(key: string, priority: number, run: (failures: number) => Promise<void>): void {
    if (this.stopped) return;
    const pending = this.items.get(key);
    if (pending) {
      pending.run = run;
      pending.priority = Math.min(pending.priority, priority);
    } else if (this.running === key) {
      const prev = this.again.get(key);
      this.again.set(key, { key, priority, run, notBefore: prev?.notBefore ?? 0, failures: prev?.failures ?? 0 });
    } else {
      this.items.set(key, { key, priority, run, notBefore: 0, failures: 0 });
    }
    this.kick();
  }

  /** Nothing pending or running (items waiting for their backoff count as pending). */
  idle(): boolean {
    return this.items.size === 0 && this.running === null && this.again.size === 0;
  }

  /**
   * Working now. Items waiting out a backoff do not count: their timer wakes the loop (an add() starts
   * the drain at once, so a ready item is always being drained, or waits for that timer).
   */
  busy(): boolean {
    return this.draining || this.running !== null;
  }

  /** What is pending, for a diagnosis ("key(failures, due in ms)"). */
  describe(): string {
    const now = this.clock.now();
    const items = [...this.items.values()].map((it) => `${it.key}(${it.failures}, ${it.notBefore - now} ms)`);
    return `${this.running ? `running ${this.running}; ` : ''}${items.join(', ') || 'nothing pending'}`;
  }

  /** Runs nothing more (the item in progress finishes). */
  stop(): void {
    this.stopped = true;
    this.items.clear();
    this.again.clear();
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    if (!this.draining && !this.stopped) void this.drain();
  }

  private next(now: number): Item | null {
    let best: Item | null = null;
    for (const it of this.items.values()) {
      if (it.notBefore > now) continue;
      if (best === null || it.priority < best.priority) best = it;
    }
    return best;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (;;) {
        if (this.stopped) return;
        const item = this.next(this.clock.now());
        if (!item) break;
        this.items.delete(item.key);
        this.running = item.key;
        const startedHr = performance.now();
        try {
          await item.run(item.failures);
          item.failures = 0;
          this.done(item.key, startedHr, true);
        } catch (error) {
          this.done(item.key, startedHr, false);
          item.failures++;
          const retryInMs = backoffMs(item.failures);
          item.notBefore = this.clock.now() + retryInMs;
          try {
            this.onFailure({ key: item.key, error, failures: item.failures, retryInMs });
          } catch {
            /* a failing listener must not stop the loop */
          }
          // Run it again later, merged with whatever was asked meanwhile.
          const asked = this.again.get(item.key);
          this.items.set(item.key, asked ? { ...asked, notBefore: item.notBefore, failures: item.failures } : item);
          this.again.delete(item.key);
        } finally {
          this.running = null;
        }
        const asked = this.again.get(item.key);
        if (asked) {
          this.again.delete(item.key);
          this.items.set(item.key, { ...asked, failures: Math.max(asked.failures, item.failures) });
        }
      }
    } finally {
      this.draining = false;
    }
    this.armForBackoff();
  }

  private done(key: string, startedHr: number, ok: boolean): void {
    try {
      this.onDone?.(key, performance.now() - startedHr, ok);
    } catch {
      /* a failing listener must not stop the loop */
    }
  }

  /** Items waiting out a backoff: wake up when the first is due. */
  private armForBackoff(): void {
    let at = Infinity;
    for (const it of this.items.values()) at = Math.min(at, it.notBefore);
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.kick();
    }, Math.max(0, at - this.clock.now()));
  }
}
