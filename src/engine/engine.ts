// The engine: starts due flow instances one at a time per flow, runs their ready tasks within the worker
// concurrency, turns each attempt's end into the next decision, and recovers the attempts of engines that
// died. The store is the truth: every decision is one guarded transaction derived from the store's rows
// (steps.ts, planned by src/domain/plan.ts); store events, timers and process exits only say *when* to
// decide (wakeups), and a failed decision is retried with backoff (workLoop.ts), never dropped. What the
// engine holds in memory is a cache it can lose at any moment, except the processes it spawned and their
// ends not yet committed (attempts.ts). It talks to the store only, never to HTTP.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { systemClock, systemTimers, timerDelay, type Clock, type Timers } from '../domain/clock.js';
import { StaleError } from '../domain/errors.js';
import type { Store, StoreEvent } from '../store/store.js';
import { attemptKey, Attempts } from './attempts.js';
import { ResourceLimits, type LimitsStatus } from './cgroups.js';
import { EngineEmitter } from './events.js';
import type { Executor } from './executor.js';
import { localHost, type Host } from './host.js';
import { InstanceCache } from './instanceCache.js';
import { Lease } from './lease.js';
import { goneEngines, recoverAttempt, takeOver } from './recovery.js';
import { createExecutor, type SpawnerEvent } from './spawnerExecutor.js';
import { prepareIsolation, type Isolation } from './workDirs.js';
import { claim, commitEnds, settleReferences, settleStalled, startFlow, type PendingEnd, type StepContext, type StepResult } from './steps.js';
import { WorkLoop } from './workLoop.js';
import { attachEngineLog } from './engineLog.js';

export interface EngineDeps {
  store: Store;
  config: Config;
  clock?: Clock;
  timers?: Timers;
  logger: Logger;
  /** Spawns the task processes (default: the spawner helper, or direct spawns). */
  executor?: Executor;
  /** Process facts of this host (default: /proc). */
  host?: Host;
  /** Engine ids (default: random UUIDs). */
  newId?: () => string;
}

/** Work priorities: lower runs first. */
const P = { ends: 0, start: 1, claim: 2, record: 3, stall: 4, sweep: 5, recover: 6 } as const;
const STALLED_PER_SWEEP = 100;

export class Engine {
  readonly events = new EngineEmitter();
  private readonly store: Store;
  private readonly config: Config;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly host: Host;
  private readonly loop: WorkLoop;
  private readonly cache: InstanceCache;
  private readonly lease: Lease;
  private readonly attempts: Attempts;
  private readonly pendingEnds = new Map<string, PendingEnd>();
  /** Attempts of gone engines being killed before their LOST end (not to start twice). */
  private readonly recovering = new Set<string>();
  private executor: Executor | null;
  /** Who tasks run as and where (made at start: it may create an OS user and directories). */
  private isolation: Isolation | null = null;
  /** cpu and memory limits of tasks (found at start: control groups, or off). */
  private limits: ResourceLimits | null = null;
  private storeId = '';
  private stopping = false;
  private started = false;
  private unsubscribe: (() => void) | null = null;
  private wakeTimer: unknown = null;
  private wakeAt = Infinity;
  private sweepTimer: unknown = null;
  private readonly ctx: StepContext;

