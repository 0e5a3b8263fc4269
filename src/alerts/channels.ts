// How an alert leaves the process: mail by SMTP (nodemailer) and JSON by HTTP POST (the SMS gateway
// adapter, the generic webhook). Each send is bounded by timeouts (the sender's lease outlasts them) and
// reports a failure as a short line for the delivery record; it never throws and never retries itself.
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import type { SendOutcome } from '../domain/alerts.js';

/** A single HTTP request may take this long at most. */
export const HTTP_TIMEOUT_MS = 30_000;
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  /** The alert's id: the Message-ID, so that a mail sent twice (at least once) reads as one. */
  alertId: string;
}

export interface Channels {
  mail(m: Mail): Promise<SendOutcome>;
  post(url: string, body: unknown, alertId: string): Promise<SendOutcome>;
  close(): void;
}

/** A failure as one line: the error and its cause (fetch's "fetch failed" hides ECONNREFUSED in it). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : '';
  const code = (err as { responseCode?: number }).responseCode;
  return [err.message, cause && !err.message.includes(cause) ? cause : '', code ? `(SMTP ${code})` : ''].filter(Boolean).join(': ').slice(0, 500);
}

/** A webhook URL as shown in delivery records: no credentials, no query (either may hold a secret). */
export function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** fetch refuses a URL with credentials: they become a Basic Authorization header. */
function splitCredentials(url: string): { url: string; authorization: string | null } {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url, authorization: null };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${basic}` };
}

export function smtpPort(config: Pick<Config, 'smtpPort' | 'smtpTls'>): number {
  if (config.smtpPort !== 0) return config.smtpPort;
  return config.smtpTls === 'tls' ? 465 : config.smtpTls === 'starttls' ? 587 : 25;
}

export function createChannels(config: Config, fromHost: string): Channels {
  const from = config.smtpFrom || `batchflow@${fromHost}`;
  const transport = config.smtpHost
    ? nodemailer.createTransport({
        host: config.smtpHost,
        port: smtpPort(config),
        secure: config.smtpTls === 'tls',
        requireTLS: config.smtpTls === 'starttls',
        ignoreTLS: config.smtpTls === 'none',
        auth: config.smtpUser ? { user: config.smtpUser, pass: config.smtpPassword } : undefined,
        ...SMTP_TIMEOUTS,
      })
    : null;
  return {
    async mail(m) {
      if (!transport) return { kind: 'skipped', why: 'email is not configured (BATCHFLOW_SMTP_HOST, --smtp-host)' };
      try {
        const info = await transport.sendMail({
          from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          messageId: `<alert-${m.alertId}@batchflow>`,
          headers: { 'X-Batchflow-Alert-Id': m.alertId },
        });
        // Some recipients refused: the others have it; a retry would send it to them again.
        return info.accepted.length > 0 ? { kind: 'sent' } : { kind: 'failed', error: `every recipient was refused: ${info.response}` };
      } catch (err) {
        return { kind: 'failed', error: describeError(err) };
      }
    },
    async post(url, body, alertId) {
      const target = splitCredentials(url);
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'batchflow-alerts',
            'x-batchflow-alert-id': alertId,
            ...(target.authorization ? { authorization: target.authorization } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        const text = await res.text().catch(() => '');
        if (res.ok) return { kind: 'sent' };
        return { kind: 'failed', error: `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}` };
      } catch (err) {
        return { kind: 'failed', error: describeError(err) };
      }
    },
    close() {
      transport?.close();
    },
  };
}
