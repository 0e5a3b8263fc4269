// The engine's step planner: pure functions from what one store transaction read (the rows a decision
// depends on) to the transitions that transaction writes. No I/O, no clock (`now` is an argument), no
// memory between calls: the same rows always give the same plan, which is what lets the engine drop its
// memory at any moment. Each plan touches only the rows it was given (a task, its successors, counters),
// so its cost does not grow with the size of the instance.
import type { AttemptStatus, FlowInstanceStatus, TaskInstanceStatus } from './status.js';
import { isActive, isFailed, isOpen } from './status.js';

/** What a plan needs of a flow instance row. */
export interface InstanceRow {
  id: string;
  flowId: number;
  status: FlowInstanceStatus;
}

/** What a plan needs of a task instance row. */
export interface TaskRow {
  id: string;
  instanceId: string;
  nodeId: string;
  taskName: string;
  status: TaskInstanceStatus;
  runNum: number;
  waitingOn: number;
}

/** How an attempt ended, as the engine observed it (or recovery decided it). */
export interface AttemptResult {
  status: Exclude<AttemptStatus, 'RUNNING'>;
  exitCode: number | null;
  signal: string | null;
  /** Why, when not a plain exit (a line for the log), e.g. "timed out after 5 s". */
  note: string | null;
}

export interface RetryPolicy {
  retryLimit: number;
  retryIntervalSec: number;
}

/** A guarded status change of one task instance: written only while its status is still `from`. */
export interface TaskMove {
  id: string;
  instanceId: string;
  from: TaskInstanceStatus;
  to: TaskInstanceStatus;
  /** READY: now; RERUN: when the retry is due; otherwise cleared. */
  dueAt: number | null;
  /** Opens attempt `runNum` (guard: the row's runNum is runNum - 1) with its log banner. */
  start?: { runNum: number; host: string; engineId: string; banner: string };
  /** Closes attempt `runNum` (guard: still open and owned by `engineId`) and appends `logTail` to its log. */
  finish?: {
    runNum: number;
    engineId: string;
    status: Exclude<AttemptStatus, 'RUNNING'>;
    exitCode: number | null;
    signal: string | null;
    logTail: string;
    /** The process group it ran as, when not recorded while it ran (short attempts). */
    process?: { pid: number; pgid: number; procStart: string | null } | null;
  };
  exitCode?: number | null;
  isTimeout?: boolean;
  reason?: string;
  /** The row's attempt number (for the history row of a move that neither starts nor ends an attempt). */
  runNum?: number;
}

/** A guarded status change of one flow instance. */
export interface InstanceMove {
  id: string;
  flowId: number;
  from: FlowInstanceStatus;
  to: FlowInstanceStatus;
  reason: string | null;
}

/** A reference wait (src/domain/referenceWaits.ts) written at its instance's start. */
export interface NewReferenceWait {
  instanceId: string;
  nodeId: string;
  cycleGap: string;
  /** The dependent instance's flow. */
  flowId: number;
  refFlowId: number;
  refTaskId: number | null;
  windowStart: number;
  windowEnd: number;
  deadline: number;
  targets: string[];
  /** SUCCESS: satisfied at once (its targets are unblocked by the same plan). */
  status: 'WAITING' | 'SUCCESS';
  boundId: string | null;
  boundStatus: string | null;
}

/** A guarded end of a reference wait: written only while it is still WAITING. */
export interface ReferenceMove {
  instanceId: string;
  nodeId: string;
  cycleGap: string;
  to: 'SUCCESS' | 'FAIL';
  boundId: string | null;
  boundStatus: string | null;
  reason: string | null;
}

