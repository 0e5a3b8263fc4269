// The state machine of flow instances and task instances: the statuses, the allowed transitions and the
// predicates over them. Wire numbers (ref §4) live in src/api/wire.ts; nothing outside src/domain compares
// status strings by hand: use the predicates below.
//
// Flow instance:
//   WAIT     created; waits for its trigger time and for the previous instance of its flow to finish.
//            -> RUNNING (started by the scheduler) | CANCEL (cancelled before it started)
//   RUNNING  its tasks run. -> SUCCESS (every node SUCCESS or SKIP) | FAIL (a task failed for good)
//            | CANCEL (cancelled) | INTERNAL_ERROR (the engine could not go on, reason recorded)
//   SUCCESS, FAIL, CANCEL, INTERNAL_ERROR are terminal.
// Task instance:
//   INIT     created with its flow instance; waits for its upstream nodes (waitingOn counts those that
//            have not passed). -> READY (the last one passed) | SKIP (the instance failed) | CANCEL
//   READY    every upstream node in the run set passed; waits for an engine to claim it. -> RUNNING
//            | SKIP | CANCEL
//   RUNNING  an attempt runs, owned by one engine. -> SUCCESS | FAIL | TIMEOUT | RERUN | CANCEL
//            | READY (put back: service shutdown, or an attempt whose process never started)
//   RERUN    the attempt failed or timed out and a retry is due at nextRunAt; claimed like READY once
//            due. -> RUNNING | SKIP | CANCEL
//   SUCCESS, FAIL, TIMEOUT, CANCEL, SKIP are terminal.
// Rerun (contract §12, src/domain/rerun.ts) is the one way back from an end, and only an owner's request
// takes it: an ended instance -> WAIT (SUCCESS only with mode `all`) and its ended task instances -> INIT
// (SUCCESS ones only with `all`). These moves are a table of their own (RERUN_*), so that the engine's
// tables above keep their terminal statuses terminal.
// The store checks every status write against these tables (an illegal one is refused, never written)
// and records each transition in the instance's history.

