// The alert sender's loop against a real SQLite store and channels that fail on purpose: woken by the
// engine's end at once (no poll wait); a store failure in a pass is logged and retried; a result lost
// between the send and its record (a crash) sends again once the lease ran out, and only then (at least
// once); a channel that got through is not sent again while another is retried; after the give-up time
// what did not get through is FAILED with its last error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { AlertSender } from '../../src/alerts/sender.js';
import type { Channels, Mail } from '../../src/alerts/channels.js';
import { testConfig, type Config } from '../../src/config.js';
import { systemClock } from '../../src/domain/clock.js';
import type { SendOutcome } from '../../src/domain/alerts.js';
import { EngineEmitter } from '../../src/engine/events.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { failingStore, type FailWhen } from '../helpers/failingStore.js';
import { spyStore } from '../helpers/spyStore.js';
import { tempStore, type TempStore } from '../helpers/store.js';
import { waitFor } from '../engine/harness.js';
import { flowOf, instanceOf } from '../store/store.contract.js';

const DEADLINE = 20_000;
let ts: TempStore;
let senders: AlertSender[] = [];
let warnings: string[] = [];

beforeEach(async () => {
  ts = await tempStore();
  await ts.store.createOrg({ id: 'o1', name: 'o', createdAt: Date.now() });
  await ts.store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: Date.now(), email: 'alice@example.com', phone: '+1 555 0100' });
  warnings = [];
});
afterEach(async () => {
  for (const s of senders.splice(0)) await s.stop();
  await ts.close();
});

/** Channels whose answers a test scripts: `mail` / `post` get the call number (1, 2, ...). */
function scripted(mail: (n: number) => SendOutcome, post: (n: number) => SendOutcome = () => ({ kind: 'sent' })) {
  const mails: Mail[] = [];
  const posts: unknown[] = [];
  const channels: Channels = {
    mail: async (m) => (mails.push(m), mail(mails.length)),
    post: async (_url, body) => (posts.push(body), post(posts.length)),
    close: () => {},
  };
  return { channels, mails, posts };
}

function sender(store: Store, channels: Channels, over: Partial<Config> = {}, leaseMs?: number): AlertSender {
  const config = testConfig({ smtpHost: 'smtp.test', smsWebhookUrl: 'http://sms.test/x', alertRetryBaseMs: 50, alertRetryMaxMs: 100, alertPollMs: 100, ...over });
  const sink = new Writable({ write: (chunk, _enc, done) => (warnings.push(String(chunk)), done()) });
  const s = new AlertSender({ store, config, clock: systemClock, logger: pino({ level: 'warn' }, sink), publicUrl: 'http://bf.test', channels, leaseMs });
  senders.push(s);
  return s;
}

/** A failed instance of a one-task flow with `alertMode`: its alert row is written. */
async function failedRun(alertMode: number, name = 'f'): Promise<string> {
  const dirId = (await ts.store.getRootDirectory('o1'))!.id;
  const base = flowOf('o1', dirId, 1, { name });
  const f = await ts.store.createFlow({ ...base, flow: { ...base.flow, alertMode, creatorId: 'u1' } });
  const at = Date.now();
  const inst = await ts.store.createFlowInstance(instanceOf(f, at));
  const d = driver(ts.store);
  await d.startInstance(f.flow.id, at);
  const [t] = await ts.store.listTaskInstances(inst.id);
  await d.endTask(t.id, await d.startTask(t.id, at), 'FAIL', at + 1);
  return inst.id;
}

const alertOf = async (id: string) => (await ts.store.listAlerts(id))[0];
const settled = (id: string) => waitFor(async () => ((await alertOf(id))?.status !== 'PENDING' ? alertOf(id) : null), DEADLINE, `alert of ${id} settled`);

describe('the alert sender', () => {
  it('sends at once when the engine reports a failure, not at its next poll', async () => {
    const { channels, mails } = scripted(() => ({ kind: 'sent' }));
    const spy = spyStore(ts.store);
    const s = sender(spy.store, channels, { alertPollMs: 3_600_000 });
    const events = new EngineEmitter();
    s.listen(events);
    s.start();
    // The first pass found nothing and asked when to come back: it sleeps for an hour now.
    await waitFor(async () => (spy.calls.get('nextAlertAt') ?? 0) >= 1, DEADLINE, 'first pass');
    const id = await failedRun(1);
    events.emit('instanceEnded', { instanceId: id, flowId: 1, status: 'FAIL', reason: 'x', at: Date.now(), hr: 0 });
    expect((await settled(id)).status).toBe('SENT');
    expect(mails.map((m) => m.to)).toEqual([['alice@example.com']]);
  });

  it('logs a failing pass and tries again', async () => {
    let claims = 0;
    const store = failingStore(ts.store, (m): FailWhen => (m === 'claimAlerts' && ++claims <= 2 ? 'before' : null));
    const { channels, mails } = scripted(() => ({ kind: 'sent' }));
    const id = await failedRun(1);
    sender(store, channels).start();
    expect((await settled(id)).status).toBe('SENT');
    expect(mails).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('pass failed'))).toHaveLength(2);
  });

  it('sends again when the result of a send was lost (a crash), once the lease ran out, and only then', async () => {
    let records = 0;
    const store = failingStore(ts.store, (m): FailWhen => (m === 'recordAlertResult' && ++records === 1 ? 'before' : null));
    const { channels, mails } = scripted(() => ({ kind: 'sent' }));
    const id = await failedRun(1);
    const started = Date.now();
    sender(store, channels, {}, 500).start();
    const a = await settled(id);
    expect(a).toMatchObject({ status: 'SENT', tries: 2 });
    expect(mails).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('retries only the channel that failed', async () => {
    const { channels, mails, posts } = scripted(() => ({ kind: 'sent' }), (n) => (n < 3 ? { kind: 'failed', error: `HTTP 503 (${n})` } : { kind: 'sent' }));
    const id = await failedRun(3);
    sender(ts.store, channels).start();
    const a = await settled(id);
    expect(a.status).toBe('SENT');
    expect(mails).toHaveLength(1);
    expect(posts).toHaveLength(3);
    expect(a.deliveries.map((d) => [d.channel, d.status, d.tries, d.error])).toEqual([
      ['email', 'SENT', 1, null],
      ['sms', 'SENT', 3, null],
    ]);
  });

  it('gives up after the give-up time: FAILED with the last error', async () => {
    const { channels, mails } = scripted((n) => ({ kind: 'failed', error: `connect ECONNREFUSED (${n})` }));
    const id = await failedRun(1);
    sender(ts.store, channels, { alertGiveUpMs: 600 }).start();
    const a = await settled(id);
    expect(a.status).toBe('FAILED');
    const [d] = a.deliveries;
    expect(d.status).toBe('FAILED');
    expect(d.tries).toBe(mails.length);
    expect(d.tries).toBeGreaterThanOrEqual(3);
    expect(d.error).toBe(`gave up after ${d.tries} tries: connect ECONNREFUSED (${d.tries})`);
  });
});
