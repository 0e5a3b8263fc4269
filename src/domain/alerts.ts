// Alerts (contract §12): what an outbox row holds, which channels an alert goes to, who it reaches
// (`owners` and V2.0's `alertTo` parsed into addresses, phone numbers and user names), and the pure
// decision after a try: per channel SENT / RETRYING / FAILED / SKIPPED, the backoff and when to give up.
// No I/O: src/store/alerts.ts stores these, src/alerts/ sends them.
import type { FlowInstanceStatus, TaskInstanceStatus } from './status.js';

/** What raised it: the instance's end (FAIL, INTERNAL_ERROR) or one task attempt that timed out. */
export type AlertEvent = 'FAIL' | 'INTERNAL_ERROR' | 'TIMEOUT';
/** PENDING until every channel is final; then SENT (something got through, nothing failed) or FAILED. */
export type AlertStatus = 'PENDING' | 'SENT' | 'FAILED';
export type AlertChannel = 'email' | 'sms' | 'webhook';
/** PENDING: not tried yet; RETRYING: tried, failed, tried again later; SKIPPED: nothing to send it with or to. */
export type DeliveryStatus = 'PENDING' | 'SENT' | 'RETRYING' | 'FAILED' | 'SKIPPED';

export interface Delivery {
  channel: AlertChannel;
  /** Recipients as last resolved (addresses, phone numbers; the webhook's URL without credentials). */
  to: string[];
  status: DeliveryStatus;
  tries: number;
  /** The last failure, or why it was skipped. */
  error: string | null;
  sentAt: number | null;
}

export interface Alert {
  id: string;
  instanceId: string;
  flowId: number;
  orgId: string;
  event: AlertEvent;
  /** TIMEOUT: the task instance and attempt that timed out. */
  taskInstanceId: string | null;
  runNum: number | null;
  reason: string | null;
  /** The flow's alertMode and alertTo when the alert was written. */
  alertMode: number;
  alertTo: string;
  status: AlertStatus;
  /** Claims so far (a crashed try counts). */
  tries: number;
  nextAt: number;
  /** Empty until the first try. */
  deliveries: Delivery[];
  createdAt: number;
  updatedAt: number;
}

/** A claimed alert: `claimedUntil` identifies the claim (recording a result is guarded by it). */
export interface ClaimedAlert extends Alert {
  claimedBy: string;
  claimedUntil: number;
}

/** The alert modes that alert (0 is none). */
export const ALERTING_MODES = [1, 2, 3] as const;

/** Channels of an alert: email for modes 1 and 3, SMS for 2 and 3, the generic webhook whenever configured. */
export function channelsOf(alertMode: number, webhook: boolean): AlertChannel[] {
  const out: AlertChannel[] = [];
  if (alertMode === 1 || alertMode === 3) out.push('email');
  if (alertMode === 2 || alertMode === 3) out.push('sms');
  if (webhook) out.push('webhook');
  return out;
}

export const isFinalDelivery = (s: DeliveryStatus): boolean => s === 'SENT' || s === 'FAILED' || s === 'SKIPPED';

// ---- recipients ----

/** An email address as accepted for users and alertTo: one @, something either side, no spaces. */
export const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** A phone number: digits, with +, spaces and dashes; at least 3 digits. */
export const PHONE = /^\+?[0-9][0-9 -]*$/;
export const isPhone = (s: string): boolean => PHONE.test(s) && s.replace(/\D/g, '').length >= 3;

/** alertTo (V2.0): entries separated by `;` or `,`: an address (has @), a phone number, else a user name. */
export function parseAlertTo(alertTo: string): { emails: string[]; phones: string[]; userNames: string[] } {
  const out = { emails: [] as string[], phones: [] as string[], userNames: [] as string[] };
  for (const raw of alertTo.split(/[;,]/)) {
    const e = raw.trim();
    if (e === '') continue;
    if (e.includes('@')) out.emails.push(e);
    else if (isPhone(e)) out.phones.push(e);
    else out.userNames.push(e);
  }
  return out;
}

