// The words of an alert, from its AlertContext: the mail's subject and plain-text body, the short SMS
// text, and the JSON bodies POSTed to the SMS and generic webhooks (docs/alerts.md documents them; keep
// the two in step). Pure: no I/O, the same context always gives the same message.
import { formatInZone } from '../domain/time.js';
import type { AlertContext, AlertTask } from './context.js';

const when = (ms: number, tz: string) => `${formatInZone(ms, tz, 'yyyy-MM-dd HH:mm:ss')} (${tz})`;

/** What the alert says happened, in a few words: "ended FAIL", "task load timed out (attempt 2)". */
function headline(c: AlertContext): string {
  const a = c.alert;
  if (a.event === 'TIMEOUT') return `task ${c.tasks[0]?.taskName ?? a.taskInstanceId} timed out (attempt ${a.runNum})`;
  return `ended ${a.event}`;
}

export function subject(c: AlertContext): string {
  const a = c.alert;
  return `[batchflow] flow ${c.flowName} (${a.flowId}): instance ${a.instanceId}${a.event === 'TIMEOUT' ? ':' : ''} ${headline(c)}`;
}

function taskOutcome(t: AlertTask): string {
  if (t.timedOut) return `timed out${t.timeoutSec > 0 ? ` after ${t.timeoutSec} s` : ''}`;
  return t.exitCode === null ? 'no exit code (killed or did not start)' : `exit code ${t.exitCode}`;
}

export function mailText(c: AlertContext): string {
  const a = c.alert;
  const i = c.instance;
  const lines = [
    `Flow instance ${a.instanceId} of flow ${c.flowName} (id ${a.flowId}) ${headline(c)}.`,
    '',
    `Flow:          ${c.flowName} (id ${a.flowId})`,
    `Instance:      ${a.instanceId}`,
    `Trigger time:  ${i ? when(i.triggerTime, c.timezone) : 'unknown (the instance is gone)'}`,
    `Status:        ${i?.status ?? a.event}${a.event === 'TIMEOUT' ? ' (a task attempt timed out)' : ''}`,
    `Reason:        ${a.reason ?? i?.reason ?? '-'}`,
    `Alerted at:    ${when(a.createdAt, c.timezone)}`,
    `Console:       ${c.consoleUrl}`,
    '',
  ];
  if (c.tasks.length === 0) lines.push('No task failed (see the reason above).');
  else lines.push(a.event === 'TIMEOUT' ? 'Task:' : 'Failed tasks:');
  for (const t of c.tasks) {
    lines.push('', `- ${t.taskName} (task instance ${t.taskInstId}): ${t.status}, ${taskOutcome(t)}, attempt ${t.runNum}`);
    if (t.logLines.length === 0) lines.push('  (no log)');
    else lines.push(`  Last ${t.logLines.length} log line${t.logLines.length === 1 ? '' : 's'}:`, ...t.logLines.map((l) => `  | ${l}`));
  }
  lines.push('', `-- batchflow; the run: ${c.consoleUrl}`);
  return `${lines.join('\n')}\n`;
}

/** One line for a phone: what, which flow and instance, which task, the link. */
export function smsText(c: AlertContext): string {
  const a = c.alert;
  const t = c.tasks[0];
  const task = t && a.event !== 'TIMEOUT' ? ` task ${t.taskName} ${taskOutcome(t)}${c.tasks.length > 1 ? ` (+${c.tasks.length - 1})` : ''}.` : '';
  return `batchflow ${a.event}: flow ${c.flowName} (${a.flowId}) instance ${a.instanceId} ${headline(c)}.${task} ${c.consoleUrl}`;
}

/** The fields both webhooks carry. */
function common(c: AlertContext) {
  const a = c.alert;
  const i = c.instance;
  return {
    alertId: a.id,
    event: a.event,
    orgId: a.orgId,
    flow: { id: a.flowId, name: c.flowName },
    instance: {
      id: a.instanceId,
      status: i?.status ?? null,
      triggerTimeMs: i?.triggerTime ?? null,
      triggerTime: i ? formatInZone(i.triggerTime, c.timezone, 'yyyy-MM-dd HH:mm:ss') : null,
      reason: a.reason ?? i?.reason ?? null,
    },
    consoleUrl: c.consoleUrl,
    createdAtMs: a.createdAt,
  };
}

/** POSTed to the SMS webhook: the numbers and the text; the gateway adapter sends it. */
export function smsPayload(c: AlertContext) {
  return { type: 'batchflow.alert.sms', ...common(c), to: c.recipients.phones, text: smsText(c) };
}

/** POSTed to the generic webhook: everything the mail says, structured. */
export function webhookPayload(c: AlertContext) {
  return {
    type: 'batchflow.alert',
    ...common(c),
    tasks: c.tasks.map((t) => ({
      taskInstId: t.taskInstId,
      taskName: t.taskName,
      status: t.status,
      runNum: t.runNum,
      exitCode: t.exitCode,
      timedOut: t.timedOut,
      logTail: t.logLines,
    })),
    recipients: { email: c.recipients.emails, sms: c.recipients.phones },
    subject: subject(c),
    text: mailText(c),
  };
}
