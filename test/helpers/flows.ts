// Flow builders: export-form flowJson of `exit 0` SHELL tasks, importing it, and the Save body of a flow.
import type { World, Who } from './world.js';
import { ok, op } from './api.js';

export interface TaskSpec {
  name: string;
  cmd?: string;
  [field: string]: unknown;
}

/** An export-form task: SHELL running `exit 0` unless told otherwise. */
export function shellTask(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, type: 'SHELL', cmd: 'exit 0', ...extra };
}

/** Edges as [source, target] or [source, target, rerun]. */
export type Edge = [string, string] | [string, string, boolean];

export function flowJson(opts: { tasks?: Array<string | Record<string, unknown>>; edges?: Edge[]; [k: string]: unknown } = {}): Record<string, unknown> {
  const { tasks = ['a'], edges = [], ...rest } = opts;
  return {
    name: 'test flow',
    type: 0,
    cron: '',
    parameters: '[]',
    owners: '',
    visitors: '',
    tasks: tasks.map((t) => (typeof t === 'string' ? shellTask(t) : t)),
    relations: edges.map(([s, t, rerun]) => ({ sourceTaskName: s, targetTaskName: t, rerun: rerun ?? true })),
    ...rest,
  };
}

/** Imports a flow and returns its id. */
export async function importFlow(w: World, json: Record<string, unknown> = flowJson(), who: Who = 'admin', extra: Record<string, unknown> = {}): Promise<number> {
  const dirId = await w.rootDir(w.users[who].orgId);
  const r = await op(w, who, 'POST', 'flows', 'import', { body: { flowName: `flow-${Math.random().toString(36).slice(2, 8)}`, desc: '', dirId, flowJson: json, ...extra } });
  return ok<{ flowId: number }>(r).flowId;
}

export async function getFlowData(w: World, flowId: number, who: Who = 'admin'): Promise<Record<string, unknown>> {
  return ok(await op(w, who, 'GET', 'flows', 'get', { query: { flowId } }));
}

/** A Save Flow body equal to the flow as Get Flow shows it (the graph's tasks, flows and relations). */
export async function saveBodyOf(w: World, flowId: number): Promise<Record<string, unknown>> {
  const f = await getFlowData(w, flowId);
  const g = JSON.parse(f.graph as string) as Record<string, unknown>;
  return {
    id: f.flowId,
    type: f.type,
    name: f.flowName,
    freq: f.freq,
    cycle: f.cycle,
    alertMode: f.alertMode,
    doAs: f.doAs,
    owners: f.owner,
    visitors: f.visitor,
    startTime: f.startTime,
    active: f.active,
    parameters: f.parameters,
    desc: f.desc,
    queue: f.queue,
    tasks: g.tasks,
    flows: g.flows,
    relations: g.relations,
  };
}

/** Task ids by name, from Get Flow's graph. */
export async function taskIds(w: World, flowId: number): Promise<Record<string, number>> {
  const g = JSON.parse((await getFlowData(w, flowId)).graph as string) as { tasks: Array<{ taskName: string; taskId: string }> };
  return Object.fromEntries(g.tasks.map((t) => [t.taskName, Number(t.taskId)]));
}

export async function trigger(w: World, flowId: number, triggerTime = w.clock.now(), who: Who = 'admin'): Promise<string> {
  return ok<{ flowInstanceId: string }>(await op(w, who, 'POST', 'flows', 'trigger', { body: { flowId, triggerTime } })).flowInstanceId;
}

/** A Save body that adds a reference to workflow `target` (periodic), joined to the body's first task. */
export function withReference(body: Record<string, unknown>, target: number, flowName = 'target'): Record<string, unknown> {
  const tasks = body.tasks as Array<{ nodeId: string }>;
  const relations = (body.relations as unknown[]) ?? [];
  return {
    ...body,
    flows: [{ flowId: String(target), flowName, nodeId: `f_${target}`, isVirtual: false, x: 0, y: 0 }],
    relations: [...relations, { source: `f_${target}`, target: tasks[0].nodeId, cycleGap: 'D0', rerun: true }],
  };
}

/** A periodic flow (a workflow others may reference, contract §10). */
export const periodicFlowJson = (extra: Record<string, unknown> = {}) => flowJson({ type: 1, cron: '0 0 2 * * ? *', ...extra });
