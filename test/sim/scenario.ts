// What one seed does: the flows (random DAGs with retries, timeouts, success codes), the engine's
// concurrency, the fault rate and disk-full windows, and a timeline of actions (triggers with past,
// present and future times, cancels, crashes with restarts). Process behaviour (durations, exit codes,
// hangs, ignored SIGTERMs, failed spawns) is drawn when each process starts, from its own stream.
import type { NewFlow } from '../../src/store/store.js';
import type { ProcessScript } from './fakeHost.js';
import { Random } from './random.js';

export interface TaskSpec {
  name: string;
  retryLimit: number;
  retryIntervalSec: number;
  timeoutSec: number;
  successCode: string;
}

export interface FlowSpec {
  name: string;
  tasks: TaskSpec[];
  edges: Array<[number, number]>;
  /** Periodic (type 1, never firing by itself: active 0): the only kind other flows may reference. */
  periodic: boolean;
  /**
   * References to earlier flows (contract §10): one more kind of node, a root joined to some tasks. A
   * task reference names one task of that flow (which then allows references).
   */
  refs: Array<{ flow: number; task: number | null; targets: number[]; cycleGap: string }>;
  refTimeoutSec: number;
}

export type Action =
  | { at: number; kind: 'trigger'; flow: number; offsetMs: number }
  | { at: number; kind: 'cancel'; pick: number }
  /** An owner's rerun (contract §12) of an instance picked among those acknowledged. */
  | { at: number; kind: 'rerun'; pick: number; mode: 'failed' | 'all' }
  | { at: number; kind: 'crash'; restartAfterMs: number }
  | { at: number; kind: 'diskFull'; forMs: number };

export interface Scenario {
  seed: number;
  flows: FlowSpec[];
  concurrency: number;
  faultRate: number;
  /** How long the action phase lasts (virtual ms); then faults stop and the run must quiesce. */
  phaseMs: number;
  actions: Action[];
  script(taskInstanceId: string, runNum: number, task: TaskSpec | undefined): ProcessScript;
}

const OFFSETS = [-2 * 3_600_000, -5 * 60_000, -1_000, 0, 0, 20_000, 90_000];

export function scenario(seed: number): Scenario {
  const r = new Random(seed * 2 + 1);
  const flows: FlowSpec[] = Array.from({ length: r.int(1, 4) }, (_, f) => {
    const n = r.int(1, 6);
    const tasks = Array.from({ length: n }, (_, i) => ({
      name: `f${f}t${i}`,
      retryLimit: r.pick([0, 0, 1, 2]),
      retryIntervalSec: r.pick([0, 0, 1, 5]),
      timeoutSec: r.pick([0, 0, 3, 8]),
      successCode: r.pick(['0', '0', '0,3']),
    }));
    const edges: Array<[number, number]> = [];
    for (let j = 1; j < n; j++) for (let i = 0; i < j; i++) if (r.chance(0.35)) edges.push([i, j]);
    return { name: `flow${f}`, tasks, edges, periodic: false, refs: [], refTimeoutSec: 86_400 };
  });
  // References, drawn after the flows (so a seed's flows stay those it had before references existed):
  // a later flow waits on an earlier one, or on one of its tasks, in a window around its trigger time.
  const rr = new Random(seed * 2 + 1_000_003);
  for (let f = 1; f < flows.length; f++) {
    if (!rr.chance(0.5)) continue;
    const to = rr.int(0, f - 1);
    const task = rr.chance(0.4) ? rr.int(0, flows[to].tasks.length - 1) : null;
    const targets = [...new Set(Array.from({ length: rr.int(1, 2) }, () => rr.int(0, flows[f].tasks.length - 1)))];
    flows[to].periodic = true;
    flows[f].refs.push({ flow: to, task, targets, cycleGap: rr.pick(['D0', 'D0', 'H0', 'mi-1', 'D-1']) });
    // Short enough that a reference nothing satisfies times out within the run's quiescence.
    flows[f].refTimeoutSec = rr.pick([5, 30, 120]);
  }
  const phaseMs = 120_000;
  const actions: Action[] = [];
  for (let i = r.int(2, 14); i > 0; i--) actions.push({ at: r.int(0, phaseMs), kind: 'trigger', flow: r.int(0, flows.length - 1), offsetMs: r.pick(OFFSETS) });
  for (let i = r.pick([0, 0, 1, 2, 4]); i > 0; i--) actions.push({ at: r.int(0, phaseMs), kind: 'cancel', pick: r.int(0, 1_000) });
  for (let i = r.pick([0, 0, 1, 1, 2]); i > 0; i--) actions.push({ at: r.int(1_000, phaseMs), kind: 'crash', restartAfterMs: r.pick([0, 500, 3_000, 12_000]) });
  if (r.chance(0.25)) actions.push({ at: r.int(0, phaseMs), kind: 'diskFull', forMs: r.int(1_000, 20_000) });
  // Reruns, drawn from their own stream (a seed's other actions stay those it had before reruns existed).
  const rq = new Random(seed * 2 + 2_000_003);
  for (let i = rq.pick([0, 0, 1, 2, 3]); i > 0; i--) actions.push({ at: rq.int(0, phaseMs), kind: 'rerun', pick: rq.int(0, 1_000), mode: rq.pick(['failed', 'failed', 'all'] as const) });
  actions.sort((a, b) => a.at - b.at);
  const faultRate = r.pick([0, 0, 0.01, 0.03, 0.08]);
  const concurrency = r.int(1, 4);
  const p = new Random(seed * 2 + 2);
  return {
    seed,
    flows,
    concurrency,
    faultRate,
    phaseMs,
    actions,
    script(_taskInstanceId, _runNum, task) {
      const x = p.next();
      const exitCode = x < 0.8 ? 0 : x < 0.9 ? 1 : 3;
      // A process that never ends by itself only where a timeout will end it.
      const hang = (task?.timeoutSec ?? 0) > 0 && p.chance(0.2);
      return {
        durationMs: p.pick([0, 5, 200, 1_500, 6_000]),
        exitCode,
        hang,
        ignoreTerm: p.chance(0.15),
        spawnFails: p.chance(0.02),
        output: p.chance(0.5) ? `out ${p.int(0, 99)}\n` : '',
      };
    },
  };
}

