// References while an instance runs (contract §10): which reference waits an instance has (one per
// reference node and cycleGap of its relations, inside its run set), and the pure plans for a wait that is
// satisfied (its targets are unblocked) or that timed out (the instance fails, what had not started is
// SKIP). The store keeps the waits (reference_waits); src/engine/steps.ts reads the rows and applies these.
import { nodeIdOf, runSet, taskIdOfNode } from './graph.js';
import { parseInstanceId, taskInstanceId } from './ids.js';
import { noTransitions, unblockTargets, type InstanceRow, type TaskRow, type Transitions } from './plan.js';
import type { FlowInstance, FlowRefNode, Relation } from './types.js';

export const DEFAULT_REF_TIMEOUT_SEC = 86_400;
/** The longest reference timeout a workflow may set (a year). */
export const MAX_REF_TIMEOUT_SEC = 366 * 86_400;

export const ReferenceWaitStatus = {
  /** Bound instance not (yet) SUCCESS: its targets wait. */
  WAITING: 'WAITING',
  SUCCESS: 'SUCCESS',
  /** Timed out: the instance failed. */
  FAIL: 'FAIL',
  /** The dependent instance was cancelled while it waited. */
  CANCEL: 'CANCEL',
  /** The dependent instance ended otherwise (a task failed) while it waited. */
  SKIP: 'SKIP',
} as const;
export type ReferenceWaitStatus = (typeof ReferenceWaitStatus)[keyof typeof ReferenceWaitStatus];

/** What an instance waits on, from its snapshot: one per (reference node, cycleGap). */
export interface ReferenceSpec {
  nodeId: string;
  cycleGap: string;
  refFlowId: number;
  /** A task reference: the referenced task; null for a flow reference. */
  refTaskId: number | null;
  /** Task instance ids of the relation targets (in the instance's run set). */
  targets: string[];
}

/**
 * The reference waits of an instance: reference nodes inside its run set (a triggerFromTask run set is
 * the start task and what follows it, so it holds no reference: contract §10), grouped by cycleGap, with
 * the targets that run. `suffix` is the instance's 14-digit id suffix.
 */
export function referenceSpecs(flow: { nodes: Array<{ nodeId: string; taskId: number }>; flowRefs: FlowRefNode[]; relations: Relation[] }, suffix: string, start: { startTaskNodeId: string } | null): ReferenceSpec[] {
  if (flow.flowRefs.length === 0) return [];
  const taskNodes = new Set(flow.nodes.map((n) => n.nodeId));
  const set = start ? runSet(flow.nodes.map((n) => n.nodeId), flow.relations, start.startTaskNodeId) : null;
  const runs = (nodeId: string) => set === null || set.has(nodeId);
  const specs: ReferenceSpec[] = [];
  for (const ref of flow.flowRefs) {
    if (!runs(ref.nodeId)) continue;
    const byGap = new Map<string, string[]>();
    for (const r of flow.relations) {
      if (r.source !== ref.nodeId || !taskNodes.has(r.target) || !runs(r.target)) continue;
      const taskId = taskIdOfNode(r.target);
      if (taskId === null) continue;
      const gap = r.cycleGap || 'D0';
      let list = byGap.get(gap);
      if (!list) byGap.set(gap, (list = []));
      const tid = taskInstanceId(taskId, suffix);
      if (!list.includes(tid)) list.push(tid);
    }
    for (const [cycleGap, targets] of byGap) {
      specs.push({ nodeId: ref.nodeId, cycleGap, refFlowId: Number(ref.flowId), refTaskId: ref.isVirtual && ref.taskId !== undefined ? ref.taskId : null, targets });
    }
  }
  return specs;
}

/** The reference specs of an instance (its run set: the whole graph, or a triggerFromTask's). */
export function referenceSpecsOf(inst: Pick<FlowInstance, 'id' | 'kind' | 'startTaskId' | 'snapshot'>): ReferenceSpec[] {
  const suffix = parseInstanceId(inst.id)?.suffix ?? inst.id.slice(inst.id.indexOf('-') + 1);
  const start = inst.kind === 'triggerFromTask' && inst.startTaskId !== null ? { startTaskNodeId: nodeIdOf(inst.startTaskId) } : null;
  return referenceSpecs(inst.snapshot.flow, suffix, start);
}

/** The instance of the referenced workflow a wait is bound to, and the status that decides it. */
export interface Binding {
  instanceId: string;
  /** The bound instance's status, or for a task reference its task instance's ("NONE" if it has none). */
  status: string;
}

export const isSatisfiedBy = (b: Binding | null): boolean => b !== null && b.status === 'SUCCESS';

/** A reference wait as the store keeps it (what the plans need of it). */
export interface WaitRow {
  instanceId: string;
  nodeId: string;
  cycleGap: string;
  status: ReferenceWaitStatus;
  targets: string[];
  windowStart: number;
  windowEnd: number;
  deadline: number;
}

/** A waiting reference whose bound instance succeeded: the wait ends SUCCESS and its targets move on. */
export function planReferenceSatisfied(i: { instance: InstanceRow; wait: WaitRow; binding: Binding; targets: TaskRow[] }, now: number): Transitions {
  const t = noTransitions();
  if (i.wait.status !== 'WAITING' || !isSatisfiedBy(i.binding)) return t;
  t.references.push({ instanceId: i.wait.instanceId, nodeId: i.wait.nodeId, cycleGap: i.wait.cycleGap, to: 'SUCCESS', boundId: i.binding.instanceId, boundStatus: i.binding.status, reason: null });
  unblockTargets(i.instance, i.targets, now, t);
  return t;
}

/**
 * A waiting reference past its deadline with nothing successful bound: the wait FAILs, and the instance
 * with it (what had not started is SKIP; running tasks finish), with a reason naming the reference and
 * its window. A wait found satisfied meanwhile is satisfied instead (its wake-up was missed).
 */
export function planReferenceTimeout(
  i: { instance: InstanceRow; wait: WaitRow; binding: Binding | null; targets: TaskRow[]; refName: string; windowText: string; timeoutSec: number },
  now: number,
): Transitions {
  if (i.binding && isSatisfiedBy(i.binding)) return planReferenceSatisfied({ ...i, binding: i.binding }, now);
  const t = noTransitions();
  if (i.wait.status !== 'WAITING' || now < i.wait.deadline) return t;
  const bound = i.binding ? `its latest instance ${i.binding.instanceId} is ${i.binding.status}` : 'no instance of it';
  const reason = `reference ${i.wait.nodeId} (${i.refName}) timed out after ${i.timeoutSec} s: ${bound} in the window ${i.windowText} (cycleGap ${i.wait.cycleGap})`;
  t.references.push({ instanceId: i.wait.instanceId, nodeId: i.wait.nodeId, cycleGap: i.wait.cycleGap, to: 'FAIL', boundId: i.binding?.instanceId ?? null, boundStatus: i.binding?.status ?? null, reason });
  if (i.instance.status === 'RUNNING') {
    t.instances.push({ id: i.instance.id, flowId: i.instance.flowId, from: 'RUNNING', to: 'FAIL', reason });
    t.pending.push({ instanceId: i.instance.id, to: 'SKIP', reason });
  }
  return t;
}

/** A wait as Get Flow Instance shows it. */
export interface ReferenceWaitView extends WaitRow {
  refFlowId: number;
  refTaskId: number | null;
  boundId: string | null;
  boundStatus: string | null;
  reason: string | null;
  createdAt: number;
  endedAt: number | null;
}
