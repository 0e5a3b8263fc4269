// The fault test's verdict: invariants checked on the store's rows after the run (observed.ts), each a
// list of sentences naming the ids, times and rows at fault; empty means it held. Times are compared as
// recorded by the processes (one host, one clock), so intervals that only touch do not count as overlap.
import type { AttemptRow, EventRow, InstanceRow, ScenarioLog, StoreRows, TaskRow } from './observed.js';

const TERMINAL = new Set(['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR']);
const TASK_TERMINAL = new Set(['SUCCESS', 'FAIL', 'TIMEOUT', 'CANCEL', 'SKIP']);
/** Attempt ends after which the engine runs the task again (failures count against the retry limit). */
const RETRYABLE = new Set(['FAIL', 'TIMEOUT', 'LOST', 'INTERRUPTED']);
const FAILURE = new Set(['FAIL', 'TIMEOUT', 'LOST']);
const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : String(t));
const row = (x: object) => JSON.stringify(x);

export interface Verdict {
  name: string;
  violations: string[];
}

export function checkAll(rows: StoreRows, log: ScenarioLog): Verdict[] {
  const ix = index(rows);
  return [
    { name: 'instances: all terminal, none lost, none made unasked', violations: checkInstances(rows, log, ix) },
    { name: 'attempts: numbered, closed, disjoint per task instance, retried by policy', violations: checkAttempts(rows, ix) },
    { name: 'task instances never RUNNING twice at once (history)', violations: checkTaskHistory(rows) },
    { name: 'flows never ran two instances at once', violations: checkFlowExclusive(rows, ix) },
    { name: 'periodic flow fired exactly once per minute', violations: checkPeriodic(rows, log) },
    { name: 'nothing started after a cancel was acknowledged', violations: checkCancels(rows, log, ix) },
    { name: 'attempts of killed workers LOST and retried', violations: checkKills(rows, log, ix) },
    { name: 'outcomes as the commands and faults imply', violations: checkOutcomes(rows, log, ix) },
    { name: 'processes: none died unasked, each stopped cleanly', violations: log.processFaults },
  ];
}

interface Index {
  instance: Map<string, InstanceRow>;
  tasksOf: Map<string, TaskRow[]>;
  task: Map<string, TaskRow>;
  attemptsOf: Map<string, AttemptRow[]>;
  attemptsOfInstance: Map<string, AttemptRow[]>;
  enginesOfPid: Map<number, Set<string>>;
  /** When each instance left RUNNING (its end, or its cancel). */
  leftRunningAt: Map<string, number>;
}

function group<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function index(rows: StoreRows): Index {
  const task = new Map(rows.tasks.map((t) => [t.id, t]));
  const enginesOfPid = new Map<number, Set<string>>();
  for (const e of rows.engines) {
    if (!enginesOfPid.has(e.pid)) enginesOfPid.set(e.pid, new Set());
    enginesOfPid.get(e.pid)!.add(e.id);
  }
  return {
    instance: new Map(rows.instances.map((i) => [i.id, i])),
    tasksOf: group(rows.tasks, (t) => t.flow_instance_id),
    task,
    attemptsOf: group(rows.attempts, (a) => a.task_instance_id),
    attemptsOfInstance: group(rows.attempts, (a) => task.get(a.task_instance_id)?.flow_instance_id ?? '?'),
    enginesOfPid,
    leftRunningAt: new Map(rows.events.filter((e) => e.task_instance_id === null && e.from_status === 'RUNNING').map((e) => [e.flow_instance_id, e.at])),
  };
}

function checkInstances(rows: StoreRows, log: ScenarioLog, ix: Index): string[] {
  const v: string[] = [];
  for (const id of log.acked) if (!ix.instance.has(id)) v.push(`acknowledged instance ${id} is missing from the store`);
  for (const i of rows.instances) {
    const periodic = i.flow_id === log.periodicFlowId && i.kind === 'schedule';
    if (!periodic && !log.acked.has(i.id)) v.push(`instance ${i.id} exists but was never triggered: ${row(i)}`);
    if (!TERMINAL.has(i.status)) v.push(`instance ${i.id} is ${i.status} after the run: ${row(i)}`);
    const tasks = ix.tasksOf.get(i.id) ?? [];
    const want = log.flows.get(i.flow_id)?.taskCount;
    if (tasks.length !== want) v.push(`instance ${i.id} has ${tasks.length} task instances for ${want} tasks`);
    for (const t of tasks) if (!TASK_TERMINAL.has(t.status)) v.push(`task instance ${t.id} is ${t.status} after the run (instance ${i.id} ${i.status})`);
  }
  const manual = rows.instances.filter((i) => i.kind !== 'schedule').length;
  if (manual !== log.acked.size) v.push(`${manual} manual instances in the store for ${log.acked.size} acknowledged triggers`);
  return v;
}

