// The one storage interface. Domain verbs only: no Kysely, SQL or transaction types leak out.
// Implementations: sqlite.ts (embedded, better-sqlite3) and postgres.ts (pg; several processes).
// test/store/*.contract.test.ts runs the same suites against each through a factory.
//
// Rules every implementation keeps:
// - Every method that writes commits before its promise resolves (durable before acknowledged).
// - Guarded writes (`engineTx`, `cancelInstance`, ...) change nothing when a guard fails; every status
//   write is checked against the transition tables of src/domain/status.ts and appends a history row.
// - The edit lock (contract §2) is checked inside the writing transaction of every write it guards (Save,
//   Enable, Disable, Delete, manual triggers, cancel): another user's unexpired lock -> EditLockedError.
// - Objects of another organization are invisible: lookups that take an orgId return null for them.
import type { Binding, ReferenceWaitView } from '../domain/referenceWaits.js';
import type { AccessToken, App, Attempt, Directory, Flow, FlowInstance, FlowWithTasks, NewUser, Org, Param, TaskDef, TaskInstance, TransitionRecord, User } from '../domain/types.js';
import type { Alert, AlertStatus, ClaimedAlert, Delivery } from '../domain/alerts.js';
import type { FlowInstanceStatus } from '../domain/status.js';
import type { FlowVersion, FlowVersionRef } from '../domain/versions.js';
import type { NewFlowInstance } from '../domain/instances.js';
import type { EngineRecord, EngineTx, OpenAttempt } from './engineTypes.js';
import type { LogChunk } from './logs.js';
import type { KeyCounts, KeyState } from '../domain/keyStatus.js';
import type { StoreSize, WorkCounts } from './stats.js';
import type { RerunRequest } from './rerun.js';
import type { BackfillResult } from './backfill.js';
export type { BackfillResult };
import type { KeyClaim, KeyRequest } from './idempotency.js';
export type { KeyClaim, KeyRequest };
export type { RerunRequest };
export type { StoreSize, WorkCounts };
export type { LogChunk };

export type { EngineRecord, EngineTx, OpenAttempt };

/** A task definition before it has an id (ids are allocated by the store, unique service-wide). */
export type NewTaskDef = Omit<TaskDef, 'id' | 'flowId'>;

export interface NewFlow {
  /** Desired id (Import Flow). When taken or absent, the store allocates a new one. */
  id?: number;
  /** scheduleFrom and version are the store's: they start at createdAt and 1. */
  flow: Omit<Flow, 'id' | 'nodes' | 'editLock' | 'scheduleFrom' | 'version' | 'versionId'>;
  /** Tasks in node order, with each node's canvas position. */
  tasks: Array<NewTaskDef & { x: number; y: number }>;
  /**
   * Relations by task name (export form); the store turns them into node ids once task ids exist.
   * Relations between existing node ids go in `flow.relations`.
   */
  relationsByName: Array<{ sourceTaskName: string; targetTaskName: string; rerun: boolean; cycleGap?: string; sourceNodeId?: string }>;
  /** The request field of flow.flowRefs[k] for messages (default `flowJson.flowLinks[k]`). */
  refFieldOf?: (k: number) => string;
}

export interface FlowUpdate {
  /** The request field of flow.flowRefs[k] for messages (default `flows[k]`). */
  refFieldOf?: (k: number) => string;
  /**
   * The whole flow as it must be stored; `nodes` may refer to new tasks by `newTaskIndex`. scheduleFrom is
   * the store's: it becomes updatedAt when freq or startDate change or active goes 0 -> 1, else it stays.
   * version is the store's too: guard.version + 1.
   */
  flow: Omit<Flow, 'editLock' | 'scheduleFrom' | 'version' | 'versionId'>;
  /** Existing tasks whose definitions change (must belong to this flow). */
  updatedTasks: TaskDef[];
  /** Tasks to create; a node with `taskId` = -(index + 1) refers to newTasks[index], in nodes and relations. */
  newTasks: NewTaskDef[];
  /** Task ids of this flow no longer in the graph: deleted. */
  deletedTaskIds: number[];
  /**
   * What the write requires, checked in its transaction: the flow still has `version` (the one the caller
   * read; else StaleFlowError), and its edit lock is free, expired at `now` or held by `userId` (else
   * EditLockedError). The saver's own lock is released.
   */
  guard: { version: number; userId: string; now: number };
}

