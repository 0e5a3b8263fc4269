// The growth benchmark's seeder: flow instances in bulk through the Store, as a year of hourly runs would
// leave them. Creates go through Store.createFlowInstance, a chunk of one hour of every flow at once (the
// store group-commits the creates of one event-loop turn, up to 256 per transaction); their ends through
// Store.engineTx with the moves the engine itself would apply (attempts, banners, log tails, history
// rows), several instances per transaction; cancels through Store.cancelInstance. Nothing here runs tasks.
// Two modes (SeedPlan.mode): 'realistic' runs every SUCCESS/FAIL one through the engine's moves (~160-480
// instances/s on SQLite); 'fast' runs 1 in RUN_EVERY of them so, and cancels all other terminal ones with
// cancelInstance's transitions, many per Store.engineTx, for the large sizes: fewer attempts and logs.
import { buildFlowInstance, type NewFlowInstance } from '../src/domain/instances.js';
import { noTransitions, type Transitions } from '../src/domain/plan.js';
import type { FlowWithTasks } from '../src/domain/types.js';
import { bannerText } from '../src/engine/taskCommand.js';
import type { Store } from '../src/store/store.js';

const HOUR = 3_600_000;
const ENGINE = 'growth-seed';

/** Status of seeded instance i, from a fixed hash of i: 85 % SUCCESS, 5 % FAIL, 9 % CANCEL, 1 % WAIT. */
export type SeedStatus = 'SUCCESS' | 'FAIL' | 'CANCEL' | 'WAIT';
export function seedStatusOf(i: number): SeedStatus {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const p = h % 100;
  return p < 85 ? 'SUCCESS' : p < 90 ? 'FAIL' : p < 99 ? 'CANCEL' : 'WAIT';
}

export interface SeedPlan {
  store: Store;
  /** The flows the instances belong to (instance i runs flows[i % flows.length]). */
  flows: FlowWithTasks[];
  orgId: string;
  userId: string;
  owner: string;
  timezone: string;
  /** Instance i fires at `pastStart + floor(i / flows.length) hours` (WAIT ones at futureStart + the same). */
  pastStart: number;
  futureStart: number;
  /** Engine transactions in flight at once (1 on SQLite: one writer; more on PostgreSQL's pool). */
  parallel: number;
  /** Instances per engine transaction. */
  perTx: number;
  /** 'realistic' (default): every SUCCESS/FAIL one through the engine's moves; 'fast': see seedModeOf. */
  mode?: SeedMode;
  /** Wall time spent per phase (ms), summed over seedInstances calls: where the seeding rate goes. */
  times?: { createMs: number; engineMs: number; cancelMs: number };
}

export type SeedMode = 'realistic' | 'fast';
/** In fast mode, 1 in RUN_EVERY SUCCESS/FAIL instances still runs through the engine's moves. */
export const RUN_EVERY = 20;

/**
 * What seeding does with instance i: its status in realistic mode; in fast mode the SUCCESS/FAIL ones
 * picked by a second fixed hash (1 in RUN_EVERY) keep theirs, every other terminal one is cancelled.
 */
export function seedActionOf(i: number, mode: SeedMode): SeedStatus {
  const s = seedStatusOf(i);
  if (mode === 'realistic' || s === 'WAIT' || s === 'CANCEL') return s;
  return (Math.imul(i + 7, 40503) >>> 0) % RUN_EVERY === 0 ? s : 'CANCEL';
}

/** The mix each mode leaves, for the figures' labels. */
export const seedMixOf = (mode: SeedMode) =>
  mode === 'realistic'
    ? '85 % SUCCESS, 5 % FAIL, 9 % CANCEL, 1 % WAIT (30 days ahead); every SUCCESS/FAIL run through the engine moves (attempts, logs, history)'
    : `fast seeding: every instance created, 1 % WAIT (30 days ahead), 1 in ${RUN_EVERY} of the 90 % SUCCESS/FAIL (~4.5 %) run through the engine moves, all other terminal ones (~94.5 %) cancelled (cancelInstance's transitions, 50 per Store.engineTx on SQLite, 10 x 4 in parallel on PostgreSQL; no attempts or logs)`;

