// An engine's identity in the store (contract §5): it registers (id, host, pid, start time) and renews a
// lease by heartbeat. A renewal refused means another engine found the lease expired and took over this
// engine's attempts: the engine is told (onLost), stops what it runs, and registers again under a new id.
// A renewal that fails (store error) is tried again at the next beat; it never stops the engine, until
// the lease it last renewed is about to run out (one heartbeat before): then the engine fences itself
// (onLost: it kills its attempts), because from the lease's end on any other engine may recover them and
// start their retries. An attempt and its retry never overlap so long as clocks differ by less than a
// heartbeat. Once the store answers again the engine registers anew.
import type { Clock, Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { Host } from './host.js';

export interface LeaseDeps {
  store: Store;
  clock: Clock;
  timers: Timers;
  host: Host;
  heartbeatMs: number;
  leaseMs: number;
  newId: () => string;
  /** The identity is gone: taken over by another engine, or fenced (the lease ran out unrenewed). */
  onLost: (oldId: string, why: 'taken over' | 'fenced') => void;
  onError: (e: unknown) => void;
  onRegistered?: (id: string) => void;
  /**
   * Fence (see the header) when the lease is about to run out unrenewed. On for a store several processes
   * share; off for the embedded store, where one process is the only engine and a store that fails for a
   * while must not cost it its running tasks.
   */
  fence: boolean;
}

export class Lease {
  id = '';
  private timer: unknown = null;
  private stopped = false;
  private beating: Promise<void> | null = null;
  /** The end of the lease as last renewed, by this process's clock (from before the renewal was sent). */
  private validUntil = 0;
  private fenceTimer: unknown = null;
  /** Fenced: the old identity is given up; the next beat registers a new one. */
  private fenced = false;

  constructor(private readonly d: LeaseDeps) {}

  /** Registers a new identity (a new id each time: an id is never live twice). */
  async register(): Promise<string> {
    const now = this.d.clock.now();
    const id = this.d.newId();
    await this.d.store.registerEngine({
      id,
      host: this.d.host.name,
      pid: this.d.host.pid,
      procStart: this.d.host.procStart,
      startedAt: now,
      heartbeatAt: now,
      leaseUntil: now + this.d.leaseMs,
      state: 'live',
      endedAt: null,
    });
    this.id = id;
    this.fenced = false;
    this.renewed(now);
    this.d.onRegistered?.(id);
    return id;
  }

  private renewed(sentAt: number): void {
    this.validUntil = sentAt + this.d.leaseMs;
    if (this.fenceTimer !== null) this.d.timers.clearTimeout(this.fenceTimer);
    this.fenceTimer = null;
    if (this.stopped || !this.d.fence) return;
    const at = this.validUntil - this.d.heartbeatMs;
    this.fenceTimer = this.d.timers.setTimeout(() => {
      this.fenceTimer = null;
      if (this.stopped || this.fenced || this.d.clock.now() < at) return;
      this.fenced = true;
      this.d.onLost(this.id, 'fenced');
    }, Math.max(0, at - this.d.clock.now()));
  }

  /** False while fenced: claims made now would name an identity given up. */
  get usable(): boolean {
    return this.id !== '' && !this.fenced;
  }

  start(): void {
    this.arm();
  }

  /** Stops renewing; `release` marks the engine stopped in the store (a graceful end). */
  async stop(release: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.d.timers.clearTimeout(this.timer);
    if (this.fenceTimer !== null) this.d.timers.clearTimeout(this.fenceTimer);
    this.timer = null;
    this.fenceTimer = null;
    await this.beating;
    if (release && this.id) await this.d.store.stopEngine(this.id, this.d.clock.now()).catch((e: unknown) => this.d.onError(e));
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.d.timers.setTimeout(() => {
      this.timer = null;
      this.beating = this.beat().finally(() => {
        this.beating = null;
        this.arm();
      });
    }, this.d.heartbeatMs);
  }

  private async beat(): Promise<void> {
    const now = this.d.clock.now();
    let renewed = false;
    if (!this.fenced) {
      try {
        renewed = await this.d.store.renewEngineLease(this.id, now, now + this.d.leaseMs);
      } catch (e) {
        this.d.onError(e);
        return;
      }
      if (renewed) this.renewed(now);
      if (renewed || this.stopped) return;
      this.d.onLost(this.id, 'taken over');
    }
    if (this.stopped) return;
    // A new identity: keep trying until the store takes it (each failure waits for the next beat).
    try {
      await this.register();
    } catch (e) {
      this.d.onError(e);
    }
  }
}
