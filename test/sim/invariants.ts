// The invariants every simulated run must keep, checked on the store's final rows, its history (every
// status change, in commit order) and the host's record of processes. Each returns plain sentences
// naming the ids at fault; an empty list means the run was correct.
import { canRerunFlowInstance, canTransitionFlowInstance, canTransitionTaskInstance, isTerminalFlowInstance, resetsOnRerun, type FlowInstanceStatus, type TaskInstanceStatus } from '../../src/domain/status.js';
import { isSuccessCode } from '../../src/engine/taskCommand.js';
import type { Attempt, FlowInstance, TaskInstance, TransitionRecord } from '../../src/domain/types.js';
import type { FakeProcess } from './fakeHost.js';
import type { ReferenceWaitView } from '../../src/domain/referenceWaits.js';

export interface Observed {
  instances: FlowInstance[];
  tasks: Map<string, TaskInstance[]>;
  attempts: Map<string, Attempt[]>;
  history: TransitionRecord[];
  processes: FakeProcess[];
  aliveProcesses: FakeProcess[];
  /** Instance ids the API acknowledged, and those whose create answered an error (they may exist). */
  acked: Set<string>;
  maybe: Set<string>;
  /** Engine ids of incarnations that crashed (their attempts may be LOST). */
  crashedEngines: Set<string>;
  /** The reference waits of each instance (contract §10). */
  waits: Map<string, ReferenceWaitView[]>;
  hostViolations: string[];
}

export function checkInvariants(o: Observed): string[] {
  const v: string[] = [...o.hostViolations];
  const byId = new Map(o.instances.map((i) => [i.id, i]));

  // Every instance terminal after quiescence; none lost, none made that nobody asked for.
  for (const i of o.instances) {
    if (!isTerminalFlowInstance(i.status)) v.push(`instance ${i.id} is ${i.status} after quiescence`);
    if (!o.acked.has(i.id) && !o.maybe.has(i.id)) v.push(`instance ${i.id} exists but was never triggered`);
    const tasks = o.tasks.get(i.id) ?? [];
    if (tasks.length !== i.snapshot.tasks.length) v.push(`instance ${i.id} has ${tasks.length} task instances for ${i.snapshot.tasks.length} tasks`);
    for (const t of tasks) if (!['SUCCESS', 'FAIL', 'TIMEOUT', 'CANCEL', 'SKIP'].includes(t.status)) v.push(`task instance ${t.id} is ${t.status} after quiescence`);
  }
  for (const id of o.acked) if (!byId.has(id)) v.push(`acknowledged instance ${id} is missing`);
  for (const p of o.aliveProcesses) v.push(`process ${p.pid} of ${p.taskInstanceId}#${p.runNum} still runs after quiescence`);

  v.push(...checkHistory(o, byId));
  v.push(...checkAttempts(o, byId));
  v.push(...checkReferences(o, byId));
  return v;
}

/**
 * References: no wait is left WAITING; a task waiting on a reference ran only if that wait was satisfied,
 * by an instance of the referenced flow inside the window that did succeed (or whose referenced task
 * did); a wait that timed out failed its instance.
 */
function checkReferences(o: Observed, byId: Map<string, FlowInstance>): string[] {
  const v: string[] = [];
  for (const [iid, waits] of o.waits) {
    const inst = byId.get(iid);
    const tasks = new Map((o.tasks.get(iid) ?? []).map((t) => [t.id, t]));
    for (const w of waits) {
      const name = `reference ${w.nodeId} (${w.cycleGap}) of ${iid}`;
      if (w.status === 'WAITING') v.push(`${name} is still WAITING after quiescence`);
      if (w.status === 'FAIL' && inst?.status !== 'FAIL') v.push(`${name} timed out but its instance is ${inst?.status}`);
      if (w.status === 'SUCCESS') {
        const bound = w.boundId ? byId.get(w.boundId) : undefined;
        if (!bound) v.push(`${name} is SUCCESS bound to ${w.boundId}, which does not exist`);
        else {
          if (bound.flowId !== w.refFlowId) v.push(`${name} is bound to ${bound.id}, an instance of another flow`);
          if (bound.triggerTime < w.windowStart || bound.triggerTime >= w.windowEnd) v.push(`${name} is bound to ${bound.id}, outside its window`);
          const decided = w.refTaskId === null ? bound.status : (o.tasks.get(bound.id) ?? []).find((t) => t.taskId === w.refTaskId)?.status;
          if (decided !== 'SUCCESS') v.push(`${name} is SUCCESS but what it is bound to is ${decided}`);
        }
      }
      for (const tid of w.targets) {
        const t = tasks.get(tid);
        // Attempts since this wait opened (a rerun opens it again; earlier runs had their own).
        const since = (o.attempts.get(tid) ?? []).filter((a) => a.startedAt >= w.createdAt);
        if (t && since.length > 0 && w.status !== 'SUCCESS') v.push(`task instance ${tid} ran although its ${name} is ${w.status}`);
      }
    }
  }
  return v;
}

