// The step planner: table-driven cases for each decision, then a property check on many random DAGs and
// random runs (retries, failures, triggerFromTask run sets) against a reference that looks at the whole
// graph: the planner, which sees only one task and its successors, must reach the same states.
import { describe, expect, it } from 'vitest';
import { upstreamMap } from '../../src/domain/graph.js';
import {
  describeOpen,
  noTransitions,
  planAttemptEnd,
  planClaims,
  planStall,
  planStart,
  type AttemptResult,
  type EndInput,
  type InstanceRow,
  type TaskRow,
  type Transitions,
} from '../../src/domain/plan.js';
import { canTransitionTaskInstance, isActive, isFailed, isOpen, isPassThrough, type FlowInstanceStatus, type TaskInstanceStatus } from '../../src/domain/status.js';
import type { Relation } from '../../src/domain/types.js';

const NOW = 1_000_000;
const inst = (status: FlowInstanceStatus = 'RUNNING'): InstanceRow => ({ id: 'i', flowId: 7, status });
const row = (id: string, status: TaskInstanceStatus, waitingOn = 0, runNum = 0): TaskRow => ({ id, instanceId: 'i', nodeId: `t_${id}`, taskName: `n${id}`, status, runNum, waitingOn });
const ok: AttemptResult = { status: 'SUCCESS', exitCode: 0, signal: null, note: null };
const failed: AttemptResult = { status: 'FAIL', exitCode: 3, signal: null, note: 'exit code 3 is not a success code (0)' };

function end(over: Partial<EndInput> = {}): EndInput {
  return {
    instance: inst(),
    task: row('a', 'RUNNING', 0, 1),
    runNum: 1,
    ownerEngineId: 'e1',
    result: ok,
    logTail: 'out\n',
    logTailAtLineStart: true,
    policy: { retryLimit: 0, retryIntervalSec: 0 },
    priorFailures: 0,
    successors: [],
    othersActive: false,
    othersOpen: false,
    ...over,
  };
}
const moves = (t: Transitions) => [...t.instances.map((m) => `${m.id}:${m.from}>${m.to}`), ...t.tasks.map((m) => `${m.id}:${m.from}>${m.to}`)];

describe('planStart', () => {
  it.each([
    ['makes the roots READY', [row('a', 'INIT'), row('b', 'INIT')], true, ['i:WAIT>RUNNING', 'a:INIT>READY', 'b:INIT>READY']],
    ['ends at once when nothing is open (every node skipped)', [], false, ['i:WAIT>RUNNING', 'i:RUNNING>SUCCESS']],
    ['ends INTERNAL_ERROR when work is open but nothing can start (a cycle in a stored graph)', [], true, ['i:WAIT>RUNNING', 'i:RUNNING>INTERNAL_ERROR']],
  ] as const)('%s', (_what, roots, anyOpen, expected) => {
    const t = planStart({ instance: inst('WAIT'), roots: [...roots], anyOpen, openSample: anyOpen ? [row('c', 'INIT', 1)] : [] }, NOW);
    expect(moves(t)).toEqual(expected);
    if (anyOpen && roots.length === 0) expect(t.pending).toEqual([{ instanceId: 'i', to: 'SKIP', reason: 'no task can run: t_c=INIT (waiting on 1)' }]);
  });

  it('does nothing to an instance that is no longer WAIT', () => {
    expect(planStart({ instance: inst('CANCEL'), roots: [row('a', 'INIT')], anyOpen: true, openSample: [] }, NOW)).toEqual(noTransitions());
  });
});

