// Reading flow instances, task instances and task logs, and cancelling an instance. Reads are open to
// every member of the instance's org; cancel is for the flow's owners (contract §2). Another org's
// instance reads exactly as a missing one.
import { invalid, notFound, outOfRange, StaleError } from '../domain/errors.js';
import { isCancellable } from '../domain/status.js';
import { emptyByStatus, type KeyCounts } from '../domain/keyStatus.js';
import { runModeOf } from '../domain/runMode.js';
import { windowOfGapText } from '../domain/references.js';
import { referenceSpecsOf, type ReferenceWaitStatus } from '../domain/referenceWaits.js';
import type { FlowDefinition } from '../domain/versions.js';
import type { Alert } from '../domain/alerts.js';
import type { Attempt, FlowInstance, TaskDef, TaskInstance, TransitionRecord } from '../domain/types.js';
import { isOwner, requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { show } from './input.js';

export interface InstanceView {
  instance: FlowInstance;
  tasks: TaskInstance[];
  hasEditPri: boolean;
  /** Every status change of the instance and its task instances (Get Flow Instance only). */
  history?: TransitionRecord[];
  /** Every attempt of its task instances (Get Flow Instance only: the decoded `tasks` extension). */
  attempts?: Attempt[];
  /** Its references as they stand (Get Flow Instance only: the graph's `flows` entries, and the extension). */
  references?: ReferenceState[];
  /** taskMode 2 task instances: their keys per status (Get Flow Instance only). */
  keys?: Map<string, KeyCounts>;
  /** Its alerts with their delivery status (Get Flow Instance only; contract §12). */
  alerts?: Alert[];
}

/** One reference of an instance (contract §10): its wait, or (before the instance started) what it would bind. */
export interface ReferenceState {
  nodeId: string;
  cycleGap: string;
  /** The wait's status; null while the instance has not started (or the reference is outside its run set). */
  status: ReferenceWaitStatus | null;
  /** The bound instance ("" while none) and the status that decides it ("NONE" with nothing bound). */
  flowInstId: string;
  boundStatus: string;
  windowStart: number;
  windowEnd: number;
  deadline: number | null;
  reason: string | null;
}

export async function loadInstance(deps: Deps, caller: Caller, id: string): Promise<FlowInstance> {
  const inst = await deps.store.getFlowInstance(caller.user.orgId, id);
  if (!inst) throw notFound('Flow instance', id);
  return inst;
}

export async function getFlowInstance(deps: Deps, caller: Caller, id: string): Promise<InstanceView> {
  const instance = await loadInstance(deps, caller, id);
  const tasks = await deps.store.listTaskInstances(instance.id);
  const history = await deps.store.listHistory(instance.id);
  const attempts = await deps.store.listAttemptsOfInstance(instance.id);
  const references = await referenceStates(deps, instance);
  const keys = await keyCountsOf(deps, instance, tasks);
  const alerts = await deps.store.listAlerts(instance.id);
  return { instance, tasks, hasEditPri: isOwner(instance.snapshot.flow, caller.user), history, attempts, references, keys, alerts };
}

/** The keys per status of its taskMode 2 task instances (every key PENDING before an attempt records them). */
async function keyCountsOf(deps: Deps, instance: FlowInstance, tasks: TaskInstance[]): Promise<Map<string, KeyCounts>> {
  const modes = new Map(instance.snapshot.tasks.map((d) => [d.id, runModeOf(d.runMode)]));
  const keyed = tasks.filter((t) => modes.get(t.taskId)?.taskMode === 2);
  if (keyed.length === 0) return new Map();
  const found = await deps.store.keyCounts(keyed.map((t) => t.id));
  for (const t of keyed) {
    const n = modes.get(t.taskId)!.keys.length;
    if (!found.has(t.id)) found.set(t.id, { runNum: 0, total: n, byStatus: { ...emptyByStatus(), PENDING: n } });
  }
  return found;
}

/**
 * The waits of the instance, a waiting one with its binding as it stands now (a later instance in the
 * window takes over); before the instance started, what each reference would bind to.
 */
async function referenceStates(deps: Deps, instance: FlowInstance): Promise<ReferenceState[]> {
  if (instance.snapshot.flow.flowRefs.length === 0) return [];
  const waits = await deps.store.listReferenceWaits(instance.id);
  const states: ReferenceState[] = [];
  for (const w of waits) {
    const live = w.status === 'WAITING' ? await deps.store.referenceBinding(w.refFlowId, w.refTaskId, w.windowStart, w.windowEnd) : null;
    states.push({
      nodeId: w.nodeId,
      cycleGap: w.cycleGap,
      status: w.status,
      flowInstId: (w.status === 'WAITING' ? live?.instanceId : w.boundId) ?? '',
      boundStatus: (w.status === 'WAITING' ? live?.status : w.boundStatus) ?? 'NONE',
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      deadline: w.deadline,
      reason: w.reason,
    });
  }
  if (instance.status !== 'WAIT') return states;
  for (const spec of referenceSpecsOf(instance)) {
    const w = windowOfGapText(instance.triggerTime, spec.cycleGap, deps.config.timezone);
    const b = await deps.store.referenceBinding(spec.refFlowId, spec.refTaskId, w.start, w.end);
    states.push({ nodeId: spec.nodeId, cycleGap: spec.cycleGap, status: null, flowInstId: b?.instanceId ?? '', boundStatus: b?.status ?? 'NONE', windowStart: w.start, windowEnd: w.end, deadline: null, reason: null });
  }
  return states;
}

export interface TaskInstanceView {
  task: TaskInstance;
  instance: FlowInstance;
  /** The task's definition as the instance snapshot holds it. */
  def: TaskDef;
  flow: FlowDefinition;
  /** Every status change of the task instance. */
  history: TransitionRecord[];
  /** taskMode 2: its keys per status (contract §11); absent for a task run once. */
  keys?: KeyCounts;
}

export async function getTaskInstance(deps: Deps, caller: Caller, id: string): Promise<TaskInstanceView> {
  const task = await deps.store.getTaskInstance(caller.user.orgId, id);
  if (!task) throw notFound('Task instance', id);
  const instance = await loadInstance(deps, caller, task.flowInstanceId);
  const def = instance.snapshot.tasks.find((t) => t.id === task.taskId);
  if (!def) throw new Error(`task instance ${id}: task ${task.taskId} missing from the snapshot of ${instance.id}`);
  const keys = (await keyCountsOf(deps, instance, [task])).get(task.id);
  return { task, instance, def, flow: instance.snapshot.flow, history: await deps.store.listTaskHistory(task.id), ...(keys ? { keys } : {}) };
}

/**
 * Get Task Instance Log's `maxLength` (a query string): 1 up to the attempt log cap (contract §7). No
 * attempt keeps more, so a larger tail is a mistake worth naming rather than a number to pass on.
 */
export function parseLogMaxLength(v: string, capChars: number): number {
  const msg = `Invalid parameter: maxLength must be a positive integer up to ${capChars} (the attempt log cap), got ${show(v)}`;
  if (!/^\s*\d+\s*$/.test(v)) throw invalid('maxLength', msg);
  const n = Number(v);
  if (n < 1 || n > capChars) throw outOfRange('maxLength', msg);
  return n;
}

/** The last `maxLength` characters of every attempt's log. */
export async function getTaskLog(deps: Deps, caller: Caller, id: string, maxLength?: number): Promise<{ log: string }> {
  const noLog = () => invalid('taskInstId', `Invalid taskInstId or it has no log: ${id}`);
  const task = await deps.store.getTaskInstance(caller.user.orgId, id);
  if (!task) throw noLog();
  const log = await deps.store.getLogTail(id, maxLength ?? deps.config.defaultLogMaxLength);
  if (log === null) throw noLog();
  return { log };
}

export async function cancelInstance(deps: Deps, caller: Caller, id: string): Promise<void> {
  const inst = await loadInstance(deps, caller, id);
  const fw = await deps.store.getFlow(caller.user.orgId, inst.flowId);
  const now = deps.clock.now();
  // A deleted flow has no lock any more: its instance's version still names the owners.
  requireWritable(fw?.flow ?? { ...inst.snapshot.flow, editLock: null }, caller, now);
  const refuse = (status: string) => invalid('flowInstId', `Invalid parameter: flow instance ${id} is ${status}; only WAIT or RUNNING instances can be cancelled`);
  if (!isCancellable(inst.status)) throw refuse(inst.status);
  try {
    // The store checks the flow's edit lock again in its transaction (62106).
    await deps.store.cancelInstance(caller.user.orgId, id, now, `cancelled by ${caller.user.name}`, caller.user.id);
  } catch (e) {
    if (!(e instanceof StaleError)) throw e;
    const again = await loadInstance(deps, caller, id);
    throw refuse(again.status);
  }
}
