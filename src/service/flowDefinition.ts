// Turns Import's flowJson (the export Flow Struct, ref §5.7) and Save's body (ref §6.18 + the task
// definition extension) into store inputs, validated as a whole by validateFlow before anything is
// written; and renders the export struct, so that Export -> Import is a lossless round trip.
import { DomainError, invalid } from '../domain/errors.js';
import { nodeIdOf, validateFlow } from '../domain/graph.js';
import { parseParams } from '../domain/params.js';
import type { Flow, FlowRefNode, FlowType, FlowWithTasks, Relation, TaskNode } from '../domain/types.js';
import type { FlowUpdate, NewFlow, NewTaskDef } from '../store/store.js';
import { isPresent, camelKeys, intInRange, jsonArray, jsonObject, oneOf, optionalBool, optionalString, requiredString, show, toInt } from './input.js';
import { MAX_REF_TIMEOUT_SEC } from '../domain/referenceWaits.js';
import { applyTaskFields, exportTask, newTaskDef, taskChanged } from './taskDefinition.js';

const FLOW_TYPES: readonly FlowType[] = [0, 1, 2];

export function effectiveDate(v: unknown, field: string, fallback: string): string {
  const s = optionalString(v, field, fallback).trim();
  if (s === '') return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
  if (!m || !d || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) {
    throw invalid(field, `Invalid parameter: ${field} must be a date yyyy-MM-dd, got ${show(v)}`);
  }
  return s;
}

function coord(v: unknown, field: string): number {
  if (!isPresent(v) || v === '') return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(field, `Invalid parameter: ${field} must be a number, got ${show(v)}`);
  return n;
}

function relation(o: Record<string, unknown>, path: string, mapNode: (id: string, field: string) => string): Relation {
  const source = requiredString(o.source, `${path}.source`);
  const target = requiredString(o.target, `${path}.target`);
  return {
    source: mapNode(source, `${path}.source`),
    target: mapNode(target, `${path}.target`),
    cycleGap: optionalString(o.cycleGap, `${path}.cycleGap`, 'D0'),
    rerun: optionalBool(o.rerun, `${path}.rerun`, true),
  };
}

/** A reference node of the graph form (Get/Save `flows`): a task reference's flowName is `<taskId>(<taskName>)`. */
function flowRef(o: Record<string, unknown>, path: string): FlowRefNode {
  const flowId = String(toInt(o.flowId, `${path}.flowId`));
  const isVirtual = optionalBool(o.isVirtual, `${path}.isVirtual`, false);
  const flowName = optionalString(o.flowName, `${path}.flowName`, '');
  const node: FlowRefNode = {
    nodeId: optionalString(o.nodeId, `${path}.nodeId`, `f_${flowId}`),
    flowId,
    flowName,
    isVirtual,
    x: coord(o.x, `${path}.x`),
    y: coord(o.y, `${path}.y`),
  };
  if (!isVirtual) return node;
  const m = /^(\d+)\((.*)\)$/s.exec(flowName);
  const taskId = isPresent(o.taskId) && o.taskId !== '' ? toInt(o.taskId, `${path}.taskId`) : m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(taskId) || taskId <= 0) {
    throw invalid(`${path}.flowName`, `Incorrect parameter: ${path}.flowName of a task reference (isVirtual true) must read <taskId>(<taskName>), got ${show(flowName)}`);
  }
  return { ...node, taskId };
}

