// The flow DAG (contract §3, §4): node ids, write-time validation naming the first fault, topological
// order, upstream lists (what each task instance waits on) and the run set of a triggerFromTask run.
// No I/O and no global state: each call derives what it needs from its arguments in O(nodes + relations).
// What runs next is decided per step by src/domain/plan.ts.
import type { FlowRefNode, FlowType, Param, Relation, TaskDef, TaskNode } from './types.js';
import { invalid } from './errors.js';
import { loaderKeyProblem, PARAM_KEY } from './params.js';
import { validateQuartzCron } from './cron.js';
import { parseCycleGap } from './references.js';

const NODE_ID = /^t_(-?\d+)$/;
const TASK_TYPES: ReadonlySet<string> = new Set(['SHELL', 'PYTHON']);

export function nodeIdOf(taskId: number): string {
  return `t_${taskId}`;
}

/** "t_12" -> 12; null for flow-reference nodes (`f_...`) and anything else. */
export function taskIdOfNode(nodeId: string): number | null {
  const m = NODE_ID.exec(nodeId);
  return m ? Number(m[1]) : null;
}

export interface GraphInput {
  nodes: TaskNode[];
  flowRefs: FlowRefNode[];
  relations: Relation[];
  tasks: Array<Pick<TaskDef, 'id' | 'name' | 'type' | 'parameters'>>; // the flow's tasks (ids may be negative placeholders for not-yet-created tasks)
  parameters: Param[];
  type: FlowType;
  freq: string;
}

/** Throws invalid(field, message) for the first fault, in the order the contract lists them. */
export function validateFlow(g: GraphInput): void {
  const taskIds = new Set(g.tasks.map((t) => t.id));
  for (const n of g.nodes) {
    if (n.nodeId !== nodeIdOf(n.taskId)) {
      throw invalid('tasks', `node ${n.nodeId} does not match its task ${n.taskId} (expected ${nodeIdOf(n.taskId)})`);
    }
    if (!taskIds.has(n.taskId)) throw invalid('tasks', `node ${n.nodeId} refers to task ${n.taskId}, which is not a task of this workflow`);
  }

  const nodeIds = new Set<string>();
  for (const id of [...g.nodes.map((n) => n.nodeId), ...g.flowRefs.map((f) => f.nodeId)]) {
    if (nodeIds.has(id)) throw invalid('tasks', `duplicate node id ${id}`);
    nodeIds.add(id);
  }

  const names = new Set<string>();
  for (const t of g.tasks) {
    if (names.has(t.name)) throw invalid('tasks', `duplicate task name "${t.name}"`);
    names.add(t.name);
  }
  for (const t of g.tasks) {
    if (!TASK_TYPES.has(t.type)) throw invalid('type', `task "${t.name}" has unknown type "${t.type}" (expected SHELL or PYTHON)`);
  }

  for (const r of g.relations) {
    for (const end of [r.source, r.target]) {
      if (!nodeIds.has(end)) throw invalid('relations', `relation ${r.source} -> ${r.target} refers to unknown node ${end}`);
    }
  }
  const edges = new Set<string>();
  for (const r of g.relations) {
    if (r.source === r.target) throw invalid('relations', `relation ${r.source} -> ${r.target} joins a node to itself`);
    const key = `${r.source}\u0000${r.target}`;
    if (edges.has(key)) throw invalid('relations', `duplicate relation ${r.source} -> ${r.target}`);
    edges.add(key);
  }
  const cycle = findCycle([...nodeIds], g.relations);
  if (cycle) throw invalid('relations', `the graph has a cycle: ${cycle.join(' -> ')}`);
  validateReferenceNodes(g);

  const params: Array<[string, Param[]]> = [['workflow', g.parameters], ...g.tasks.map((t): [string, Param[]] => [`task "${t.name}"`, t.parameters])];
  for (const [owner, list] of params) {
    for (const p of list ?? []) {
      if (!PARAM_KEY.test(p.key)) throw invalid('parameters', `${owner} has an invalid parameter key "${p.key}" (allowed: [A-Za-z_][A-Za-z0-9_.]*)`);
      const loader = loaderKeyProblem(p.key);
      if (loader) throw invalid('parameters', `${owner}: ${loader}`);
    }
  }

  if (g.type === 1) {
    const problem = validateQuartzCron(g.freq);
    if (problem) throw invalid('freq', `invalid cron "${g.freq}": ${problem}`);
  }
}

/**
 * Reference nodes (contract §10): each one a root with at least one relation, every relation from it to a
 * task with a valid cycleGap. What the referenced workflow is (same org, periodic, the task's asLink,
 * no cycle of references) the store checks in the writing transaction.
 */
