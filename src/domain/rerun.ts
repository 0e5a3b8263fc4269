// Rerun (contract §12): what an owner's rerun of an ended instance writes, planned from the rows the
// store read in its transaction. Pure. The instance keeps its id, trigger time, parameters and run set
// (a triggerFromTask instance reruns only the nodes it ran); `failed` resets every task instance of the
// run set that did not succeed, `all` every one; each reset one waits again on its upstream nodes that will
// run again (reset task nodes, and reference nodes, whose waits open again at the start).
import { upstreamMap, runSet } from './graph.js';
import { canRerunFlowInstance, isOpen, resetsOnRerun, type FlowInstanceStatus, type RerunMode, type TaskInstanceStatus } from './status.js';
import type { Relation } from './types.js';

export interface RerunInput {
  instance: { id: string; status: FlowInstanceStatus; startTaskId: number | null };
  /** The graph of the instance's version: task nodes, reference nodes and relations. */
  graph: { nodes: Array<{ nodeId: string; taskId: number }>; flowRefs: Array<{ nodeId: string }>; relations: Relation[] };
  tasks: Array<{ id: string; nodeId: string; status: TaskInstanceStatus }>;
  mode: RerunMode;
}

export interface TaskReset {
  id: string;
  from: TaskInstanceStatus;
  /** Upstream nodes it waits on again (0: a root of the rerun, READY at the start). */
  waitingOn: number;
}

export type RerunPlan =
  | { ok: true; from: FlowInstanceStatus; resets: TaskReset[] }
  | { ok: false; why: string };

export function planRerun(i: RerunInput, nodeIdOfTask: (taskId: number) => string): RerunPlan {
  const { instance, mode } = i;
  if (!canRerunFlowInstance(instance.status, mode)) {
    const allowed = mode === 'failed' ? 'FAIL, CANCEL or INTERNAL_ERROR (a SUCCESS instance only with mode "all")' : 'SUCCESS, FAIL, CANCEL or INTERNAL_ERROR';
    return { ok: false, why: `flow instance ${instance.id} is ${instance.status}; only an ended instance (${allowed}) can be rerun` };
  }
  const still = i.tasks.find((t) => isOpen(t.status));
  if (still) return { ok: false, why: `task instance ${still.id} of flow instance ${instance.id} is still ${still.status} (its process is being stopped); rerun once it has ended` };
  const taskNodes = i.graph.nodes.map((n) => n.nodeId);
  const refNodes = new Set(i.graph.flowRefs.map((f) => f.nodeId));
  // The run set as the instance was created with it (buildFlowInstance): every node, or the start task and
  // what is downstream of it (reference nodes are roots upstream of it, never in it).
  const set = instance.startTaskId === null ? null : runSet(taskNodes, i.graph.relations, nodeIdOfTask(instance.startTaskId));
  const runs = (nodeId: string) => set === null || set.has(nodeId);
  const reset = new Set(i.tasks.filter((t) => runs(t.nodeId) && resetsOnRerun(t.status, mode)).map((t) => t.nodeId));
  const up = upstreamMap([...taskNodes, ...refNodes], i.graph.relations);
  const resets = i.tasks
    .filter((t) => reset.has(t.nodeId))
    .map((t) => ({
      id: t.id,
      from: t.status,
      waitingOn: (up.get(t.nodeId) ?? []).filter((u) => runs(u) && (refNodes.has(u) || reset.has(u))).length,
    }));
  return { ok: true, from: instance.status, resets };
}