  constructor(deps: EngineDeps) {
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemTimers;
    this.log = deps.logger;
    this.host = deps.host ?? localHost(deps.config.hostName);
    this.executor = deps.executor ?? null;
    this.cache = new InstanceCache(deps.config.timezone);
    this.loop = new WorkLoop(this.clock, this.timers, (f) => {
      const msg = `engine step ${f.key} failed (${f.failures} in a row); retrying in ${f.retryInMs} ms`;
      if (f.failures >= 5) this.log.error({ err: f.error, key: f.key, failures: f.failures }, msg);
      else this.log.warn({ err: f.error, key: f.key, failures: f.failures }, msg);
      this.events.emit('stepFailed', { where: f.key, error: f.error, failures: f.failures });
    }, (where, ms, ok) => this.events.emit('stepDone', { where, ms, ok }));
    attachEngineLog(this.events, this.log);
    const newId = deps.newId ?? (() => randomUUID());
    this.lease = new Lease({
      store: this.store,
      clock: this.clock,
      timers: this.timers,
      host: this.host,
      heartbeatMs: this.config.engineHeartbeatMs,
      leaseMs: this.config.engineLeaseMs,
      fence: this.config.databaseUrl !== '',
      newId,
      onLost: (old, why) => this.leaseLost(old, why),
      onError: (e) => this.log.warn({ err: e }, 'engine heartbeat failed; trying again at the next beat'),
      onRegistered: (engineId) => this.events.emit('registered', { engineId }),
    });
    this.attempts = new Attempts({
      store: this.store,
      config: this.config,
      timers: this.timers,
      executor: () => this.executor!,
      storeId: () => this.storeId,
      isolation: () => this.isolation!,
      limits: () => (this.limits?.status.enforced ? this.limits : null),
      onStarted: (c, s, spawnHr) => {
        const hr = performance.now();
        this.events.emit('taskStarted', { instanceId: c.instanceId, taskInstanceId: c.taskInstanceId, runNum: c.runNum, pid: s?.pid ?? 0, at: this.clock.now(), spawnHr, spawnedHr: s?.hr ?? hr, hr });
      },
      onStillRunning: (c, s) => this.recordProcess(c.taskInstanceId, c.runNum, s),
      onEnded: (end) => {
        this.pendingEnds.set(attemptKey(end.taskInstanceId, end.runNum), end);
        this.loop.add('ends', P.ends, () => this.commitPendingEnds());
      },
      onLogError: (c, e) => this.log.warn({ err: e, taskInstanceId: c.taskInstanceId }, 'log append failed; the text is kept and written later'),
    });
    this.ctx = {
      store: this.store,
      config: this.config,
      cache: this.cache,
      engineId: () => this.lease.id,
      freeSlots: () => (this.stopping || !this.lease.usable ? 0 : this.config.workerConcurrency - this.attempts.count()),
      now: () => this.clock.now(),
    };
  }

  /** Where attempts' working directories are made (known once started). */
  get workRoot(): string {
    return this.isolation?.workDirs.root ?? '';
  }

  /** Whether tasks' cpu and memory limits are enforced here (null until started), for /readyz. */
  get limitsStatus(): LimitsStatus | null {
    return this.limits?.status ?? null;
  }

  /** The engine's id in the store (changes if it ever loses its lease). */
  get id(): string {
    return this.lease.id;
  }

  /** Registers, then recovers what gone engines left and serves due work. */
  async start(): Promise<void> {
    // Before anything runs: a missing task user or an unsafe work root refuses the start (StartupError).
    this.isolation ??= await prepareIsolation(this.config, this.log);
    this.storeId = await this.store.storeId();
    if (!this.limits) {
      // Found once: control groups for tasks' cpu and memory limits, or why not (said once, and in /readyz).
      this.limits = ResourceLimits.setUp(this.config, this.storeId);
      const st = this.limits.status;
      if (st.enforced) this.log.info({ cgroup: st.cgroup }, `task cpu and memory limits are enforced with control groups (cgroup ${st.cgroup})`);
      else this.log.warn({ reason: st.reason }, `task cpu and memory limits are NOT enforced: tasks run without them (${st.reason})`);
    }
    await this.lease.register();
    this.executor ??= createExecutor(this.config.spawner, (e) => this.onSpawnerEvent(e));
    this.unsubscribe = this.store.onEvent((e) => this.onStoreEvent(e));
    this.lease.start();
    this.sweep();
    this.loop.add('recover', P.recover, () => this.recoverGoneEngines());
    this.armSweep();
    this.started = true;
  }

  /** For the readiness probe: running from the end of start() until stop(); fenced while its lease is not usable. */
  get state(): 'starting' | 'running' | 'fenced' | 'stopped' {
    if (this.stopping) return 'stopped';
    if (!this.started) return 'starting';
    return this.lease.usable ? 'running' : 'fenced';
  }

