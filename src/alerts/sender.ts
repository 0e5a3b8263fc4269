// The alert sender: one loop per process that runs the engine. It claims due outbox rows under a lease,
// sends each channel not yet final (src/alerts/channels.ts) and records the result under that claim, so
// only a crash between a send and its record sends one twice (at least once). The engine only wakes it
// (a synchronous call after its commit) and never waits on it; a failing pass is logged and retried.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import { afterTry, alertEventOfInstanceEnd, channelsOf, isFinalDelivery, mayHaveAlerted, type AlertChannel, type ClaimedAlert, type Delivery, type SendOutcome } from '../domain/alerts.js';
import type { FlowInstanceStatus, TaskInstanceStatus } from '../domain/status.js';
import type { EngineEmitter } from '../engine/events.js';
import type { Store } from '../store/store.js';
import { createChannels, shownUrl, type Channels } from './channels.js';
import { mailText, smsPayload, subject, webhookPayload } from './compose.js';
import { alertContext, type AlertContext } from './context.js';

/** How long a claim holds: longer than a try's sends (each bounded by timeouts of 30-50 s, run in parallel). */
export const ALERT_LEASE_MS = 120_000;
/** Alerts per claim. */
const BATCH = 10;
/** How long stop() waits for the pass in progress; what it leaves is claimed again when its lease ends. */
const STOP_WAIT_MS = 5_000;

export interface AlertSenderOptions {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Base of the console links in alerts (config.publicUrl, else the API's address). */
  publicUrl: string;
  /** Tests may pass their own (SMTP and HTTP are the default's), and a shorter lease. */
  channels?: Channels;
  leaseMs?: number;
}

export class AlertSender {
  /** Claims name this sender: a claim taken again after its lease ran out is another's. */
  readonly id = `alerts-${randomUUID()}`;
  private readonly channels: Channels;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly o: AlertSenderOptions) {
    this.channels = o.channels ?? createChannels(o.config, o.config.hostName);
  }

  start(): void {
    this.schedule(0);
  }

  /** Hears the engine's committed ends: a failure may have written an alert (cheap when it did not). */
  listen(events: EngineEmitter): void {
    const onInstance = (e: { status: FlowInstanceStatus }) => alertEventOfInstanceEnd(e.status) && this.wake();
    const onTask = (e: { status: TaskInstanceStatus }) => mayHaveAlerted(e.status) && this.wake();
    events.on('instanceEnded', onInstance);
    events.on('taskEnded', onTask);
    this.unsubscribe.push(() => events.off('instanceEnded', onInstance), () => events.off('taskEnded', onTask));
  }

  /** Runs a pass soon (never inside the caller's stack: the engine must not wait). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await Promise.race([this.running, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    this.channels.close();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        }
      });
    }, Math.max(0, ms));
    this.timer.unref();
  }

  /** Claims and sends until nothing is due, then sleeps until the next due alert (at most a poll interval). */
  private async pass(): Promise<void> {
    const poll = this.o.config.alertPollMs;
    let delay = poll;
    try {
      for (;;) {
        const batch = await this.o.store.claimAlerts(this.id, this.o.clock.now(), this.o.leaseMs ?? ALERT_LEASE_MS, BATCH);
        await Promise.all(batch.map((a) => this.deliver(a)));
        if (batch.length < BATCH || this.stopped) break;
      }
      const next = await this.o.store.nextAlertAt();
      if (next !== null) delay = Math.min(poll, Math.max(0, next - this.o.clock.now()));
    } catch (err) {
      this.o.logger.warn({ err }, 'alert sender: pass failed; trying again');
    }
    if (!this.again) this.schedule(delay);
  }

