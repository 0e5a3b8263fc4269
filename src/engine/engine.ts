// The engine: decides what runs next and drives it. It starts due flow instances one at a time per flow,
// starts ready tasks in DAG order within the worker concurrency, turns each attempt's end into the next
// commit, and recovers after a crash. It talks to the store only (never to HTTP): new and cancelled
// instances reach it as store events. Every decision is serialized (`serial`) and committed to the store
// before it is acted on; the in-memory ActiveInstance objects are a cache rebuilt from the store.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { timerDelay, type Clock } from '../domain/clock.js';
import { StaleError } from '../domain/errors.js';
import { resolveParameters, substitute } from '../domain/params.js';
import { isFailed, isPending, isTerminalTaskInstance, type FlowInstanceStatus, type TaskInstanceStatus } from '../domain/status.js';
import { formatInZone, javaDateString } from '../domain/time.js';
import type { TaskInstance } from '../domain/types.js';
import type { InstanceTransition, Store, StoreEvent, TaskTransition } from '../store/store.js';
import { ActiveInstance } from './activeInstance.js';
import { launchAttempt, type LaunchedAttempt } from './attemptRunner.js';
import { EngineEmitter } from './events.js';
import { instanceGraph, planOnFrontier, type InstanceGraph } from './frontier.js';
import type { Executor, Outcome } from './executor.js';
import { verdictFor } from './outcome.js';
import { countFailures, recoverOpenAttempts } from './recovery.js';
import { createExecutor, type SpawnerEvent } from './spawnerExecutor.js';
import { bannerText } from './taskCommand.js';

export interface EngineDeps {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Safety-net rescan of due work; events and timers do the real work. */
  pollIntervalMs?: number;
}

interface Queued {
  ai: ActiveInstance;
  nodeId: string;
}

interface RunningAttempt {
  ai: ActiveInstance;
  task: TaskInstance;
  runNum: number;
  launched: LaunchedAttempt;
}

/** A finished attempt whose end goes into a commit; reported (taskEnded) once that commit is durable. */
interface TaskEnd {
  instanceId: string;
  taskInstanceId: string;
  runNum: number;
  status: TaskInstanceStatus;
  exitedHr: number;
  exitSeenHr: number;
}

/** An attempt about to start: decided inside a commit, launched after it. */
interface Start {
  ai: ActiveInstance;
  task: TaskInstance;
  runNum: number;
  renderedCmd: string;
  params: Map<string, string>;
}


export class Engine {
  readonly events = new EngineEmitter();
  private readonly store: Store;
  private readonly config: Config;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly active = new Map<string, ActiveInstance>();
  private readonly queue: Queued[] = [];
  private readonly running = new Map<string, RunningAttempt>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly graphs = new WeakMap<ActiveInstance, InstanceGraph>();
  private chain: Promise<unknown> = Promise.resolve();
  private dueTimer: NodeJS.Timeout | null = null;
  private dueTimerAt = Infinity;
  private pollTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopping = false;
  /** Spawns the attempts' processes; made by start(), closed by stop(). */
  private executor: Executor | null = null;
  private readonly pollIntervalMs: number;
  private readonly engineId = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(deps: EngineDeps) {
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock;
    this.log = deps.logger;
    this.pollIntervalMs = deps.pollIntervalMs ?? 5_000;
  }

