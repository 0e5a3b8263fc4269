// The engine's decisions, each one store transaction: read the rows it depends on, ask the pure planner
// (src/domain/plan.ts), write the plan (the store checks and records every transition), and claim ready
// work for the free worker slots in the same transaction. What was decided comes back as a StepResult;
// only once the commit is durable does the engine act on it (spawn, report, arm timers).
import type { Config } from '../config.js';
import { resolveParameters, substitute } from '../domain/params.js';
import { noTransitions, planAttemptEnd, planClaims, planStall, planStart, type AttemptResult, type EndPlan, type TaskMove, type Transitions } from '../domain/plan.js';
import { isFailedAttempt, type FlowInstanceStatus, type TaskInstanceStatus } from '../domain/status.js';
import { javaDateString } from '../domain/time.js';
import type { TaskDef } from '../domain/types.js';
import type { EngineTx, Store } from '../store/store.js';
import type { CachedInstance, InstanceCache } from './instanceCache.js';
import { bannerText } from './taskCommand.js';
import { checkReferences, openReferences, wakeDependents } from './referenceSteps.js';
import { KEY_NAME } from './keyedAttempt.js';
import { runModeOf } from '../domain/runMode.js';

const ACTIVE: readonly TaskInstanceStatus[] = ['READY', 'RUNNING', 'RERUN'];
const OPEN: readonly TaskInstanceStatus[] = ['INIT', 'READY', 'RUNNING', 'RERUN'];

export interface StepContext {
  store: Store;
  config: Config;
  cache: InstanceCache;
  engineId: () => string;
  /** Worker slots free now (concurrency minus live processes); 0 while stopping. */
  freeSlots: () => number;
  /** The engine's clock, read again where a decision must be stamped after what it read (startFlow). */
  now?: () => number;
}

/** An attempt the engine committed RUNNING and must now spawn. */
export interface ClaimedAttempt {
  taskInstanceId: string;
  instanceId: string;
  flowId: number;
  taskId: number;
  runNum: number;
  def: TaskDef;
  renderedCmd: string;
  params: Map<string, string>;
  triggerTime: number;
  triggerTimeText: string;
  /** The flow's doAs (its snapshot's): which OS user the task runs as when the service is root. */
  doAs: string;
}

/** An attempt's end waiting to be committed (kept until it is: never dropped on a store error). */
export interface PendingEnd {
  taskInstanceId: string;
  runNum: number;
  /** The engine the attempt belongs to: this one, or a dead one being recovered. */
  ownerEngineId: string;
  result: AttemptResult;
  logTail: string;
  logTailAtLineStart: boolean;
  /** performance.now() stamps for the taskEnded event. */
  exitedHr: number;
  exitSeenHr: number;
  /** A recovered attempt (its owner died): the processes killed. */
  recovered?: { killed: number[] };
  /** Removes the attempt's working directory (after the commit: the successor is spawned first). */
  cleanUp?: () => void;
  /** The process group it ran as, recorded with the end (when not recorded while it ran). */
  process?: { pid: number; pgid: number; procStart: string | null };
}

export interface EndedTask {
  end: PendingEnd;
  instanceId: string;
  flowId: number;
  status: TaskInstanceStatus;
}

export interface StepResult {
  started: ClaimedAttempt[];
  instancesStarted: Array<{ id: string; flowId: number }>;
  instancesEnded: Array<{ id: string; flowId: number; status: FlowInstanceStatus; reason: string | null }>;
  ended: EndedTask[];
  /** Ends that were already applied, or whose attempt is no longer theirs: nothing written. */
  stale: Array<{ end: PendingEnd; why: string }>;
  /** Flows whose next instance may now start. */
  flowsToPump: number[];
  /** Retry times to wake up for. */
  retryAts: number[];
  /** Task instances this step made READY. */
  readied: number;
  /** The claim filled every free slot (or there was none): claimable work may be left for others. */
  saturated: boolean;
}

export const emptyResult = (): StepResult => ({ started: [], instancesStarted: [], instancesEnded: [], ended: [], stale: [], flowsToPump: [], retryAts: [], readied: 0, saturated: false });

function noteEnds(r: StepResult, t: Transitions): void {
  for (const m of t.tasks) if (m.to === 'READY') r.readied++;
  for (const m of t.instances) {
    if (m.to === 'RUNNING') r.instancesStarted.push({ id: m.id, flowId: m.flowId });
    else {
      r.instancesEnded.push({ id: m.id, flowId: m.flowId, status: m.to, reason: m.reason });
      r.flowsToPump.push(m.flowId);
    }
  }
}

