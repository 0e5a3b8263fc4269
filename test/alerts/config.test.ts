// Alert configuration (docs/alerts.md): every BATCHFLOW_* variable read and checked, a bad value named by
// the variable or the flag, the SMTP port by TLS mode, and the base of console links.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { smtpPort } from '../../src/alerts/channels.js';
import { publicBaseUrl } from '../../src/alerts/sender.js';

describe('alert configuration', () => {
  it('reads every alert variable', () => {
    const c = loadConfig({}, {
      BATCHFLOW_PUBLIC_URL: 'https://batch.example.com/',
      BATCHFLOW_SMTP_HOST: 'smtp.example.com', BATCHFLOW_SMTP_PORT: '2525', BATCHFLOW_SMTP_TLS: 'TLS', BATCHFLOW_SMTP_USER: 'bf',
      BATCHFLOW_SMTP_PASSWORD: 'pw', BATCHFLOW_SMTP_FROM: 'Batchflow <bf@example.com>',
      BATCHFLOW_SMS_WEBHOOK_URL: 'http://sms-gw:8000/send', BATCHFLOW_ALERT_WEBHOOK_URL: 'https://u:p@hooks.example.com/x',
      BATCHFLOW_ALERT_RETRY_BASE_MS: '1000', BATCHFLOW_ALERT_RETRY_MAX_MS: '60000', BATCHFLOW_ALERT_GIVE_UP_MS: '3600000', BATCHFLOW_ALERT_POLL_MS: '2000',
    });
    expect(c).toMatchObject({
      publicUrl: 'https://batch.example.com', smtpHost: 'smtp.example.com', smtpPort: 2525, smtpTls: 'tls', smtpUser: 'bf', smtpPassword: 'pw',
      smtpFrom: 'Batchflow <bf@example.com>', smsWebhookUrl: 'http://sms-gw:8000/send', alertWebhookUrl: 'https://u:p@hooks.example.com/x',
      alertRetryBaseMs: 1000, alertRetryMaxMs: 60000, alertGiveUpMs: 3600000, alertPollMs: 2000,
    });
    expect(loadConfig({}, {})).toMatchObject({ publicUrl: '', smtpHost: '', smtpPort: 0, smtpTls: 'starttls', smsWebhookUrl: '', alertWebhookUrl: '', alertRetryBaseMs: 5000, alertRetryMaxMs: 600000, alertGiveUpMs: 86400000 });
  });

  it('names the variable or the flag of a bad value (without a URL’s credentials)', () => {
    expect(() => loadConfig({}, { BATCHFLOW_SMTP_TLS: 'ssl' })).toThrow('BATCHFLOW_SMTP_TLS must be tls, starttls or none, got "ssl"');
    expect(() => loadConfig({}, { BATCHFLOW_SMS_WEBHOOK_URL: 'ftp://u:secret@x/y' })).toThrow('BATCHFLOW_SMS_WEBHOOK_URL must be an http:// or https:// URL, got "ftp://***@x/y"');
    expect(() => loadConfig({}, { BATCHFLOW_SMTP_FROM: 'not an address' })).toThrow(/^BATCHFLOW_SMTP_FROM must be an address/);
    expect(() => loadConfig({ publicUrl: 'batch.example.com' }, {}, { publicUrl: '--public-url' })).toThrow('--public-url must be an http:// or https:// URL');
    expect(() => loadConfig({ smtpPort: '70000' }, {}, { smtpPort: '--smtp-port' })).toThrow('--smtp-port must be between 0 and 65535, got 70000');
  });

  it('takes the SMTP port from the TLS mode unless given, and links to the public URL, else the API', () => {
    expect((['tls', 'starttls', 'none'] as const).map((smtpTls) => smtpPort({ smtpPort: 0, smtpTls }))).toEqual([465, 587, 25]);
    expect(smtpPort({ smtpPort: 2525, smtpTls: 'tls' })).toBe(2525);
    const c = { publicUrl: '', host: '0.0.0.0', port: 8080 };
    expect(publicBaseUrl({ ...c, publicUrl: 'https://bf.example.com' }, 'http://0.0.0.0:8080')).toBe('https://bf.example.com');
    expect(publicBaseUrl(c, 'http://127.0.0.1:41234')).toBe('http://127.0.0.1:41234');
    expect(publicBaseUrl(c, '')).toBe('http://0.0.0.0:8080');
  });
});
