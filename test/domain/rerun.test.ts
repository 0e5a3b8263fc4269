// The rerun planner (src/domain/rerun.ts) and the rerun tables of src/domain/status.ts, table-driven:
// which instances may be rerun in which mode, which task instances reset, and what each waits on again.
import { describe, expect, it } from 'vitest';
import { planRerun, type RerunInput } from '../../src/domain/rerun.js';
import { canRerunFlowInstance, FLOW_INSTANCE_TRANSITIONS, isTerminalFlowInstance, isTerminalTaskInstance, resetsOnRerun, TASK_INSTANCE_TRANSITIONS, type FlowInstanceStatus, type TaskInstanceStatus } from '../../src/domain/status.js';

const rel = (source: string, target: string, rerun = true) => ({ source, target, rerun, cycleGap: '' });
const node = (taskId: number) => ({ nodeId: `t_${taskId}`, taskId });

/** a(1) -> b(2) -> c(3), a -> d(4); reference f_ref -> b. */
const graph = { nodes: [node(1), node(2), node(3), node(4)], flowRefs: [{ nodeId: 'f_ref' }], relations: [rel('t_1', 't_2'), rel('t_2', 't_3'), rel('t_1', 't_4'), rel('f_ref', 't_2')] };
const tasks = (s: Record<number, TaskInstanceStatus>) => Object.entries(s).map(([k, status]) => ({ id: `${k}-20261203100000`, nodeId: `t_${k}`, status }));
const input = (over: Partial<RerunInput> & { statuses: Record<number, TaskInstanceStatus> }): RerunInput => ({
  instance: { id: '7-20261203100000', status: 'FAIL', startTaskId: null, ...over.instance },
  graph: over.graph ?? graph,
  tasks: tasks(over.statuses),
  mode: over.mode ?? 'failed',
});
const nodeOf = (taskId: number) => `t_${taskId}`;
const resets = (i: RerunInput) => {
  const p = planRerun(i, nodeOf);
  if (!p.ok) throw new Error(p.why);
  return Object.fromEntries(p.resets.map((r) => [r.id.split('-')[0], r.waitingOn]));
};

describe('rerun tables', () => {
  const flows: FlowInstanceStatus[] = ['WAIT', 'RUNNING', 'SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'];
  it.each(flows.map((s) => [s]))('instance %s: failed %s, all %s', (s) => {
    expect(canRerunFlowInstance(s, 'failed')).toBe(['FAIL', 'CANCEL', 'INTERNAL_ERROR'].includes(s));
    expect(canRerunFlowInstance(s, 'all')).toBe(isTerminalFlowInstance(s));
  });
  const taskStatuses = Object.keys(TASK_INSTANCE_TRANSITIONS) as TaskInstanceStatus[];
  it.each(taskStatuses.map((s) => [s]))('task instance %s resets only when ended (SUCCESS only with all)', (s) => {
    expect(resetsOnRerun(s, 'all')).toBe(isTerminalTaskInstance(s));
    expect(resetsOnRerun(s, 'failed')).toBe(isTerminalTaskInstance(s) && s !== 'SUCCESS');
  });
  it('keeps the engine tables terminal: a rerun is not an engine transition', () => {
    for (const s of ['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'] as const) expect(FLOW_INSTANCE_TRANSITIONS[s]).toEqual([]);
  });
});

describe('planRerun', () => {
  it.each<[string, RerunInput, Record<string, number>]>([
    ['failed at b: b and c reset, b waits on its reference only, c on b', input({ statuses: { 1: 'SUCCESS', 2: 'FAIL', 3: 'SKIP', 4: 'SUCCESS' } }), { 2: 1, 3: 1 }],
    ['timed out b and cancelled d: d waits on nothing (a succeeded)', input({ statuses: { 1: 'SUCCESS', 2: 'TIMEOUT', 3: 'SKIP', 4: 'CANCEL' } }), { 2: 1, 3: 1, 4: 0 }],
    ['all: every node, each on its upstream nodes and references', input({ mode: 'all', statuses: { 1: 'SUCCESS', 2: 'SUCCESS', 3: 'SUCCESS', 4: 'SUCCESS' }, instance: { id: 'x', status: 'SUCCESS', startTaskId: null } }), { 1: 0, 2: 2, 3: 1, 4: 1 }],
    ['failed at the root: everything downstream too', input({ statuses: { 1: 'FAIL', 2: 'SKIP', 3: 'SKIP', 4: 'SKIP' } }), { 1: 0, 2: 2, 3: 1, 4: 1 }],
    ['INTERNAL_ERROR with every task SUCCESS: nothing to reset (ends SUCCESS at its start)', input({ instance: { id: 'x', status: 'INTERNAL_ERROR', startTaskId: null }, statuses: { 1: 'SUCCESS', 2: 'SUCCESS', 3: 'SUCCESS', 4: 'SUCCESS' } }), {}],
    ['triggerFromTask at b: only b and c, b without its reference (outside the run set)', input({ mode: 'all', instance: { id: 'x', status: 'FAIL', startTaskId: 2 }, statuses: { 1: 'SKIP', 2: 'FAIL', 3: 'SKIP', 4: 'SKIP' } }), { 2: 0, 3: 1 }],
    [
      'triggerFromTask: a relation with rerun false bounds the run set',
      input({ instance: { id: 'x', status: 'FAIL', startTaskId: 1 }, graph: { ...graph, relations: [rel('t_1', 't_2', false), rel('t_2', 't_3'), rel('t_1', 't_4')] }, statuses: { 1: 'SUCCESS', 2: 'SKIP', 3: 'SKIP', 4: 'FAIL' } }),
      { 4: 0 },
    ],
  ])('%s', (_name, i, expected) => {
    expect(resets(i)).toEqual(expected);
  });

  it.each<[string, RerunInput, RegExp]>([
    ['a RUNNING instance', input({ instance: { id: '7-1', status: 'RUNNING', startTaskId: null }, statuses: { 1: 'RUNNING' } }), /^flow instance 7-1 is RUNNING; only an ended instance/],
    ['a WAIT instance', input({ instance: { id: '7-1', status: 'WAIT', startTaskId: null }, statuses: { 1: 'INIT' } }), /is WAIT/],
    ['a SUCCESS instance with failed', input({ instance: { id: '7-1', status: 'SUCCESS', startTaskId: null }, statuses: { 1: 'SUCCESS' } }), /is SUCCESS; .*a SUCCESS instance only with mode "all"/],
    ['a cancelled instance whose task is still being stopped', input({ instance: { id: '7-1', status: 'CANCEL', startTaskId: null }, statuses: { 1: 'RUNNING', 2: 'CANCEL' } }), /task instance 1-20261203100000 of flow instance 7-1 is still RUNNING/],
  ])('refuses %s', (_name, i, why) => {
    const p = planRerun(i, nodeOf);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.why).toMatch(why);
  });
});