/** Starts the flow's next due instance if the one-instance rule allows it, and claims what became ready. */
export async function startFlow(ctx: StepContext, flowId: number, due: number): Promise<StepResult> {
  return ctx.store.engineTx(async (tx) => {
    const r = emptyResult();
    const inst = await tx.nextInstanceToStart(flowId, due);
    if (!inst) return r;
    // The start is stamped after the read that found the flow free, not when the step was asked for: the
    // read may have waited on the flow's lock and seen an attempt's end committed meanwhile, stamped
    // later than `due`. A start stamped before that end would put two instances' work at once in the
    // record when it never was (the fault test's one-instance check reads the recorded times).
    const now = Math.max(due, ctx.now?.() ?? due);
    const ci = await ctx.cache.get(inst.id, tx);
    const references = ci.references.length > 0 ? await openReferences(ctx, tx, ci, now) : undefined;
    const waiting = references?.waits.filter((w) => w.status === 'WAITING') ?? [];
    const roots = await tx.roots(inst.id);
    const openSample = roots.length === 0 && waiting.length === 0 ? await tx.sampleTasks(inst.id, OPEN, 5) : [];
    const plan = planStart({ instance: inst, roots, anyOpen: openSample.length > 0, openSample, references }, now);
    await tx.apply(plan, now, ctx.engineId());
    noteEnds(r, plan); // an instance ended at once frees its flow (noteEnds pumps it)
    for (const w of waiting) r.retryAts.push(w.deadline); // the reference timeout's wake-up
    if (plan.instances.some((m) => m.to === 'SUCCESS')) await wakeDependents(tx, inst.flowId, ci.triggerTime, now, applying(ctx, tx, now, r));
    await claimWithin(ctx, tx, now, r);
    return r;
  });
}

/** Commits attempt ends (all in one transaction), then claims for the slots they freed. */
export async function commitEnds(ctx: StepContext, ends: PendingEnd[], now: number): Promise<StepResult> {
  return ctx.store.engineTx(async (tx) => {
    const r = emptyResult();
    // Several ends: their instances are locked first, all at once in id order, so that two engines'
    // batches of ends never lock two instances in opposite orders (one end locks its own in endState).
    if (ends.length > 1) await tx.lockInstancesOf(ends.map((e) => e.taskInstanceId));
    for (const end of ends) await commitEnd(ctx, tx, end, now, r);
    await claimWithin(ctx, tx, now, r);
    return r;
  });
}

async function commitEnd(ctx: StepContext, tx: EngineTx, end: PendingEnd, now: number, r: StepResult): Promise<void> {
  const state = await tx.endState(end.taskInstanceId, end.runNum);
  const task = state?.task;
  if (!state || !task || task.status !== 'RUNNING' || task.runNum !== end.runNum) {
    r.stale.push({ end, why: task ? `task instance is ${task.status} at attempt ${task.runNum}` : 'task instance is gone' });
    return;
  }
  if (state.owner !== end.ownerEngineId) {
    r.stale.push({ end, why: state.owner === null ? 'the attempt was closed already' : `the attempt belongs to engine ${state.owner}` });
    return;
  }
  const inst = state.instance;
  const ci = await ctx.cache.get(inst.id, tx);
  const def = ci.def(ci.taskIdOf(task.nodeId));
  const priorFailures = isFailedAttempt(end.result.status) ? await tx.failedAttempts(task.id) : 0;
  const succIds = end.result.status === 'SUCCESS' ? ci.successorsOf(task.nodeId) : [];
  const successors = succIds.length > 0 ? await tx.tasks(succIds) : [];
  let othersActive = true;
  let othersOpen = true;
  // Only an end that frees no successor can finish or stall the instance: then ask what else is left.
  if (inst.status === 'RUNNING' && !successors.some((s) => s.status === 'INIT' && s.waitingOn <= 1)) {
    const except = [task.id, ...succIds];
    // A reference still waiting holds the instance open as an active task does (contract §10).
    othersActive = (await tx.anyTask(inst.id, ACTIVE, except)) || (ci.references.length > 0 && (await tx.anyWaitingReference(inst.id)));
    othersOpen = othersActive || (await tx.anyTask(inst.id, OPEN, except));
  }
  const plan: EndPlan = planAttemptEnd(
    {
      instance: inst,
      task,
      runNum: end.runNum,
      ownerEngineId: end.ownerEngineId,
      result: end.result,
      process: end.process ?? null,
      logTail: end.logTail,
      logTailAtLineStart: end.logTailAtLineStart,
      policy: def,
      priorFailures,
      successors,
      othersActive,
      othersOpen,
    },
    now,
  );
  await tx.apply(plan, now, ctx.engineId());
  r.ended.push({ end, instanceId: inst.id, flowId: inst.flowId, status: plan.taskStatus });
  noteEnds(r, plan);
  if (plan.retryAt !== null) r.retryAts.push(plan.retryAt);
  // The whole instance succeeded (flow references), or a task that allows references (task references
  // name only asLink tasks): the waits on it may be satisfied now. Other task ends ask nothing (hot path).
  if (plan.taskStatus === 'SUCCESS' && (def.asLink || plan.instances.some((m) => m.to === 'SUCCESS'))) {
    await wakeDependents(tx, inst.flowId, ci.triggerTime, now, applying(ctx, tx, now, r));
  }
  // The last running task of an ended instance frees its flow for the next instance.
  if (inst.status !== 'RUNNING') r.flowsToPump.push(inst.flowId);
}

