// The engine's side of the Store interface: the transaction object one decision reads and writes through
// (EngineTx), the engine registry's records and the open attempts recovery works on. Domain types only:
// no Kysely, SQL or driver types. The rows a plan needs are the planner's own (src/domain/plan.ts).
import type { Binding, ReferenceWaitView } from '../domain/referenceWaits.js';
import type { ClaimCandidate, InstanceRow, TaskRow, Transitions } from '../domain/plan.js';
import type { FlowInstanceStatus, TaskInstanceStatus } from '../domain/status.js';
import type { Attempt, FlowInstance } from '../domain/types.js';

/** One engine process as the store knows it (contract §5: explicit ownership). */
export interface EngineRecord {
  id: string;
  host: string;
  pid: number;
  /** /proc/<pid>/stat field 22 of the engine's process: with pid and host, tells a restart from a live process. */
  procStart: string | null;
  startedAt: number;
  heartbeatAt: number;
  leaseUntil: number;
  state: 'live' | 'stopped' | 'expired';
  endedAt: number | null;
}

/** An attempt still marked RUNNING, with where it stands. */
export interface OpenAttempt extends Attempt {
  flowInstanceId: string;
  flowId: number;
  instanceStatus: FlowInstanceStatus;
  taskStatus: TaskInstanceStatus;
  taskRunNum: number;
}

/** A claim candidate with what the engine needs to start it. */
export interface Claimable extends ClaimCandidate {
  flowId: number;
  taskId: number;
}

/**
 * Reads and writes of one engine decision, inside one transaction. Reads see the transaction's own
 * writes. On backends with several connections the reads that a decision depends on lock their rows.
 */
export interface EngineTx {
  instance(id: string): Promise<InstanceRow | null>;
  /** The whole instance (snapshot, parameters): read once per instance into the engine's cache. */
  instanceDetails(id: string): Promise<FlowInstance | null>;
  /** Task instances by id (missing ids are left out), in the order asked. */
  tasks(ids: readonly string[]): Promise<TaskRow[]>;
  /**
   * What an attempt's end depends on, in one read: the task instance, the owner of its attempt runNum
   * while that attempt is open (null once closed), and its flow instance. Null when the task is gone.
   */
  endState(taskInstanceId: string, runNum: number): Promise<{ task: TaskRow; owner: string | null; instance: InstanceRow } | null>;
  /**
   * Locks the flow instances of these task instances, in instance id order (PostgreSQL; a no-op where
   * transactions are serialized anyway): a decision over several instances takes their locks up front.
   */
  lockInstancesOf(taskInstanceIds: readonly string[]): Promise<void>;
  /** FAIL, TIMEOUT and LOST attempts of a task instance. */
  failedAttempts(taskInstanceId: string): Promise<number>;
  /** Whether a task instance of the instance, other than `except`, has one of `statuses`. */
  anyTask(instanceId: string, statuses: readonly TaskInstanceStatus[], except: readonly string[]): Promise<boolean>;
  /** Up to `limit` task instances of the instance with one of `statuses`, in node order. */
  sampleTasks(instanceId: string, statuses: readonly TaskInstanceStatus[], limit: number): Promise<TaskRow[]>;
  /** INIT task instances of the instance with nothing left to wait on. */
  roots(instanceId: string): Promise<TaskRow[]>;
  /**
   * The WAIT instance of the flow that may start now, if any: due at or before `now`, the first by
   * (dueAt, seq), and no instance and no task instance of the flow RUNNING (one instance at a time).
   */
  nextInstanceToStart(flowId: number, now: number): Promise<InstanceRow | null>;
  /** READY task instances, and RERUN ones due at `now`, of RUNNING instances: up to `limit`, by due time. */
  claimable(limit: number, now: number): Promise<Claimable[]>;
  /**
   * Writes the transitions, each guarded (status still `from`; attempt still open and owned), each
   * checked against the transition tables (IllegalTransitionError) and recorded in the history.
   * A failed guard throws StaleError and the whole transaction is rolled back.
   */
  apply(t: Transitions, at: number, engineId: string | null): Promise<void>;
  // ---- references (contract §10) ----
  /** The referenced workflow's instance a reference binds to in [start, end) (latest trigger time), or null. */
  referenceBinding(refFlowId: number, refTaskId: number | null, start: number, end: number): Promise<Binding | null>;
  /** WAITING reference waits on `refFlowId` whose window holds `triggerTime`, up to `limit`. */
  waitingReferencesOn(refFlowId: number, triggerTime: number, limit: number): Promise<ReferenceWaitView[]>;
  /** WAITING reference waits whose deadline is at or before `now`, up to `limit`. */
  expiredReferences(now: number, limit: number): Promise<ReferenceWaitView[]>;
  /** Whether the instance has a WAITING reference wait. */
  anyWaitingReference(instanceId: string): Promise<boolean>;
}