describe('planAttemptEnd', () => {
  it.each<[string, Partial<EndInput>, string[], TaskInstanceStatus]>([
    ['succeeds the last task, and with it the instance', {}, ['i:RUNNING>SUCCESS', 'a:RUNNING>SUCCESS'], 'SUCCESS'],
    ['frees a successor whose last upstream this was', { successors: [row('b', 'INIT', 1)] }, ['a:RUNNING>SUCCESS', 'b:INIT>READY'], 'SUCCESS'],
    ['only counts down a successor still waiting on another upstream', { successors: [row('b', 'INIT', 2)], othersActive: true, othersOpen: true }, ['a:RUNNING>SUCCESS'], 'SUCCESS'],
    ['leaves the instance running while others are active', { othersActive: true, othersOpen: true }, ['a:RUNNING>SUCCESS'], 'SUCCESS'],
    ['retries a failure while retries are left', { result: failed, policy: { retryLimit: 2, retryIntervalSec: 5 }, priorFailures: 1 }, ['a:RUNNING>RERUN'], 'RERUN'],
    ['fails the instance on a failure past the retry limit', { result: failed, policy: { retryLimit: 2, retryIntervalSec: 5 }, priorFailures: 2, othersActive: true }, ['i:RUNNING>FAIL', 'a:RUNNING>FAIL'], 'FAIL'],
    ['fails with TIMEOUT for a timed-out attempt', { result: { ...failed, status: 'TIMEOUT' } }, ['i:RUNNING>FAIL', 'a:RUNNING>TIMEOUT'], 'TIMEOUT'],
    ['retries a lost attempt (its engine died) like a failure', { result: { ...failed, status: 'LOST' }, policy: { retryLimit: 1, retryIntervalSec: 0 } }, ['a:RUNNING>RERUN'], 'RERUN'],
    ['retries nothing of an instance that ended meanwhile', { instance: inst('CANCEL'), result: failed, policy: { retryLimit: 3, retryIntervalSec: 0 } }, ['a:RUNNING>FAIL'], 'FAIL'],
    ['cancels a lost attempt of a cancelled instance (its engine died during the cancel)', { instance: inst('CANCEL'), result: { ...failed, status: 'LOST' }, policy: { retryLimit: 3, retryIntervalSec: 0 } }, ['a:RUNNING>CANCEL'], 'CANCEL'],
    ['fails a lost attempt of an instance that failed meanwhile, retrying nothing', { instance: inst('FAIL'), result: { ...failed, status: 'LOST' }, policy: { retryLimit: 3, retryIntervalSec: 0 } }, ['a:RUNNING>FAIL'], 'FAIL'],
    ['puts an interrupted attempt back to READY', { result: { ...failed, status: 'INTERRUPTED' } }, ['a:RUNNING>READY'], 'READY'],
    ['cancels an interrupted attempt of an ended instance', { instance: inst('FAIL'), result: { ...failed, status: 'INTERRUPTED' } }, ['a:RUNNING>CANCEL'], 'CANCEL'],
    ['cancels a stopped attempt of a cancelled instance', { instance: inst('CANCEL'), result: { ...failed, status: 'CANCEL' } }, ['a:RUNNING>CANCEL'], 'CANCEL'],
    ['frees no successor of an ended instance (they were skipped)', { instance: inst('FAIL'), successors: [row('b', 'SKIP')] }, ['a:RUNNING>SUCCESS'], 'SUCCESS'],
    ['ends INTERNAL_ERROR when open work is left that nothing can reach', { successors: [row('b', 'CANCEL')], othersOpen: true }, ['i:RUNNING>INTERNAL_ERROR', 'a:RUNNING>SUCCESS'], 'SUCCESS'],
    ['applies nothing when the task is no longer RUNNING at that attempt (already applied)', { task: row('a', 'SUCCESS', 0, 1) }, [], 'SUCCESS'],
    ['applies nothing for another attempt number', { runNum: 2 }, [], 'RUNNING'],
  ])('%s', (_what, over, expected, taskStatus) => {
    const p = planAttemptEnd(end(over), NOW);
    expect(moves(p)).toEqual(expected);
    expect(p.taskStatus).toBe(taskStatus);
  });

  it('closes the attempt with its result, the log tail and a service line on a line of its own', () => {
    const p = planAttemptEnd(end({ result: failed, policy: { retryLimit: 1, retryIntervalSec: 30 }, logTail: 'partial', logTailAtLineStart: false }), NOW);
    expect(p.retryAt).toBe(NOW + 30_000);
    expect(p.tasks[0]).toMatchObject({
      dueAt: NOW + 30_000,
      exitCode: 3,
      isTimeout: false,
      finish: { runNum: 1, engineId: 'e1', status: 'FAIL', exitCode: 3, logTail: 'partial\n[batchflow] exit code 3 is not a success code (0); retry 1 of 1 in 30 s\n' },
    });
  });

  it('fails the instance naming the task and skips everything pending', () => {
    const p = planAttemptEnd(end({ result: failed }), NOW);
    expect(p.instances[0].reason).toBe('task na (a) FAIL');
    expect(p.pending).toEqual([{ instanceId: 'i', to: 'SKIP', reason: 'task na (a) FAIL' }]);
  });

  it('counts down every INIT successor, even when it cannot start because the instance ended', () => {
    const p = planAttemptEnd(end({ instance: inst('CANCEL'), successors: [row('b', 'INIT', 1), row('c', 'CANCEL')] }), NOW);
    expect(p.unblock).toEqual(['b']);
    expect(moves(p)).toEqual(['a:RUNNING>SUCCESS']);
  });
});