/** Each change allowed by the tables, chained (from = the previous to), ending at the row's status. */
function checkHistory(o: Observed, byId: Map<string, FlowInstance>): string[] {
  const v: string[] = [];
  const last = new Map<string, string>();
  const current = new Map<string, string>();
  // Keyed by kind too: flow 1's instance and task 1's task instance share an id.
  for (const i of o.instances) current.set(`instance:${i.id}`, i.status);
  for (const ts of o.tasks.values()) for (const t of ts) current.set(`task:${t.id}`, t.status);
  const instanceOfTask = new Map<string, string>();
  for (const [iid, ts] of o.tasks) for (const t of ts) instanceOfTask.set(t.id, iid);

  // The one-instance-per-flow rule: an instance holds its flow while RUNNING or while a task of it runs.
  const state = new Map<string, { status: string; running: number }>();
  const holds = (s: { status: string; running: number } | undefined) => s !== undefined && (s.status === 'RUNNING' || s.running > 0);
  for (const h of o.history) {
    const key = `${h.kind}:${h.entityId}`;
    const prev = last.get(key) ?? (h.kind === 'instance' ? 'WAIT' : 'INIT');
    if (h.from !== prev) v.push(`${h.kind} ${h.entityId}: change #${h.seq} from ${h.from}, but it was ${prev}`);
    // A rerun (contract §12) is the one way back from an end: its own table, and its reason names it.
    const rerun = isRerun(h);
    const allowed = rerun
      ? h.kind === 'instance'
        ? h.to === 'WAIT' && canRerunFlowInstance(h.from as FlowInstanceStatus, 'all')
        : h.to === 'INIT' && resetsOnRerun(h.from as TaskInstanceStatus, 'all')
      : h.kind === 'instance'
        ? canTransitionFlowInstance(h.from as FlowInstanceStatus, h.to as FlowInstanceStatus)
        : canTransitionTaskInstance(h.from as TaskInstanceStatus, h.to as TaskInstanceStatus);
    if (!allowed) v.push(`${h.kind} ${h.entityId}: change #${h.seq} ${h.from} -> ${h.to} is not in the transition table`);
    last.set(key, h.to);

    const iid = h.kind === 'instance' ? h.entityId : instanceOfTask.get(h.entityId) ?? '?';
    const inst = byId.get(iid);
    let s = state.get(iid);
    if (!s) state.set(iid, (s = { status: 'WAIT', running: 0 }));
    if (h.kind === 'instance') s.status = h.to;
    else {
      if (h.to === 'RUNNING') {
        if (isTerminalFlowInstance(s.status as FlowInstanceStatus) || s.status === 'WAIT') v.push(`task ${h.entityId} started (#${h.seq}) while its instance ${iid} was ${s.status}`);
        s.running++;
      }
      if (h.from === 'RUNNING') s.running--;
    }
    if (inst) {
      const holders = o.instances.filter((x) => x.flowId === inst.flowId && holds(state.get(x.id)));
      if (holders.length > 1) v.push(`flow ${inst.flowId}: ${holders.map((x) => x.id).join(' and ')} run at once (after change #${h.seq})`);
    }
  }
  for (const [key, to] of last) {
    if (current.get(key) !== to) v.push(`${key}: history ends at ${to}, the row says ${current.get(key)}`);
  }
  return v;
}

