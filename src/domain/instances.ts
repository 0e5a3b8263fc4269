// Building a new flow instance from a flow (contract §4): its id from the trigger time, the snapshot it
// runs, the parameters with the overrides applied, one task instance per node (SKIP outside a run set).
// Shared by the manual triggers (src/service/triggers.ts) and the cron scheduler (src/engine/scheduler.ts),
// so that a scheduled fire is exactly a trigger at the fire time. Pure: no store, no clock, no checks of
// uniqueness (that is the store's unique key).
import { nodeIdOf, upstreamMap } from './graph.js';
import { flowInstanceId, instanceSuffix, taskInstanceId } from './ids.js';
import { snapshotOf } from './versions.js';
import type { FlowInstance, FlowWithTasks, Param, TaskInstance, TriggerKind } from './types.js';

/** A flow instance as the store creates it (status WAIT), with its task instances. */
export interface NewFlowInstance {
  instance: Omit<FlowInstance, 'seq' | 'status' | 'startedAt' | 'endedAt' | 'reason' | 'version'> & {
    /**
     * The id of the flow version `snapshot` is, when the caller knows it (buildFlowInstance: the flow's
     * versionId as read with it); else the store finds or makes the version by the snapshot's hash.
     */
    versionId?: number;
  };
  /** One per task node; status INIT or SKIP (nodes outside a triggerFromTask run set). */
  tasks: Array<Omit<TaskInstance, 'runNum' | 'startedAt' | 'endedAt' | 'nextRunAt' | 'exitCode' | 'isTimeout' | 'updatedAt' | 'dueAt'>>;
  /**
   * Manual triggers: the id of the triggering user. The store then refuses the create when another user
   * holds the flow's edit lock (checked in the creating transaction). Absent for the scheduler's fires,
   * which the edit lock does not stop.
   */
  lockUserId?: string;
  /**
   * The flows row's version (Flow.version) the create was built from, when that read may be stale (a
   * cached Store.getFlowToRun): the store then refuses the create with StaleFlowError, in the creating
   * transaction, when the row's version differs. Absent: built from a read of the row itself.
   */
  flowVersion?: number;
}

/** Flow parameters with the overrides applied: given keys replace, others are kept, new keys are added. */
export function applyOverrides(params: Param[], overrides: Param[]): Param[] {
  const given = new Map(overrides.map((p) => [p.key, p.value]));
  const out = params.map((p) => (given.has(p.key) ? { key: p.key, value: given.get(p.key) as string } : p));
  const known = new Set(params.map((p) => p.key));
  for (const [key, value] of given) if (!known.has(key)) out.push({ key, value });
  return out;
}

export interface InstanceRequest {
  fw: FlowWithTasks;
  triggerTime: number;
  /** When it is created: it is due at max(triggerTime, now). */
  now: number;
  /** The service time zone (the id is the trigger time's minute there). */
  timezone: string;
  /** Name of the user who triggered it; "" for the scheduler's fires (rendered as the flow's creator). */
  owner: string;
  kind: TriggerKind;
  /** updateAndTrigger's overrides as given ([] otherwise). */
  overrides: Param[];
  /** triggerFromTask's start task, else null. */
  startTaskId: number | null;
  /** Node ids that run (triggerFromTask); null = every node. */
  runSet: ReadonlySet<string> | null;
}

export function buildFlowInstance(r: InstanceRequest): NewFlowInstance {
  const { fw } = r;
  const id = flowInstanceId(fw.flow.id, r.triggerTime, r.timezone);
  const suffix = instanceSuffix(r.triggerTime, r.timezone);
  const byTask = new Map(fw.flow.nodes.map((n) => [n.taskId, n]));
  const nodeOf = (taskId: number) => byTask.get(taskId)?.nodeId ?? nodeIdOf(taskId);
  const runs = (nodeId: string) => !r.runSet || r.runSet.has(nodeId);
  // Each node waits on its upstream nodes that run (a SKIP upstream, outside the run set, has passed):
  // task nodes, and reference nodes (each one a wait on another workflow, src/domain/referenceWaits.ts).
  const up = upstreamMap([...fw.tasks.map((t) => nodeOf(t.id)), ...fw.flow.flowRefs.map((f) => f.nodeId)], fw.flow.relations);
  return {
    instance: {
      id,
      flowId: fw.flow.id,
      orgId: fw.flow.orgId,
      kind: r.kind,
      startTaskId: r.startTaskId,
      triggerTime: r.triggerTime,
      dueAt: Math.max(r.triggerTime, r.now),
      owner: r.owner,
      parameters: applyOverrides(fw.flow.parameters, r.overrides),
      overrides: r.overrides,
      snapshot: snapshotOf(fw),
      ...(fw.flow.versionId > 0 ? { versionId: fw.flow.versionId } : {}),
      createdAt: r.now,
    },
    tasks: fw.tasks.map((t) => {
      const nodeId = nodeOf(t.id);
      return {
        id: taskInstanceId(t.id, suffix),
        flowInstanceId: id,
        flowId: fw.flow.id,
        taskId: t.id,
        nodeId,
        taskName: t.name,
        status: runs(nodeId) ? ('INIT' as const) : ('SKIP' as const),
        waitingOn: runs(nodeId) ? (up.get(nodeId) ?? []).filter(runs).length : 0,
      };
    }),
  };
}