/** Everything one decision writes, applied by the store in one transaction (or not at all). */
export interface Transitions {
  instances: InstanceMove[];
  tasks: TaskMove[];
  /** INIT task instances whose waitingOn drops by one (an upstream passed). */
  unblock: string[];
  /**
   * Every INIT, READY and RERUN task instance of the instance goes to `to` (the instance ended); its
   * WAITING references end too (CANCEL with a cancel, SKIP otherwise).
   */
  pending: Array<{ instanceId: string; to: 'SKIP' | 'CANCEL'; reason: string }>;
  /** Reference waits opened (an instance started). */
  openReferences: NewReferenceWait[];
  /** Reference waits ended (satisfied or timed out). */
  references: ReferenceMove[];
}

export const noTransitions = (): Transitions => ({ instances: [], tasks: [], unblock: [], pending: [], openReferences: [], references: [] });

export function isEmpty(t: Transitions): boolean {
  return t.instances.length === 0 && t.tasks.length === 0 && t.unblock.length === 0 && t.pending.length === 0 && t.openReferences.length === 0 && t.references.length === 0;
}


/** A few open task instances, for a reason a person can act on. */
export function describeOpen(open: TaskRow[], more: boolean): string {
  const shown = open.map((t) => `${t.nodeId}=${t.status}${t.status === 'INIT' ? ` (waiting on ${t.waitingOn})` : ''}`).join(', ');
  return `no task can run: ${shown}${more ? ', ...' : ''}`;
}

function stuck(instance: InstanceRow, reason: string, t: Transitions): void {
  t.instances.push({ id: instance.id, flowId: instance.flowId, from: 'RUNNING', to: 'INTERNAL_ERROR', reason });
  t.pending.push({ instanceId: instance.id, to: 'SKIP', reason });
}

/**
 * Unblocks the targets of a satisfied wait: each one's waitingOn drops by one, and an INIT target whose
 * last wait this was becomes READY (while the instance runs). `alreadyDropped`: targets whose waitingOn
 * this same plan lowers already (several waits satisfied at once), by how much.
 */
export function unblockTargets(instance: InstanceRow, targets: TaskRow[], now: number, t: Transitions, alreadyDropped = new Map<string, number>()): void {
  for (const s of targets) {
    if (s.status !== 'INIT') continue;
    t.unblock.push(s.id);
    const dropped = (alreadyDropped.get(s.id) ?? 0) + 1;
    alreadyDropped.set(s.id, dropped);
    if (instance.status === 'RUNNING' && s.waitingOn - dropped <= 0 && !t.tasks.some((m) => m.id === s.id)) {
      t.tasks.push({ id: s.id, instanceId: s.instanceId, from: 'INIT', to: 'READY', dueAt: now, runNum: s.runNum });
    }
  }
}

// ---- starting an instance -------------------------------------------------------------------------

export interface StartInput {
  instance: InstanceRow;
  /** INIT task instances with waitingOn 0 (nothing upstream, or nothing upstream that runs). */
  roots: TaskRow[];
  /** Some task instance is open (not terminal). */
  anyOpen: boolean;
  /** A sample of open task instances (for the reason when nothing can run). */
  openSample: TaskRow[];
  /**
   * Its reference waits, each already bound (SUCCESS: satisfied now), and the rows of their targets.
   * Absent: it has none.
   */
  references?: { waits: NewReferenceWait[]; targets: TaskRow[] };
}

/**
 * WAIT -> RUNNING with its roots READY, its reference waits opened (the targets of those satisfied
 * already unblocked); an instance with nothing to run and nothing to wait for ends at once.
 */
export function planStart(i: StartInput, now: number): Transitions {
  const t = noTransitions();
  if (i.instance.status !== 'WAIT') return t;
  t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'WAIT', to: 'RUNNING', reason: null });
  for (const r of i.roots) if (r.status === 'INIT') t.tasks.push({ id: r.id, instanceId: r.instanceId, from: 'INIT', to: 'READY', dueAt: now, runNum: r.runNum });
  const waits = i.references?.waits ?? [];
  if (waits.length > 0) {
    t.openReferences.push(...waits);
    const rows = new Map((i.references?.targets ?? []).map((r) => [r.id, r]));
    const running: InstanceRow = { ...i.instance, status: 'RUNNING' };
    const dropped = new Map<string, number>();
    for (const w of waits) {
      if (w.status !== 'SUCCESS') continue;
      const targets = w.targets.map((id) => rows.get(id)).filter((r): r is TaskRow => r !== undefined);
      unblockTargets(running, targets, now, t, dropped);
    }
  }
  if (t.tasks.length > 0 || waits.some((w) => w.status === 'WAITING')) return t;
  if (!i.anyOpen) t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'RUNNING', to: 'SUCCESS', reason: null });
  else stuck(i.instance, describeOpen(i.openSample, false), t);
  return t;
}

