// The domain's data shapes: organizations and users, directories, flows with their task definitions,
// flow instances, task instances and attempts. Pure data: no I/O, no wire formats (src/api renders those).
// Times are epoch milliseconds unless a name says otherwise.
import type { AttemptStatus, FlowInstanceStatus, TaskInstanceStatus } from './status.js';
export type { AttemptStatus };
import type { FlowSnapshot, FlowVersionRef } from './versions.js';
export type { FlowSnapshot, FlowVersionRef };

export interface Org {
  id: string;
  name: string;
  createdAt: number;
}

/** An application's service account (contract §9): its secret is kept sealed under the master key. */
export interface App {
  accessKey: string;
  orgId: string;
  /** A label given at creation (what the app is for). */
  name: string;
  secretSealed: string;
  createdAt: number;
  /** When it was revoked; null while it may get tokens. */
  revokedAt: number | null;
}

/** An issued access token, found by the hash of the token; the token itself sealed (answered again while valid). */
export interface AccessToken {
  tokenHash: string;
  accessKey: string;
  tokenSealed: string;
  issuedAt: number;
  expiresAt: number;
}

export interface User {
  id: string;
  /** Unique across the service; owners/visitors lists name users by this. */
  name: string;
  orgId: string;
  locked: boolean;
  createdAt: number;
  /** Where alerts reach the user (contract §12): '' when unknown. */
  email: string;
  phone: string;
}

/** A user to create: contact details are optional ('' when not given). */
export type NewUser = Omit<User, 'email' | 'phone'> & Partial<Pick<User, 'email' | 'phone'>>;

export interface Directory {
  /** 32 lowercase hex characters. */
  id: string;
  orgId: string;
  /** null for the org's root `Workflow` directory. */
  parentId: string | null;
  name: string;
  createdAt: number;
}

/** A `key=value` parameter; order is kept as given. */
export interface Param {
  key: string;
  value: string;
}

export type TaskType = 'SHELL' | 'PYTHON';

/** A task definition (what Import/Export Flow carry, plus its id). */
export interface TaskDef {
  id: number;
  flowId: number;
  name: string;
  type: TaskType;
  cmd: string;
  resource: string;
  syncType: number;
  submitter: string;
  filePackage: string;
  cron: string;
  priorityLevel: number;
  /** Seconds; 0 = no timeout. */
  timeoutSec: number;
  retryLimit: number;
  retryIntervalSec: number;
  /** Comma-separated exit codes that mean success, default "0". */
  successCode: string;
  asLink: boolean;
  /** The RunMode struct as a JSON string, kept verbatim. */
  runMode: string;
  parameters: Param[];
  waitCode: string;
}

/** A task node on the canvas: `nodeId` is `t_<taskId>`. */
export interface TaskNode {
  nodeId: string;
  taskId: number;
  taskName: string;
  x: number;
  y: number;
}

/**
 * A reference node (contract §10): a root of the graph standing for another workflow (a flow reference)
 * or one task of it (a task reference, `isVirtual`). Its relations' targets wait until the referenced
 * workflow's instance bound by the relation's cycleGap window has succeeded (src/domain/references.ts).
 */
export interface FlowRefNode {
  nodeId: string;
  /** The referenced workflow's id. */
  flowId: string;
  /** A flow reference: the referenced workflow's name; a task reference: `<taskId>(<taskName>)`. */
  flowName: string;
  /** True for a task reference. */
  isVirtual: boolean;
  x: number;
  y: number;
  /** A task reference: the referenced task's id (in the referenced workflow). */
  taskId?: number;
  /** A task reference: the referenced workflow's name (flowName holds the task's). */
  sourceFlowName?: string;
  /** A task reference: the referenced task's name. */
  sourceTaskName?: string;
}

export interface Relation {
  source: string;
  target: string;
  cycleGap: string;
  /** Whether the target runs in a triggerFromTask run (default true). */
  rerun: boolean;
}

export type FlowType = 0 | 1 | 2; // manual, periodic, temporary

export interface EditLock {
  userId: string;
  userName: string;
  expiresAt: number;
}