const RETRIED: ReadonlySet<string> = new Set(['FAIL', 'TIMEOUT', 'LOST', 'INTERRUPTED']);

/** A change a rerun made (src/store/rerun.ts: reason `rerun (<mode>) by <user>`, no engine). */
function isRerun(h: TransitionRecord): boolean {
  return h.engineId === null && h.reason !== null && /^rerun \((failed|all)\) by /.test(h.reason);
}

/** For each task instance, the times a rerun reset it, in order. */
function rerunResets(history: TransitionRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const h of history) if (h.kind === 'task' && isRerun(h)) out.set(h.entityId, [...(out.get(h.entityId) ?? []), h.at]);
  return out;
}

/** Attempts numbered 1..n, all closed, only a retryable end followed by another; ends that match the processes. */
function checkAttempts(o: Observed, byId: Map<string, FlowInstance>): string[] {
  const v: string[] = [];
  const procs = new Map<string, FakeProcess[]>();
  for (const p of o.processes) {
    const key = `${p.taskInstanceId}#${p.runNum}`;
    if (!procs.has(key)) procs.set(key, []);
    procs.get(key)!.push(p);
  }
  const resets = rerunResets(o.history);
  for (const [iid, tasks] of o.tasks) {
    const inst = byId.get(iid)!;
    for (const t of tasks) {
      const def = inst.snapshot.tasks.find((d) => d.id === t.taskId)!;
      const attempts = o.attempts.get(t.id) ?? [];
      const reset = resets.get(t.id) ?? [];
      if (attempts.length !== t.runNum) v.push(`task ${t.id}: runNum ${t.runNum} but ${attempts.length} attempts`);
      let failures = 0;
      attempts.forEach((a, k) => {
        const where = `task ${t.id} attempt ${a.runNum}`;
        if (a.runNum !== k + 1) v.push(`${where}: attempts not numbered 1..n`);
        if (a.status === 'RUNNING') v.push(`${where} is still open after quiescence`);
        // Another attempt follows only a retryable end, or a rerun that reset the task after this one ended.
        const next = attempts[k + 1];
        const rerunBetween = next !== undefined && reset.some((at) => at >= (a.endedAt ?? Infinity) && at <= next.startedAt);
        if (next && !RETRIED.has(a.status) && !rerunBetween) v.push(`${where} ended ${a.status} and yet ran again`);
        if (a.status === 'FAIL' || a.status === 'TIMEOUT' || a.status === 'LOST') failures++;
        const ps = procs.get(`${t.id}#${a.runNum}`) ?? [];
        if (ps.length > 1) v.push(`${where} has ${ps.length} processes`);
        const p = ps[0];
        if (a.status === 'LOST') {
          // Lost with its engine: the end may have reached it, but not the store.
          if (!o.crashedEngines.has(a.engineId)) v.push(`${where} is LOST though its engine ${a.engineId} never died`);
          return;
        }
        if (a.status === 'INTERRUPTED' && p) v.push(`${where} is INTERRUPTED though its process ${p.pid} ran (no shutdown happens here)`);
        if (!p || !p.outcome) return;
        if (!p.delivered) {
          v.push(`${where}: its end never reached an engine, yet it is ${a.status} (only LOST can be)`);
          return;
        }
        if (p.killedByRecovery) return;
        const o2 = p.outcome;
        const expected =
          o2.kind === 'exited' ? (isSuccessCode(def.successCode, o2.code) ? 'SUCCESS' : 'FAIL') : o2.kind === 'timedOut' ? 'TIMEOUT' : o2.kind === 'stopped' ? (o2.reason === 'cancel' ? 'CANCEL' : 'INTERRUPTED') : 'FAIL';
        if (a.status !== expected) v.push(`${where}: the process ended ${JSON.stringify(o2)}, the attempt says ${a.status} (expected ${expected})`);
      });
      // Each run of the task (the first, and one per rerun) has its own retries.
      if (failures > (def.retryLimit + 1) * (reset.length + 1)) v.push(`task ${t.id}: ${failures} failed attempts for retryLimit ${def.retryLimit} over ${reset.length + 1} runs`);
    }
  }
  return v;
}
