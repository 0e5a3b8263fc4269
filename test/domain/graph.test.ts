import { describe, expect, it } from 'vitest';
import type { GraphInput } from '../../src/domain/graph.js';
import { nodeIdOf, runSet, taskIdOfNode, topoOrder, upstreamMap, validateFlow } from '../../src/domain/graph.js';
import { DomainError } from '../../src/domain/errors.js';
import type { FlowRefNode, Relation, TaskNode } from '../../src/domain/types.js';

// Tiny builders: tasks t_<id> named task<id>, SHELL, no parameters.
const task = (id: number, name = `task${id}`, type = 'SHELL') => ({ id, name, type: type as 'SHELL', parameters: [] });
const node = (taskId: number, nodeId = nodeIdOf(taskId)): TaskNode => ({ nodeId, taskId, taskName: `task${taskId}`, x: 0, y: 0 });
const ref = (nodeId: string): FlowRefNode => ({ nodeId, flowId: nodeId.slice(2), flowName: 'other', isVirtual: false, x: 0, y: 0 });
const rel = (source: string, target: string, rerun = true): Relation => ({ source, target, cycleGap: '', rerun });
const edges = (spec: string): Relation[] =>
  spec.split(/\s*,\s*/).filter(Boolean).map((e) => {
    const [s, t] = e.split('>');
    return rel(s.trim(), t.trim());
  });

function flow(ids: number[], relations: Relation[], over: Partial<GraphInput> = {}): GraphInput {
  return {
    nodes: ids.map((id) => node(id)),
    flowRefs: [],
    relations,
    tasks: ids.map((id) => task(id)),
    parameters: [],
    type: 0,
    freq: '',
    ...over,
  };
}

function faultOf(g: GraphInput): { field?: string; message: string } | null {
  try {
    validateFlow(g);
    return null;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    expect(e.kind).toBe('invalid');
    return { field: e.field, message: e.message };
  }
}

describe('node ids', () => {
  it.each([
    [12, 't_12'],
    [-3, 't_-3'],
  ])('names task %i node %s and reads it back', (id, nodeId) => {
    expect(nodeIdOf(id)).toBe(nodeId);
    expect(taskIdOfNode(nodeId)).toBe(id);
  });
  it.each(['f_12', 't_', 't_1a', 'x_1', ''])('reads %j as no task node', (nodeId) => {
    expect(taskIdOfNode(nodeId)).toBeNull();
  });
});