/** Claims ready work for the free slots. */
export async function claim(ctx: StepContext, now: number): Promise<StepResult> {
  return ctx.store.engineTx(async (tx) => {
    const r = emptyResult();
    await claimWithin(ctx, tx, now, r);
    return r;
  });
}

/** Ends a RUNNING instance that nothing can move any more (the safety net's finding). */
export async function settleStalled(ctx: StepContext, instanceId: string, now: number): Promise<StepResult> {
  return ctx.store.engineTx(async (tx) => {
    const r = emptyResult();
    const inst = await tx.instance(instanceId);
    if (!inst || inst.status !== 'RUNNING') return r;
    const anyActive = (await tx.anyTask(inst.id, ACTIVE, [])) || (await tx.anyWaitingReference(inst.id));
    const openSample = anyActive ? [] : await tx.sampleTasks(inst.id, OPEN, 5);
    const plan = planStall({ instance: inst, anyActive, anyOpen: openSample.length > 0, openSample });
    await tx.apply(plan, now, ctx.engineId());
    noteEnds(r, plan);
    if (plan.instances.some((m) => m.to === 'SUCCESS')) {
      const ci = await ctx.cache.get(inst.id, tx);
      await wakeDependents(tx, inst.flowId, ci.triggerTime, now, applying(ctx, tx, now, r));
    }
    return r;
  });
}

/** Writes a plan made inside this step (a reference's) and notes what it did. */
function applying(ctx: StepContext, tx: EngineTx, now: number, r: StepResult): (t: Transitions) => Promise<void> {
  return async (t) => {
    await tx.apply(t, now, ctx.engineId());
    noteEnds(r, t);
  };
}

/**
 * References past their deadline (all waiting ones with `all`: the sweep's safety net) are re-derived:
 * satisfied ones free their targets, timed-out ones fail their instance. Claims what became ready.
 */
export async function settleReferences(ctx: StepContext, now: number, all: boolean): Promise<StepResult> {
  return ctx.store.engineTx(async (tx) => {
    const r = emptyResult();
    await checkReferences(ctx, tx, now, all, applying(ctx, tx, now, r));
    if (r.readied > 0) await claimWithin(ctx, tx, now, r);
    return r;
  });
}

async function claimWithin(ctx: StepContext, tx: EngineTx, now: number, r: StepResult): Promise<void> {
  const free = ctx.freeSlots() - r.started.length;
  if (free <= 0) {
    r.saturated = true;
    return;
  }
  const picked = planClaims(await tx.claimable(free, now), free);
  r.saturated = picked.length === free;
  if (picked.length === 0) return;
  const plan = noTransitions();
  for (const c of picked) {
    const ci = await ctx.cache.get(c.task.instanceId, tx);
    const start = prepareStart(ctx, ci, c.taskId, c.task.id, c.task.runNum + 1, now);
    const move: TaskMove = {
      id: c.task.id,
      instanceId: c.task.instanceId,
      from: c.task.status,
      to: 'RUNNING',
      dueAt: null,
      start: { runNum: start.runNum, host: ctx.config.hostName, engineId: ctx.engineId(), banner: start.banner },
    };
    plan.tasks.push(move);
    r.started.push(start.claimed);
  }
  await tx.apply(plan, now, ctx.engineId());
}

/** The command line after substitution, the parameters and the log banner of a new attempt. */
function prepareStart(ctx: StepContext, ci: CachedInstance, taskId: number, taskInstanceId: string, runNum: number, now: number) {
  const def = ci.def(taskId);
  const tz = ctx.config.timezone;
  const resolved = resolveParameters({
    triggerTime: ci.triggerTime,
    tz,
    taskId,
    instanceId: ci.id,
    flowParams: ci.flowParams,
    taskParams: def.parameters,
    overrides: ci.overrides,
  });
  // taskMode 2: `${key}` is each key's (replaced per key when it runs), even where a parameter is named `key`.
  const lookup = runModeOf(def.runMode).taskMode === 2 ? (name: string) => (name === KEY_NAME ? undefined : resolved.lookup(name)) : resolved.lookup;
  const renderedCmd = substitute(def.cmd, lookup, ci.triggerTime, tz);
  const banner = bannerText({
    runNum,
    taskInstanceId,
    cmdline: renderedCmd,
    submitter: def.submitter || ci.doAs || ci.owner || ci.creatorName,
    now,
    timezone: tz,
    javaDate: javaDateBySecond,
  });
  const claimed: ClaimedAttempt = { taskInstanceId, instanceId: ci.id, flowId: ci.flowId, taskId, runNum, def, renderedCmd, params: resolved.values, triggerTime: ci.triggerTime, triggerTimeText: ci.triggerTimeText, doAs: ci.doAs };
  return { runNum, banner, claimed };
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