/** The flow to create for a spec (export form: tasks by name, relations by name). */
export function newFlow(spec: FlowSpec, orgId: string, dirId: string, at: number, all: FlowSpec[] = []): NewFlow {
  // Reference nodes by name (the store resolves them, as it does an import's flowLinks and taskLinks).
  const flowRefs = spec.refs.map((ref, k) => {
    const to = all[ref.flow]!;
    return ref.task === null
      ? { nodeId: `ref${k}`, flowId: '', flowName: to.name, isVirtual: false, x: 0, y: 0 }
      : { nodeId: `ref${k}`, flowId: '', flowName: '', isVirtual: true, x: 0, y: 0, sourceFlowName: to.name, sourceTaskName: to.tasks[ref.task]!.name };
  });
  const referenced = new Set(all.flatMap((f) => f.refs.filter((x) => all[x.flow] === spec && x.task !== null).map((x) => spec.tasks[x.task!]!.name)));
  return {
    flow: {
      orgId, dirId, name: spec.name, desc: '', type: spec.periodic ? 1 : 0, active: 0, freq: '', cycle: '', owners: 'sim', visitors: '', doAs: '', alertMode: 0,
      alertTo: '', appId: '', syncType: 0, startDate: '', queue: '', entry: 0, virtual: false, parameters: [], flowRefs, relations: [],
      ...(spec.refs.length > 0 ? { refTimeoutSec: spec.refTimeoutSec } : {}),
      creatorId: 'u-sim', creatorName: 'sim', updateUser: 'sim', createdAt: at, updatedAt: at,
    },
    tasks: spec.tasks.map((t, i) => ({
      name: t.name, type: 'SHELL', cmd: `run ${t.name}`, resource: '', syncType: 0, submitter: 'sim', filePackage: '', cron: '', priorityLevel: 0,
      timeoutSec: t.timeoutSec, retryLimit: t.retryLimit, retryIntervalSec: t.retryIntervalSec, successCode: t.successCode, asLink: referenced.has(t.name),
      runMode: '{}', parameters: [], waitCode: '', x: i * 100, y: 0,
    })),
    relationsByName: [
      ...spec.edges.map(([a, b]) => ({ sourceTaskName: spec.tasks[a]!.name, targetTaskName: spec.tasks[b]!.name, rerun: true })),
      ...spec.refs.flatMap((ref, k) => ref.targets.map((t) => ({ sourceTaskName: '', sourceNodeId: `ref${k}`, targetTaskName: spec.tasks[t]!.name, rerun: true, cycleGap: ref.cycleGap }))),
    ],
  };
}
