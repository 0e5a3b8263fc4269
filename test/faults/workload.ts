// The fault test's workload: 30 flows of mixed shapes (chains, diamonds, fan-outs of 20, tasks that fail
// once then succeed, tasks with a timeout, one per-minute periodic flow), imported through the API, and
// the plan of 300 manual triggers at distinct minutes per flow (a few in the near future, so that they
// wait across the faults). Task commands are short sleeps: the faults, not the work, are under test.
import { Client } from '../engine/harness.js';
import type { Random } from '../sim/random.js';

export type Shape = 'chain' | 'diamond' | 'fanout' | 'flaky' | 'timeout' | 'periodic';

export interface TaskDef {
  name: string;
  cmd: string;
  timeout: number;
  retryLimit: number;
}

export interface FlowDef {
  name: string;
  shape: Shape;
  tasks: TaskDef[];
  relations: Array<[string, string]>;
  parameters: Array<{ key: string; value: string }>;
  /** Manual triggers planned for it (0 for the periodic flow). */
  instances: number;
}

export const EVERY_MINUTE = '0 * * * * ? *';
/** Ordinary tasks survive a lost attempt or two (worker kills, fencing during the PostgreSQL restart). */
const RETRIES = 2;
/** The timeout flows' task sleeps this long when its instance is meant to time out (its timeout is 1 s). */
export const LONG_NAP = '3';

const task = (name: string, secs: number, over: Partial<TaskDef> = {}): TaskDef => ({ name, cmd: `sleep ${secs}`, timeout: 0, retryLimit: RETRIES, ...over });
const naps = [0.05, 0.1, 0.2, 0.3, 0.15];

/** The 30 flows; instance counts add up to 300 manual triggers. */
export function flowDefs(): FlowDef[] {
  const defs: FlowDef[] = [];
  for (let i = 0; i < 9; i++) {
    defs.push({
      name: `chain_${i}`,
      shape: 'chain',
      tasks: ['a', 'b', 'c'].map((n, k) => task(n, naps[(i + k) % naps.length]!)),
      relations: [['a', 'b'], ['b', 'c']],
      parameters: [],
      instances: 11,
    });
  }
  for (let i = 0; i < 8; i++) {
    defs.push({
      name: `diamond_${i}`,
      shape: 'diamond',
      tasks: ['extract', 'left', 'right', 'load'].map((n, k) => task(n, naps[(i + k) % naps.length]!)),
      relations: [['extract', 'left'], ['extract', 'right'], ['left', 'load'], ['right', 'load']],
      parameters: [],
      instances: 11,
    });
  }
  for (let i = 0; i < 2; i++) {
    const leaves = Array.from({ length: 20 }, (_, k) => task(`leaf_${k}`, 0.05));
    defs.push({
      name: `fanout_${i}`,
      shape: 'fanout',
      tasks: [task('root', 0.05), ...leaves, task('join', 0.05)],
      relations: [...leaves.map((l) => ['root', l.name] as [string, string]), ...leaves.map((l) => [l.name, 'join'] as [string, string])],
      parameters: [],
      instances: 6,
    });
  }
  for (let i = 0; i < 6; i++) {
    // Fails on its first attempt, succeeds on the second (retryLimit 1): the attempt count comes from the
    // engine ($BATCHFLOW_RUN_NUM), not from a file, so a retry after a kill counts the same way.
    const flaky = `n=$BATCHFLOW_RUN_NUM; if [ "$n" -lt 2 ]; then echo "attempt $n fails on purpose" >&2; exit 3; fi; sleep 0.1; echo ok`;
    defs.push({
      name: `flaky_${i}`,
      shape: 'flaky',
      tasks: [task('prepare', 0.05), { name: 'flaky', cmd: flaky, timeout: 0, retryLimit: 1 }, task('publish', 0.05)],
      relations: [['prepare', 'flaky'], ['flaky', 'publish']],
      parameters: [],
      instances: 11,
    });
  }
  for (let i = 0; i < 4; i++) {
    // `nap` is overridden to LONG_NAP for some instances (updateAndTrigger): those time out after 1 s.
    defs.push({
      name: `timeout_${i}`,
      shape: 'timeout',
      tasks: [task('before', 0.05), { name: 'bounded', cmd: 'sleep ${nap}', timeout: 1, retryLimit: 0 }],
      relations: [['before', 'bounded']],
      parameters: [{ key: 'nap', value: '0.1' }],
      instances: 11,
    });
  }
  defs.push({ name: 'periodic', shape: 'periodic', tasks: [task('tick', 0.1)], relations: [], parameters: [], instances: 0 });
  const total = defs.reduce((n, d) => n + d.instances, 0);
  // 9*11 + 8*11 + 2*6 + 6*11 + 4*11 = 309: trim the chains to land on exactly 300.
  for (let k = 0; total - k > 300; k++) defs[k]!.instances--;
  return defs;
}

export interface ImportedFlow extends FlowDef {
  flowId: number;
  /** When its import was answered (the periodic flow fires from the next minute on). */
  importedAt: number;
}