function checkAttempts(rows: StoreRows, ix: Index): string[] {
  const v: string[] = [];
  for (const t of rows.tasks) {
    const list = (ix.attemptsOf.get(t.id) ?? []).slice().sort((a, b) => a.run_num - b.run_num);
    const def = rows.taskDefs.get(t.task_id);
    if (list.length !== t.run_num) v.push(`task instance ${t.id}: run_num ${t.run_num} but ${list.length} attempts`);
    let failures = 0;
    list.forEach((a, k) => {
      const where = `task instance ${t.id} attempt ${a.run_num}`;
      if (a.run_num !== k + 1) v.push(`${where}: attempts not numbered 1..n`);
      if (a.ended_at === null || a.status === 'RUNNING') v.push(`${where} is still open after the run: ${row(a)}`);
      if (FAILURE.has(a.status)) failures++;
      const next = list[k + 1];
      if (next) {
        if (!RETRYABLE.has(a.status)) v.push(`${where} ended ${a.status} and yet ran again`);
        if (a.ended_at !== null && next.started_at < a.ended_at) {
          v.push(`${where} overlaps attempt ${next.run_num}: [${iso(a.started_at)}, ${iso(a.ended_at)}] and [${iso(next.started_at)}, ${iso(next.ended_at)}]; ${row(a)} ${row(next)}`);
        }
      } else if (def && a.status === 'LOST' && failures <= def.retryLimit) {
        // Retries left: the policy runs it again, unless its instance had ended (cancel, another branch
        // failed) by the time the attempt was closed: then nothing of it runs any more.
        const inst = ix.instance.get(t.flow_instance_id);
        const left = ix.leftRunningAt.get(t.flow_instance_id);
        const ended = left !== undefined && a.ended_at !== null && left <= a.ended_at;
        if (!ended) v.push(`${where} was LOST with ${failures} failure(s) of retryLimit ${def.retryLimit} and never retried; the task is ${t.status}, its instance ${inst?.status} (left RUNNING at ${iso(left)}): ${row(a)}`);
      }
      // (A lost attempt of a cancelled instance ends its task CANCEL: it was being stopped anyway.)
      const cancelled = t.status === 'CANCEL' && ix.instance.get(t.flow_instance_id)?.status === 'CANCEL';
      if (def && !next && a.status === 'LOST' && failures > def.retryLimit && t.status !== 'FAIL' && !cancelled) {
        v.push(`${where}: LOST past its retry limit ${def.retryLimit}, yet the task is ${t.status}`);
      }
    });
    if (def && failures > def.retryLimit + 1) v.push(`task instance ${t.id}: ${failures} failed attempts for retryLimit ${def.retryLimit}`);
  }
  return v;
}

/** From status_events: each task instance's changes chained (from = the previous to), and RUNNING never entered twice without leaving. */
function checkTaskHistory(rows: StoreRows): string[] {
  const v: string[] = [];
  const byTask = group(
    rows.events.filter((e) => e.task_instance_id !== null),
    (e) => e.task_instance_id!,
  );
  for (const [id, evs] of byTask) {
    let cur = 'INIT';
    let runningSince: EventRow | null = null;
    for (const e of evs) {
      if (e.from_status !== cur) v.push(`task instance ${id}: change #${e.id} from ${e.from_status}, but it was ${cur}: ${row(e)}`);
      if (e.to_status === 'RUNNING') {
        if (runningSince) v.push(`task instance ${id} entered RUNNING again (#${e.id} at ${iso(e.at)}) while RUNNING since #${runningSince.id} at ${iso(runningSince.at)}`);
        runningSince = e;
      } else if (e.from_status === 'RUNNING') runningSince = null;
      cur = e.to_status;
    }
  }
  return v;
}

