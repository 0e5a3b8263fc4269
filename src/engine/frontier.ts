// Plans a flow instance on its frontier: the nodes whose status can still change the plan. The engine
// plans after every task end; planInstance (src/domain/graph.ts) rebuilds the graph's maps and topological
// order each time, O(nodes + relations) with string keys, which in a 200-node chain cost more than the
// commit itself. Here the graph's upstream map and topological order are built once per instance, and
// planInstance decides on the frontier only. The decision stays the domain's; this module only leaves
// out nodes that provably cannot change it, and falls back to the whole graph when that is not provable.
import { planInstance, topoOrder, upstreamMap, type InstancePlan } from '../domain/graph.js';
import { isFailed, isPassThrough, type TaskInstanceStatus } from '../domain/status.js';
import type { Relation } from '../domain/types.js';

export interface InstanceGraph {
  nodeIds: string[];
  relations: Relation[];
  up: Map<string, string[]>;
  /** Position of each node in topoOrder(nodeIds, relations): ready nodes are reported in this order. */
  topoIndex: Map<string, number>;
}

export function instanceGraph(nodeIds: string[], relations: Relation[]): InstanceGraph {
  return {
    nodeIds,
    relations,
    up: upstreamMap(nodeIds, relations),
    topoIndex: new Map(topoOrder(nodeIds, relations).map((id, i) => [id, i])),
  };
}

/**
 * The same plan as planInstance(g.nodeIds, g.relations, statuses), computed on the frontier:
 * - pass-through nodes (SUCCESS, SKIP) are left out: they only ever matter as upstreams that passed;
 * - an INIT node with an upstream that has not passed is left out: it cannot be ready, and while some
 *   node has not passed the instance cannot succeed;
 * - with a failed node anywhere, or nothing left but such blocked INIT nodes (a cycle in a stored
 *   graph), the whole graph is planned, as before.
 * planInstance then decides on what is left; its ready nodes are put back in the whole graph's order.
 */
export function planOnFrontier(g: InstanceGraph, statusOf: (nodeId: string) => TaskInstanceStatus): InstancePlan {
  const frontier: string[] = [];
  let blocked = false;
  for (const id of g.nodeIds) {
    const s = statusOf(id);
    if (isFailed(s)) return planWhole(g, statusOf);
    if (isPassThrough(s)) continue;
    if (s === 'INIT' && g.up.get(id)!.some((u) => !isPassThrough(statusOf(u)))) {
      blocked = true;
      continue;
    }
    frontier.push(id);
  }
  if (frontier.length === 0 && blocked) return planWhole(g, statusOf);
  const plan = planInstance(frontier, g.relations, new Map(frontier.map((id) => [id, statusOf(id)])));
  plan.ready.sort((a, b) => g.topoIndex.get(a)! - g.topoIndex.get(b)!);
  return plan;
}

function planWhole(g: InstanceGraph, statusOf: (nodeId: string) => TaskInstanceStatus): InstancePlan {
  return planInstance(g.nodeIds, g.relations, new Map(g.nodeIds.map((id) => [id, statusOf(id)])));
}
