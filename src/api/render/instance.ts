// FlowInstance (ref §5.4) with its InstanceGraph (ref §5.5) as a JSON string, and TaskInstance (ref §5.6).
// Status numbers come from wire.ts; the graph's task nodes carry status names.
import type { InstanceView, ReferenceState, TaskInstanceView } from '../../service/instances.js';
import { javaDateString } from '../../domain/time.js';
import type { Attempt, TransitionRecord } from '../../domain/types.js';
import type {
  DecodedAttemptWire,
  DecodedReferenceWire,
  DecodedTaskWire,
  FlowInstanceWire,
  InstanceGraphFlowWire,
  InstanceGraphTaskWire,
  InstanceGraphWire,
  TaskInstanceWire,
  TransitionWire,
} from '../openapi/structs.js';
import { FLOW_INSTANCE_WIRE, TASK_INSTANCE_WIRE, taskTypeWire } from '../wire.js';
import { DATE_TIME_S, calDt, stamped } from './dates.js';
import { renderFlowRef, renderRelation } from './flow.js';
import { renderAlert } from './alerts.js';

function instanceGraph(v: InstanceView, extras: boolean): InstanceGraphWire {
  const { instance } = v;
  const f = instance.snapshot.flow;
  const byNode = new Map(v.tasks.map((t) => [t.nodeId, t]));
  return {
    ...(extras ? { alertTo: f.alertTo, appId: f.appId } : {}),
    creator: f.creatorName,
    freq: f.freq,
    alertMode: f.alertMode,
    owners: f.owners,
    cycle: f.cycle,
    doAs: f.doAs,
    flows: f.flowRefs.map((r): InstanceGraphFlowWire => {
      // A reference with several cycleGaps shows the one that holds it up, if any.
      const mine = (v.references ?? []).filter((x) => x.nodeId === r.nodeId);
      const shown = mine.find((x) => x.status !== 'SUCCESS') ?? mine[0];
      return { ...renderFlowRef(r), flowInstId: shown?.flowInstId ?? '', status: shown?.boundStatus ?? 'NONE' };
    }),
    name: f.name,
    instId: instance.id,
    id: instance.flowId,
    relations: f.relations.map(renderRelation),
    parameters: instance.parameters,
    tasks: f.nodes.map((n): InstanceGraphTaskWire => {
      const t = byNode.get(n.nodeId);
      return { taskName: n.taskName, taskInstId: t?.id ?? '', x: n.x, y: n.y, taskId: String(n.taskId), nodeId: n.nodeId, status: t?.status ?? 'NONE' };
    }),
  };
}

/** `extras`: V2.0's `alertTo` and `appId` in the instance graph (ref §10). */
export function renderFlowInstance(v: InstanceView, tz: string, extras = false): FlowInstanceWire {
  const i = v.instance;
  const f = i.snapshot.flow;
  return {
    instanceId: i.id,
    flowId: i.flowId,
    flowName: f.name,
    freq: f.freq,
    cycle: f.cycle,
    parameters: JSON.stringify(i.parameters),
    overrides: JSON.stringify(i.overrides),
    doAs: f.doAs,
    graph: JSON.stringify(instanceGraph(v, extras)),
    status: FLOW_INSTANCE_WIRE[i.status],
    statusDesc: i.status,
    ...stamped('triggerTime', i.triggerTime, tz),
    ...stamped('startTime', i.startedAt, tz),
    ...stamped('endTime', i.endedAt, tz),
    ...stamped('timestamp', i.createdAt, tz, DATE_TIME_S),
    virtual: f.virtual,
    owner: i.owner === '' ? f.creatorName : i.owner,
    alertMode: f.alertMode,
    calDt: calDt(i.triggerTime, tz),
    hasEditPri: v.hasEditPri,
    hasReadPri: true,
    isCancelled: i.status === 'CANCEL',
    // Extension: the flow version the instance runs (GET /flows?action=getVersion shows its content).
    flowVersion: i.version.number,
    flowVersionHash: i.version.hash,
    ...(v.history ? { transitions: v.history.map((h) => renderTransition(h, tz)) } : {}),
    ...(v.attempts ? { tasks: decodedTasks(v, v.attempts, tz) } : {}),
    ...(v.references ? { references: v.references.map((r) => decodedReference(r, tz)) } : {}),
    ...(v.alerts ? { alerts: v.alerts.map((a) => renderAlert(a, tz)) } : {}),
  };
}

