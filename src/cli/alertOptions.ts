// The `serve` flags of alerts (contract §12, docs/alerts.md): the public URL of alert links, SMTP, the SMS
// and generic webhooks. Each sets the setting of its BATCHFLOW_* variable (flags win); values are checked
// by src/config.ts like the variables'. Kept apart so that src/cli/main.ts only lists them.
import type { Command } from 'commander';
import type { Config } from '../config.js';

const FLAGS: Array<[keyof Config, string, string]> = [
  ['publicUrl', '--public-url <url>', 'the service as people reach it, for links in alerts (default http://<host>:<port>)'],
  ['smtpHost', '--smtp-host <host>', 'SMTP server for email alerts (none: email alerts are skipped)'],
  ['smtpPort', '--smtp-port <n>', 'SMTP port (default by --smtp-tls: 465, 587 or 25)'],
  ['smtpTls', '--smtp-tls <mode>', 'tls, starttls (default) or none'],
  ['smtpUser', '--smtp-user <user>', 'SMTP user name'],
  ['smtpPassword', '--smtp-password <password>', 'SMTP password (prefer BATCHFLOW_SMTP_PASSWORD: flags show in ps)'],
  ['smtpFrom', '--smtp-from <address>', 'From of alert mail (default batchflow@<host name>)'],
  ['smsWebhookUrl', '--sms-webhook-url <url>', 'SMS alerts are POSTed here as JSON (none: SMS alerts are skipped)'],
  ['alertWebhookUrl', '--alert-webhook-url <url>', 'every alert is also POSTed here as JSON'],
];

/** Setting <- commander attribute (`--smtp-host` is `smtpHost`): for main.ts's FLAG_OF. */
export const ALERT_FLAG_OF: Partial<Record<keyof Config, string>> = Object.fromEntries(FLAGS.map(([key]) => [key, key]));

export function alertOptions(cmd: Command): Command {
  for (const [, flags, description] of FLAGS) cmd.option(flags, description);
  return cmd;
}