/** A few lines of output per task, as a batch job prints them (the log tail appended at its end). */
const outputOf = (taskInstanceId: string, k: number) =>
  `reading input for ${taskInstanceId}\nprocessed ${1000 + k * 37} records in ${(k % 9) + 1}.${k % 10}s\nwrote output/part-${k % 16}.csv\n`;

/** The moves the engine makes for one instance that runs to SUCCESS, or to FAIL at task `failAt`. */
function runPlans(n: NewFlowInstance, at: number, failAt: number | null, timezone: string): Array<{ t: Transitions; at: number }> {
  const i = n.instance;
  const tasks = n.tasks;
  const plans: Array<{ t: Transitions; at: number }> = [];
  const first = noTransitions();
  first.instances.push({ id: i.id, flowId: i.flowId, from: 'WAIT', to: 'RUNNING', reason: null });
  first.tasks.push({ id: tasks[0].id, instanceId: i.id, from: 'INIT', to: 'READY', dueAt: at, runNum: 0 });
  plans.push({ t: first, at });
  let now = at;
  const cmdOf = new Map(i.snapshot.tasks.map((t) => [t.id, t.cmd]));
  for (const [k, task] of tasks.entries()) {
    now += 2;
    const banner = bannerText({ runNum: 1, taskInstanceId: task.id, cmdline: cmdOf.get(task.taskId) ?? '', submitter: i.owner, now, timezone, javaDate: (ms) => new Date(ms).toString() });
    const start = noTransitions();
    start.tasks.push({ id: task.id, instanceId: i.id, from: 'READY', to: 'RUNNING', dueAt: null, start: { runNum: 1, host: 'seed', engineId: ENGINE, banner } });
    plans.push({ t: start, at: now });
    now += 1000 + (k % 7) * 300;
    const failed = failAt === k;
    const end = noTransitions();
    end.tasks.push({
      id: task.id,
      instanceId: i.id,
      from: 'RUNNING',
      to: failed ? 'FAIL' : 'SUCCESS',
      dueAt: null,
      exitCode: failed ? 1 : 0,
      finish: {
        runNum: 1,
        engineId: ENGINE,
        status: failed ? 'FAIL' : 'SUCCESS',
        exitCode: failed ? 1 : 0,
        signal: null,
        logTail: outputOf(task.id, k) + (failed ? 'error: upstream file missing\n' : ''),
        process: { pid: 10_000 + k, pgid: 10_000 + k, procStart: String(123_456 + k) },
      },
    });
    if (failed) {
      const reason = `task ${task.taskName} failed`;
      end.instances.push({ id: i.id, flowId: i.flowId, from: 'RUNNING', to: 'FAIL', reason });
      end.pending.push({ instanceId: i.id, to: 'SKIP', reason });
      plans.push({ t: end, at: now });
      return plans;
    }
    const next = tasks[k + 1];
    if (next) {
      end.unblock.push(next.id);
      end.tasks.push({ id: next.id, instanceId: i.id, from: 'INIT', to: 'READY', dueAt: now, runNum: 0 });
    } else {
      end.instances.push({ id: i.id, flowId: i.flowId, from: 'RUNNING', to: 'SUCCESS', reason: null });
    }
    plans.push({ t: end, at: now });
  }
  return plans;
}

export interface Made {
  n: NewFlowInstance;
  status: SeedStatus;
  index: number;
}