/** Export/Import's flowLinks[i] {linkId, sourceFlowName} (flowId too in our exports): resolved by name in the store. */
function flowLink(l: Record<string, unknown>, path: string): FlowRefNode {
  const name = optionalString(l.sourceFlowName ?? l.flowName, `${path}.sourceFlowName`, '');
  const linkId = optionalString(l.linkId, `${path}.linkId`, '');
  const idGiven = isPresent(l.flowId) && l.flowId !== '' ? String(toInt(l.flowId, `${path}.flowId`)) : '';
  // The name resolves (contract §10); without one, the id (flowId, or a linkId f_<id> as older exports wrote).
  const flowId = name !== '' ? '' : idGiven !== '' ? idGiven : /^f_\d+$/.test(linkId) || /^\d+$/.test(linkId) ? String(toInt(linkId.replace(/^f_/, ''), `${path}.linkId`)) : '';
  if (name === '' && flowId === '') throw invalid(`${path}.sourceFlowName`, `Invalid parameter: ${path}.sourceFlowName must name the referenced workflow`);
  return { nodeId: linkId !== '' ? linkId : `f_${flowId || name}`, flowId, flowName: name, isVirtual: false, x: coord(l.x, `${path}.x`), y: coord(l.y, `${path}.y`) };
}

/** Export/Import's taskLinks[i] {linkId, sourceFlowName, sourceTaskName}: resolved by names in the store. */
function taskLink(l: Record<string, unknown>, path: string): FlowRefNode {
  const sourceFlowName = requiredString(l.sourceFlowName, `${path}.sourceFlowName`);
  const sourceTaskName = requiredString(l.sourceTaskName, `${path}.sourceTaskName`);
  const linkId = requiredString(l.linkId, `${path}.linkId`);
  return { nodeId: linkId, flowId: '', flowName: '', isVirtual: true, x: coord(l.x, `${path}.x`), y: coord(l.y, `${path}.y`), sourceFlowName, sourceTaskName };
}

/** A workflow extension (contract §10): seconds a reference may wait, 1 to MAX_REF_TIMEOUT_SEC. */
function refTimeout(v: unknown, field: string, fallback: number | undefined): number | undefined {
  if (!isPresent(v) || v === '') return fallback;
  return intInRange(v, field, 1, MAX_REF_TIMEOUT_SEC, 'a year');
}

function objects(v: unknown, field: string): Array<Record<string, unknown>> {
  return jsonArray(v, field).map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(`${field}[${i}]`, `Invalid parameter: ${field}[${i}] must be an object`);
    return camelKeys(e as Record<string, unknown>);
  });
}

type Validated = Parameters<typeof validateFlow>[0];

export interface ImportInput {
  flowId?: number;
  flowName: string;
  desc: string;
  dirId: string;
  flowJson: unknown;
}

export interface ParsedImport {
  newFlow: NewFlow;
  /** User names the store must know in the caller's org (owners and visitors). */
  userNames: { owners: string[]; visitors: string[] };
}

