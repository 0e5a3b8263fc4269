// The cron scheduler (contract §5): fires periodic flows (type 1, active 1, effective date reached) on their
// Quartz cron in the service zone. A fire creates one flow instance exactly as a manual trigger at the fire
// time would (kind 'schedule', owner ""); the engine hears of it through the store's 'instanceCreated' and
// queues it behind any other instance of the flow. It talks to the store only, never checks before it
// writes (a taken instance id is the store's unique key at work: log and move on), and never runs tasks.
// The rules of which fire counts are pure (src/domain/fires.ts); this file holds plans, timers and events.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { timerDelay, type Clock } from '../domain/clock.js';
import { DuplicateKeyError } from '../domain/errors.js';
import { dueFire, firstFireAtOrAfter, lowerBound, type DueFire } from '../domain/fires.js';
import { buildFlowInstance } from '../domain/instances.js';
import type { Flow } from '../domain/types.js';
import type { Store, StoreEvent } from '../store/store.js';

export interface SchedulerDeps {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Safety net for changes made by another process (admin CLI, a second server); default 60 s. */
  rescanIntervalMs?: number;
  /** Tests drive tick() themselves on a fake clock: no timer is armed. */
  manualTicks?: boolean;
}

/** What one fire did; tick() and start() return them. */
export interface Fire {
  flowId: number;
  instanceId: string;
  /** The cron time fired: the instance's trigger time. */
  fireTime: number;
  /** 'duplicate': the id was taken (a manual trigger that minute, another process, the repeated DST hour). */
  outcome: 'created' | 'duplicate' | 'noTask';
  /** Earlier due fires dropped in favour of this one (service down, process stalled). */
  missed: number;
}

interface Plan {
  flowId: number;
  freq: string;
  /** freq, startDate and scheduleFrom: a flow whose key changes is planned afresh. */
  key: string;
  /** Fires at or before it were made or dropped. */
  lastFire: number | null;
  /** The earliest fire not yet considered; null = none left (or an invalid cron). */
  nextAt: number | null;
  /** After a failed store write: not before then (no hot retry loop). */
  retryAt: number;
}

const RETRY_AFTER_ERROR_MS = 5_000;