/** A flow instance to create (WAIT) with its task instances; built by src/domain/instances.ts. */
export type { NewFlowInstance };

export interface InstanceSearch {
  orgId: string;
  /** Flow type filter (0, 1, 2); undefined = any. */
  flowType?: number;
  /** Fuzzy on instance id and flow name. */
  expression?: string;
  /** Owner user name; "" or undefined = any. */
  owner?: string;
  fromTriggerTime?: number;
  toTriggerTime?: number;
  statuses?: FlowInstanceStatus[];
  /** Flow ids the caller may read; undefined = any in the org. */
  flowIds?: number[];
  sort: Array<{ field: 'createTime' | 'updateTime' | 'startTime' | 'triggerTime' | 'endTime'; desc: boolean }>;
  offset: number;
  limit: number;
}

/** What Get My Flow shows of a flow and decides by. */
export type FlowHead = Pick<Flow, 'id' | 'name' | 'cycle' | 'creatorId' | 'owners' | 'visitors'>;

export interface FlowSearch {
  orgId: string;
  expression?: string;
  sort: Array<{ field: 'createTime' | 'updateTime' | 'startTime'; desc: boolean }>;
  offset: number;
  limit: number;
}

/** What a purge removes (src/store/purge.ts): terminal instances that ended before `before`, with their rows. */
export interface PurgeRequest {
  /** Epoch ms: instances that ended strictly before it go. */
  before: number;
  /** Count what would go and delete nothing. */
  dryRun?: boolean;
  /** Instances per transaction at most (default 500); fewer while a batch takes longer than `batchMs`. */
  batchSize?: number;
  /** What one batch's transaction may take (default 10 ms on SQLite, 100 ms on PostgreSQL): a slower batch halves the next one. */
  batchMs?: number;
  /**
   * The largest share of the time the purge works (default 0.5 on SQLite, 0.25 on PostgreSQL): after a batch
   * of T ms it waits T x (1 / share - 1) ms, in which whatever queued behind the batch goes first.
   */
  share?: number;
  /**
   * Least pause after a batch (default 0). Another process purging a SQLite store beside a server passes
   * more, so that the server's writes (retrying on busy_timeout) surely get the lock in between.
   */
  pauseMs?: number;
  /** Told after every batch with the running totals. */
  onProgress?: (progress: PurgeResult) => void;
  /** Stops the purge after the batch in progress (the result says `stopped`). */
  signal?: AbortSignal;
}

/** Rows removed (or, dry run, that would be) per table. */
export interface PurgeCounts {
  flow_instances: number;
  task_instances: number;
  attempts: number;
  status_events: number;
  task_logs: number;
}

export interface PurgeResult {
  dryRun: boolean;
  tables: PurgeCounts;
  /** Instances that ended before the cut-off but stay: a task of theirs still runs, or a periodic flow's newest fire. */
  kept: number;
  batches: number;
  /** True when the signal stopped it before it was through. */
  stopped: boolean;
}

/** What reclaimSpace did (SQLite: auto_vacuum; PostgreSQL: nothing, its autovacuum does the work). */
export interface SpaceReport {
  /** The store's mode after the call: SQLite's auto_vacuum (none, full, incremental), or 'autovacuum' (PostgreSQL). */
  mode: 'none' | 'full' | 'incremental' | 'autovacuum';
  /** True when a full VACUUM ran (turning auto_vacuum NONE into INCREMENTAL). */
  vacuumed: boolean;
  /** Bytes given back to the file system (free pages released). */
  freedBytes: number;
}

/** What other parts of the same deployment must hear of at once (the engine listens). */
export type StoreEvent =
  | { type: 'instanceCreated'; flowId: number; instanceId: string; dueAt: number }
  | { type: 'instanceCancelled'; flowId: number; instanceId: string }
  | { type: 'flowChanged'; flowId: number }
  /** An engine committed claimable work it did not claim all of itself (other workers may). */
  | { type: 'tasksReady' };

export interface Store {
  /** Applies pending migrations (under a lock); idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Subscribes to events of committed writes; returns the unsubscribe function. */
  onEvent(listener: (e: StoreEvent) => void): () => void;
  /** Publishes an event of a write the caller committed itself (engineTx's): to this and other processes. */
  announce(e: StoreEvent): void;