  /**
   * Graceful stop: claims nothing more, lets running attempts finish for up to `graceMs`, then stops
   * them (they go back to READY and run again on the next start), commits their ends, and releases.
   */
  async stop(graceMs = this.config.shutdownGraceMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.wakeTimer !== null) this.timers.clearTimeout(this.wakeTimer);
    if (this.sweepTimer !== null) this.timers.clearTimeout(this.sweepTimer);
    const deadline = this.clock.now() + graceMs;
    while (this.attempts.count() > 0 && this.clock.now() < deadline) await this.pause(Math.min(50, deadline - this.clock.now()));
    if (this.attempts.count() > 0) {
      this.log.warn({ attempts: this.attempts.count() }, 'shutdown grace period over: stopping running tasks; they run again on restart');
      this.attempts.stopAll('shutdown');
    }
    // Their ends are committed by the loop (retried while the store fails, for a bounded time).
    const endBy = this.clock.now() + Math.max(10_000, this.config.killGraceMs * 2);
    while ((this.attempts.count() > 0 || this.pendingEnds.size > 0 || !this.loop.idle()) && this.clock.now() < endBy) await this.pause(20);
    if (this.pendingEnds.size > 0) this.log.error({ attempts: this.pendingEnds.size }, 'stopping with attempt ends not committed: recovery closes them at the next start');
    this.loop.stop();
    await this.lease.stop(this.pendingEnds.size === 0);
    await this.executor?.close();
    await this.limits?.close();
    await this.isolation?.workDirs.close();
  }

  /** Re-derives from the store what events may have missed (the LISTEN connection was lost and is back). */
  rescan(): void {
    if (this.stopping) return;
    this.sweep();
    this.loop.add('recover', P.recover, () => this.recoverGoneEngines());
  }

  /** Attempts whose process runs now (for status pages and tests). */
  runningCount(): number {
    return this.attempts.count();
  }

  /** Deciding now, or with a decision ready to run now (the simulator waits until it is not). */
  busy(): boolean {
    return this.loop.busy();
  }

  /** The work loop's state, for a diagnosis. */
  describeWork(): string {
    return this.loop.describe();
  }

  // ---- wake-ups: what says when to decide ------------------------------------------------------------

  private onStoreEvent(e: StoreEvent): void {
    if (this.stopping) return;
    switch (e.type) {
      case 'instanceCreated':
        if (e.dueAt <= this.clock.now()) this.pumpFlow(e.flowId);
        else this.armWake(e.dueAt);
        return;
      case 'instanceCancelled':
        if (this.attempts.stopInstance(e.instanceId, 'cancel') > 0) this.log.info({ instanceId: e.instanceId }, 'instance cancelled: stopping its tasks');
        this.pumpFlow(e.flowId);
        return;
      case 'tasksReady':
        if (this.ctx.freeSlots() > 0) this.wantClaim();
        return;
      case 'flowChanged':
        return;
    }
  }

  private onSpawnerEvent(e: SpawnerEvent): void {
    if (e.kind === 'spawnerDied') {
      this.log.error(e, `the spawner process died (${e.signal ?? `exit code ${e.code}`}): ${e.lost} running attempt(s) killed and failed; a new spawner starts`);
    } else {
      this.log.error(e, `the spawner process died ${e.deaths} times in a row soon after its start: tasks are spawned directly from now on`);
    }
  }

  private pumpFlow(flowId: number): void {
    this.loop.add(`flow:${flowId}`, P.start, () => this.act(startFlow(this.ctx, flowId, this.clock.now())));
  }

  private wantClaim(): void {
    this.loop.add('claim', P.claim, () => this.act(claim(this.ctx, this.clock.now())));
  }

  private armWake(at: number): void {
    if (this.stopping || at >= this.wakeAt) return;
    if (this.wakeTimer !== null) this.timers.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.timers.setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.loop.add('due', P.start, () => this.dueWork(true));
    }, timerDelay(at, this.clock.now()));
  }

  /**
   * Starts what is due now and arms the timer for what is due next. `timed`: the wake timer fired (a retry
   * or a trigger time came due); a sweep's call tells no one, since every process sweeps on its own.
   */
  private async dueWork(timed = false): Promise<void> {
    const now = this.clock.now();
    for (const flowId of await this.store.listFlowsWithDueInstances(now)) this.pumpFlow(flowId);
    // The timer fired: a reference's timeout may have come due (contract §10). A sweep re-derives every
    // waiting reference anyway (checkStore).
    if (timed) this.loop.add('references', P.start, () => this.act(settleReferences(this.ctx, this.clock.now(), false)));
    // A retry came due: with no slot free here, other workers are told.
    if (this.ctx.freeSlots() > 0) this.wantClaim();
    else if (timed) this.store.announce({ type: 'tasksReady' });
    const next = await this.store.nextWakeAt(now);
    if (next !== null) this.armWake(next);
  }

  private armSweep(): void {
    if (this.stopping) return;
    this.sweepTimer = this.timers.setTimeout(() => {
      this.sweepTimer = null;
      this.sweep();
      this.loop.add('recover', P.recover, () => this.recoverGoneEngines());
      this.armSweep();
    }, this.config.engineRescanMs);
  }

  /**
   * The safety net: re-derives from the store everything events may have missed (another process's
   * writes, a lost event): due instances, ready tasks, stalled instances, and this engine's own attempts.
   */
  private sweep(): void {
    this.loop.add('due', P.start, () => this.dueWork());
    this.loop.add('sweep', P.sweep, () => this.checkStore());
  }

  private async checkStore(): Promise<void> {
    // Every waiting reference re-derived: the safety net for a wake-up that was missed.
    this.loop.add('references:all', P.sweep, () => this.act(settleReferences(this.ctx, this.clock.now(), true)));
    for (const id of await this.store.listStalledInstances(STALLED_PER_SWEEP)) {
      this.loop.add(`stall:${id}`, P.stall, () => this.act(settleStalled(this.ctx, id, this.clock.now())));
    }
    // Fenced: the attempts of the identity given up are recovery's (as LOST), not orphans of this one.
    if (!this.lease.usable) return;
    for (const a of await this.store.listOpenAttemptsOf(this.lease.id)) {
      const key = attemptKey(a.taskInstanceId, a.runNum);
      if (this.attempts.has(key)) {
        if (a.instanceStatus === 'CANCEL') this.attempts.stop(key, 'cancel');
      } else if (!this.pendingEnds.has(key) && !this.recovering.has(key)) {
        // Open in the store, yet never spawned here: a start whose commit looked failed but went through.
        this.log.warn({ taskInstanceId: a.taskInstanceId, runNum: a.runNum }, 'an attempt of this engine has no process: it goes back to READY');
        this.onOrphan(a.taskInstanceId, a.runNum);
      }
    }
  }

  private onOrphan(taskInstanceId: string, runNum: number): void {
    const note = 'the engine committed this attempt but never started its process (the commit was reported failed); it runs again';
    this.pendingEnds.set(attemptKey(taskInstanceId, runNum), {
      taskInstanceId,
      runNum,
      ownerEngineId: this.lease.id,
      result: { status: 'INTERRUPTED', exitCode: null, signal: null, note },
      logTail: '',
      logTailAtLineStart: false,
      exitedHr: NaN,
      exitSeenHr: NaN,
    });
    this.loop.add('ends', P.ends, () => this.commitPendingEnds());
  }

  // ---- decisions ------------------------------------------------------------------------------------

  private async commitPendingEnds(failures = 0): Promise<void> {
    const ends = [...this.pendingEnds.values()];
    if (ends.length === 0) return;
    // After a failure, one end per transaction: an end that cannot be committed holds up no other.
    const batches = failures > 0 ? ends.map((e) => [e]) : [ends];
    let firstError: unknown = null;
    for (const batch of batches) {
      try {
        await this.act(commitEnds(this.ctx, batch, this.clock.now()));
      } catch (e) {
        firstError ??= e;
      }
    }
    if (firstError !== null) throw firstError;
  }

  /** Acts on a committed decision: reports it, spawns what it started, asks for what it makes possible. */
  private async act(step: Promise<StepResult>): Promise<void> {
    // Every step is one engineTx, begun when `step` was made (just now, by the caller): its commit latency.
    const txHr = performance.now();
    const r = await step.catch((e: unknown) => {
      this.events.emit('txDone', { ms: performance.now() - txHr, ok: false });
      throw e;
    });
    this.events.emit('txDone', { ms: performance.now() - txHr, ok: true });
    for (const e of r.ended) {
      const key = attemptKey(e.end.taskInstanceId, e.end.runNum);
      this.pendingEnds.delete(key);
      this.events.emit('taskEnded', { instanceId: e.instanceId, taskInstanceId: e.end.taskInstanceId, runNum: e.end.runNum, status: e.status, exitSeenHr: e.end.exitSeenHr, exitedHr: e.end.exitedHr, at: this.clock.now(), hr: performance.now() });
      if (e.end.recovered) {
        this.recovering.delete(key);
        this.log.warn({ taskInstanceId: e.end.taskInstanceId, runNum: e.end.runNum, killed: e.end.recovered.killed, status: e.status }, 'recovered an attempt whose engine is gone');
        this.events.emit('attemptRecovered', { taskInstanceId: e.end.taskInstanceId, runNum: e.end.runNum, killed: e.end.recovered.killed });
      }
    }
    for (const s of r.stale) {
      const key = attemptKey(s.end.taskInstanceId, s.end.runNum);
      this.pendingEnds.delete(key);
      this.recovering.delete(key);
      this.log.info({ taskInstanceId: s.end.taskInstanceId, runNum: s.end.runNum, why: s.why }, 'attempt end not applied: ' + s.why);
    }
    for (const i of r.instancesStarted) this.events.emit('instanceStarted', { instanceId: i.id, flowId: i.flowId, at: this.clock.now(), hr: performance.now() });
    for (const c of r.started) this.attempts.launch(c, this.lease.id);
    for (const i of r.instancesEnded) {
      this.cache.drop(i.id);
      this.events.emit('instanceEnded', { instanceId: i.id, flowId: i.flowId, status: i.status, reason: i.reason, at: this.clock.now(), hr: performance.now() });
    }
    for (const e of [...r.ended, ...r.stale]) e.end.cleanUp?.();
    // Work this engine made claimable but had no slot left for: other workers on the store may take it.
    if (r.readied > 0 && r.saturated) this.store.announce({ type: 'tasksReady' });
    for (const flowId of new Set(r.flowsToPump)) this.pumpFlow(flowId);
    for (const at of r.retryAts) this.armWake(at);
  }

  private recordProcess(taskInstanceId: string, runNum: number, s: { pid: number; pgid: number; procStart: string | null }): void {
    this.loop.add(`record:${attemptKey(taskInstanceId, runNum)}`, P.record, async () => {
      try {
        await this.store.recordAttemptProcess(taskInstanceId, runNum, s);
      } catch (e) {
        if (!(e instanceof StaleError)) throw e; // the attempt already ended: nothing to record
      }
    });
  }

  private async recoverGoneEngines(): Promise<void> {
    if (!this.lease.usable) return;
    const d = { store: this.store, clock: this.clock, host: this.host, storeId: this.storeId, killGraceMs: this.config.killGraceMs };
    for (const { engine, why } of await goneEngines(d, this.lease.id)) {
      const open = await takeOver(d, engine);
      if (open === null) continue; // it renewed its lease meanwhile
      if (engine.state === 'live') this.log.warn({ engineId: engine.id, host: engine.host, pid: engine.pid, attempts: open.length }, `engine ${engine.id} is gone (${why}): recovering its attempts`);
      for (const a of open) {
        const key = attemptKey(a.taskInstanceId, a.runNum);
        if (this.recovering.has(key) || this.pendingEnds.has(key)) continue;
        this.recovering.add(key);
        void recoverAttempt(d, a, why).then((end) => {
          this.pendingEnds.set(key, end);
          this.loop.add('ends', P.ends, () => this.commitPendingEnds());
        });
      }
    }
  }

  private leaseLost(oldId: string, why: 'taken over' | 'fenced'): void {
    const msg =
      why === 'fenced'
        ? 'this engine could not renew its lease before it ran out (the store is unreachable): stopping its running tasks before another engine recovers them, and registering again once the store answers'
        : 'this engine lost its lease (another engine took over its attempts): stopping its running tasks and registering again';
    this.log.error({ engineId: oldId }, msg);
    this.events.emit('leaseLost', { engineId: oldId, why });
    this.attempts.disown();
    this.attempts.stopAll('shutdown');
    for (const [key, end] of this.pendingEnds) if (end.ownerEngineId === oldId) this.pendingEnds.delete(key);
    this.cache.clear();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, Math.max(0, ms)));
  }
}
