// The fault test's checks, checked: a small hand-made history that keeps every invariant passes, and each
// violation written into it is reported by the check meant to catch it. (A check that can never fail
// would make the fault test pass whatever the engine did.) Runs with the fault test, in a few ms.
import { describe, expect, it } from 'vitest';
import { checkAll } from './checks.js';
import type { AttemptRow, EventRow, InstanceRow, ScenarioLog, StoreRows, TaskRow } from './observed.js';

const M = 60_000;
const m1 = 29_000_000; // a minute number (epoch minutes)

function fixture(): { rows: StoreRows; log: ScenarioLog } {
  const instances: InstanceRow[] = [];
  const tasks: TaskRow[] = [];
  const attempts: AttemptRow[] = [];
  const events: EventRow[] = [];
  const ev = (fi: string, ti: string | null, run: number | null, at: number, from: string, to: string, engine = 'E1') =>
    events.push({ id: events.length + 1, flow_instance_id: fi, task_instance_id: ti, run_num: run, at, from_status: from, to_status: to, reason: null, engine_id: engine });
  const inst = (id: string, flowId: number, status: string, kind = 'manual', t = 0) =>
    instances.push({ id, flow_id: flowId, status, kind, trigger_time: t, created_at: 1, started_at: null, ended_at: null, reason: null });
  const task = (id: string, fi: string, taskId: number, name: string, status: string, run: number) => tasks.push({ id, flow_instance_id: fi, task_id: taskId, task_name: name, status, run_num: run });
  const att = (ti: string, run: number, status: string, start: number, end: number, engine = 'E1') =>
    attempts.push({ task_instance_id: ti, run_num: run, status, started_at: start, ended_at: end, host: 'h', engine_id: engine, pid: 1, exit_code: status === 'SUCCESS' ? 0 : null });
  /** A task run through READY and RUNNING to its end, one attempt per [start, end, status]. */
  const run = (fi: string, ti: string, runs: Array<[number, number, string, string?]>, end: string) => {
    ev(fi, ti, 0, runs[0]![0], 'INIT', 'READY');
    runs.forEach(([s, e, status, engine], k) => {
      ev(fi, ti, k + 1, s, k === 0 ? 'READY' : 'RERUN', 'RUNNING', engine);
      att(ti, k + 1, status, s, e, engine);
      ev(fi, ti, k + 1, e, 'RUNNING', k === runs.length - 1 ? end : 'RERUN', engine);
    });
  };

  // 1-A: a -> b, both succeed.
  inst('1-A', 1, 'SUCCESS');
  task('11-A', '1-A', 11, 'a', 'SUCCESS', 1);
  task('12-A', '1-A', 12, 'b', 'SUCCESS', 1);
  ev('1-A', null, null, 100, 'WAIT', 'RUNNING');
  run('1-A', '11-A', [[100, 200, 'SUCCESS']], 'SUCCESS');
  run('1-A', '12-A', [[210, 300, 'SUCCESS']], 'SUCCESS');
  ev('1-A', null, null, 300, 'RUNNING', 'SUCCESS');
  // 1-B: cancelled (acknowledged at 450) while a ran; its process stopped at 460.
  inst('1-B', 1, 'CANCEL');
  task('11-B', '1-B', 11, 'a', 'CANCEL', 1);
  task('12-B', '1-B', 12, 'b', 'CANCEL', 0);
  ev('1-B', null, null, 400, 'WAIT', 'RUNNING');
  run('1-B', '11-B', [[400, 460, 'CANCEL']], 'CANCEL');
  ev('1-B', null, null, 450, 'RUNNING', 'CANCEL');
  ev('1-B', '12-B', 0, 450, 'INIT', 'CANCEL');
  // 1-C: a's first attempt lost with worker E2 (killed at 550, recovered at 600), retried.
  inst('1-C', 1, 'SUCCESS');
  task('11-C', '1-C', 11, 'a', 'SUCCESS', 2);
  task('12-C', '1-C', 12, 'b', 'SUCCESS', 1);
  ev('1-C', null, null, 500, 'WAIT', 'RUNNING');
  run('1-C', '11-C', [[500, 600, 'LOST', 'E2'], [610, 700, 'SUCCESS']], 'SUCCESS');
  run('1-C', '12-C', [[710, 800, 'SUCCESS']], 'SUCCESS');
  ev('1-C', null, null, 800, 'RUNNING', 'SUCCESS');
  // The periodic flow 2: one fire in each of two minutes.
  for (const [k, m] of [m1, m1 + 1].entries()) {
    const id = `2-M${k}`;
    inst(id, 2, 'SUCCESS', 'schedule', m * M);
    task(`21-M${k}`, id, 21, 'tick', 'SUCCESS', 1);
    ev(id, null, null, m * M + 10, 'WAIT', 'RUNNING');
    run(id, `21-M${k}`, [[m * M + 10, m * M + 20, 'SUCCESS']], 'SUCCESS');
    ev(id, null, null, m * M + 20, 'RUNNING', 'SUCCESS');
  }
  const rows: StoreRows = {
    instances,
    tasks,
    attempts,
    events,
    engines: [
      { id: 'E1', host: 'h', pid: 10, state: 'stopped', started_at: 0, lease_until: 0, ended_at: 1 },
      { id: 'E2', host: 'h', pid: 99, state: 'expired', started_at: 0, lease_until: 0, ended_at: 1 },
    ],
    taskDefs: new Map([
      [11, { flowId: 1, name: 'a', retryLimit: 2 }],
      [12, { flowId: 1, name: 'b', retryLimit: 2 }],
      [21, { flowId: 2, name: 'tick', retryLimit: 2 }],
    ]),
  };
  const log: ScenarioLog = {
    flows: new Map([
      [1, { name: 'chain', shape: 'chain', taskCount: 2 }],
      [2, { name: 'periodic', shape: 'periodic', taskCount: 1 }],
    ]),
    periodicFlowId: 2,
    acked: new Set(['1-A', '1-B', '1-C']),
    longNap: new Set(),
    cancels: new Map([['1-B', 450]]),
    cancelRefusals: 0,
    workerKills: [{ name: 'w', pid: 99, exitAt: 550 }],
    schedulerKills: [],
    postgresRestarts: [],
    periodicSince: (m1 - 1) * M + 30_000,
    periodicUntil: (m1 + 1) * M + 20,
    schedulersStoppedAt: (m1 + 1) * M + 30_000,
    processFaults: [],
    processes: [],
  };
  return { rows, log };
}