export async function importFlows(c: Client, defs: FlowDef[]): Promise<ImportedFlow[]> {
  const dirs = await c.ok('GET', 'directories', 'listWorkFlowDirs');
  const out: ImportedFlow[] = [];
  for (const d of defs) {
    const periodic = d.shape === 'periodic';
    const flowJson = {
      name: d.name,
      type: periodic ? 1 : 0,
      cron: periodic ? EVERY_MINUTE : '',
      startTime: '',
      parameters: d.parameters,
      tasks: d.tasks.map((t) => ({ type: 'SHELL', retryInterval: 0, successCode: '0', ...t })),
      relations: d.relations.map(([s, t]) => ({ sourceTaskName: s, targetTaskName: t, rerun: true })),
    };
    const r = await c.ok('POST', 'flows', 'import', { flowName: d.name, desc: `fault test: ${d.shape}`, dirId: dirs[0].key, flowJson });
    out.push({ ...d, flowId: Number(r.flowId), importedAt: Date.now() });
  }
  return out;
}

export interface PlannedTrigger {
  flow: ImportedFlow;
  /** Past triggers: a minute far back (distinct per flow). Future ones: seconds from the moment of the call. */
  minuteIndex: number;
  futureInSec: number | null;
  /** Timeout flows: this instance's task sleeps past its timeout. */
  longNap: boolean;
}

/** 300 triggers in a seeded random order; ten of them in the near future (one per flow at most). */
export function planTriggers(flows: ImportedFlow[], rnd: Random): PlannedTrigger[] {
  const plan: PlannedTrigger[] = [];
  for (const f of flows) for (let k = 0; k < f.instances; k++) plan.push({ flow: f, minuteIndex: k, futureInSec: null, longNap: f.shape === 'timeout' && k % 3 === 1 });
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rnd.next() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  const futureFlows = new Set<number>();
  for (const p of plan) {
    if (futureFlows.size >= 10) break;
    if (futureFlows.has(p.flow.flowId) || p.flow.shape === 'fanout') continue;
    futureFlows.add(p.flow.flowId);
    p.futureInSec = rnd.int(40, 110);
  }
  return plan;
}

/** A far past minute base (a day and a half ago): past triggers are due at once, and never meet a fire. */
export const pastBase = (now: number): number => (Math.floor(now / 60_000) - 2_000) * 60_000;

export interface Acked {
  id: string;
  flowId: number;
  at: number;
}

/**
 * One trigger through the API. Retried on a network error or an internal error (the store may be
 * restarting); a retry answered "do not trigger the same workflow repeatedly" means the first call went
 * through, and its id is what the plan asked for, so it counts (the store check confirms it exists).
 */
export async function trigger(c: Client, p: PlannedTrigger, base: number): Promise<Acked> {
  const triggerTime = p.futureInSec === null ? base + p.minuteIndex * 60_000 + 15_000 : Date.now() + p.futureInSec * 1000;
  const body: Record<string, unknown> = { flowId: p.flow.flowId, triggerTime };
  if (p.longNap) body.parameters = [{ key: 'nap', value: LONG_NAP }];
  const action = p.longNap ? 'updateAndTrigger' : 'trigger';
  const deadline = Date.now() + 60_000;
  let retried = false;
  for (;;) {
    try {
      const r = await c.raw('POST', 'flows', action, body);
      if (r.code === 0) return { id: r.data.flowInstanceId, flowId: p.flow.flowId, at: Date.now() };
      if (retried && r.code === 62102 && /repeatedly/.test(r.msg)) return { id: expectedId(p.flow.flowId, triggerTime), flowId: p.flow.flowId, at: Date.now() };
      if (r.code !== 62109) throw new Error(`trigger of flow ${p.flow.flowId} at ${new Date(triggerTime).toISOString()}: ${r.code} ${r.msg}`);
    } catch (err) {
      if (err instanceof Error && /^trigger of/.test(err.message)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`trigger of flow ${p.flow.flowId} kept failing for 60 s`);
    retried = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `<flowId>-<yyyyMMddHHmm>00` in UTC (the test's processes run in the default zone, UTC). */
export function expectedId(flowId: number, t: number): string {
  const s = new Date(t).toISOString();
  return `${flowId}-${s.slice(0, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}00`;
}

export interface Cancel {
  id: string;
  /** When the API's answer arrived; null when it refused (the instance had ended: not a cancel). */
  ackAt: number | null;
  refusal?: string;
}

/** Cancel from the api process; the answer time is what the post-run check holds later attempts to. */
export async function cancel(c: Client, id: string): Promise<Cancel> {
  const deadline = Date.now() + 30_000;
  let retried = false;
  for (;;) {
    try {
      const r = await c.raw('POST', 'flowInstances', 'cancel', { flowInstId: id });
      if (r.code === 0) return { id, ackAt: Date.now() };
      // A retry finding it CANCEL: the first call went through; its answer time is unknown but earlier.
      if (retried && r.code === 62102 && /is CANCEL/.test(r.msg)) return { id, ackAt: Date.now() };
      if (r.code !== 62109) return { id, ackAt: null, refusal: `${r.code} ${r.msg}` };
    } catch {
      // the api process or the store is restarting: try again
    }
    retried = true;
    if (Date.now() > deadline) return { id, ackAt: null, refusal: 'kept failing for 30 s' };
    await new Promise((r) => setTimeout(r, 250));
  }
}