/**
 * The one-instance rule: an instance holds its flow from its move to RUNNING until it leaves RUNNING and
 * its last attempt has ended (a branch still running when the instance failed keeps holding it).
 */
function checkFlowExclusive(rows: StoreRows, ix: Index): string[] {
  const v: string[] = [];
  const spans: Array<{ flowId: number; id: string; start: number; end: number; runEnd: number }> = [];
  for (const [id, evs] of group(rows.events.filter((e) => e.task_instance_id === null), (e) => e.flow_instance_id)) {
    const inst = ix.instance.get(id);
    if (!inst) continue;
    let start: number | null = null;
    for (const e of evs) {
      if (e.to_status === 'RUNNING') {
        if (start !== null) v.push(`instance ${id} entered RUNNING twice (#${e.id})`);
        start = e.at;
      } else if (e.from_status === 'RUNNING' && start !== null) {
        const lastEnd = Math.max(e.at, ...(ix.attemptsOfInstance.get(id) ?? []).map((a) => a.ended_at ?? Infinity));
        spans.push({ flowId: inst.flow_id, id, start, end: lastEnd, runEnd: e.at });
        start = null;
      }
    }
    if (start !== null) spans.push({ flowId: inst.flow_id, id, start, end: Infinity, runEnd: Infinity });
  }
  for (const [, list] of group(spans, (s) => String(s.flowId))) {
    list.sort((a, b) => a.start - b.start);
    for (let k = 1; k < list.length; k++) {
      const a = list[k - 1]!;
      const b = list[k]!;
      if (b.start < a.runEnd) v.push(`flow ${a.flowId}: ${a.id} RUNNING [${iso(a.start)}, ${iso(a.runEnd)}] and ${b.id} RUNNING from ${iso(b.start)} at once`);
      else if (b.start < a.end) v.push(`flow ${a.flowId}: ${b.id} started at ${iso(b.start)} while an attempt of ${a.id} (ended ${iso(a.runEnd)}) still ran until ${iso(a.end)}`);
    }
  }
  return v;
}

function checkPeriodic(rows: StoreRows, log: ScenarioLog): string[] {
  const v: string[] = [];
  const fires = rows.instances.filter((i) => i.flow_id === log.periodicFlowId);
  const minutes = fires.map((i) => Math.floor(i.trigger_time / 60_000)).sort((a, b) => a - b);
  if (fires.some((i) => i.kind !== 'schedule')) v.push(`the periodic flow has instances that are not fires: ${fires.filter((i) => i.kind !== 'schedule').map((i) => i.id)}`);
  if (new Set(minutes).size !== minutes.length) v.push(`the periodic flow fired twice in one minute: ${fires.map((i) => i.id).join(', ')}`);
  // Every minute from the one after its import to the last one seen before the stop must have its fire;
  // a minute that began while the schedulers were being stopped may have one too, none later.
  const first = Math.floor(log.periodicSince / 60_000) + 1;
  const last = Math.floor(log.periodicUntil / 60_000);
  const stopped = Math.floor(log.schedulersStoppedAt / 60_000);
  if (last - first < 1) v.push(`the run spanned too few minutes to judge the periodic flow (${first}..${last})`);
  for (let m = first; m <= last; m++) {
    const n = minutes.filter((x) => x === m).length;
    if (n !== 1) v.push(`minute ${iso(m * 60_000)}: ${n} fires of the periodic flow (want 1)`);
  }
  for (const m of minutes) if (m < first || m > stopped) v.push(`a fire at ${iso(m * 60_000)} outside the schedulers' time ${iso(first * 60_000)}..${iso(log.schedulersStoppedAt)}`);
  return v;
}

function checkCancels(rows: StoreRows, log: ScenarioLog, ix: Index): string[] {
  const v: string[] = [];
  for (const [id, ackAt] of log.cancels) {
    const inst = ix.instance.get(id);
    if (!inst) continue; // reported as missing
    if (inst.status !== 'CANCEL') v.push(`instance ${id}: cancel acknowledged at ${iso(ackAt)}, yet it is ${inst.status}: ${row(inst)}`);
    // Against the acknowledgement, not the cancel's recorded `at`: that time is taken before the cancel's
    // transaction waits for the instance's lock, so a claim that committed first (its attempt started
    // before the cancel) may still carry a later clock reading than it.
    for (const a of ix.attemptsOfInstance.get(id) ?? []) {
      if (a.started_at > ackAt) v.push(`instance ${id}: attempt ${a.task_instance_id}#${a.run_num} started at ${iso(a.started_at)}, after the cancel was acknowledged at ${iso(ackAt)}: ${row(a)}`);
    }
  }
  for (const i of rows.instances) if (i.status === 'CANCEL' && !log.cancels.has(i.id)) v.push(`instance ${i.id} is CANCEL but nobody cancelled it: ${row(i)}`);
  return v;
}