const failing = (f: { rows: StoreRows; log: ScenarioLog }) => checkAll(f.rows, f.log).filter((v) => v.violations.length > 0);
const attempt = (rows: StoreRows, ti: string, run: number) => rows.attempts.find((a) => a.task_instance_id === ti && a.run_num === run)!;

describe('the fault test checks', () => {
  it('pass a history that keeps every invariant', () => {
    expect(failing(fixture())).toEqual([]);
  });

  const cases: Array<[string, RegExp, (f: { rows: StoreRows; log: ScenarioLog }) => void]> = [
    ['an instance left RUNNING', /^instances/, (f) => (f.rows.instances[0]!.status = 'RUNNING')],
    ['an acknowledged instance missing', /^instances/, (f) => f.log.acked.add('1-Z')],
    ['an instance nobody asked for', /^instances/, (f) => f.log.acked.delete('1-C')],
    ['overlapping attempts', /^attempts/, (f) => (attempt(f.rows, '11-C', 2).started_at = 590)],
    ['a LOST attempt never retried', /^attempts/, (f) => {
      f.rows.attempts = f.rows.attempts.filter((a) => !(a.task_instance_id === '11-C' && a.run_num === 2));
      Object.assign(f.rows.tasks.find((t) => t.id === '11-C')!, { status: 'FAIL', run_num: 1 });
    }],
    ['a task RUNNING twice', /^task instances never RUNNING twice/, (f) => {
      const e = f.rows.events.find((x) => x.task_instance_id === '11-A' && x.to_status === 'RUNNING')!;
      f.rows.events.splice(f.rows.events.indexOf(e) + 1, 0, { ...e, id: e.id + 0.5, from_status: 'RUNNING' });
    }],
    ['two instances of a flow RUNNING at once', /^flows never/, (f) => (f.rows.events.find((e) => e.flow_instance_id === '1-C' && e.to_status === 'RUNNING')!.at = 440)],
    ['an instance started while an attempt of the previous one ran', /^flows never/, (f) => (f.rows.events.find((e) => e.flow_instance_id === '1-C' && e.to_status === 'RUNNING')!.at = 455)],
    ['a minute without a periodic fire', /^periodic/, (f) => (f.log.periodicUntil += M)],
    ['a fire after the schedulers stopped', /^periodic/, (f) => (f.log.schedulersStoppedAt -= M)],
    ['two fires in one minute', /^periodic/, (f) => (f.rows.instances.find((i) => i.id === '2-M1')!.trigger_time = m1 * M + 5)],
    ['an attempt started after the cancel answer', /^nothing started after a cancel/, (f) => (attempt(f.rows, '11-B', 1).started_at = 455)],
    ['an instance CANCEL nobody cancelled', /^nothing started after a cancel/, (f) => f.log.cancels.delete('1-B')],
    ['a killed worker attempt closed as not LOST', /^attempts of killed workers/, (f) => (attempt(f.rows, '11-C', 1).status = 'INTERRUPTED')],
    ['a kill that lost nothing', /^attempts of killed workers/, (f) => (f.log.workerKills[0]!.exitAt = 650)],
    ['a task failing that cannot fail', /^outcomes/, (f) => (attempt(f.rows, '12-A', 1).status = 'FAIL')],
    ['a process that died unasked', /^processes/, (f) => f.log.processFaults.push('w died')],
  ];
  it.each(cases)('report %s', (_what, check, mutate) => {
    const f = fixture();
    mutate(f);
    expect(failing(f).map((v) => v.name)).toContainEqual(expect.stringMatching(check));
  });
});