/** Creates instances [from, to) (all of them WAIT), through createFlowInstance, all at once. */
export async function createInstances(p: SeedPlan, from: number, to: number, statusOf: (i: number) => SeedStatus = seedStatusOf): Promise<Made[]> {
  const F = p.flows.length;
  const made: Made[] = [];
  for (let i = from; i < to; i++) {
    const fw = p.flows[i % F];
    const hour = Math.floor(i / F);
    const status = statusOf(i);
    const createdAt = p.pastStart + hour * HOUR;
    const triggerTime = status === 'WAIT' ? p.futureStart + hour * HOUR : createdAt;
    const n = buildFlowInstance({ fw, triggerTime, now: createdAt, timezone: p.timezone, owner: p.owner, kind: 'trigger', overrides: [], startTaskId: null, runSet: null });
    made.push({ n, status, index: i });
  }
  // All in one turn: the store writes them in group commits of up to 256.
  await Promise.all(made.map((m) => p.store.createFlowInstance({ ...m.n, lockUserId: p.userId })));
  return made;
}

/** Runs the SUCCESS and FAIL ones to their end (engine transactions of `perTx` instances) and cancels the CANCEL ones. */
export async function endInstances(p: SeedPlan, made: Made[]): Promise<void> {
  const t0 = performance.now();
  const runs = made.filter((m) => m.status === 'SUCCESS' || m.status === 'FAIL');
  const batches: Made[][] = [];
  for (let k = 0; k < runs.length; k += p.perTx) batches.push(runs.slice(k, k + p.perTx));
  // Callers pass instances of distinct flows (one hour of each): parallel transactions never meet on a
  // flow, and no flow has two instances RUNNING (its unique index) even inside one transaction.
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      await p.store.engineTx(async (tx) => {
        for (const m of batch) {
          const at = m.n.instance.triggerTime + 50;
          const failAt = m.status === 'FAIL' ? m.index % m.n.tasks.length : null;
          for (const plan of runPlans(m.n, at, failAt, p.timezone)) await tx.apply(plan.t, plan.at, ENGINE);
        }
      });
    }
  };
  await Promise.all(Array.from({ length: p.parallel }, worker));
  const t1 = performance.now();
  const cancels = made.filter((m) => m.status === 'CANCEL');
  const reason = 'cancelled by user';
  if ((p.mode ?? 'realistic') === 'realistic') {
    await Promise.all(cancels.map((m) => p.store.cancelInstance(p.orgId, m.n.instance.id, m.n.instance.createdAt + 10, reason, p.userId)));
  } else {
    // Fast mode: the transitions cancelInstance applies (the instance WAIT -> CANCEL, its pending task
    // instances -> CANCEL, no engine id), `perTx` instances per engine transaction. One cancelInstance
    // per instance, each its own commit, measured 600-1,180/s on SQLite here, falling as the store grew:
    // every commit writes its ~20 b-tree pages to the WAL again (~100 MB/s written at 130,000 stored).
    let k = 0;
    const canceller = async () => {
      while (k < cancels.length) {
        const batch = cancels.slice(k, (k += p.perTx));
        await p.store.engineTx(async (tx) => {
          for (const m of batch) {
            const t = noTransitions();
            t.instances.push({ id: m.n.instance.id, flowId: m.n.instance.flowId, from: 'WAIT', to: 'CANCEL', reason });
            t.pending.push({ instanceId: m.n.instance.id, to: 'CANCEL', reason });
            await tx.apply(t, m.n.instance.createdAt + 10, null);
          }
        });
      }
    };
    await Promise.all(Array.from({ length: p.parallel }, canceller));
  }
  if (p.times) {
    p.times.engineMs += t1 - t0;
    p.times.cancelMs += performance.now() - t1;
  }
}

/** Seeds instances [from, to): one hour of every flow at a time, created, then ended. */
export async function seedInstances(p: SeedPlan, from: number, to: number, onProgress?: (done: number) => void): Promise<void> {
  const F = p.flows.length;
  for (let start = from; start < to; ) {
    const end = Math.min(to, start + F - (start % F));
    const mode = p.mode ?? 'realistic';
    const t0 = performance.now();
    const made = await createInstances(p, start, end, (i) => seedActionOf(i, mode));
    if (p.times) p.times.createMs += performance.now() - t0;
    await endInstances(p, made);
    onProgress?.(end);
    start = end;
  }
}