function decodedReference(r: ReferenceState, tz: string): DecodedReferenceWire {
  return {
    nodeId: r.nodeId,
    cycleGap: r.cycleGap,
    status: r.status,
    flowInstId: r.flowInstId,
    boundStatus: r.boundStatus,
    ...stamped('windowStart', r.windowStart, tz),
    ...stamped('windowEnd', r.windowEnd, tz),
    ...stamped('deadline', r.deadline, tz),
    reason: r.reason,
  };
}

const span = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.max(0, to - from));

/**
 * Extension: the graph's tasks as an array (nobody parses `graph`, a JSON string): each node in graph
 * order with its task instance's status name, attempts and times, and its upstream node ids.
 */
function decodedTasks(v: InstanceView, attempts: Attempt[], tz: string): DecodedTaskWire[] {
  const f = v.instance.snapshot.flow;
  const byNode = new Map(v.tasks.map((t) => [t.nodeId, t]));
  const upstream = new Map<string, string[]>();
  for (const r of f.relations) upstream.set(r.target, [...(upstream.get(r.target) ?? []), r.source]);
  const attemptsOf = new Map<string, Attempt[]>();
  for (const a of attempts) attemptsOf.set(a.taskInstanceId, [...(attemptsOf.get(a.taskInstanceId) ?? []), a]);
  return f.nodes.map((n): DecodedTaskWire => {
    const t = byNode.get(n.nodeId);
    return {
      taskInstId: t?.id ?? '',
      taskId: n.taskId,
      taskName: n.taskName,
      nodeId: n.nodeId,
      status: t?.status ?? 'NONE',
      runNum: t?.runNum ?? 0,
      ...stamped('startTime', t?.startedAt ?? null, tz),
      ...stamped('endTime', t?.endedAt ?? null, tz),
      durationMs: span(t?.startedAt ?? null, t?.endedAt ?? null),
      exitCode: t?.exitCode ?? null,
      upstream: upstream.get(n.nodeId) ?? [],
      ...(t && v.keys?.has(t.id) ? { keys: v.keys.get(t.id)! } : {}),
      attempts: (t ? (attemptsOf.get(t.id) ?? []) : []).map((a): DecodedAttemptWire => ({
        runNum: a.runNum,
        outcome: a.status,
        startTimeMs: a.startedAt,
        endTimeMs: a.endedAt,
        durationMs: span(a.startedAt, a.endedAt),
        exitCode: a.exitCode,
        signal: a.signal,
      })),
    };
  });
}

/** Extension: one status change, with status names (the wire numbers stay in `status`). */
function renderTransition(h: TransitionRecord, tz: string): TransitionWire {
  return {
    seq: h.seq,
    kind: h.kind,
    id: h.entityId,
    from: h.from,
    to: h.to,
    ...stamped('at', h.at, tz),
    runNum: h.runNum,
    reason: h.reason,
    engineId: h.engineId,
  };
}

export function renderTaskInstance(v: TaskInstanceView, tz: string): TaskInstanceWire {
  const { task: t, instance: i, def: d, flow: f } = v;
  return {
    instanceId: t.id,
    taskId: t.taskId,
    taskName: t.taskName,
    cycle: f.cycle,
    status: TASK_INSTANCE_WIRE[t.status],
    stsDesc: t.status,
    runNum: t.runNum,
    type: taskTypeWire(d.type),
    syncType: d.syncType,
    freq: f.freq,
    ifPre: i.kind === 'schedule' ? 0 : 1,
    recallNum: Math.max(0, t.runNum - 1),
    recallLimit: d.retryLimit,
    recallInterval: d.retryIntervalSec,
    timeout: d.timeoutSec,
    isTimeout: t.isTimeout,
    ...stamped('triggerTime', i.triggerTime, tz),
    ...stamped('startTime', t.startedAt, tz),
    ...stamped('endTime', t.endedAt, tz),
    timeStamp: javaDateString(i.createdAt, tz),
    timeStampMs: i.createdAt,
    flowInstId: i.id,
    doAs: f.doAs,
    alert: f.alertMode > 0,
    runMode: d.runMode,
    cmd: d.cmd,
    hasResourceBefore: false,
    resourceName: d.resource,
    fileName: d.filePackage,
    resourceVersion: '',
    exitCode: t.exitCode,
    transitions: v.history.map((h) => renderTransition(h, tz)),
    ...(v.keys ? { keys: v.keys } : {}),
  };
}