/** Import Flow: flowJson -> NewFlow. Throws invalid naming the first fault. */
export function parseImport(input: ImportInput, ctx: { orgId: string; userId: string; userName: string; now: number }): ParsedImport {
  const j = camelKeys(jsonObject(input.flowJson, 'flowJson'));
  const p = (k: string) => `flowJson.${k}`;
  const type = oneOf(j.type, p('type'), FLOW_TYPES, 0);
  const tasks = objects(j.tasks, p('tasks')).map((t, i) => ({
    ...newTaskDef(t, p(`tasks[${i}]`)),
    x: coord(t.x, p(`tasks[${i}].x`)),
    y: coord(t.y, p(`tasks[${i}].y`)),
  }));
  const flowLinks = objects(j.flowLinks, p('flowLinks')).map((l, i) => flowLink(l, p(`flowLinks[${i}]`)));
  const taskLinks = objects(j.taskLinks, p('taskLinks')).map((l, i) => taskLink(l, p(`taskLinks[${i}]`)));
  const flowRefs = [...flowLinks, ...taskLinks];
  const refFieldOf = (k: number) => (k < flowLinks.length ? p(`flowLinks[${k}]`) : p(`taskLinks[${k - flowLinks.length}]`));
  const linkIds = new Set(flowRefs.map((r) => r.nodeId));
  const relationsByName: NewFlow['relationsByName'] = objects(j.relations, p('relations')).map((r, i) => ({
    sourceTaskName: requiredString(r.sourceTaskName, p(`relations[${i}].sourceTaskName`)),
    targetTaskName: requiredString(r.targetTaskName, p(`relations[${i}].targetTaskName`)),
    rerun: optionalBool(r.rerun, p(`relations[${i}].rerun`), true),
    cycleGap: optionalString(r.cycleGap, p(`relations[${i}].cycleGap`), 'D0'),
  }));
  objects(j.linkRelations, p('linkRelations')).forEach((r, i) => {
    const f = (k: string) => p(`linkRelations[${i}].${k}`);
    const linkId = requiredString(r.linkId, f('linkId'));
    if (!linkIds.has(linkId)) throw invalid(f('linkId'), `Workflow validation failed: ${f('linkId')} names no entry of flowJson.flowLinks or flowJson.taskLinks: ${show(linkId)}`);
    relationsByName.push({
      sourceTaskName: '',
      sourceNodeId: linkId,
      targetTaskName: requiredString(r.targetTaskName, f('targetTaskName')),
      rerun: optionalBool(r.rerun, f('rerun'), true),
      cycleGap: optionalString(r.cycleGap, f('cycleGap'), 'D0'),
    });
  });
  const owners = splitList(optionalString(j.owners, p('owners'), ''));
  const visitors = splitList(optionalString(j.visitors, p('visitors'), ''));
  if (!owners.includes(ctx.userName)) owners.unshift(ctx.userName);
  const flow: NewFlow['flow'] = {
    orgId: ctx.orgId,
    dirId: input.dirId,
    name: input.flowName,
    desc: input.desc !== '' ? input.desc : optionalString(j.desc, p('desc'), ''),
    type,
    active: oneOf(j.active, p('active'), [0, 1] as const, type === 1 ? 1 : 0),
    freq: optionalString(j.cron ?? j.freq, p('cron'), ''),
    cycle: optionalString(j.cycle, p('cycle'), ''),
    owners: owners.join(';'),
    visitors: visitors.join(';'),
    doAs: optionalString(j.submitter ?? j.doAs, p('submitter'), ''),
    alertMode: oneOf(j.alertMode, p('alertMode'), [0, 1, 2, 3], 0),
    alertTo: optionalString(j.alertTo, p('alertTo'), ''),
    appId: optionalString(j.appId, p('appId'), ''),
    syncType: oneOf(j.syncType, p('syncType'), [0, 1], 0),
    startDate: effectiveDate(j.startTime, p('startTime'), ''),
    queue: optionalString(j.queue, p('queue'), ''),
    entry: 1,
    virtual: false,
    parameters: isPresent(j.parameters) ? parseParams(j.parameters, p('parameters')) : [],
    ...withRefTimeout(refTimeout(j.refTimeoutSec, p('refTimeoutSec'), undefined)),
    flowRefs,
    relations: [],
    creatorId: ctx.userId,
    creatorName: ctx.userName,
    updateUser: ctx.userName,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  validateImport(flow, tasks, relationsByName);
  return { newFlow: { id: input.flowId, flow, tasks, relationsByName, refFieldOf }, userNames: { owners, visitors } };
}

/**
 * Validates with provisional task ids 1..n (the store allocates the real ones); messages name tasks by
 * their names instead of those ids, after the reference's "Workflow validation failed".
 */
function validateImport(flow: NewFlow['flow'], tasks: NewTaskDef[], rels: NewFlow['relationsByName']): void {
  const idOf = new Map<string, number>();
  tasks.forEach((t, i) => idOf.has(t.name) || idOf.set(t.name, i + 1));
  const node = (name: string, field: string) => {
    const id = idOf.get(name);
    if (id === undefined) throw invalid(field, `Workflow validation failed: ${field} names no task of flowJson.tasks: ${show(name)}`);
    return nodeIdOf(id);
  };
  // parseImport lists flowJson.relations first, then flowJson.linkRelations (a reference node's id as source).
  const plain = rels.filter((r) => r.sourceNodeId === undefined).length;
  const relations: Relation[] = rels.map((r, i) => ({
    source: r.sourceNodeId ?? node(r.sourceTaskName, `flowJson.relations[${i}].sourceTaskName`),
    target: node(r.targetTaskName, r.sourceNodeId !== undefined ? `flowJson.linkRelations[${i - plain}].targetTaskName` : `flowJson.relations[${i}].targetTaskName`),
    cycleGap: r.cycleGap ?? 'D0',
    rerun: r.rerun,
  }));
  const nodes: TaskNode[] = tasks.map((t, i) => ({ nodeId: nodeIdOf(i + 1), taskId: i + 1, taskName: t.name, x: 0, y: 0 }));
  const names = new Map(nodes.map((n) => [n.nodeId, JSON.stringify(n.taskName)]));
  validated(
    { nodes, flowRefs: flow.flowRefs, relations, tasks: tasks.map((t, i) => ({ ...t, id: i + 1 })), parameters: flow.parameters, type: flow.type, freq: flow.freq },
    (field, msg) => `Workflow validation failed: flowJson.${field === 'freq' ? 'cron' : field}: ${msg}`,
    names,
  );
}

/** validateFlow, with its message reworded and node ids the caller never saw replaced. */
function validated(g: Validated, reword: (field: string, msg: string) => string, rename: Map<string, string>): void {
  try {
    validateFlow(g);
  } catch (e) {
    if (!(e instanceof DomainError) || e.kind !== 'invalid') throw e;
    const msg = e.message.replace(/\bt_-?\d+\b/g, (id) => rename.get(id) ?? id);
    throw invalid(e.field ?? 'flow', reword(e.field ?? 'flow', msg));
  }
}

export function splitList(s: string): string[] {
  return [...new Set(s.split(';').map((x) => x.trim()).filter((x) => x !== ''))];
}

/** The export Flow Struct (ref §5.7) plus extensions (active, queue, alertTo, appId, task parameters/x/y). */
export function exportStruct(fw: FlowWithTasks): Record<string, unknown> {
  const { flow, tasks } = fw;
  const nameOf = new Map(flow.nodes.map((n) => [n.nodeId, n.taskName]));
  const refIds = new Set(flow.flowRefs.map((r) => r.nodeId));
  const pos = new Map(flow.nodes.map((n) => [n.taskId, n]));
  return {
    name: flow.name,
    cycle: flow.cycle,
    cron: flow.freq,
    parameters: JSON.stringify(flow.parameters),
    alertMode: flow.alertMode,
    submitter: flow.doAs,
    owners: flow.owners,
    visitors: flow.visitors,
    type: flow.type,
    syncType: flow.syncType,
    desc: flow.desc,
    startTime: flow.startDate,
    tasks: tasks.map((t) => exportTask(t, pos.get(t.id) ?? { x: 0, y: 0 })),
    flowLinks: flow.flowRefs.filter((r) => !r.isVirtual).map((r) => ({ linkId: r.nodeId, sourceFlowName: r.flowName, flowId: r.flowId, x: r.x, y: r.y })),
    taskLinks: flow.flowRefs
      .filter((r) => r.isVirtual)
      .map((r) => ({ linkId: r.nodeId, sourceFlowName: r.sourceFlowName ?? '', sourceTaskName: r.sourceTaskName ?? r.flowName.replace(/^\d+\((.*)\)$/s, '$1'), flowId: r.flowId, taskId: r.taskId, x: r.x, y: r.y })),
    relations: flow.relations
      .filter((r) => nameOf.has(r.source) && nameOf.has(r.target))
      .map((r) => ({ sourceTaskName: nameOf.get(r.source), targetTaskName: nameOf.get(r.target), rerun: r.rerun, cycleGap: r.cycleGap })),
    linkRelations: flow.relations
      .filter((r) => refIds.has(r.source) && nameOf.has(r.target))
      .map((r) => ({ linkId: r.source, targetTaskName: nameOf.get(r.target), rerun: r.rerun, cycleGap: r.cycleGap })),
    ...(flow.refTimeoutSec !== undefined ? { refTimeoutSec: flow.refTimeoutSec } : {}),
    active: flow.active,
    queue: flow.queue,
    alertTo: flow.alertTo,
    appId: flow.appId,
  };
}

export interface ParsedSave {
  update: FlowUpdate;
  userNames: { owners: string[]; visitors: string[] };
}

/**
 * Save Flow: the body (already camelCase at the top) over the stored flow. Fields the reference marks
 * optional keep their stored values when absent (tasks, flows, relations, parameters, desc, queue).
 */
export function parseSave(body: Record<string, unknown>, cur: FlowWithTasks, ctx: { userId: string; userName: string; now: number }): ParsedSave {
  const old = cur.flow;
  const type = oneOf(body.type, 'type', FLOW_TYPES);
  if (type !== old.type) throw invalid('type', `Invalid parameter: type cannot change: workflow ${old.id} is ${['manual', 'periodic', 'temporary'][old.type]} (type ${old.type}), got ${type}`);
  const name = requiredString(body.name, 'name').trim();
  if (name === '') throw invalid('name', 'Invalid parameter: name must not be empty');
  const graph = isPresent(body.graph) ? camelKeys(jsonObject(body.graph, 'graph')) : {};
  const pick = (k: string) => (isPresent(body[k]) ? { v: body[k], f: k } : isPresent(graph[k]) ? { v: graph[k], f: `graph.${k}` } : null);
  const g = buildGraph(pick('tasks'), pick('relations'), cur, old.id);
  const flowsIn = pick('flows');
  const owners = splitList(requiredString(body.owners, 'owners'));
  if (!owners.includes(old.creatorName)) owners.unshift(old.creatorName);
  const visitors = splitList(requiredString(body.visitors, 'visitors'));
  const flow: FlowUpdate['flow'] = {
    ...withoutLock(old),
    name,
    type,
    freq: requiredString(body.freq, 'freq').trim(),
    cycle: requiredString(body.cycle, 'cycle'),
    alertMode: oneOf(body.alertMode, 'alertMode', [0, 1, 2, 3]),
    doAs: requiredString(body.doAs, 'doAs'),
    owners: owners.join(';'),
    visitors: visitors.join(';'),
    startDate: effectiveDate(requiredString(body.startTime, 'startTime'), 'startTime', ''),
    active: oneOf(body.active, 'active', [0, 1] as const),
    parameters: isPresent(body.parameters) ? parseParams(body.parameters, 'parameters') : old.parameters,
    desc: optionalString(body.desc, 'desc', old.desc),
    queue: optionalString(body.queue, 'queue', old.queue),
    flowRefs: flowsIn ? objects(flowsIn.v, flowsIn.f).map((o, i) => flowRef(o, `${flowsIn.f}[${i}]`)) : old.flowRefs,
    ...withRefTimeout(refTimeout(body.refTimeoutSec, 'refTimeoutSec', old.refTimeoutSec)),
    nodes: g.nodes,
    relations: g.relations,
    updateUser: ctx.userName,
    updatedAt: ctx.now,
  };
  validated(
    { nodes: g.nodes, relations: g.relations, tasks: g.tasks, flowRefs: flow.flowRefs, parameters: flow.parameters, type: flow.type, freq: flow.freq },
    (field, msg) => `Incorrect parameter: ${field}: ${msg}`,
    g.clientIds,
  );
  const kept = new Set(g.nodes.map((n) => n.taskId));
  return {
    update: {
      flow,
      updatedTasks: g.updatedTasks,
      newTasks: g.newTasks,
      deletedTaskIds: cur.tasks.filter((t) => !kept.has(t.id)).map((t) => t.id),
      // Written only over the version read here, and only while no other user holds the lock (store guard).
      guard: { version: old.version, userId: ctx.userId, now: ctx.now },
      refFieldOf: (k) => `${flowsIn?.f ?? 'flows'}[${k}]`,
    },
    userNames: { owners, visitors },
  };
}

function withoutLock(f: Flow): Omit<Flow, 'editLock'> {
  const { editLock: _ignored, refTimeoutSec: _set, ...rest } = f;
  return rest;
}

/** refTimeoutSec only when set: an absent one keeps the flow's version hash as before the field existed. */
const withRefTimeout = (v: number | undefined): { refTimeoutSec?: number } => (v === undefined ? {} : { refTimeoutSec: v });

type Field = { v: unknown; f: string } | null;

/**
 * The saved graph as the store takes it: new tasks as taskId -(index+1), node id t_-<n>, which
 * validateFlow accepts as placeholders. Relations may name a new task by its client-chosen nodeId.
 */
function buildGraph(tasksIn: Field, relsIn: Field, cur: FlowWithTasks, flowId: number) {
  const byId = new Map(cur.tasks.map((t) => [t.id, t]));
  const nodes: TaskNode[] = [];
  const tasks: Array<NewTaskDef & { id: number }> = [];
  const updatedTasks: FlowUpdate['updatedTasks'] = [];
  const newTasks: NewTaskDef[] = [];
  const toStore = new Map<string, string>(); // client node id -> store node id
  const clientIds = new Map<string, string>(); // placeholder node id -> client node id (for messages)
  const entries = tasksIn ? objects(tasksIn.v, tasksIn.f) : cur.flow.nodes.map((n) => ({ taskId: n.taskId, nodeId: n.nodeId, x: n.x, y: n.y }));
  const field = tasksIn?.f ?? 'tasks';
  entries.forEach((e, i) => {
    const path = `${field}[${i}]`;
    const pos = { x: coord(e.x, `${path}.x`), y: coord(e.y, `${path}.y`) };
    let def: NewTaskDef;
    let id: number;
    let clientNode: string;
    if (isPresent(e.taskId) && e.taskId !== '') {
      id = toInt(e.taskId, `${path}.taskId`);
      const old = byId.get(id);
      if (!old) throw invalid(`${path}.taskId`, `Incorrect parameter: ${path}.taskId ${id} is not a task of workflow ${flowId}`);
      clientNode = nodeIdOf(id);
      if (toStore.has(clientNode)) throw invalid(`${path}.taskId`, `Incorrect parameter: ${path}.taskId ${id} appears twice`);
      def = applyTaskFields(e, old, path);
      if (taskChanged(def, old)) updatedTasks.push({ ...old, ...def });
    } else {
      id = -(newTasks.length + 1);
      clientNode = optionalString(e.nodeId, `${path}.nodeId`, `new_${newTasks.length + 1}`);
      if (toStore.has(clientNode)) throw invalid(`${path}.nodeId`, `Incorrect parameter: ${path}.nodeId ${show(clientNode)} is used twice`);
      def = newTaskDef(e, path);
      newTasks.push(def);
      clientIds.set(nodeIdOf(id), clientNode);
    }
    toStore.set(clientNode, nodeIdOf(id));
    nodes.push({ nodeId: nodeIdOf(id), taskId: id, taskName: def.name, ...pos });
    tasks.push({ ...def, id });
  });
  const relObjs = relsIn ? objects(relsIn.v, relsIn.f) : (cur.flow.relations as unknown as Array<Record<string, unknown>>);
  const rf = relsIn?.f ?? 'relations';
  // Node ids that are neither tasks of the saved graph nor refs stay as given: validateFlow names them.
  const relations = relObjs.map((r, i) => relation(r, `${rf}[${i}]`, (nid) => toStore.get(nid) ?? nid));
  return { nodes, relations, tasks, updatedTasks, newTasks, clientIds };
}