export const FlowInstanceStatus = {
  WAIT: 'WAIT',
  RUNNING: 'RUNNING',
  SUCCESS: 'SUCCESS',
  FAIL: 'FAIL',
  CANCEL: 'CANCEL',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type FlowInstanceStatus = (typeof FlowInstanceStatus)[keyof typeof FlowInstanceStatus];

export const TaskInstanceStatus = {
  INIT: 'INIT',
  READY: 'READY',
  RUNNING: 'RUNNING',
  RERUN: 'RERUN',
  SUCCESS: 'SUCCESS',
  FAIL: 'FAIL',
  TIMEOUT: 'TIMEOUT',
  CANCEL: 'CANCEL',
  SKIP: 'SKIP',
} as const;
export type TaskInstanceStatus = (typeof TaskInstanceStatus)[keyof typeof TaskInstanceStatus];

export const FLOW_INSTANCE_TRANSITIONS: Record<FlowInstanceStatus, readonly FlowInstanceStatus[]> = {
  WAIT: ['RUNNING', 'CANCEL'],
  RUNNING: ['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'],
  SUCCESS: [],
  FAIL: [],
  CANCEL: [],
  INTERNAL_ERROR: [],
};

export const TASK_INSTANCE_TRANSITIONS: Record<TaskInstanceStatus, readonly TaskInstanceStatus[]> = {
  INIT: ['READY', 'SKIP', 'CANCEL'],
  READY: ['RUNNING', 'SKIP', 'CANCEL'],
  RUNNING: ['SUCCESS', 'FAIL', 'TIMEOUT', 'RERUN', 'CANCEL', 'READY'],
  RERUN: ['RUNNING', 'SKIP', 'CANCEL'],
  SUCCESS: [],
  FAIL: [],
  TIMEOUT: [],
  CANCEL: [],
  SKIP: [],
};

/** Rerun modes (contract §12): `failed` runs again what did not succeed, `all` every task of the run set. */
export type RerunMode = 'failed' | 'all';
export const RERUN_MODES: readonly RerunMode[] = ['failed', 'all'];

/** The ended instance statuses a rerun of each mode takes back to WAIT. */
export const RERUN_FLOW_INSTANCE_FROM: Record<RerunMode, readonly FlowInstanceStatus[]> = {
  failed: ['FAIL', 'CANCEL', 'INTERNAL_ERROR'],
  all: ['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'],
};
/** The ended task instance statuses a rerun of each mode takes back to INIT. */
export const RERUN_TASK_INSTANCE_FROM: Record<RerunMode, readonly TaskInstanceStatus[]> = {
  failed: ['FAIL', 'TIMEOUT', 'CANCEL', 'SKIP'],
  all: ['SUCCESS', 'FAIL', 'TIMEOUT', 'CANCEL', 'SKIP'],
};
export function canRerunFlowInstance(from: FlowInstanceStatus, mode: RerunMode): boolean {
  return RERUN_FLOW_INSTANCE_FROM[mode].includes(from);
}
export function resetsOnRerun(from: TaskInstanceStatus, mode: RerunMode): boolean {
  return RERUN_TASK_INSTANCE_FROM[mode].includes(from);
}

export function canTransitionFlowInstance(from: FlowInstanceStatus, to: FlowInstanceStatus): boolean {
  return FLOW_INSTANCE_TRANSITIONS[from].includes(to);
}
export function canTransitionTaskInstance(from: TaskInstanceStatus, to: TaskInstanceStatus): boolean {
  return TASK_INSTANCE_TRANSITIONS[from].includes(to);
}

export function isTerminalFlowInstance(s: FlowInstanceStatus): boolean {
  return FLOW_INSTANCE_TRANSITIONS[s].length === 0;
}
export function isTerminalTaskInstance(s: TaskInstanceStatus): boolean {
  return TASK_INSTANCE_TRANSITIONS[s].length === 0;
}
/** Cancel is allowed while the instance has not ended (contract §4). */
export function isCancellable(s: FlowInstanceStatus): boolean {
  return s === 'WAIT' || s === 'RUNNING';
}
/** A node that lets its downstream nodes run (skipped upstream nodes do not block, contract §4). */
export function isPassThrough(s: TaskInstanceStatus): boolean {
  return s === 'SUCCESS' || s === 'SKIP';
}
export function isFailed(s: TaskInstanceStatus): boolean {
  return s === 'FAIL' || s === 'TIMEOUT';
}
/** A task instance that holds its instance open: it has a claim, an attempt or a retry under way. */
export function isActive(s: TaskInstanceStatus): boolean {
  return s === 'READY' || s === 'RUNNING' || s === 'RERUN';
}
/** A task instance that may still change (every status but the terminal ones). */
export function isOpen(s: TaskInstanceStatus): boolean {
  return !isTerminalTaskInstance(s);
}

/** How one attempt (one process group) ended; RUNNING while it runs. */
export const AttemptStatus = {
  RUNNING: 'RUNNING',
  SUCCESS: 'SUCCESS',
  FAIL: 'FAIL',
  TIMEOUT: 'TIMEOUT',
  CANCEL: 'CANCEL',
  /** Its owner died (or lost its lease) while it ran: recovered, counted as a failure. */
  LOST: 'LOST',
  /** Stopped by a shutdown, or never started: not counted as a failure, the task runs again. */
  INTERRUPTED: 'INTERRUPTED',
} as const;
export type AttemptStatus = (typeof AttemptStatus)[keyof typeof AttemptStatus];
/** Attempt ends that count against retryLimit. */
export function isFailedAttempt(s: AttemptStatus): boolean {
  return s === 'FAIL' || s === 'TIMEOUT' || s === 'LOST';
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
