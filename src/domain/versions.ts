// Flow versions (issue 12): what of a flow an instance runs, stored once per distinct content instead of
// copied into every instance. A version is the flow's definition and its tasks without the bookkeeping
// that changes without changing the workflow (edit lock, Save counter, update time and user, scheduling
// state); its identity is the SHA-256 of that content in canonical JSON. Also: the difference between
// two versions, field by field. Pure: the store keeps versions and numbers them per flow.
import { createHash } from 'node:crypto';
import type { Flow, FlowWithTasks, TaskDef } from './types.js';

/** Flow fields that are not part of a version: a change of only these is no new version. */
export const BOOKKEEPING_FIELDS = ['editLock', 'version', 'versionId', 'updatedAt', 'updateUser', 'scheduleFrom', 'active'] as const;
type Bookkeeping = (typeof BOOKKEEPING_FIELDS)[number];

/** A flow as a version holds it. */
export type FlowDefinition = Omit<Flow, Bookkeeping>;

/** What an instance runs: the flow's definition and its tasks (in node order) at its creation. */
export interface FlowSnapshot {
  flow: FlowDefinition;
  tasks: TaskDef[];
}

/** A version as instances and listings name it. */
export interface FlowVersionRef {
  /** The store's id of the version (instances reference it). */
  id: number;
  flowId: number;
  /** 1, 2, 3, ... per flow, in the order versions were made. */
  number: number;
  /** SHA-256 (hex) of the content in canonical JSON. */
  hash: string;
  createdAt: number;
  /** The user whose import or save made it ("" when the store made it from older data). */
  createdBy: string;
}

export interface FlowVersion extends FlowVersionRef {
  snapshot: FlowSnapshot;
}

/** The version content of a flow with its tasks. */
export function snapshotOf(fw: { flow: Flow | FlowDefinition; tasks: TaskDef[] }): FlowSnapshot {
  const flow: Record<string, unknown> = { ...fw.flow };
  for (const f of BOOKKEEPING_FIELDS) delete flow[f];
  return { flow: flow as unknown as FlowDefinition, tasks: fw.tasks };
}

/**
 * JSON with object keys sorted at every level and no whitespace: the same content gives the same text
 * whatever order its keys were built or parsed in. `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function versionHash(s: FlowSnapshot): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex');
}

/** Costs ~80 us for a one-task flow, ~0.7 ms for a fifty-task one: triggers use Flow.versionId instead. */
export function versionHashOf(fw: FlowWithTasks): string {
  return versionHash(snapshotOf(fw));
}

// ---- comparing two versions ----

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface VersionDiff {
  /** Changed flow fields (nodes and relations are compared as tasks and relations below). */
  flow: FieldChange[];
  tasks: {
    added: Array<{ id: number; name: string }>;
    removed: Array<{ id: number; name: string }>;
    changed: Array<{ id: number; name: string; changes: FieldChange[] }>;
  };
  relations: {
    added: Array<{ source: string; target: string }>;
    removed: Array<{ source: string; target: string }>;
    changed: Array<{ source: string; target: string; changes: FieldChange[] }>;
  };
  /** True when the two versions have the same content. */
  same: boolean;
}

function fieldChanges(a: Record<string, unknown>, b: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): FieldChange[] {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => !skip.has(f)).sort();
  const out: FieldChange[] = [];
  for (const field of fields) {
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) out.push({ field, from: a[field] ?? null, to: b[field] ?? null });
  }
  return out;
}

const GRAPH_FIELDS = new Set(['nodes', 'relations']);

/** What changed from version `a` to version `b`. */
export function diffVersions(a: FlowSnapshot, b: FlowSnapshot): VersionDiff {
  const flow = fieldChanges(a.flow as unknown as Record<string, unknown>, b.flow as unknown as Record<string, unknown>, GRAPH_FIELDS);
  // A node's canvas position is part of the flow's content: report moved nodes as a change of `nodes`.
  const nodePos = (s: FlowSnapshot) => canonicalJson(s.flow.nodes.map((n) => [n.nodeId, n.x, n.y]));
  if (nodePos(a) !== nodePos(b)) flow.push({ field: 'nodes', from: a.flow.nodes, to: b.flow.nodes });
  const tasksA = new Map(a.tasks.map((t) => [t.id, t]));
  const tasksB = new Map(b.tasks.map((t) => [t.id, t]));
  const tasks: VersionDiff['tasks'] = {
    added: b.tasks.filter((t) => !tasksA.has(t.id)).map((t) => ({ id: t.id, name: t.name })),
    removed: a.tasks.filter((t) => !tasksB.has(t.id)).map((t) => ({ id: t.id, name: t.name })),
    changed: [],
  };
  for (const t of b.tasks) {
    const before = tasksA.get(t.id);
    if (!before) continue;
    const changes = fieldChanges(before as unknown as Record<string, unknown>, t as unknown as Record<string, unknown>);
    if (changes.length > 0) tasks.changed.push({ id: t.id, name: t.name, changes });
  }
  const key = (r: { source: string; target: string }) => `${r.source}\u0000${r.target}`;
  const relA = new Map(a.flow.relations.map((r) => [key(r), r]));
  const relB = new Map(b.flow.relations.map((r) => [key(r), r]));
  const relations: VersionDiff['relations'] = {
    added: b.flow.relations.filter((r) => !relA.has(key(r))).map(({ source, target }) => ({ source, target })),
    removed: a.flow.relations.filter((r) => !relB.has(key(r))).map(({ source, target }) => ({ source, target })),
    changed: [],
  };
  for (const r of b.flow.relations) {
    const before = relA.get(key(r));
    if (!before) continue;
    const changes = fieldChanges(before as unknown as Record<string, unknown>, r as unknown as Record<string, unknown>, new Set(['source', 'target']));
    if (changes.length > 0) relations.changed.push({ source: r.source, target: r.target, changes });
  }
  const same = canonicalJson(a) === canonicalJson(b);
  return { flow, tasks, relations, same };
}