const isScheduled = (f: Flow) => f.type === 1 && f.active === 1;
const keyOf = (f: Flow) => `${f.freq}\n${f.startDate}\n${f.scheduleFrom}`;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export class Scheduler {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tz: string;
  private readonly rescanIntervalMs: number;
  private readonly manualTicks: boolean;
  private readonly plans = new Map<number, Plan>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private rescanTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(deps: SchedulerDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.logger;
    this.tz = deps.config.timezone;
    this.rescanIntervalMs = deps.rescanIntervalMs ?? 60_000;
    this.manualTicks = deps.manualTicks ?? false;
  }

  /** Plans every periodic flow, makes the most recent fire missed while down (per flow), arms the timer. */
  async start(): Promise<Fire[]> {
    // Subscribe first: a change during the initial scan is queued behind it, not lost.
    this.unsubscribe = this.store.onEvent((e) => this.onStoreEvent(e));
    const fired = await this.serial(() => this.rescanAndFire());
    if (!this.manualTicks) {
      this.rescanTimer = setInterval(() => this.background(() => this.rescanAndFire(), 'rescan'), this.rescanIntervalMs);
      this.rescanTimer.unref();
    }
    return fired;
  }

  /** Fires nothing more; waits for the step in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.clearTimer();
    await this.chain;
  }

  /** Makes every fire due at clock.now() (the timer calls this; tests call it on a fake clock). */
  tick(): Promise<Fire[]> {
    return this.serial(() => this.fireDue());
  }

  /** Re-reads every periodic flow (what the slow safety rescan does), then fires what is due. */
  rescan(): Promise<Fire[]> {
    return this.serial(() => this.rescanAndFire());
  }

  /** The next fire time of a flow as planned, or null (not scheduled, or no fire left). For tests and status. */
  nextFireAt(flowId: number): number | null {
    return this.plans.get(flowId)?.nextAt ?? null;
  }

  // ---- one step at a time ----------------------------------------------------------------------------

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      try {
        return await step();
      } finally {
        this.arm();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private background(step: () => Promise<unknown>, what: string): void {
    if (this.stopped) return;
    this.serial(step).catch((err: unknown) => this.log.error({ err, step: what }, 'scheduler step failed; the next timer or rescan retries'));
  }

  private onStoreEvent(e: StoreEvent): void {
    if (e.type === 'flowChanged') this.background(() => this.replan(e.flowId), 'replan');
  }

  private async rescanAndFire(): Promise<Fire[]> {
    const flows = await this.store.listPeriodicFlows();
    const seen = new Set<number>();
    for (const f of flows) {
      seen.add(f.id);
      await this.replan(f.id, f);
    }
    for (const id of [...this.plans.keys()]) if (!seen.has(id)) this.drop(id);
    return this.fireDue();
  }

  // ---- plans -----------------------------------------------------------------------------------------

  /** Plans a flow afresh when what decides its fires changed; `known` saves the read when the caller has it. */
  private async replan(flowId: number, known?: Flow | null): Promise<void> {
    const flow = known !== undefined ? known : ((await this.store.getFlowById(flowId))?.flow ?? null);
    if (!flow || !isScheduled(flow)) return this.drop(flowId);
    const key = keyOf(flow);
    const cur = this.plans.get(flowId);
    if (cur && cur.key === key) return;
    const made = await this.store.lastScheduledFireTime(flowId);
    const lastFire = made === null ? (cur?.lastFire ?? null) : Math.max(made, cur?.lastFire ?? made);
    const nextAt = firstFireAtOrAfter(flow.freq, lowerBound(flow, lastFire, this.tz), this.tz);
    this.plans.set(flowId, { flowId, freq: flow.freq, key, lastFire, nextAt, retryAt: -Infinity });
    const fields = { flowId, freq: flow.freq, startDate: flow.startDate, scheduleFrom: iso(flow.scheduleFrom), nextFire: iso(nextAt) };
    if (nextAt === null) this.log.warn(fields, 'periodic flow has no fire left (or an invalid cron): nothing will be scheduled');
    else this.log.debug(fields, 'periodic flow planned');
  }

  private drop(flowId: number): void {
    if (this.plans.delete(flowId)) this.log.debug({ flowId }, 'flow no longer scheduled');
  }

  // ---- fires -----------------------------------------------------------------------------------------

  private async fireDue(): Promise<Fire[]> {
    const now = this.clock.now();
    const due: Array<{ plan: Plan; d: DueFire }> = [];
    for (const plan of this.plans.values()) {
      if (plan.nextAt === null || plan.retryAt > now) continue;
      const d = dueFire(plan.freq, plan.nextAt, now, this.tz);
      if (d) due.push({ plan, d });
    }
    due.sort((a, b) => a.d.fireAt - b.d.fireAt || a.plan.flowId - b.plan.flowId);
    const fired: Fire[] = [];
    for (const { plan, d } of due) {
      if (this.stopped) break;
      try {
        const f = await this.fire(plan, d, now);
        if (f) fired.push(f);
      } catch (err) {
        plan.retryAt = now + RETRY_AFTER_ERROR_MS;
        this.log.error({ err, flowId: plan.flowId, fireTime: iso(d.fireAt) }, 'scheduled fire failed; retrying in 5 s');
      }
    }
    return fired;
  }

  private async fire(plan: Plan, d: DueFire, now: number): Promise<Fire | null> {
    const fw = await this.store.getFlowById(plan.flowId);
    if (!fw || !isScheduled(fw.flow) || keyOf(fw.flow) !== plan.key) {
      // Changed under us (its 'flowChanged' is queued behind this step, or came from another process).
      await this.replan(plan.flowId, fw?.flow ?? null);
      return null;
    }
    const req = buildFlowInstance({
      fw,
      triggerTime: d.fireAt,
      now,
      timezone: this.tz,
      owner: '',
      kind: 'schedule',
      overrides: [],
      startTaskId: null,
      runSet: null,
    });
    const base = { flowId: plan.flowId, instanceId: req.instance.id, fireTime: d.fireAt, missed: d.missed };
    if (d.missed > 0) {
      const missed = d.missedCapped ? `at least ${d.missed}` : d.missed;
      this.log.warn({ ...base, missed }, 'missed fires (service down or stalled): only the most recent is made');
    }
    let outcome: Fire['outcome'] = 'created';
    if (fw.tasks.length === 0) {
      outcome = 'noTask';
      this.log.warn(base, 'periodic flow has no task: fire skipped');
    } else {
      try {
        await this.store.createFlowInstance(req);
        this.log.info(base, 'scheduled fire');
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        outcome = 'duplicate';
        this.log.debug(base, 'instance id of this fire exists already (a trigger in that minute, or another process): skipped');
      }
    }
    // Only after the write settled: a failed write leaves the plan as it was, to be retried.
    plan.lastFire = d.fireAt;
    plan.nextAt = d.nextAt;
    plan.retryAt = -Infinity;
    return { ...base, outcome };
  }

  // ---- the timer ---------------------------------------------------------------------------------------

  /** One timer, at the earliest planned fire (capped: Node timers hold at most 2^31-1 ms). */
  private arm(): void {
    if (this.stopped || this.manualTicks) return;
    let at = Infinity;
    for (const p of this.plans.values()) if (p.nextAt !== null) at = Math.min(at, Math.max(p.nextAt, p.retryAt));
    if (at === this.timerAt && this.timer) return;
    this.clearTimer();
    if (at === Infinity) return;
    this.timerAt = at;
    // Timers fire early or late by a little: fireDue re-reads the clock, and an early wake just re-arms.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.background(() => this.fireDue(), 'fire');
    }, timerDelay(at, this.clock.now()));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
