// The Flow struct of Get Flow (ref §5.1) with its FlowGraph (ref §5.2) as a JSON string, camelCase,
// plus the epoch-ms twins of its dates; and the small flow lists of Get My Flow and Search Flow.
import type { Flow, FlowRefNode, Relation } from '../../domain/types.js';
import type { FlowView } from '../../service/flows.js';
import type {
  FlowGraphWire,
  FlowSimpInfoWire,
  FlowSimpleInfoWire,
  FlowWire,
  PageFlowWire,
  RelationWire,
  TaskSimpleInfoWire,
} from '../openapi/structs.js';
import { DATE_TIME_S, stamped } from './dates.js';

/** A graph edge as both FlowGraph and InstanceGraph carry it (ref §5.3). */
export function renderRelation(r: Relation): RelationWire {
  return { source: r.source, target: r.target, cycleGap: r.cycleGap, rerun: r.rerun };
}

/** A workflow-reference node (FlowSimpleInfo, ref §5.3); InstanceGraph adds its instance fields to it. */
export function renderFlowRef(r: FlowRefNode): FlowSimpleInfoWire {
  return { flowId: r.flowId, flowName: r.flowName, nodeId: r.nodeId, isVirtual: r.isVirtual, x: r.x, y: r.y };
}

export function renderGraph(flow: Flow): FlowGraphWire {
  return {
    creator: flow.creatorName,
    freq: flow.freq,
    alertMode: flow.alertMode,
    type: flow.type,
    owners: flow.owners,
    visitors: flow.visitors,
    startTime: flow.startDate,
    cycle: flow.cycle,
    doAs: flow.doAs,
    flows: flow.flowRefs.map(renderFlowRef),
    name: flow.name,
    syncType: flow.syncType,
    relations: flow.relations.map(renderRelation),
    parameters: JSON.stringify(flow.parameters),
    tasks: flow.nodes.map((n): TaskSimpleInfoWire => ({ taskName: n.taskName, taskId: String(n.taskId), nodeId: n.nodeId, x: n.x, y: n.y })),
    queue: flow.queue,
    desc: flow.desc,
    active: flow.active,
  };
}

/** `extras`: V2.0's `alertTo` and `appId` (ref §10). */
export function renderFlow(v: FlowView, tz: string, extras = false): FlowWire {
  const f = v.fw.flow;
  return {
    ...(extras ? { alertTo: f.alertTo, appId: f.appId } : {}),
    flowId: f.id,
    flowName: f.name,
    active: f.active,
    creator: f.creatorName,
    ...stamped('createTime', f.createdAt, tz, DATE_TIME_S),
    updateUser: f.updateUser,
    ...stamped('updateTime', f.updatedAt, tz, DATE_TIME_S),
    freq: f.freq,
    cycle: f.cycle,
    parameters: JSON.stringify(f.parameters),
    owner: f.owners,
    visitor: f.visitors,
    doAs: f.doAs,
    alertMode: f.alertMode,
    graph: JSON.stringify(renderGraph(f)),
    entry: f.entry,
    type: f.type,
    syncType: f.syncType,
    desc: f.desc,
    startTime: f.startDate,
    virtual: f.virtual,
    locked: v.locked,
    hasEditPri: v.hasEditPri,
    hasReadPri: v.hasReadPri,
    isUserLocked: v.isUserLocked,
    queue: f.queue,
    version: f.version,
  };
}

/** Get My Flow's FlowSimpInfo (ref §5.8): flowId is a String there. */
export function renderMyFlow(f: Pick<Flow, 'id' | 'name' | 'cycle'>, editable: boolean): FlowSimpInfoWire {
  return { flowId: String(f.id), editable, flowName: f.name, cycle: f.cycle };
}

/** Search Flow's PageFlow (ref §5.8). */
export function renderPageFlow(f: Flow): PageFlowWire {
  return { flowId: f.id, flowName: f.name };
}