  // identity
  createOrg(org: Org): Promise<void>; // DuplicateKeyError when the id exists; also creates its root directory
  getOrg(id: string): Promise<Org | null>;
  listOrgs(): Promise<Org[]>;
  createUser(user: NewUser): Promise<void>; // DuplicateKeyError when id or name exists
  getUser(id: string): Promise<User | null>;
  getUserByName(name: string): Promise<User | null>;
  setUserLocked(id: string, locked: boolean): Promise<boolean>; // false when no such user
  /** Sets the email and/or phone (a field not given stays); false when no such user. */
  setUserContact(id: string, contact: { email?: string; phone?: string }): Promise<boolean>;

  // authentication (contract §9): apps, tokens, replay nonces; shared by every process
  /** Records `keyId` as the master key of this store's secrets unless one is recorded; returns the recorded id. */
  claimMasterKeyId(keyId: string): Promise<string>;
  /** DuplicateKeyError when the access key exists; DomainError notFound when the org does not. */
  createApp(app: App): Promise<void>;
  getApp(accessKey: string): Promise<App | null>;
  listApps(orgId?: string): Promise<App[]>;
  /** Marks a live app revoked and deletes its tokens; false when no live app has that key. */
  revokeApp(accessKey: string, at: number): Promise<boolean>;
  /** The app's newest token valid past `validPast`, or `make()`'s, stored; null when the app is unknown or revoked. One at a time per app. */
  tokenFor(accessKey: string, validPast: number, make: () => AccessToken): Promise<{ token: AccessToken; issued: boolean } | null>;
  /** Replaces token `oldHash` of `next.accessKey` by `next`; false (nothing written) unless the app is live and owns it. */
  replaceToken(oldHash: string, next: AccessToken): Promise<boolean>;
  findToken(tokenHash: string): Promise<{ token: AccessToken; app: App } | null>;
  /** Records a nonce until `expiresAt`; false when it was already recorded (a replay). */
  rememberNonce(nonce: string, expiresAt: number): Promise<boolean>;
  /** Records distinct nonces in one write; returns those recorded now (the rest were seen before). */
  rememberNonces(items: Array<{ nonce: string; expiresAt: number }>): Promise<Set<string>>;
  /** Deletes tokens and nonces that expired before `now`. */
  purgeAuth(now: number): Promise<{ tokens: number; nonces: number }>;
  /** Reseals every app secret and token and records `newKeyId`, in one transaction (master key rotation). */
  resealSecrets(reseal: (sealed: string, boundTo: string) => string, newKeyId: string): Promise<{ apps: number; tokens: number }>;

  // directories
  /** DuplicateKeyError when the parent has a child of that name. */
  createDirectory(dir: Directory): Promise<void>;
  getDirectory(orgId: string, id: string): Promise<Directory | null>;
  getRootDirectory(orgId: string): Promise<Directory | null>;
  listDirectories(orgId: string): Promise<Directory[]>;

