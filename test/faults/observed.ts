// What the fault test knows after its run: the store's rows, read straight from PostgreSQL with pg (not
// through the service under test), and the scenario's own record (what the API acknowledged, what was
// killed when). The checks (checks.ts) and the summary read only this.
import pg from 'pg';
import type { Shape } from './workload.js';

export interface InstanceRow {
  id: string;
  flow_id: number;
  status: string;
  kind: string;
  trigger_time: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  reason: string | null;
}
export interface TaskRow {
  id: string;
  flow_instance_id: string;
  task_id: number;
  task_name: string;
  status: string;
  run_num: number;
}
export interface AttemptRow {
  task_instance_id: string;
  run_num: number;
  status: string;
  started_at: number;
  ended_at: number | null;
  host: string;
  engine_id: string;
  pid: number | null;
  exit_code: number | null;
}
export interface EventRow {
  id: number;
  flow_instance_id: string;
  task_instance_id: string | null;
  run_num: number | null;
  at: number;
  from_status: string;
  to_status: string;
  reason: string | null;
  engine_id: string | null;
}
export interface EngineRow {
  id: string;
  host: string;
  pid: number;
  state: string;
  started_at: number;
  lease_until: number;
  ended_at: number | null;
}

export interface StoreRows {
  instances: InstanceRow[];
  tasks: TaskRow[];
  attempts: AttemptRow[];
  events: EventRow[];
  engines: EngineRow[];
  /** task id -> its definition's retry limit and flow. */
  taskDefs: Map<number, { flowId: number; name: string; retryLimit: number }>;
}

/** bigint columns come back as text from a plain pg client: numbers here (all below 2^53). */
const NUMERIC = new Set(['flow_id', 'trigger_time', 'created_at', 'started_at', 'ended_at', 'task_id', 'run_num', 'at', 'id', 'lease_until', 'pid', 'exit_code', 'retry_limit']);
function numeric<T>(rows: Record<string, unknown>[], keepText: string[] = []): T[] {
  for (const r of rows) {
    for (const k of Object.keys(r)) if (NUMERIC.has(k) && !keepText.includes(k) && r[k] !== null && typeof r[k] === 'string') r[k] = Number(r[k]);
  }
  return rows as T[];
}

export async function readStore(url: string): Promise<StoreRows> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const q = async <T>(text: string, keepText: string[] = []) => numeric<T>((await c.query(text)).rows, keepText);
    const instances = await q<InstanceRow>('select id, flow_id, status, kind, trigger_time, created_at, started_at, ended_at, reason from flow_instances order by flow_id, trigger_time', ['id']);
    const tasks = await q<TaskRow>('select id, flow_instance_id, task_id, task_name, status, run_num from task_instances order by flow_instance_id, ord', ['id']);
    const attempts = await q<AttemptRow>('select task_instance_id, run_num, status, started_at, ended_at, host, engine_id, pid, exit_code from attempts order by task_instance_id, run_num');
    const events = await q<EventRow>('select id, flow_instance_id, task_instance_id, run_num, at, from_status, to_status, reason, engine_id from status_events order by id');
    const engines = await q<EngineRow>('select id, host, pid, state, started_at, lease_until, ended_at from engines order by started_at', ['id']);
    const defs = await q<{ id: number; flow_id: number; name: string; retry_limit: number }>('select id, flow_id, name, retry_limit from tasks');
    return { instances, tasks, attempts, events, engines, taskDefs: new Map(defs.map((d) => [d.id, { flowId: d.flow_id, name: d.name, retryLimit: d.retry_limit }])) };
  } finally {
    await c.end();
  }
}

