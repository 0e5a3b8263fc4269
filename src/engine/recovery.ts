// Crash recovery (contract §5): attempts still open in the store belong to a service process that died.
// Their process groups may still run, so each is killed (pid-reuse guarded, see procs.ts) before the
// attempt is closed as LOST with a log line saying so; the task then follows its retry policy. Only after
// this does the engine start anything, so two attempts of one task never overlap.
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { TaskInstanceStatus } from '../domain/status.js';
import type { Attempt } from '../domain/types.js';
import type { Store, TaskTransition } from '../store/store.js';
import { killAttemptProcesses } from './procs.js';

export const attemptMarker = (taskInstanceId: string, runNum: number) => ({ name: 'BATCHFLOW_ATTEMPT', value: `${taskInstanceId}#${runNum}` });

const FAILED_ATTEMPTS: ReadonlySet<Attempt['status']> = new Set(['FAIL', 'TIMEOUT', 'LOST']);

export async function countFailures(store: Store, taskInstanceId: string, exceptRunNum: number): Promise<number> {
  const attempts = await store.listAttempts(taskInstanceId);
  return attempts.filter((a) => a.runNum !== exceptRunNum && FAILED_ATTEMPTS.has(a.status)).length;
}

export interface RecoveredAttempt {
  taskInstanceId: string;
  runNum: number;
  killed: number[];
  status: TaskInstanceStatus;
}

export async function recoverOpenAttempts(deps: { store: Store; config: Config; clock: Clock }): Promise<RecoveredAttempt[]> {
  const { store, config, clock } = deps;
  const out: RecoveredAttempt[] = [];
  const open = await store.listOpenAttempts();
  if (open.length === 0) return out;
  const running = await store.listRunningInstances();
  for (const a of open) {
    const { killed } = await killAttemptProcesses(
      { pid: a.pid, pgid: a.pgid, procStart: a.procStart, marker: attemptMarker(a.taskInstanceId, a.runNum) },
      config.killGraceMs,
    );
    const now = clock.now();
    const inst = await findInstanceOf(store, running, a.taskInstanceId);
    const task = inst?.tasks.find((t) => t.id === a.taskInstanceId);
    const def = inst && task ? inst.instance.snapshot.tasks.find((d) => d.id === task.taskId) : undefined;
    const instanceRunning = inst?.instance.status === 'RUNNING';
    const failures = (await countFailures(store, a.taskInstanceId, a.runNum)) + 1;
    let to: TaskInstanceStatus;
    if (!instanceRunning) to = inst?.instance.status === 'CANCEL' ? 'CANCEL' : 'FAIL';
    else to = def && failures <= def.retryLimit ? 'RERUN' : 'FAIL';
    const when = new Date(now).toISOString();
    const note =
      `\n[batchflow] attempt lost: the service stopped while it ran (host ${a.host}, pid ${a.pid ?? 'unknown'}); ` +
      `recovered at ${when}` +
      (killed.length ? `; killed leftover processes ${killed.join(', ')}` : '; no leftover process') +
      (to === 'RERUN' ? `; retry ${failures} of ${def?.retryLimit} in ${def?.retryIntervalSec} s` : '') +
      '\n';
    const t: TaskTransition = {
      taskInstanceId: a.taskInstanceId,
      from: ['RUNNING'],
      runNum: a.runNum,
      to,
      at: now,
      nextRunAt: to === 'RERUN' ? now + (def?.retryIntervalSec ?? 0) * 1000 : null,
      exitCode: null,
      finishAttempt: { status: 'LOST', exitCode: null, signal: null, logTail: note },
    };
    await store.commit({ tasks: [t], instances: [] });
    out.push({ taskInstanceId: a.taskInstanceId, runNum: a.runNum, killed, status: to });
  }
  return out;
}

type InstanceWithTasks = Awaited<ReturnType<Store['listRunningInstances']>>[number];

async function findInstanceOf(store: Store, running: InstanceWithTasks[], taskInstanceId: string): Promise<InstanceWithTasks | null> {
  // Usually the instance is still RUNNING; when it ended meanwhile (cancelled, or failed on another
  // branch), it is found through the task instance's own row.
  for (const r of running) {
    if (r.tasks.some((t) => t.id === taskInstanceId)) return r;
  }
  const ti = await store.getTaskInstanceById(taskInstanceId);
  if (!ti) return null;
  const instance = await store.getFlowInstanceById(ti.flowInstanceId);
  if (!instance) return null;
  return { instance, tasks: await store.listTaskInstances(instance.id) };
}