  // flows
  /** DomainError 'invalid' (naming flowJson.flowLinks[k].flowId) when a flow it references is not in the org; nothing written. */
  createFlow(input: NewFlow): Promise<FlowWithTasks>;
  getFlow(orgId: string, flowId: number): Promise<FlowWithTasks | null>;
  /**
   * The flow as an instance of it runs it: its row, and the tasks of the version the row names (versions
   * are immutable and cached, so a trigger reads one row, not the tasks table). Only what creating an
   * instance reads (task ids and names) is sure to match getFlow's tasks field for field: a version made
   * before a later migration keeps the task fields of its time.
   * maybeStale: this process's last read of it when there is one (no read at all); it may be stale, so a
   * create built from it passes NewFlowInstance.flowVersion (the store then refuses it with
   * StaleFlowError if the row has been written since). Writes of the flow through this store drop it.
   */
  getFlowToRun(orgId: string, flowId: number, opts?: { maybeStale?: boolean }): Promise<FlowWithTasks | null>;
  /** Flow ids and names in a directory tree listing: every flow of the org (id, name, dirId, owners, visitors). */
  listFlows(orgId: string): Promise<Flow[]>;
  /** Heads of the org's flows `user` created or whose owners or visitors contain its name (a superset of those naming it), by id. */
  listFlowHeads(orgId: string, user: { id: string; name: string }): Promise<FlowHead[]>;
  searchFlows(q: FlowSearch): Promise<Flow[]>;
  /**
   * Applies a Save Flow under `update.guard`: StaleError when the flow is gone, StaleFlowError when its
   * version moved, EditLockedError for another user's lock; DomainError 'invalid' when a flow it references
   * is not (or no longer) in the org. Nothing is written then.
   */
  updateFlow(orgId: string, update: FlowUpdate): Promise<FlowWithTasks>;
  /**
   * Enable (1) / Disable (0) by user `userId`. Enabling a paused flow sets its scheduleFrom to `at` (no
   * back-fill of the pause). StaleError when the flow is gone; EditLockedError for another user's lock.
   */
  setFlowActive(orgId: string, flowId: number, active: 0 | 1, updateUser: string, at: number, userId: string): Promise<void>;
  /** Takes or renews the edit lock for a user; returns the lock now held (maybe another user's). Keeps the version. */
  takeEditLock(orgId: string, flowId: number, lock: { userId: string; userName: string; expiresAt: number }, now: number): Promise<Flow['editLock']>;
  /**
   * Removes the flow, its tasks, instances, task instances, attempts and logs, as user `userId` at `now`.
   * Refused, with nothing deleted: StaleError when gone or while something of it runs, EditLockedError for
   * another user's lock, ReferencedError while another flow of the org references it.
   */
  deleteFlow(orgId: string, flowId: number, userId: string, now: number): Promise<void>;
  /** The versions of a flow of the org (without content), newest first; [] when no such flow. */
  listFlowVersions(orgId: string, flowId: number): Promise<FlowVersionRef[]>;
  /** One version of a flow of the org by its number, with its content; null when none. */
  getFlowVersion(orgId: string, flowId: number, number: number): Promise<FlowVersion | null>;
  /** Periodic flows (type 1, active 1) of every org: the cron scheduler's input. */
  listPeriodicFlows(): Promise<Flow[]>;
  /** A flow with its tasks in any organization (engine side: the cron scheduler serves every org). */
  getFlowById(flowId: number): Promise<FlowWithTasks | null>;
  /**
   * The latest trigger time of the flow's scheduled instances (kind 'schedule'), or null: the cron
   * scheduler's memory of the fires already made, across restarts and processes.
   */
  lastScheduledFireTime(flowId: number): Promise<number | null>;