function checkKills(rows: StoreRows, log: ScenarioLog, ix: Index): string[] {
  const v: string[] = [];
  for (const k of log.workerKills) {
    const engines = ix.enginesOfPid.get(k.pid) ?? new Set<string>();
    if (engines.size === 0) v.push(`killed worker ${k.name} (pid ${k.pid}) has no engine row`);
    const mine = rows.attempts.filter((a) => engines.has(a.engine_id));
    // Closed after the process was gone: only recovery can have closed them, and recovery says LOST.
    const afterDeath = mine.filter((a) => a.ended_at === null || a.ended_at > k.exitAt);
    for (const a of afterDeath) if (a.status !== 'LOST') v.push(`attempt ${a.task_instance_id}#${a.run_num} of killed worker ${k.name} closed after its death (${iso(k.exitAt)}) as ${a.status}: ${row(a)}`);
    if (!afterDeath.some((a) => a.status === 'LOST')) v.push(`killing ${k.name} at ${iso(k.exitAt)} lost no attempt: it was meant to die mid-run (${mine.length} attempts of it)`);
    for (const e of rows.engines) if (engines.has(e.id) && e.state === 'live') v.push(`engine ${e.id} of killed worker ${k.name} is still live in the store: ${row(e)}`);
  }
  return v;
}

/** Each instance's end follows from its tasks; INTERNAL_ERROR never; a task's attempts end as its command implies. */
function checkOutcomes(rows: StoreRows, log: ScenarioLog, ix: Index): string[] {
  const v: string[] = [];
  for (const i of rows.instances) {
    const shape = log.flows.get(i.flow_id)?.shape;
    const tasks = ix.tasksOf.get(i.id) ?? [];
    if (i.status === 'INTERNAL_ERROR') v.push(`instance ${i.id} ended INTERNAL_ERROR: ${i.reason}`);
    if (i.status === 'SUCCESS' && tasks.some((t) => t.status !== 'SUCCESS')) v.push(`instance ${i.id} SUCCESS with tasks ${tasks.map((t) => `${t.task_name}=${t.status}`).join(' ')}`);
    if (i.status === 'FAIL' && !tasks.some((t) => t.status === 'FAIL' || t.status === 'TIMEOUT')) v.push(`instance ${i.id} FAIL with no failed task: ${i.reason}`);
    if (i.status === 'CANCEL') continue;
    for (const t of tasks) {
      for (const a of ix.attemptsOf.get(t.id) ?? []) {
        const where = `${shape} instance ${i.id} task ${t.task_name} attempt ${a.run_num}`;
        const faultEnd = a.status === 'LOST' || a.status === 'INTERRUPTED' || a.status === 'CANCEL';
        if (faultEnd || a.status === 'RUNNING') continue;
        let want = 'SUCCESS';
        if (shape === 'flaky' && t.task_name === 'flaky' && a.run_num === 1) want = 'FAIL';
        if (shape === 'timeout' && t.task_name === 'bounded' && log.longNap.has(i.id)) want = 'TIMEOUT';
        if (a.status !== want) v.push(`${where} ended ${a.status} (exit ${a.exit_code}), its command makes it ${want}: ${row(a)}`);
      }
    }
    const timedOut = shape === 'timeout' && log.longNap.has(i.id);
    const exhausted = tasks.some((t) => t.status === 'FAIL' && (ix.attemptsOf.get(t.id) ?? []).some((a) => a.status === 'LOST'));
    if (timedOut && i.status !== 'FAIL') v.push(`instance ${i.id} was made to time out, yet it is ${i.status}`);
    if (!timedOut && !exhausted && i.status !== 'SUCCESS') v.push(`${shape} instance ${i.id} is ${i.status} (${i.reason}) with no fault to explain it`);
  }
  return v;
}