describe('validateFlow', () => {
  it.each([
    ['a chain', flow([1, 2, 3], edges('t_1>t_2, t_2>t_3'))],
    ['a diamond with a flow reference upstream', flow([1, 2, 3, 4], [...edges('t_1>t_2, t_1>t_3, t_2>t_4, t_3>t_4'), rel('f_9', 't_1')], { flowRefs: [ref('f_9')] })],
    ['a periodic flow with a Quartz cron', flow([1], [], { type: 1, freq: '0 0 0 * * ? *' })],
    ['placeholder (negative) ids of tasks not yet created', flow([-1, -2], edges('t_-1>t_-2'))],
    ['a manual flow with no freq', flow([1], [], { type: 0, freq: '' })],
    ['dotted parameter keys', flow([1], [], { parameters: [{ key: 'a.b_c', value: '1' }, { key: '_x', value: '' }] })],
  ])('accepts %s', (_what, g) => {
    expect(faultOf(g)).toBeNull();
  });

  it.each([
    ['a node whose id does not match its task', flow([1], [], { nodes: [node(1, 't_2')] }), 'tasks', 'node t_2 does not match its task 1 (expected t_1)'],
    ['a node naming a task the flow does not have', flow([1], [], { nodes: [node(1), node(9)] }), 'tasks', 'node t_9 refers to task 9, which is not a task of this workflow'],
    ['a duplicate node id', flow([1], [], { nodes: [node(1), node(1)] }), 'tasks', 'duplicate node id t_1'],
    ['a duplicate flow reference node', flow([1], [], { flowRefs: [ref('f_2'), ref('f_2')] }), 'tasks', 'duplicate node id f_2'],
    ['two tasks with one name', flow([1, 2], [], { tasks: [task(1, 'load'), task(2, 'load')] }), 'tasks', 'duplicate task name "load"'],
    ['an unknown task type', flow([1], [], { tasks: [task(1, 'j', 'JAVA')] }), 'type', 'task "j" has unknown type "JAVA" (expected SHELL or PYTHON)'],
    ['a relation to a missing node', flow([1], edges('t_1>t_9')), 'relations', 'relation t_1 -> t_9 refers to unknown node t_9'],
    ['a relation from a missing flow reference', flow([1], edges('f_3>t_1')), 'relations', 'relation f_3 -> t_1 refers to unknown node f_3'],
    ['a self-loop', flow([1], edges('t_1>t_1')), 'relations', 'relation t_1 -> t_1 joins a node to itself'],
    ['a duplicate edge', flow([1, 2], edges('t_1>t_2, t_1>t_2')), 'relations', 'duplicate relation t_1 -> t_2'],
    ['a three-node cycle', flow([1, 2, 3], edges('t_1>t_2, t_2>t_3, t_3>t_1')), 'relations', 'the graph has a cycle: t_1 -> t_2 -> t_3 -> t_1'],
    ['a cycle below an acyclic head', flow([1, 2, 3, 4], edges('t_1>t_2, t_2>t_3, t_3>t_4, t_4>t_2')), 'relations', 'the graph has a cycle: t_2 -> t_3 -> t_4 -> t_2'],
    ['a two-node cycle', flow([1, 2], edges('t_2>t_1, t_1>t_2')), 'relations', 'the graph has a cycle: t_1 -> t_2 -> t_1'],
    ['a bad flow parameter key', flow([1], [], { parameters: [{ key: '1x', value: '' }] }), 'parameters', 'workflow has an invalid parameter key "1x" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['a bad task parameter key', flow([1], [], { tasks: [{ ...task(1, 'load'), parameters: [{ key: 'a-b', value: '' }] }] }), 'parameters', 'task "load" has an invalid parameter key "a-b" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['a periodic flow without a cron', flow([1], [], { type: 1, freq: '' }), 'freq', 'invalid cron "": the cron expression is empty'],
    ['a periodic flow with a 5-field cron', flow([1], [], { type: 1, freq: '0 0 * * *' }), 'freq', 'invalid cron "0 0 * * *": a Quartz cron has 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), got 5'],
  ])('refuses %s', (_what, g, field, message) => {
    expect(faultOf(g)).toEqual({ field, message });
  });

  it.each([
    ['a duplicate name before a dangling relation', flow([1, 2], edges('t_1>t_9'), { tasks: [task(1, 'a'), task(2, 'a')] }), 'tasks'],
    ['an unknown type before a cycle', flow([1, 2], edges('t_1>t_2, t_2>t_1'), { tasks: [task(1), task(2, 'b', 'SQL')] }), 'type'],
    ['a cycle before a bad parameter key', flow([1, 2], edges('t_1>t_2, t_2>t_1'), { parameters: [{ key: '-', value: '' }] }), 'relations'],
    ['a bad parameter key before a bad cron', flow([1], [], { type: 1, freq: 'nope', parameters: [{ key: '-', value: '' }] }), 'parameters'],
  ])('names the first fault: %s', (_what, g, field) => {
    expect(faultOf(g)?.field).toBe(field);
  });
});

describe('upstreamMap and topoOrder', () => {
  it('lists upstream nodes among the given ids only, ignoring flow references and duplicates', () => {
    const up = upstreamMap(['t_1', 't_2', 't_3'], [...edges('t_1>t_3, t_2>t_3, f_9>t_1, t_1>t_3')]);
    expect(Object.fromEntries(up)).toEqual({ t_1: [], t_2: [], t_3: ['t_1', 't_2'] });
  });

  it.each([
    ['a diamond', ['t_4', 't_3', 't_2', 't_1'], 't_1>t_2, t_1>t_3, t_2>t_4, t_3>t_4', ['t_1', 't_2', 't_3', 't_4']],
    ['independent nodes in given order', ['t_3', 't_1', 't_2'], '', ['t_3', 't_1', 't_2']],
    ['a reversed chain', ['t_3', 't_2', 't_1'], 't_1>t_2, t_2>t_3', ['t_1', 't_2', 't_3']],
    ['a cycle, whose nodes come last', ['t_1', 't_2', 't_3'], 't_2>t_3, t_3>t_2', ['t_1', 't_2', 't_3']],
  ])('orders %s topologically', (_what, ids, spec, expected) => {
    expect(topoOrder(ids, edges(spec))).toEqual(expected);
  });
});

describe('runSet', () => {
  // t_1 -> t_2 -> t_3 (rerun false), t_2 -> t_4, t_5 -> t_4: t_4 has one upstream in the run set and one not.
  const ids = ['t_1', 't_2', 't_3', 't_4', 't_5'];
  const rels = [rel('t_1', 't_2'), rel('t_2', 't_3', false), rel('t_2', 't_4'), rel('t_5', 't_4')];

  it.each([
    ['t_2', ['t_2', 't_4']],
    ['t_1', ['t_1', 't_2', 't_4']],
    ['t_5', ['t_5', 't_4']],
    ['t_3', ['t_3']],
    ['t_9', []],
  ])('starting at %s runs %j (rerun:false edges cut)', (start, expected) => {
    expect([...runSet(ids, rels, start)].sort()).toEqual([...expected].sort());
  });
});