export interface Flow {
  id: number;
  orgId: string;
  dirId: string;
  name: string;
  desc: string;
  type: FlowType;
  /** 0 paused, 1 started (periodic scheduling). */
  active: 0 | 1;
  /** 7-field Quartz cron, "" for manual flows. */
  freq: string;
  cycle: string;
  /** `;`-separated user names; the creator is always one of them. */
  owners: string;
  visitors: string;
  doAs: string;
  alertMode: number;
  alertTo: string;
  appId: string;
  syncType: number;
  /** Effective date `yyyy-MM-dd`, or "". */
  startDate: string;
  queue: string;
  entry: number;
  virtual: boolean;
  parameters: Param[];
  /**
   * How long (seconds from its start) an instance waits on a reference before it fails (contract §10;
   * extension field). Absent: the default, 86,400 s (kept absent so that older versions hash the same).
   */
  refTimeoutSec?: number;
  nodes: TaskNode[];
  flowRefs: FlowRefNode[];
  relations: Relation[];
  creatorId: string;
  creatorName: string;
  updateUser: string;
  createdAt: number;
  updatedAt: number;
  /**
   * When periodic scheduling of the flow (re)started: creation, enabling (active 0 -> 1), or a Save that
   * changed freq or startDate or re-activated it. No fire before it (no back-fill of a pause). The store
   * sets it; callers never do.
   */
  scheduleFrom: number;
  /**
   * Starts at 1; every write of the flow's content (Save, Enable, Disable) adds 1, so that Save writes only
   * over the version it read. Taking or renewing the edit lock is no change of the workflow and keeps it.
   * The store sets it; callers never do.
   */
  version: number;
  /**
   * The flow version (src/domain/versions.ts) of its current content, written in the same transaction as
   * the content by import and Save: a trigger references it without hashing the flow. The store's.
   */
  versionId: number;
  editLock: EditLock | null;
}

export interface FlowWithTasks {
  flow: Flow;
  /** Every task of the flow, in node order. */
  tasks: TaskDef[];
}

export type TriggerKind = 'trigger' | 'updateAndTrigger' | 'triggerFromTask' | 'schedule' | 'backfill';


export interface FlowInstance {
  /** `<flowId>-<yyyyMMddHHmm>00` in the service time zone. */
  id: string;
  flowId: number;
  orgId: string;
  /** Creation order, unique and increasing across the store (ties of dueAt break on it). */
  seq: number;
  kind: TriggerKind;
  /** For triggerFromTask: the start task. */
  startTaskId: number | null;
  triggerTime: number;
  /** max(triggerTime, createdAt): when it may start. */
  dueAt: number;
  status: FlowInstanceStatus;
  /** Name of the user who triggered it ("" for the scheduler's own fires: then the flow's creator). */
  owner: string;
  /** The flow's global parameters with the overrides applied: what the instance ran with. */
  parameters: Param[];
  /** The updateAndTrigger overrides as given ([] otherwise). */
  overrides: Param[];
  /** What it runs: its flow version's content (stored once per version, not per instance). */
  snapshot: FlowSnapshot;
  /** The flow version it runs (extension: Get Flow Instance names it). */
  version: FlowVersionRef;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Why it ended, when not plain success (e.g. "task t_3 failed", "cancelled by admin"). */
  reason: string | null;
}

export interface TaskInstance {
  /** `<taskId>-<same 14 digits as the flow instance>`. */
  id: string;
  flowInstanceId: string;
  flowId: number;
  taskId: number;
  nodeId: string;
  taskName: string;
  status: TaskInstanceStatus;
  /** Attempts started so far (0 before the first). */
  runNum: number;
  startedAt: number | null;
  endedAt: number | null;
  /** When status is RERUN: when the next attempt is due. */
  nextRunAt: number | null;
  exitCode: number | null;
  isTimeout: boolean;
  updatedAt: number;
  /** Upstream nodes of the run set that have not passed yet; INIT becomes READY when it reaches 0. */
  waitingOn: number;
  /** READY: when it became ready; RERUN: when the retry is due. Claims take the smallest first. */
  dueAt: number | null;
}

/** One row of an instance's or task instance's history: every status change, in order. */
export interface TransitionRecord {
  /** The store-wide order of changes (increasing in commit order). */
  seq: number;
  /** The task instance's id for task rows, the flow instance's for instance rows. */
  entityId: string;
  kind: 'instance' | 'task';
  from: string;
  to: string;
  at: number;
  reason: string | null;
  /** The engine that wrote it; null for API writes (cancel). */
  engineId: string | null;
  /** Task rows: the attempt number after the change. */
  runNum: number | null;
}


/** One try of a task instance: one process group, one log section. */
export interface Attempt {
  taskInstanceId: string;
  runNum: number;
  status: AttemptStatus;
  startedAt: number;
  endedAt: number | null;
  host: string;
  engineId: string;
  pid: number | null;
  pgid: number | null;
  /** The leader's start time as /proc/<pid>/stat field 22 (guards against pid reuse). */
  procStart: string | null;
  exitCode: number | null;
  signal: string | null;
}
