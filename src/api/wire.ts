// Wire numbers of the EnOS API (ref §4) for the domain's statuses and task types. Records over the
// domain unions: adding a status fails compilation until it is mapped here.
import { assertNever, type FlowInstanceStatus, type TaskInstanceStatus } from '../domain/status.js';
import type { TaskType } from '../domain/types.js';

export const FLOW_INSTANCE_WIRE: Record<FlowInstanceStatus, number> = {
  WAIT: 5,
  RUNNING: 2,
  SUCCESS: 1,
  FAIL: -1,
  CANCEL: 8,
  INTERNAL_ERROR: 4,
};

export const TASK_INSTANCE_WIRE: Record<TaskInstanceStatus, number> = {
  INIT: 0,
  READY: 6,
  RUNNING: 2,
  RERUN: 9,
  SUCCESS: 1,
  FAIL: -1,
  TIMEOUT: 7,
  CANCEL: 8,
  SKIP: 10,
};

/** Get Task Instance's integer `type`: 3 is SHELL in ref §4; 8 is our PYTHON (see taskDefinition.ts). */
export function taskTypeWire(t: TaskType): number {
  switch (t) {
    case 'SHELL':
      return 3;
    case 'PYTHON':
      return 8;
    default:
      return assertNever(t);
  }
}

/** Wire status number -> flow instance status (List Flow Instances' `status` filter). */
export function flowInstanceStatusOf(n: number): FlowInstanceStatus | undefined {
  return (Object.keys(FLOW_INSTANCE_WIRE) as FlowInstanceStatus[]).find((s) => FLOW_INSTANCE_WIRE[s] === n);
}