/** The scenario's record of what it did. */
export interface ScenarioLog {
  flows: Map<number, { name: string; shape: Shape; taskCount: number }>;
  periodicFlowId: number;
  /** Instance ids of the manual triggers, as acknowledged by the API. */
  acked: Set<string>;
  /** Instances whose timeout task was made to sleep past its timeout. */
  longNap: Set<string>;
  /** Cancels the API acknowledged: instance id -> when the answer arrived. */
  cancels: Map<string, number>;
  cancelRefusals: number;
  /** Workers killed with -9: their pid, and when their exit was seen. */
  workerKills: Array<{ name: string; pid: number; exitAt: number }>;
  schedulerKills: Array<{ name: string; pid: number; exitAt: number }>;
  postgresRestarts: Array<{ downAt: number; upAt: number }>;
  /** The periodic flow's import; the last minute whose fire was seen before the schedulers were stopped; their stop. */
  periodicSince: number;
  periodicUntil: number;
  schedulersStoppedAt: number;
  /** Processes that died unasked, or did not stop cleanly on SIGTERM. */
  processFaults: string[];
  /** Every process started: name and pid (a restart is a new pid under the same name). */
  processes: Array<{ name: string; role: string; pid: number; startedAt: number }>;
}

const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString().slice(11, 23) : '-');

function countBy<T>(items: T[], key: (x: T) => string): string {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m].sort().map(([k, n]) => `${k} ${n}`).join(', ');
}

/** A summary a person can read a failure from: what happened, counted. */
export function summarize(rows: StoreRows, log: ScenarioLog, elapsedMs: number): string {
  const shapeOf = (flowId: number) => log.flows.get(flowId)?.shape ?? '?';
  const nameOfPid = new Map(log.processes.map((p) => [p.pid, p.name]));
  const engineName = new Map(rows.engines.map((e) => [e.id, `${nameOfPid.get(e.pid) ?? `pid ${e.pid}`}`]));
  const lost = rows.attempts.filter((a) => a.status === 'LOST');
  // Who closed each attempt: the engine named on the task's move out of RUNNING at that run.
  const recoveredBy = new Map<string, string>();
  for (const e of rows.events) {
    if (e.task_instance_id && e.from_status === 'RUNNING') recoveredBy.set(`${e.task_instance_id}#${e.run_num}`, engineName.get(e.engine_id ?? '') ?? String(e.engine_id));
  }
  const lines = [
    `fault test: ${(elapsedMs / 1000).toFixed(0)} s; ${log.flows.size} flows, ${rows.instances.length} instances (${log.acked.size} manual acknowledged, ${rows.instances.filter((i) => i.kind === 'schedule').length} periodic fires)`,
    `  instances by status: ${countBy(rows.instances, (i) => i.status)}`,
    `  instances by shape/status: ${countBy(rows.instances, (i) => `${shapeOf(i.flow_id)}/${i.status}`)}`,
    `  task instances by status: ${countBy(rows.tasks, (t) => t.status)}`,
    `  attempts (${rows.attempts.length}) by status: ${countBy(rows.attempts, (a) => a.status)}`,
    `  LOST attempts (${lost.length}) by dead engine -> recovering engine: ${countBy(lost, (a) => `${engineName.get(a.engine_id) ?? a.engine_id} -> ${recoveredBy.get(`${a.task_instance_id}#${a.run_num}`) ?? '?'}`) || 'none'}`,
    `  engines (${rows.engines.length}) by state: ${countBy(rows.engines, (e) => `${engineName.get(e.id)}/${e.state}`)}`,
    `  cancels: ${log.cancels.size} acknowledged, ${log.cancelRefusals} refused (already ended)`,
    `  worker kills: ${log.workerKills.map((k) => `${k.name} pid ${k.pid} at ${iso(k.exitAt)}`).join('; ') || 'none'}`,
    `  scheduler kills: ${log.schedulerKills.map((k) => `${k.name} pid ${k.pid} at ${iso(k.exitAt)}`).join('; ') || 'none'}`,
    `  PostgreSQL restarts: ${log.postgresRestarts.map((r) => `${iso(r.downAt)} -> up ${iso(r.upAt)} (${r.upAt - r.downAt} ms)`).join('; ') || 'none'}`,
    `  periodic fires: ${rows.instances.filter((i) => i.flow_id === log.periodicFlowId).map((i) => `${i.id.split('-')[1]!.slice(8, 12)} ${i.status}`).join(', ')}`,
  ];
  return lines.join('\n');
}
