// The pure rules of alerts (src/domain/alerts.ts): channels per alertMode, alertTo's entries, the backoff,
// and the state after a try (retried, given up, skipped, sent).
import { describe, expect, it } from 'vitest';
import { afterTry, backoffMs, channelsOf, parseAlertTo, type Delivery } from '../../src/domain/alerts.js';

const POLICY = { baseMs: 5_000, maxMs: 600_000, giveUpMs: 86_400_000 };
const T = 1_700_000_000_000;

describe('alert rules', () => {
  it('sends email for modes 1 and 3, SMS for 2 and 3, the webhook whenever it is configured', () => {
    expect([0, 1, 2, 3].map((m) => channelsOf(m, false))).toEqual([[], ['email'], ['sms'], ['email', 'sms']]);
    expect(channelsOf(1, true)).toEqual(['email', 'webhook']);
  });

  it('reads alertTo entries as addresses, phone numbers or user names', () => {
    expect(parseAlertTo(' ops@example.com; +86 138-0000-0000 ,bob;;12;alice.w ')).toEqual({
      emails: ['ops@example.com'], phones: ['+86 138-0000-0000'], userNames: ['bob', '12', 'alice.w'],
    });
  });

  it('waits 5 s, doubling per try, at most 10 minutes', () => {
    expect([1, 2, 3, 4, 7, 8, 9, 500].map((n) => backoffMs(n, POLICY))).toEqual([5_000, 10_000, 20_000, 40_000, 320_000, 600_000, 600_000, 600_000]);
  });

  it('keeps a failed channel RETRYING until the give-up time, then FAILED; never later than it', () => {
    const failed = { channel: 'sms' as const, to: ['+1 555'], outcome: { kind: 'failed' as const, error: 'HTTP 503' }, before: undefined };
    const r = afterTry({ tries: 3, createdAt: T }, [failed], [], T + 60_000, POLICY);
    expect(r).toEqual({ status: 'PENDING', nextAt: T + 60_000 + 20_000, deliveries: [{ channel: 'sms', to: ['+1 555'], status: 'RETRYING', tries: 1, error: 'HTTP 503', sentAt: null }] });
    expect(afterTry({ tries: 200, createdAt: T }, [failed], [], T + POLICY.giveUpMs - 1_000, POLICY).nextAt).toBe(T + POLICY.giveUpMs);
    const before: Delivery = { ...r.deliveries[0], tries: 150 };
    const last = afterTry({ tries: 151, createdAt: T }, [{ ...failed, before }], [], T + POLICY.giveUpMs, POLICY);
    expect(last.status).toBe('FAILED');
    expect(last.deliveries[0]).toMatchObject({ status: 'FAILED', tries: 151, error: 'gave up after 151 tries: HTTP 503' });
  });

  it('is SENT when something got through and nothing failed; FAILED when nobody was told', () => {
    const sent = { channel: 'email' as const, to: ['a@x'], outcome: { kind: 'sent' as const }, before: undefined };
    const skipped = { channel: 'sms' as const, to: [], outcome: { kind: 'skipped' as const, why: 'no owner has a phone number' }, before: undefined };
    const both = afterTry({ tries: 1, createdAt: T }, [skipped, sent], [], T + 1, POLICY);
    expect(both.status).toBe('SENT');
    expect(both.deliveries.map((d) => [d.channel, d.status, d.tries, d.sentAt, d.error])).toEqual([
      ['email', 'SENT', 1, T + 1, null],
      ['sms', 'SKIPPED', 0, null, 'no owner has a phone number'],
    ]);
    expect(afterTry({ tries: 1, createdAt: T }, [skipped], [], T + 1, POLICY).status).toBe('FAILED');
  });
});