describe('planStall and planClaims', () => {
  it.each([
    ['leaves an instance with active work alone', true, false, []],
    ['succeeds an instance with nothing open', false, false, ['i:RUNNING>SUCCESS']],
    ['ends INTERNAL_ERROR an instance with open work and nothing active', false, true, ['i:RUNNING>INTERNAL_ERROR']],
  ] as const)('%s', (_what, anyActive, anyOpen, expected) => {
    expect(moves(planStall({ instance: inst(), anyActive, anyOpen, openSample: anyOpen ? [row('b', 'INIT', 1)] : [] }))).toEqual(expected);
  });

  it('claims the first candidates up to the free slots, READY or due RERUN only', () => {
    const c = (id: string, status: TaskInstanceStatus) => ({ task: row(id, status), dueAt: NOW });
    expect(planClaims([c('a', 'READY'), c('b', 'INIT'), c('c', 'RERUN'), c('d', 'READY')], 2).map((x) => x.task.id)).toEqual(['a', 'c']);
    expect(planClaims([c('a', 'READY')], 0)).toEqual([]);
  });

  it('describes what is stuck for a person', () => {
    expect(describeOpen([row('b', 'INIT', 2), row('c', 'RERUN')], true)).toBe('no task can run: t_b=INIT (waiting on 2), t_c=RERUN, ...');
  });
});

// ---- the property: one task at a time, the planner reaches what a whole-graph reference says ----

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Model {
  instance: FlowInstanceStatus;
  rows: Map<string, TaskRow>;
  up: Map<string, string[]>;
  down: Map<string, string[]>;
  failures: Map<string, number>;
}

/** Applies a plan as the store does, checking every guard and every transition against the table. */
function applyToModel(m: Model, t: Transitions): void {
  for (const im of t.instances) {
    expect(m.instance).toBe(im.from);
    m.instance = im.to;
  }
  for (const id of t.unblock) {
    const r = m.rows.get(id)!;
    if (r.status === 'INIT' && r.waitingOn > 0) r.waitingOn--;
  }
  for (const tm of t.tasks) {
    const r = m.rows.get(tm.id)!;
    expect(r.status).toBe(tm.from);
    expect(canTransitionTaskInstance(tm.from, tm.to)).toBe(true);
    r.status = tm.to;
    if (tm.start) r.runNum = tm.start.runNum;
  }
  for (const p of t.pending) for (const r of m.rows.values()) if (r.status === 'INIT' || r.status === 'READY' || r.status === 'RERUN') r.status = p.to;
}