  /** Recovers what a previous process left, then starts serving due work. */
  async start(): Promise<void> {
    this.executor = createExecutor(this.config.spawner, (e) => this.onSpawnerEvent(e));
    const recovered = await recoverOpenAttempts({ store: this.store, config: this.config, clock: this.clock });
    for (const r of recovered) {
      this.log.warn({ taskInstanceId: r.taskInstanceId, runNum: r.runNum, killed: r.killed, status: r.status }, 'recovered an attempt whose service process died');
      this.events.emit('attemptRecovered', r);
    }
    this.unsubscribe = this.store.onEvent((e) => this.onStoreEvent(e));
    await this.serial(() => this.resumeRunningInstances());
    this.kick();
    this.pollTimer = setInterval(() => this.kick(), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  /**
   * Graceful stop: starts nothing new, lets running attempts finish for up to `graceMs`, then stops
   * them; they are put back to READY so that the next start runs them again.
   */
  async stop(graceMs = this.config.shutdownGraceMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) await sleep(Math.min(50, deadline - Date.now()));
    if (this.running.size > 0) {
      this.log.warn({ attempts: this.running.size }, 'shutdown grace period over: stopping running tasks; they run again on restart');
      for (const r of this.running.values()) r.launched.proc.kill('shutdown');
      while (this.running.size > 0) await sleep(20);
    }
    await this.chain;
    await this.executor?.close();
  }

  /** Attempts whose process runs now (for status pages and tests). */
  runningCount(): number {
    return this.running.size;
  }

  // ---- event intake --------------------------------------------------------------------------------

  private onSpawnerEvent(e: SpawnerEvent): void {
    if (e.kind === 'spawnerDied') {
      this.log.error(e, `the spawner process died (${e.signal ?? `exit code ${e.code}`}): ${e.lost} running attempt(s) killed and failed; a new spawner starts`);
    } else {
      this.log.error(e, `the spawner process died ${e.deaths} times in a row soon after its start: tasks are spawned directly from now on`);
    }
  }

  private onStoreEvent(e: StoreEvent): void {
    if (this.stopping) return;
    switch (e.type) {
      case 'instanceCreated':
        if (e.dueAt <= this.clock.now()) void this.pumpFlow(e.flowId);
        else this.armDueTimer(e.dueAt);
        return;
      case 'instanceCancelled':
        void this.serial(() => this.onCancelled(e.instanceId, e.flowId));
        return;
      case 'flowChanged':
        return;
    }
  }

  /** Looks for due instances of every flow and arms the timer for the next one. */
  private kick(): void {
    if (this.stopping) return;
    void this.serial(async () => {
      const now = this.clock.now();
      for (const flowId of await this.store.listFlowsWithDueInstances(now)) await this.startNextInstance(flowId);
      const next = await this.store.nextDueAt(now);
      if (next !== null) this.armDueTimer(next);
    });
  }

  private armDueTimer(at: number): void {
    if (this.stopping || at >= this.dueTimerAt) return;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimerAt = at;
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      this.dueTimerAt = Infinity;
      this.kick();
    }, timerDelay(at, this.clock.now()));
    this.dueTimer.unref();
  }

  private pumpFlow(flowId: number): Promise<void> {
    return this.serial(() => this.startNextInstance(flowId));
  }

  // ---- decisions (always inside `serial`) ------------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch((error) => {
      this.log.error({ err: error }, 'engine step failed');
      this.events.emit('error', { where: 'serial', error });
    });
    return p;
  }

  private async startNextInstance(flowId: number): Promise<void> {
    if (this.stopping) return;
    const inst = await this.store.startNextInstance(flowId, this.clock.now());
    if (!inst) return;
    const ai = new ActiveInstance(inst, await this.store.listTaskInstances(inst.id));
    this.active.set(ai.id, ai);
    this.events.emit('instanceStarted', { instanceId: ai.id, flowId, at: inst.startedAt ?? this.clock.now(), hr: performance.now() });
    await this.step([ai], []);
  }

  /** After a restart: picks up RUNNING instances (their RERUN timers, READY and ready tasks). */
  private async resumeRunningInstances(): Promise<void> {
    for (const { instance, tasks } of await this.store.listRunningInstances()) {
      const ai = new ActiveInstance(instance, tasks);
      this.active.set(ai.id, ai);
      for (const t of tasks) {
        if (t.status === 'READY') this.queue.push({ ai, nodeId: t.nodeId });
        if (t.status === 'RERUN') this.armRetry(ai, t);
      }
      await this.step([ai], []);
    }
  }

  /**
   * The one place that moves instances forward: applies `pre` (finished attempts), plans each instance
   * (skips, newly ready tasks, outcome), fills free worker slots from the ready queue, commits all of it
   * in one transaction, and only then reports the `ended` attempts (taskEnded) and launches the started ones.
   */
  private async step(instances: ActiveInstance[], pre: TaskTransition[], ended: TaskEnd[] = [], attempt = 0): Promise<void> {
    const now = this.clock.now();
    const tasks: TaskTransition[] = [...pre];
    const instTransitions: InstanceTransition[] = [];
    const next = new Map<string, TaskInstanceStatus>(); // taskInstanceId -> status after this commit
    for (const t of pre) next.set(t.taskInstanceId, t.to);
    const statusOf = (t: TaskInstance) => next.get(t.id) ?? t.status;
    const newlyQueued: Queued[] = [];

    for (const ai of instances) {
      const plan = planOnFrontier(this.graphOf(ai), (nodeId) => {
        const t = ai.tasksByNode.get(nodeId);
        return t ? (next.get(t.id) ?? t.status) : 'INIT';
      });
      for (const nodeId of plan.skip) {
        const t = ai.task(nodeId);
        tasks.push({ taskInstanceId: t.id, from: [statusOf(t)], to: 'SKIP', at: now });
        next.set(t.id, 'SKIP');
        this.dropQueued(t.id);
        this.clearRetry(t.id);
      }
      if (!ai.ended) {
        for (const nodeId of plan.ready) {
          if (!this.isQueued(ai, nodeId)) {
            const q = { ai, nodeId };
            this.queue.push(q);
            newlyQueued.push(q);
          }
        }
        if (plan.outcome) {
          const reason = plan.outcome === 'FAIL' ? failureReason(ai, next) : null;
          instTransitions.push({ id: ai.id, from: ['RUNNING'], to: plan.outcome, at: now, reason });
        }
      }
    }

    const starts = this.takeStarts(now, tasks, next);
    for (const q of newlyQueued) {
      const t = q.ai.task(q.nodeId);
      if (!next.has(t.id) && t.status === 'INIT') {
        tasks.push({ taskInstanceId: t.id, from: ['INIT'], to: 'READY', at: now });
        next.set(t.id, 'READY');
      }
    }
    if (tasks.length === 0 && instTransitions.length === 0) return;

    try {
      await this.store.commit({ tasks, instances: instTransitions });
    } catch (error) {
      if (!(error instanceof StaleError) || attempt >= 2) throw error;
      // Someone else changed an instance (a cancel from the API): reload and plan again.
      this.log.debug({ err: error.message }, 'stale engine commit: reloading');
      const touched = new Set(instances);
      for (const s of starts) touched.add(s.ai);
      for (const ai of touched) await this.reload(ai);
      const livePre = pre.filter((t) => this.findActiveByTask(t.taskInstanceId));
      const liveEnded = ended.filter((e) => livePre.some((t) => t.taskInstanceId === e.taskInstanceId));
      return this.step([...touched].filter((ai) => this.active.has(ai.id)), livePre, liveEnded, attempt + 1);
    }

    // The ends are durable now: report them before the instance's end and before any successor starts.
    for (const e of ended) {
      const status = next.get(e.taskInstanceId) ?? e.status;
      this.events.emit('taskEnded', { ...e, status, at: now, hr: performance.now() });
    }
    this.applyCommitted(tasks, instTransitions, now);
    for (const s of starts) this.launch(s);
    for (const ai of instances) this.afterChange(ai);
    for (const s of starts) if (!instances.includes(s.ai)) this.afterChange(s.ai);
  }

  /** Takes ready tasks from the queue while worker slots are free; adds their RUNNING transitions. */
  private takeStarts(now: number, tasks: TaskTransition[], next: Map<string, TaskInstanceStatus>): Start[] {
    const starts: Start[] = [];
    let free = this.config.workerConcurrency - this.running.size;
    while (free > 0 && this.queue.length > 0 && !this.stopping) {
      const { ai, nodeId } = this.queue.shift()!;
      const t = ai.task(nodeId);
      const status = next.get(t.id) ?? t.status;
      if (ai.ended || !isPending(status)) continue;
      const def = ai.def(t.taskId);
      const runNum = t.runNum + 1;
      const inst = ai.instance;
      const resolved = resolveParameters({
        triggerTime: inst.triggerTime,
        tz: this.config.timezone,
        taskId: t.taskId,
        instanceId: inst.id,
        flowParams: inst.snapshot.flow.parameters,
        taskParams: def.parameters,
        overrides: inst.overrides,
      });
      const renderedCmd = substitute(def.cmd, resolved.lookup, inst.triggerTime, this.config.timezone);
      const banner = bannerText({
        runNum,
        taskInstanceId: t.id,
        cmdline: renderedCmd,
        submitter: def.submitter || inst.snapshot.flow.doAs || inst.owner,
        now,
        timezone: this.config.timezone,
        javaDate: javaDateBySecond,
      });
      tasks.push({
        taskInstanceId: t.id,
        from: [status],
        to: 'RUNNING',
        at: now,
        startAttempt: { host: this.config.hostName, engineId: this.engineId, banner },
      });
      next.set(t.id, 'RUNNING');
      starts.push({ ai, task: t, runNum, renderedCmd, params: resolved.values });
      free--;
    }
    return starts;
  }

  /** Mirrors a committed change into the cache. */
  private applyCommitted(tasks: TaskTransition[], instances: InstanceTransition[], now: number): void {
    for (const tr of tasks) {
      const found = this.findActiveByTask(tr.taskInstanceId);
      if (!found) continue;
      const t = found.task;
      t.status = tr.to;
      t.updatedAt = tr.at;
      if (tr.startAttempt) {
        t.runNum += 1;
        t.startedAt ??= tr.at;
      }
      if (tr.nextRunAt !== undefined) t.nextRunAt = tr.nextRunAt;
      if (tr.exitCode !== undefined) t.exitCode = tr.exitCode;
      if (tr.isTimeout !== undefined) t.isTimeout = tr.isTimeout;
      if (tr.to === 'RERUN') this.armRetry(found.ai, t);
      if (isTerminalTaskInstance(tr.to)) t.endedAt = tr.at;
    }
    for (const it of instances) {
      const ai = this.active.get(it.id);
      if (!ai) continue;
      ai.instance = { ...ai.instance, status: it.to, endedAt: now, reason: it.reason ?? null };
      ai.ended = true;
      for (const q of this.queue.filter((q) => q.ai === ai)) this.dropQueued(q.ai.task(q.nodeId).id);
      this.events.emit('instanceEnded', { instanceId: ai.id, flowId: ai.instance.flowId, status: it.to, reason: it.reason ?? null, at: now, hr: performance.now() });
      this.log.info({ instanceId: ai.id, status: it.to, reason: it.reason }, 'flow instance ended');
    }
  }

  /** An ended instance with nothing running leaves the engine, and the next instance of its flow may start. */
  private afterChange(ai: ActiveInstance): void {
    if (!this.active.has(ai.id)) return;
    if (ai.ended) {
      if (ai.running === 0) {
        this.active.delete(ai.id);
        for (const t of ai.tasksByNode.values()) this.clearRetry(t.id);
        void this.pumpFlow(ai.instance.flowId);
      }
      return;
    }
    // Nothing runs, nothing is queued, no retry is pending, yet the instance is unfinished: say so.
    const pending = ai.running > 0 || this.queue.some((q) => q.ai === ai) || [...ai.tasksByNode.values()].some((t) => this.retryTimers.has(t.id));
    if (!pending && !this.stopping) {
      const reason = `no task can run: ${[...ai.tasksByNode.values()].map((t) => `${t.nodeId}=${t.status}`).join(', ')}`;
      void this.serial(() => this.endStuck(ai, reason));
    }
  }

  private async endStuck(ai: ActiveInstance, reason: string): Promise<void> {
    if (!this.active.has(ai.id) || ai.ended) return;
    const now = this.clock.now();
    const tr: InstanceTransition = { id: ai.id, from: ['RUNNING'], to: 'INTERNAL_ERROR', at: now, reason };
    await this.store.commit({ tasks: [], instances: [tr] });
    this.applyCommitted([], [tr], now);
    this.afterChange(ai);
  }

  private launch(s: Start): void {
    const { ai, task, runNum } = s;
    const inst = ai.instance;
    ai.running++;
    const entry = {} as RunningAttempt;
    entry.ai = ai;
    entry.task = task;
    entry.runNum = runNum;
    this.running.set(task.id, entry);
    entry.launched = launchAttempt(
      { store: this.store, config: this.config, executor: this.executor! },
      {
        task,
        def: ai.def(task.taskId),
        runNum,
        renderedCmd: s.renderedCmd,
        params: s.params,
        flowInstanceId: inst.id,
        triggerTime: inst.triggerTime,
        triggerTimeText: formatInZone(inst.triggerTime, this.config.timezone, 'yyyy-MM-dd HH:mm:ss'),
      },
      (outcome, exitedHr) => void this.serial(() => this.onAttemptDone(entry, outcome, exitedHr)),
    );
    const { proc } = entry.launched;
    // The pid may come a moment later (from the spawner); always before the process's end is reported.
    void proc.started.then((s) => {
      const hr = performance.now();
      this.events.emit('taskStarted', { instanceId: inst.id, taskInstanceId: task.id, runNum, pid: s?.pid ?? 0, at: this.clock.now(), spawnHr: proc.spawnHr, spawnedHr: s?.hr ?? hr, hr });
    });
  }

  private async onAttemptDone(r: RunningAttempt, outcome: Outcome, exitedHr: number): Promise<void> {
    const { ai, task, runNum, launched } = r;
    const def = ai.def(task.taskId);
    const input = { outcome, successCode: def.successCode, timeoutSec: def.timeoutSec, priorFailures: 0, retryLimit: def.retryLimit, retryIntervalSec: def.retryIntervalSec };
    let verdict = verdictFor(input);
    if (verdict.attempt === 'FAIL' || verdict.attempt === 'TIMEOUT') {
      verdict = verdictFor({ ...input, priorFailures: await countFailures(this.store, task.id, runNum) });
    }
    let to = verdict.task;
    if (ai.ended && to === 'RERUN') to = verdict.attempt as TaskInstanceStatus; // an ended instance retries nothing
    if (ai.ended && to === 'READY') to = 'CANCEL';
    if (verdict.note) launched.log.note(`[batchflow] ${verdict.note}`);
    const logTail = await launched.log.finish();
    await launched.recorded.catch(() => {});
    const now = this.clock.now();
    const tr: TaskTransition = {
      taskInstanceId: task.id,
      from: ['RUNNING'],
      runNum,
      to,
      at: now,
      nextRunAt: to === 'RERUN' ? now + def.retryIntervalSec * 1000 : null,
      exitCode: verdict.exitCode,
      isTimeout: verdict.isTimeout,
      finishAttempt: { status: verdict.attempt, exitCode: verdict.exitCode, signal: verdict.signal, logTail },
    };
    this.running.delete(task.id);
    ai.running--;
    try {
      await this.step([ai], [tr], [{ instanceId: ai.id, taskInstanceId: task.id, runNum, status: to, exitedHr, exitSeenHr: launched.proc.exitHr }]);
    } finally {
      launched.cleanUp(); // after the step: the successor is spawned first
    }
  }

  private async onCancelled(instanceId: string, flowId: number): Promise<void> {
    const ai = this.active.get(instanceId);
    if (!ai) {
      // A WAIT instance was cancelled: the next one of its flow may now be first in line.
      await this.startNextInstance(flowId);
      return;
    }
    await this.reload(ai);
    for (const r of this.running.values()) if (r.ai === ai) r.launched.proc.kill('cancel');
    this.afterChange(ai);
  }

  /** Re-reads an instance and its tasks from the store (after a failed guard or a cancel). */
  private async reload(ai: ActiveInstance): Promise<void> {
    const inst = await this.store.getFlowInstanceById(ai.id);
    if (!inst) {
      this.active.delete(ai.id);
      return;
    }
    ai.instance = inst;
    ai.setTasks(await this.store.listTaskInstances(ai.id));
    ai.ended = inst.status !== 'RUNNING';
    for (const t of ai.tasksByNode.values()) {
      if (t.status !== 'RERUN' || ai.ended) this.clearRetry(t.id);
      if (!isPending(t.status) || ai.ended) this.dropQueued(t.id);
    }
    // Running attempts keep their TaskInstance objects: point them at the fresh ones.
    for (const r of this.running.values()) if (r.ai === ai) r.task = ai.taskByInstanceId(r.task.id) ?? r.task;
  }

  private armRetry(ai: ActiveInstance, t: TaskInstance): void {
    this.clearRetry(t.id);
    const timer = setTimeout(() => {
      this.retryTimers.delete(t.id);
      void this.serial(async () => {
        if (this.stopping || ai.ended || !this.active.has(ai.id)) return;
        if (!this.isQueued(ai, t.nodeId)) this.queue.push({ ai, nodeId: t.nodeId });
        await this.step([ai], []);
      });
    }, timerDelay(t.nextRunAt ?? 0, this.clock.now()));
    timer.unref();
    this.retryTimers.set(t.id, timer);
  }

  private clearRetry(taskInstanceId: string): void {
    const timer = this.retryTimers.get(taskInstanceId);
    if (timer) clearTimeout(timer);
    this.retryTimers.delete(taskInstanceId);
  }

  private isQueued(ai: ActiveInstance, nodeId: string): boolean {
    return this.queue.some((q) => q.ai === ai && q.nodeId === nodeId);
  }

  private dropQueued(taskInstanceId: string): void {
    const i = this.queue.findIndex((q) => q.ai.task(q.nodeId).id === taskInstanceId);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** The instance's graph structure, built once (planning runs after every task end). */
  private graphOf(ai: ActiveInstance): InstanceGraph {
    let g = this.graphs.get(ai);
    if (!g) this.graphs.set(ai, (g = instanceGraph(ai.nodeIds, ai.relations)));
    return g;
  }

  private findActiveByTask(taskInstanceId: string): { ai: ActiveInstance; task: TaskInstance } | null {
    const r = this.running.get(taskInstanceId);
    if (r) return { ai: r.ai, task: r.task };
    for (const ai of this.active.values()) {
      const task = ai.taskByInstanceId(taskInstanceId);
      if (task) return { ai, task };
    }
    return null;
  }
}

function failureReason(ai: ActiveInstance, next: ReadonlyMap<string, TaskInstanceStatus>): string {
  const failed = [...ai.tasksByNode.values()].filter((t) => {
    return isFailed(next.get(t.id) ?? t.status);
  });
  return failed.map((t) => `task ${t.taskName} (${t.id}) ${next.get(t.id) ?? t.status}`).join('; ') || 'a task failed';
}

/** javaDateString has second resolution and formats the zone's name through Intl: once per second is enough. */
const javaDateBySecond = (() => {
  let key = '';
  let text = '';
  return (ms: number, tz: string): string => {
    const k = `${Math.floor(ms / 1000)} ${tz}`;
    if (k !== key) [key, text] = [k, javaDateString(ms, tz)];
    return text;
  };
})();

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { FlowInstanceStatus };
