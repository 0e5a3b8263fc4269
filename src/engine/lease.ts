// An engine's identity in the store (contract §5): it registers (id, host, pid, start time) and renews a
// lease by heartbeat. A renewal refused means another engine found the lease expired and took over this
// engine's attempts: the engine is told (onLost), stops what it runs, and registers again under a new id.
// A renewal that fails (store error) is tried again at the next beat; it never stops the engine.
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
  onLost: (oldId: string) => void;
  onError: (e: unknown) => void;
}

export class Lease {
  id = '';
  private timer: unknown = null;
  private stopped = false;
  private beating: Promise<void> | null = null;

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
    return id;
  }

  start(): void {
    this.arm();
  }

  /** Stops renewing; `release` marks the engine stopped in the store (a graceful end). */
  async stop(release: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.d.timers.clearTimeout(this.timer);
    this.timer = null;
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
    let renewed: boolean;
    try {
      renewed = await this.d.store.renewEngineLease(this.id, now, now + this.d.leaseMs);
    } catch (e) {
      this.d.onError(e);
      return;
    }
    if (renewed || this.stopped) return;
    const old = this.id;
    this.d.onLost(old);
    // A new identity: keep trying until the store takes it (each failure waits for the next beat).
    try {
      await this.register();
    } catch (e) {
      this.d.onError(e);
    }
  }
}