// ---- the end of an attempt ------------------------------------------------------------------------

export interface EndInput {
  instance: InstanceRow;
  /** The task instance, RUNNING at attempt runNum. */
  task: TaskRow;
  runNum: number;
  /** The engine the attempt belongs to (the guard of its close). */
  ownerEngineId: string;
  result: AttemptResult;
  /** The process group it ran as (null: never started, or unknown). */
  process?: { pid: number; pgid: number; procStart: string | null } | null;
  /** The rest of the attempt's log, and whether it ends a line (where a service line may start). */
  logTail: string;
  logTailAtLineStart: boolean;
  policy: RetryPolicy;
  /** Failed attempts (FAIL, TIMEOUT, LOST) of this task instance before this one. */
  priorFailures: number;
  /** The task instance's distinct downstream task instances. */
  successors: TaskRow[];
  /** Some task instance other than this one and its successors is READY, RUNNING or RERUN. */
  othersActive: boolean;
  /** Some task instance other than this one and its successors is open. */
  othersOpen: boolean;
}

export interface EndPlan extends Transitions {
  /** What the task instance became. */
  taskStatus: TaskInstanceStatus;
  /** When the retry is due (to = RERUN), else null: the engine arms a wake-up for it. */
  retryAt: number | null;
}

/** What the task instance becomes, and the service line for its log. */
function taskOutcome(i: EndInput, now: number): { to: TaskInstanceStatus; note: string | null; retryAt: number | null } {
  const r = i.result;
  const live = i.instance.status === 'RUNNING';
  switch (r.status) {
    case 'SUCCESS':
      return { to: 'SUCCESS', note: r.note, retryAt: null };
    case 'CANCEL':
      return { to: 'CANCEL', note: r.note, retryAt: null };
    case 'INTERRUPTED':
      // Put back to run again; an instance that ended meanwhile runs nothing more.
      return live ? { to: 'READY', note: r.note, retryAt: null } : { to: 'CANCEL', note: r.note, retryAt: null };
    case 'FAIL':
    case 'TIMEOUT':
    case 'LOST': {
      // Its engine died while the instance was being cancelled: it was to be stopped anyway, and it is.
      if (r.status === 'LOST' && i.instance.status === 'CANCEL') return { to: 'CANCEL', note: r.note, retryAt: null };
      const final: TaskInstanceStatus = r.status === 'TIMEOUT' ? 'TIMEOUT' : 'FAIL';
      const n = i.priorFailures + 1;
      if (live && n <= i.policy.retryLimit) {
        const note = `${r.note ? `${r.note}; ` : ''}retry ${n} of ${i.policy.retryLimit} in ${i.policy.retryIntervalSec} s`;
        return { to: 'RERUN', note, retryAt: now + i.policy.retryIntervalSec * 1000 };
      }
      return { to: final, note: r.note, retryAt: null };
    }
  }
}

function withNote(tail: string, atLineStart: boolean, note: string | null): string {
  if (!note) return tail;
  const lineStart = tail === '' ? atLineStart : tail.endsWith('\n');
  return `${tail}${lineStart ? '' : '\n'}[batchflow] ${note}\n`;
}

/**
 * Closes the attempt and moves the task instance on (retry, success, failure); on success the successors
 * whose last upstream this was become READY; a final failure fails the instance and skips what had not
 * started; an instance with nothing left open succeeds, and one with work left but nothing able to run
 * ends INTERNAL_ERROR. A task instance no longer RUNNING at runNum means the end was applied already.
 */