function validateReferenceNodes(g: GraphInput): void {
  const taskNodes = new Set(g.nodes.map((n) => n.nodeId));
  for (const ref of g.flowRefs) {
    if (taskIdOfNode(ref.nodeId) !== null) throw invalid('flows', `reference node ${ref.nodeId} has a task node's id (t_<taskId>): give it another nodeId, e.g. f_${ref.flowId}`);
    const into = g.relations.find((r) => r.target === ref.nodeId);
    if (into) throw invalid('relations', `reference node ${ref.nodeId} must be a root: relation ${into.source} -> ${ref.nodeId} targets it`);
    const out = g.relations.filter((r) => r.source === ref.nodeId);
    if (out.length === 0) throw invalid('relations', `reference node ${ref.nodeId} has no relation: join it to the task(s) that wait on it`);
    for (const r of out) {
      if (!taskNodes.has(r.target)) throw invalid('relations', `relation ${r.source} -> ${r.target}: a reference joins only to a task of this workflow`);
      const gap = parseCycleGap(r.cycleGap);
      if (!gap.ok) throw invalid('cycleGap', `relation ${r.source} -> ${r.target}: ${gap.message}`);
    }
  }
}

/** A cycle as node ids, first node repeated at the end (t_1 -> t_2 -> t_1), or null. Iterative DFS. */
function findCycle(nodeIds: string[], relations: Relation[]): string[] | null {
  const down = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  for (const r of relations) down.get(r.source)?.push(r.target);
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = finished
  for (const root of nodeIds) {
    if (state.has(root)) continue;
    const path: string[] = [root];
    const next: number[] = [0];
    state.set(root, 1);
    while (path.length > 0) {
      const top = path[path.length - 1];
      const children = down.get(top) ?? [];
      const i = next[next.length - 1]++;
      if (i >= children.length) {
        state.set(top, 2);
        path.pop();
        next.pop();
        continue;
      }
      const child = children[i];
      const s = state.get(child);
      if (s === 1) return [...path.slice(path.indexOf(child)), child];
      if (s === undefined) {
        state.set(child, 1);
        path.push(child);
        next.push(0);
      }
    }
  }
  return null;
}

/** Upstream node ids of each node, counting only relations whose both ends are among nodeIds. */
export function upstreamMap(nodeIds: string[], relations: Relation[]): Map<string, string[]> {
  const up = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  for (const r of relations) {
    const list = up.get(r.target);
    if (list && up.has(r.source) && !list.includes(r.source)) list.push(r.source);
  }
  return up;
}

/**
 * Kahn's order, stable: roots in the given order, then downstream nodes as they are freed. Nodes on a
 * cycle (validation refuses them, but a stored graph is not trusted blindly) come last, in given order.
 */
export function topoOrder(nodeIds: string[], relations: Relation[]): string[] {
  const indegree = new Map<string, number>(nodeIds.map((id) => [id, 0]));
  const down = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  const seen = new Set<string>();
  for (const r of relations) {
    if (!indegree.has(r.source) || !indegree.has(r.target)) continue;
    const key = `${r.source}\u0000${r.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    down.get(r.source)!.push(r.target);
    indegree.set(r.target, indegree.get(r.target)! + 1);
  }
  const order: string[] = nodeIds.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < order.length; i++) {
    for (const child of down.get(order[i])!) {
      const d = indegree.get(child)! - 1;
      indegree.set(child, d);
      if (d === 0) order.push(child);
    }
  }
  if (order.length < nodeIds.length) {
    const placed = new Set(order);
    for (const id of nodeIds) if (!placed.has(id)) order.push(id);
  }
  return order;
}

/** The start node and every node reachable from it through relations whose rerun is not false. */
export function runSet(nodeIds: string[], relations: Relation[], startNodeId: string): Set<string> {
  const members = new Set(nodeIds);
  const result = new Set<string>();
  if (!members.has(startNodeId)) return result; // an unknown start runs nothing (the service refuses it first)
  const down = new Map<string, string[]>();
  for (const r of relations) {
    if (r.rerun === false || !members.has(r.source) || !members.has(r.target)) continue;
    let list = down.get(r.source);
    if (!list) down.set(r.source, (list = []));
    list.push(r.target);
  }
  const queue = [startNodeId];
  result.add(startNodeId);
  for (let i = 0; i < queue.length; i++) {
    for (const child of down.get(queue[i]) ?? []) {
      if (!result.has(child)) {
        result.add(child);
        queue.push(child);
      }
    }
  }
  return result;
}