/** `owners` (`;`-separated user names), trimmed and without empties. */
export const ownerNames = (owners: string): string[] => owners.split(';').map((s) => s.trim()).filter((s) => s !== '');

/** Each value once, first occurrence first (emails compared case-insensitively). */
export function distinct(values: string[], key: (v: string) => string = (v) => v): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---- retries ----

export interface RetryPolicy {
  /** First wait after a failed try; doubles per try. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
  /** How long after the alert was written it is tried at most; then what did not get through is FAILED. */
  giveUpMs: number;
}

/** The wait after try `tries` (1 = the first): base, 2 x base, 4 x base ... at most max. */
export function backoffMs(tries: number, p: RetryPolicy): number {
  const exp = Math.min(Math.max(tries - 1, 0), 40); // 2^40 x base is past any cap: no overflow to Infinity
  return Math.min(p.baseMs * 2 ** exp, p.maxMs);
}

/** What one channel's send did: SENT, a failure (retried), or nothing to do (SKIPPED, with why). */
export type SendOutcome = { kind: 'sent' } | { kind: 'failed'; error: string } | { kind: 'skipped'; why: string };

/**
 * The alert after a try at `now`: each channel tried gets its outcome; a failure is RETRYING while the
 * alert is younger than giveUpMs (next try after the backoff, never later than the give-up time), FAILED
 * after. The alert is PENDING while any channel is not final, then SENT when one channel got through and
 * none failed, else FAILED (every channel skipped or given up: nobody was told).
 */
export function afterTry(
  alert: Pick<Alert, 'tries' | 'createdAt'>,
  tried: Array<{ channel: AlertChannel; to: string[]; outcome: SendOutcome; before: Delivery | undefined }>,
  untouched: Delivery[],
  now: number,
  policy: RetryPolicy,
): { status: AlertStatus; deliveries: Delivery[]; nextAt: number } {
  const giveUpAt = alert.createdAt + policy.giveUpMs;
  const expired = now >= giveUpAt;
  const deliveries = [...untouched];
  for (const t of tried) {
    const tries = (t.before?.tries ?? 0) + (t.outcome.kind === 'skipped' ? 0 : 1);
    const d: Delivery = { channel: t.channel, to: t.to, status: 'SENT', tries, error: null, sentAt: null };
    if (t.outcome.kind === 'sent') d.sentAt = now;
    else if (t.outcome.kind === 'skipped') Object.assign(d, { status: 'SKIPPED', error: t.outcome.why });
    else Object.assign(d, { status: expired ? 'FAILED' : 'RETRYING', error: expired ? `gave up after ${tries} tries: ${t.outcome.error}` : t.outcome.error });
    deliveries.push(d);
  }
  const order: AlertChannel[] = ['email', 'sms', 'webhook'];
  deliveries.sort((a, b) => order.indexOf(a.channel) - order.indexOf(b.channel));
  const open = deliveries.some((d) => !isFinalDelivery(d.status));
  const status: AlertStatus = open ? 'PENDING' : deliveries.some((d) => d.status === 'SENT') && !deliveries.some((d) => d.status === 'FAILED') ? 'SENT' : 'FAILED';
  const nextAt = open ? Math.min(now + backoffMs(alert.tries, policy), giveUpAt) : now;
  return { status, deliveries, nextAt };
}

/** The alert an instance's move to `to` raises, if any: its end FAIL or INTERNAL_ERROR. */
export function alertEventOfInstanceEnd(to: FlowInstanceStatus): Exclude<AlertEvent, 'TIMEOUT'> | null {
  return to === 'FAIL' || to === 'INTERNAL_ERROR' ? to : null;
}

/** A task end that may have written an alert (a timeout, retried or not): the sender is woken by it. */
export function mayHaveAlerted(to: TaskInstanceStatus): boolean {
  return to === 'TIMEOUT' || to === 'RERUN';
}

/** An alert still being sent or retried. */
export const isOpenAlert = (s: AlertStatus): boolean => s === 'PENDING';