function randomRun(seed: number): void {
  const rand = rng(seed);
  const n = 1 + Math.floor(rand() * 12);
  const ids = Array.from({ length: n }, (_, i) => String(i));
  const rels: Relation[] = [];
  for (let j = 1; j < n; j++) for (let i = 0; i < j; i++) if (rand() < 0.3) rels.push({ source: `t_${i}`, target: `t_${j}`, cycleGap: 'D0', rerun: true });
  const nodeIds = ids.map((i) => `t_${i}`);
  const up = upstreamMap(nodeIds, rels);
  const down = new Map<string, string[]>(ids.map((i) => [i, rels.filter((r) => r.source === `t_${i}`).map((r) => r.target.slice(2))]));
  // A triggerFromTask-like run set: some nodes SKIP from the start.
  const skipped = new Set(ids.filter(() => rand() < 0.15));
  if (skipped.size === n) skipped.delete(ids[0]);
  const m: Model = { instance: 'WAIT', rows: new Map(), up: new Map(ids.map((i) => [i, up.get(`t_${i}`)!.map((u) => u.slice(2))])), down, failures: new Map() };
  for (const i of ids) {
    const waiting = skipped.has(i) ? 0 : m.up.get(i)!.filter((u) => !skipped.has(u)).length;
    m.rows.set(i, row(i, skipped.has(i) ? 'SKIP' : 'INIT', waiting));
  }
  const retryLimit = Math.floor(rand() * 3);
  const statusOf = (i: string) => m.rows.get(i)!.status;
  const open = () => [...m.rows.values()].filter((r) => isOpen(r.status));

  applyToModel(m, planStart({ instance: { id: 'i', flowId: 1, status: 'WAIT' }, roots: [...m.rows.values()].filter((r) => r.status === 'INIT' && r.waitingOn === 0), anyOpen: open().length > 0, openSample: open().slice(0, 5) }, NOW));
  for (let step = 0; step < 500 && m.instance === 'RUNNING'; step++) {
    // The reference: while RUNNING, every INIT node whose upstream nodes all passed has been made READY,
    // and every INIT node counts exactly the upstream nodes that have not passed.
    for (const r of m.rows.values()) {
      if (r.status !== 'INIT') continue;
      const notPassed = m.up.get(r.id)!.filter((u) => !isPassThrough(statusOf(u))).length;
      expect(r.waitingOn).toBe(notPassed);
      expect(notPassed).toBeGreaterThan(0);
    }
    const active = [...m.rows.values()].filter((r) => isActive(r.status));
    expect(active.length).toBeGreaterThan(0); // a valid DAG never stalls
    const pick = active[Math.floor(rand() * active.length)];
    if (pick.status !== 'RUNNING') {
      applyToModel(m, { ...noTransitions(), tasks: [{ id: pick.id, instanceId: 'i', from: pick.status, to: 'RUNNING', dueAt: null, start: { runNum: pick.runNum + 1, host: 'h', engineId: 'e', banner: '' } }] });
      continue;
    }
    const x = rand();
    const result: AttemptResult = x < 0.75 ? ok : x < 0.9 ? failed : { ...failed, status: x < 0.95 ? 'TIMEOUT' : 'LOST' };
    const others = [...m.rows.values()].filter((r) => r.id !== pick.id && !(result.status === 'SUCCESS' && m.down.get(pick.id)!.includes(r.id)));
    const plan = planAttemptEnd(
      {
        instance: { id: 'i', flowId: 1, status: m.instance },
        task: { ...pick },
        runNum: pick.runNum,
        ownerEngineId: 'e',
        result,
        logTail: '',
        logTailAtLineStart: true,
        policy: { retryLimit, retryIntervalSec: 0 },
        priorFailures: m.failures.get(pick.id) ?? 0,
        successors: result.status === 'SUCCESS' ? m.down.get(pick.id)!.map((d) => ({ ...m.rows.get(d)! })) : [],
        othersActive: others.some((r) => isActive(r.status)),
        othersOpen: others.some((r) => isOpen(r.status)),
      },
      NOW,
    );
    if (result.status !== 'SUCCESS') m.failures.set(pick.id, (m.failures.get(pick.id) ?? 0) + 1);
    applyToModel(m, plan);
  }
  // The reference outcome: FAIL when a node failed for good, else SUCCESS with every node passed.
  const statuses = [...m.rows.values()].map((r) => r.status);
  if (statuses.some(isFailed)) expect(m.instance).toBe('FAIL');
  else {
    expect(m.instance).toBe('SUCCESS');
    expect(statuses.every(isPassThrough)).toBe(true);
  }
  expect(statuses.filter((s) => s === 'INIT' || s === 'READY' || s === 'RERUN')).toEqual([]);
}

describe('the planner on random DAGs', () => {
  it('reaches the whole-graph reference on 400 random graphs and runs (seeded)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      try {
        randomRun(seed);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
    }
  });
});