export function planAttemptEnd(i: EndInput, now: number): EndPlan {
  const t: EndPlan = { ...noTransitions(), taskStatus: i.task.status, retryAt: null };
  if (i.task.status !== 'RUNNING' || i.task.runNum !== i.runNum) return t;
  const { to, note, retryAt } = taskOutcome(i, now);
  const r = i.result;
  t.taskStatus = to;
  t.retryAt = retryAt;
  t.tasks.push({
    id: i.task.id,
    instanceId: i.task.instanceId,
    from: 'RUNNING',
    to,
    dueAt: to === 'RERUN' ? retryAt : to === 'READY' ? now : null,
    exitCode: r.exitCode,
    isTimeout: r.status === 'TIMEOUT',
    finish: {
      runNum: i.runNum,
      engineId: i.ownerEngineId,
      status: r.status,
      exitCode: r.exitCode,
      signal: r.signal,
      logTail: withNote(i.logTail, i.logTailAtLineStart, note),
      process: i.process ?? null,
    },
  });
  const live = i.instance.status === 'RUNNING';
  const after = new Map<string, TaskInstanceStatus>();
  if (to === 'SUCCESS') {
    for (const s of i.successors) {
      if (s.status !== 'INIT') continue;
      t.unblock.push(s.id);
      if (live && s.waitingOn <= 1) {
        t.tasks.push({ id: s.id, instanceId: s.instanceId, from: 'INIT', to: 'READY', dueAt: now, runNum: s.runNum });
        after.set(s.id, 'READY');
      }
    }
  }
  if (!live) return t;
  if (isFailed(to)) {
    const reason = `task ${i.task.taskName} (${i.task.id}) ${to}`;
    t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'RUNNING', to: 'FAIL', reason });
    t.pending.push({ instanceId: i.instance.id, to: 'SKIP', reason });
    return t;
  }
  const statusAfter = (s: TaskRow) => after.get(s.id) ?? s.status;
  const openAfter = i.othersOpen || isOpen(to) || i.successors.some((s) => isOpen(statusAfter(s)));
  if (!openAfter) {
    t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'RUNNING', to: 'SUCCESS', reason: null });
    return t;
  }
  const activeAfter = i.othersActive || isActive(to) || i.successors.some((s) => isActive(statusAfter(s)));
  if (!activeAfter) {
    const open = i.successors.filter((s) => isOpen(statusAfter(s))).map((s) => ({ ...s, status: statusAfter(s) }));
    stuck(i.instance, describeOpen(open.slice(0, 5), i.othersOpen || open.length > 5), t);
  }
  return t;
}

// ---- an instance found with nothing able to run ---------------------------------------------------

export interface StallInput {
  instance: InstanceRow;
  anyActive: boolean;
  anyOpen: boolean;
  openSample: TaskRow[];
}

/**
 * The safety net's decision for a RUNNING instance: with no task READY, RUNNING or RERUN it can never
 * move again, so it ends: SUCCESS when nothing is open, else INTERNAL_ERROR naming what is stuck.
 */
export function planStall(i: StallInput): Transitions {
  const t = noTransitions();
  if (i.instance.status !== 'RUNNING' || i.anyActive) return t;
  if (!i.anyOpen) t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'RUNNING', to: 'SUCCESS', reason: null });
  else stuck(i.instance, describeOpen(i.openSample, i.openSample.length >= 5), t);
  return t;
}

// ---- claiming ready work --------------------------------------------------------------------------

export interface ClaimCandidate {
  task: TaskRow;
  /** READY or RERUN, due at or before now. */
  dueAt: number;
}

/** Which candidates an engine with `free` slots takes: the first ones, in the order the store gave (due time). */
export function planClaims<C extends ClaimCandidate>(candidates: C[], free: number): C[] {
  if (free <= 0) return [];
  return candidates.filter((c) => c.task.status === 'READY' || c.task.status === 'RERUN').slice(0, free);
}