  // instances (API side)
  /**
   * DuplicateKeyError when the instance id (flow + minute) exists: enforced by a unique key. StaleError
   * when the flow is not (or no longer) in the org; with `input.lockUserId`, EditLockedError for another
   * user's lock (at instance.createdAt). Each checked in the creating transaction, failing only this create.
   */
  createFlowInstance(input: NewFlowInstance): Promise<FlowInstance>;
  /**
   * Backfill (src/store/backfill.ts): the instances in one transaction, in order; ids that exist are skipped
   * and named. StaleError / EditLockedError as createFlowInstance, and then nothing is written.
   */
  createFlowInstances(inputs: NewFlowInstance[]): Promise<BackfillResult>;
  getFlowInstance(orgId: string, id: string): Promise<FlowInstance | null>;
  listTaskInstances(flowInstanceId: string): Promise<TaskInstance[]>;
  listTaskInstancesOf(flowInstanceIds: string[]): Promise<Map<string, TaskInstance[]>>; // one query; each id a key, in node order
  getTaskInstance(orgId: string, id: string): Promise<TaskInstance | null>;
  listAttempts(taskInstanceId: string): Promise<Attempt[]>;
  /** The attempts of every task instance of one flow instance, by task instance id and run number. */
  listAttemptsOfInstance(flowInstanceId: string): Promise<Attempt[]>;
  /** The reference waits of an instance (contract §10), by node and cycleGap; [] before it started. */
  listReferenceWaits(flowInstanceId: string): Promise<ReferenceWaitView[]>;
  /** The instance a reference would bind to now in [start, end) (for showing a wait that is not settled). */
  referenceBinding(refFlowId: number, refTaskId: number | null, start: number, end: number): Promise<Binding | null>;
  searchFlowInstances(q: InstanceSearch): Promise<{ instances: FlowInstance[]; total: number }>;
  /**
   * Guarded cancel: WAIT/RUNNING -> CANCEL; its INIT/READY/RERUN task instances -> CANCEL in the same
   * transaction (RUNNING ones are left to the engine, which stops their processes). Returns the instance
   * after the write; StaleError when its status did not allow it; EditLockedError when another user than
   * `userId` holds its flow's edit lock at `at`.
   */
  cancelInstance(orgId: string, id: string, at: number, reason: string, userId: string): Promise<FlowInstance>;
  /**
   * Rerun (contract §12, src/store/rerun.ts): an ended instance back to WAIT (due at `req.at`) with the task
   * instances the mode resets back to INIT, in one transaction with their history rows. RerunRefusedError
   * (nothing written) when its status or an unfinished task instance does not allow it; StaleError when it
   * is not in the org; EditLockedError for another user's lock on its flow.
   */
  rerunInstance(req: RerunRequest): Promise<{ instance: FlowInstance; reset: string[] }>;
  // idempotency keys (contract §12, src/store/idempotency.ts)
  /** Claims `req.key` in `req.scope` for the request hashed `req.hash`, or says who holds it or what it answered. */
  claimIdempotencyKey(req: KeyRequest): Promise<KeyClaim>;
  /** The claimed key answered: kept `ttlMs` from `now`; false when the claim was no longer this request's. */
  completeIdempotencyKey(scope: string, key: string, hash: string, answer: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives a claimed key back unanswered (the request failed inside the service): a retry runs it. */
  releaseIdempotencyKey(scope: string, key: string, hash: string): Promise<void>;
  /** Deletes the keys that expired at or before `now`; how many. */
  purgeIdempotencyKeys(now: number): Promise<number>;
  /** The last `maxChars` characters of the log of every attempt, in run order; null when no attempt ran. */
  getLogTail(taskInstanceId: string, maxChars: number): Promise<string | null>;
  /** The newest chunks of a task instance's log adding up to at most `maxChars`, oldest first (the live stream's start). */
  readLogTail(taskInstanceId: string, maxChars: number): Promise<{ chunks: LogChunk[]; truncated: boolean }>;
  /** The chunks after a (runNum, seq) cursor, in order, at most `limit` (the live stream's next page). */
  readLogAfter(taskInstanceId: string, after: { runNum: number; seq: number }, limit: number): Promise<LogChunk[]>;

  // engine side
  /** This store's id, made at its first migration: every task process's marker names it. */
  storeId(): Promise<string>;
  /**
   * One engine decision as one write transaction: `fn` reads the rows it depends on through `tx` and
   * writes through `tx.apply` (lock, re-read, check, write). Everything or nothing is applied; a store
   * error rejects and changes nothing (or, when the commit itself failed ambiguously, maybe everything:
   * callers re-read before they retry).
   */
  engineTx<T>(fn: (tx: EngineTx) => Promise<T>): Promise<T>;
  /** Adds a live engine with its lease. */
  registerEngine(e: EngineRecord): Promise<void>;
  /** Renews a live engine's lease; false when it is no longer live (it stopped, or another engine took over). */
  renewEngineLease(id: string, now: number, leaseUntil: number): Promise<boolean>;
  /** Marks a live engine expired if its heartbeat is still `seenHeartbeatAt`; true when this call did it. */
  expireEngine(id: string, seenHeartbeatAt: number, now: number): Promise<boolean>;
  /** A graceful stop: the engine is no longer live. */
  stopEngine(id: string, now: number): Promise<void>;
  listEngines(): Promise<EngineRecord[]>;
  /** Attempts still open (RUNNING) whose owner is `engineId`, with their instance's status. */
  listOpenAttemptsOf(engineId: string): Promise<OpenAttempt[]>;
  /** Flow ids with a WAIT instance due at or before `now`. */
  listFlowsWithDueInstances(now: number): Promise<number[]>;
  /** The earliest time later than `now` when a WAIT instance or a RERUN retry becomes due, or null. */
  nextWakeAt(now: number): Promise<number | null>;
  /** RUNNING instances none of whose task instances is READY, RUNNING or RERUN (at most `limit`). */
  listStalledInstances(limit: number): Promise<string[]>;
  /** A flow instance by id in any organization (engine side: the engine serves every org). */
  getFlowInstanceById(id: string): Promise<FlowInstance | null>;
  /** A task instance by id in any organization (engine side). */
  getTaskInstanceById(id: string): Promise<TaskInstance | null>;
  /** Records the process group of an open attempt after the spawn (StaleError once it is closed). */
  recordAttemptProcess(taskInstanceId: string, runNum: number, p: { pid: number; pgid: number; procStart: string | null }): Promise<void>;
  /** Appends text to the log of an attempt (the engine enforces the cap). */
  appendLog(taskInstanceId: string, runNum: number, text: string): Promise<void>;
  /**
   * taskMode 2 (contract §11): replaces the recorded status of every key of the task instance with `states`
   * (one character per key, src/domain/keyStatus.ts), as attempt `runNum` sees them. Guarded: false, nothing
   * written, unless that attempt is open, owned by `engineId`, that engine is live, and no later attempt wrote.
   */
  recordKeyResults(taskInstanceId: string, runNum: number, engineId: string, states: string, now: number): Promise<boolean>;
  /** taskMode 2: the recorded key states of a task instance (what its next attempt runs), or null. */
  keyState(taskInstanceId: string): Promise<KeyState | null>;
  /** taskMode 2: keys per status of each given task instance that has recorded states (the others are absent). */
  keyCounts(taskInstanceIds: string[]): Promise<Map<string, KeyCounts>>;
  /** The history of a flow instance and of its task instances, oldest first. */
  listHistory(flowInstanceId: string): Promise<TransitionRecord[]>;
  /** The history of one task instance, oldest first. */
  listTaskHistory(taskInstanceId: string): Promise<TransitionRecord[]>;

  // alerts (contract §12, src/store/alerts.ts): the outbox rows that failing ends write in their own transaction
  /**
   * Claims up to `limit` PENDING alerts due at `now` for `owner` until now + leaseMs (their tries + 1); one
   * claimer gets each (PostgreSQL: SKIP LOCKED, nobody waits); a claim whose owner died is due again at its end.
   */
  claimAlerts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAlert[]>;
  /** Records a try's result and releases the claim; false (nothing written) unless the row is still under exactly that claim. */
  recordAlertResult(claim: Pick<ClaimedAlert, 'id' | 'claimedBy' | 'claimedUntil'>, result: { status: AlertStatus; deliveries: Delivery[]; nextAt: number }, now: number): Promise<boolean>;
  /** The alerts of an instance, oldest first. */
  listAlerts(flowInstanceId: string): Promise<Alert[]>;
  /** When the next PENDING alert is due (maybe in the past), or null. */
  nextAlertAt(): Promise<number | null>;

  // retention (src/store/purge.ts, docs/deploy.md "Retention")
  /**
   * Removes terminal instances (SUCCESS, FAIL, CANCEL, INTERNAL_ERROR) that ended before `req.before`, with
   * their task instances, attempts, history and logs, in short transactions of at most `batchSize`
   * instances, yielding between them. Each batch re-checks its instances in its own transaction: an instance
   * that is not terminal, has a task instance or attempt still open, or is its periodic flow's newest fire
   * (the cron scheduler's memory of the fires made) stays. Flows and their versions are never touched.
   */
  purgeInstances(req: PurgeRequest): Promise<PurgeResult>;
  /**
   * Gives the space of deleted rows back to the file system. SQLite: incremental_vacuum in small steps when
   * auto_vacuum is INCREMENTAL (every store made by this build); a store made with NONE needs one full VACUUM
   * (`fullVacuum`, which holds the write lock while it rewrites the whole file), else it reports mode 'none'
   * and frees nothing. PostgreSQL: nothing to do here (autovacuum makes the space reusable).
   */
  reclaimSpace(opts?: { fullVacuum?: boolean; signal?: AbortSignal }): Promise<SpaceReport>;

  // health and metrics (stats.ts)
  /** A trivial query: resolves when the store answers (the readiness probe). */
  ping(): Promise<void>;
  /** The engine's work now, every process's: due WAIT instances, claimable tasks, running instances and attempts (index counts). */
  workCounts(now: number): Promise<WorkCounts>;
  /** Size on disk and rows per main table: SQLite scans (exact), PostgreSQL reads its catalog (estimates). Callers cache it. */
  storeSize(): Promise<StoreSize>;
}

/** Parameters as stored: helper shared by both adapters' row mapping. */
export type StoredParams = Param[];
