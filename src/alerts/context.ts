// What an alert says and whom it reaches, read from the store when it is sent (not when it was written):
// the flow (its owners and creator as they are now, their users' email and phone, V2.0's alertTo), the
// instance, the failed task(s) with the last lines of their log. Reads only; never writes, never sends.
import { distinct, ownerNames, parseAlertTo, type Alert } from '../domain/alerts.js';
import { isFailed } from '../domain/status.js';
import type { FlowInstance, TaskInstance, User } from '../domain/types.js';
import type { Store } from '../store/store.js';

/** Lines of a failed task's log an alert quotes, at most (each cut at LINE_CHARS). */
export const LOG_LINES = 20;
const LINE_CHARS = 500;
/** What is read of a log to find its last lines. */
const TAIL_CHARS = LOG_LINES * LINE_CHARS;

export interface AlertTask {
  taskInstId: string;
  taskName: string;
  status: string;
  runNum: number;
  exitCode: number | null;
  timedOut: boolean;
  /** The task's timeout in seconds (0: none). */
  timeoutSec: number;
  logLines: string[];
}

export interface AlertContext {
  alert: Alert;
  flowName: string;
  /** null when the instance is gone (purged) by the time the alert is sent. */
  instance: FlowInstance | null;
  tasks: AlertTask[];
  consoleUrl: string;
  timezone: string;
  recipients: { emails: string[]; phones: string[] };
}

/** The last `n` lines of a text (a trailing newline ends the last line; it does not make an empty one). */
export function lastLines(text: string, n = LOG_LINES): string[] {
  const lines = text.replace(/\r/g, '').replace(/\n$/, '').split('\n');
  return lines.slice(-n).map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}...` : l));
}

async function logLinesOf(store: Store, taskInstId: string, runNum: number | null): Promise<string[]> {
  const { chunks } = await store.readLogTail(taskInstId, TAIL_CHARS);
  // A timeout's alert quotes the attempt that timed out, even when a retry has begun writing since.
  const mine = runNum === null ? chunks : chunks.filter((c) => c.runNum === runNum);
  const text = mine.map((c) => c.text).join('');
  return text === '' ? [] : lastLines(text);
}

/** The tasks an alert is about: the one that timed out, or every failed one of a failed instance. */
async function tasksOf(store: Store, alert: Alert, instance: FlowInstance | null): Promise<AlertTask[]> {
  const all = await store.listTaskInstances(alert.instanceId);
  const chosen: TaskInstance[] = alert.taskInstanceId !== null ? all.filter((t) => t.id === alert.taskInstanceId) : all.filter((t) => isFailed(t.status));
  const defs = new Map((instance?.snapshot.tasks ?? []).map((d) => [d.id, d]));
  const out: AlertTask[] = [];
  for (const t of chosen) {
    const runNum = alert.event === 'TIMEOUT' ? (alert.runNum ?? t.runNum) : t.runNum;
    out.push({
      taskInstId: t.id,
      taskName: t.taskName,
      status: t.status,
      runNum,
      exitCode: alert.event === 'TIMEOUT' ? null : t.exitCode,
      timedOut: alert.event === 'TIMEOUT' || t.isTimeout,
      timeoutSec: defs.get(t.taskId)?.timeoutSec ?? 0,
      logLines: await logLinesOf(store, t.id, alert.event === 'TIMEOUT' ? runNum : null),
    });
  }
  return out;
}

/**
 * Email addresses and phone numbers: the flow's owners and creator (their users in the flow's org, as
 * they are now), and alertTo's entries (an address, a phone number, or a user name of the org).
 */
async function recipientsOf(store: Store, alert: Alert, flow: { owners: string; creatorId: string }): Promise<{ emails: string[]; phones: string[] }> {
  const extra = parseAlertTo(alert.alertTo);
  const users: User[] = [];
  const creator = await store.getUser(flow.creatorId);
  if (creator) users.push(creator);
  for (const name of distinct([...ownerNames(flow.owners), ...extra.userNames])) {
    if (name === creator?.name) continue;
    const u = await store.getUserByName(name);
    if (u) users.push(u);
  }
  const mine = users.filter((u) => u.orgId === alert.orgId);
  return {
    emails: distinct([...mine.map((u) => u.email), ...extra.emails].filter((e) => e !== ''), (e) => e.toLowerCase()),
    phones: distinct([...mine.map((u) => u.phone), ...extra.phones].filter((p) => p !== ''), (p) => p.replace(/[\s-]/g, '')),
  };
}

export async function alertContext(store: Store, alert: Alert, opts: { publicUrl: string; timezone: string }): Promise<AlertContext> {
  const instance = await store.getFlowInstanceById(alert.instanceId);
  // The flow as it is now decides who is told (owners change); a deleted flow: its version's owners.
  const current = (await store.getFlowById(alert.flowId))?.flow ?? null;
  const flow = current ?? instance?.snapshot.flow ?? { name: `flow ${alert.flowId}`, owners: '', creatorId: '' };
  return {
    alert,
    flowName: flow.name,
    instance,
    tasks: await tasksOf(store, alert, instance),
    consoleUrl: `${opts.publicUrl}/console/runs/${encodeURIComponent(alert.instanceId)}`,
    timezone: opts.timezone,
    recipients: await recipientsOf(store, alert, flow),
  };
}
