// What the engine keeps of an instance between steps: the immutable part only (its snapshot's task
// definitions, the graph's successor lists, parameters, trigger time), parsed once per instance instead
// of once per step. Statuses are never cached: every decision reads them in its own transaction. Safe to
// drop at any moment (it is refilled from the store on the next read); bounded (least recently used out).
import { nodeIdOf } from '../domain/graph.js';
import { DEFAULT_REF_TIMEOUT_SEC, referenceSpecsOf, type ReferenceSpec } from '../domain/referenceWaits.js';
import { parseInstanceId, taskInstanceId } from '../domain/ids.js';
import { formatInZone } from '../domain/time.js';
import type { FlowInstance, Param, TaskDef } from '../domain/types.js';
import type { EngineTx } from '../store/store.js';

export interface CachedInstance {
  id: string;
  flowId: number;
  triggerTime: number;
  /** The trigger time as `yyyy-MM-dd HH:mm:ss` in the service zone (BATCHFLOW_TRIGGER_TIME_TEXT). */
  triggerTimeText: string;
  /** Who triggered it ("" for a scheduler fire: the flow's creator). */
  owner: string;
  creatorName: string;
  doAs: string;
  flowParams: Param[];
  overrides: Param[];
  def(taskId: number): TaskDef;
  /** The task id of a node. */
  taskIdOf(nodeId: string): number;
  /** Task instance ids of the node's distinct downstream task nodes. */
  successorsOf(nodeId: string): string[];
  /** What it waits on in other workflows (contract §10): one per reference node and cycleGap in its run set. */
  references: ReferenceSpec[];
  /** Seconds from its start a reference may wait before the instance fails. */
  refTimeoutSec: number;
  /** A reference node's name for messages: the referenced workflow, or `workflow / task`. */
  referenceName(nodeId: string): string;
}

export function compileInstance(inst: FlowInstance, timezone: string): CachedInstance {
  const snap = inst.snapshot;
  const defs = new Map(snap.tasks.map((t) => [t.id, t]));
  const taskOfNode = new Map<string, number>();
  for (const n of snap.flow.nodes) taskOfNode.set(n.nodeId, n.taskId);
  for (const t of snap.tasks) if (!taskOfNode.has(nodeIdOf(t.id))) taskOfNode.set(nodeIdOf(t.id), t.id);
  const suffix = parseInstanceId(inst.id)?.suffix ?? inst.id.slice(inst.id.indexOf('-') + 1);
  const down = new Map<string, string[]>();
  for (const r of snap.flow.relations) {
    const target = taskOfNode.get(r.target);
    if (target === undefined || !taskOfNode.has(r.source)) continue; // a flow reference or a dangling id
    let list = down.get(r.source);
    if (!list) down.set(r.source, (list = []));
    const tid = taskInstanceId(target, suffix);
    if (!list.includes(tid)) list.push(tid);
  }
  return {
    id: inst.id,
    flowId: inst.flowId,
    triggerTime: inst.triggerTime,
    triggerTimeText: formatInZone(inst.triggerTime, timezone, 'yyyy-MM-dd HH:mm:ss'),
    owner: inst.owner,
    creatorName: snap.flow.creatorName,
    doAs: snap.flow.doAs,
    flowParams: snap.flow.parameters,
    overrides: inst.overrides,
    def(taskId) {
      const d = defs.get(taskId);
      if (!d) throw new Error(`instance ${inst.id} has no definition for task ${taskId}`);
      return d;
    },
    taskIdOf(nodeId) {
      const id = taskOfNode.get(nodeId);
      if (id === undefined) throw new Error(`instance ${inst.id} has no task node ${nodeId}`);
      return id;
    },
    successorsOf: (nodeId) => down.get(nodeId) ?? [],
    references: referenceSpecsOf(inst),
    refTimeoutSec: snap.flow.refTimeoutSec ?? DEFAULT_REF_TIMEOUT_SEC,
    referenceName(nodeId) {
      const ref = snap.flow.flowRefs.find((f) => f.nodeId === nodeId);
      if (!ref) return nodeId;
      return ref.isVirtual ? `${ref.sourceFlowName ?? `workflow ${ref.flowId}`} / ${ref.flowName}` : ref.flowName || `workflow ${ref.flowId}`;
    },
  };
}

export class InstanceCache {
  private readonly entries = new Map<string, CachedInstance>();

  constructor(
    private readonly timezone: string,
    private readonly max = 2_000,
  ) {}

  /** The instance's immutable part, read through the decision's own transaction when not cached. */
  async get(id: string, tx: EngineTx): Promise<CachedInstance> {
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id); // Map order is the LRU order
      this.entries.set(id, hit);
      return hit;
    }
    const inst = await tx.instanceDetails(id);
    if (!inst) throw new Error(`flow instance ${id} not found`);
    const compiled = compileInstance(inst, this.timezone);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, compiled);
    return compiled;
  }

  drop(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
