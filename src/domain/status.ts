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
//   INIT     created with its flow instance; waits for its upstream nodes. -> READY | SKIP | CANCEL
//   READY    every upstream node in the run set succeeded; waits for a worker slot. -> RUNNING | SKIP | CANCEL
//   RUNNING  an attempt runs. -> SUCCESS | FAIL | TIMEOUT | RERUN | CANCEL | READY (shutdown: put back)
//   RERUN    the attempt failed or timed out and a retry is due at nextRunAt. -> RUNNING | CANCEL | SKIP
//   SUCCESS, FAIL, TIMEOUT, CANCEL, SKIP are terminal.

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
  INIT: ['READY', 'RUNNING', 'SKIP', 'CANCEL'],
  READY: ['RUNNING', 'SKIP', 'CANCEL'],
  RUNNING: ['SUCCESS', 'FAIL', 'TIMEOUT', 'RERUN', 'CANCEL', 'READY'],
  RERUN: ['RUNNING', 'SKIP', 'CANCEL'],
  SUCCESS: [],
  FAIL: [],
  TIMEOUT: [],
  CANCEL: [],
  SKIP: [],
};

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
/** A task instance that may still start a process. */
export function isPending(s: TaskInstanceStatus): boolean {
  return s === 'INIT' || s === 'READY' || s === 'RERUN';
}
export function isFailed(s: TaskInstanceStatus): boolean {
  return s === 'FAIL' || s === 'TIMEOUT';
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