  /** One try of one claimed alert: every channel not final yet, then the result under the claim. */
  private async deliver(a: ClaimedAlert): Promise<void> {
    try {
      const ctx = await alertContext(this.o.store, a, { publicUrl: this.o.publicUrl, timezone: this.o.config.timezone });
      const before = new Map(a.deliveries.map((d) => [d.channel, d]));
      const untouched = a.deliveries.filter((d) => isFinalDelivery(d.status));
      const todo = channelsOf(a.alertMode, this.o.config.alertWebhookUrl !== '').filter((c) => !untouched.some((d) => d.channel === c));
      const tried = await Promise.all(todo.map(async (channel) => ({ channel, before: before.get(channel), ...(await this.send(channel, ctx)) })));
      const now = this.o.clock.now();
      const policy = { baseMs: this.o.config.alertRetryBaseMs, maxMs: this.o.config.alertRetryMaxMs, giveUpMs: this.o.config.alertGiveUpMs };
      const result = afterTry(a, tried, untouched, now, policy);
      if (!(await this.o.store.recordAlertResult(a, result, now))) {
        this.o.logger.warn({ alertId: a.id }, 'alert sender: the claim ran out before the result was recorded; it is tried again');
        return;
      }
      this.log(a, result.deliveries, result.status);
    } catch (err) {
      // A store read failed (or a bug): the claim runs out and the alert is tried again then.
      this.o.logger.warn({ err, alertId: a.id, instanceId: a.instanceId }, 'alert sender: try failed; retried when its claim runs out');
    }
  }

  private async send(channel: AlertChannel, c: AlertContext): Promise<{ to: string[]; outcome: SendOutcome }> {
    const { emails, phones } = c.recipients;
    const cfg = this.o.config;
    if (channel === 'email') {
      if (!cfg.smtpHost) return { to: emails, outcome: { kind: 'skipped', why: 'email is not configured (BATCHFLOW_SMTP_HOST, --smtp-host)' } };
      if (emails.length === 0) return { to: [], outcome: { kind: 'skipped', why: 'no owner has an email address and alertTo names none (batchflow admin user set USER --email ...)' } };
      return { to: emails, outcome: await this.channels.mail({ to: emails, subject: subject(c), text: mailText(c), alertId: c.alert.id }) };
    }
    if (channel === 'sms') {
      if (!cfg.smsWebhookUrl) return { to: phones, outcome: { kind: 'skipped', why: 'SMS is not configured (BATCHFLOW_SMS_WEBHOOK_URL, --sms-webhook-url)' } };
      if (phones.length === 0) return { to: [], outcome: { kind: 'skipped', why: 'no owner has a phone number and alertTo names none (batchflow admin user set USER --phone ...)' } };
      return { to: phones, outcome: await this.channels.post(cfg.smsWebhookUrl, smsPayload(c), c.alert.id) };
    }
    return { to: [shownUrl(cfg.alertWebhookUrl)], outcome: await this.channels.post(cfg.alertWebhookUrl, webhookPayload(c), c.alert.id) };
  }

  private log(a: ClaimedAlert, deliveries: Delivery[], status: string): void {
    const summary = deliveries.map((d) => `${d.channel} ${d.status}${d.error ? ` (${d.error})` : ''}`).join(', ');
    const fields = { alertId: a.id, instanceId: a.instanceId, event: a.event, status, tries: a.tries };
    if (deliveries.some((d) => d.status === 'RETRYING' || d.status === 'FAILED')) this.o.logger.warn(fields, `alert: ${summary}`);
    else this.o.logger.info(fields, `alert: ${summary}`);
  }
}

/** The base of console links: the configured public URL, else where the API listens, else host:port. */
export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, apiUrl: string): string {
  if (config.publicUrl) return config.publicUrl;
  if (apiUrl) return apiUrl;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/** Starts the sender of a process that runs the engine, woken by that engine's ends. */
export function startAlertSender(o: AlertSenderOptions & { engine: { events: EngineEmitter } }): AlertSender {
  const sender = new AlertSender(o);
  sender.listen(o.engine.events);
  sender.start();
  return sender;
}
