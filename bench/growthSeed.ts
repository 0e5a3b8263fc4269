// The growth benchmark's seeder: flow instances in bulk through the Store, as a year of hourly runs would
// leave them. Creates go through Store.createFlowInstance, a chunk of one hour of every flow at once (the
// store group-commits the creates of one event-loop turn, up to 256 per transaction); their ends through
// Store.engineTx with the moves the engine itself would apply (attempts, banners, log tails, history
// rows), several instances per transaction; cancels through Store.cancelInstance. Nothing here runs tasks.
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
}

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
  const cancels = made.filter((m) => m.status === 'CANCEL');
  await Promise.all(cancels.map((m) => p.store.cancelInstance(p.orgId, m.n.instance.id, m.n.instance.createdAt + 10, 'cancelled by user', p.userId)));
}

/** Seeds instances [from, to): one hour of every flow at a time, created, then ended. */
export async function seedInstances(p: SeedPlan, from: number, to: number, onProgress?: (done: number) => void): Promise<void> {
  const F = p.flows.length;
  for (let start = from; start < to; ) {
    const end = Math.min(to, start + F - (start % F));
    await endInstances(p, await createInstances(p, start, end));
    onProgress?.(end);
    start = end;
  }
}
