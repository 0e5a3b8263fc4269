// Alerts end to end (contract §12): a real service (API, engine, alert sender) against a local SMTP server
// and local HTTP receivers. A failing run of an alertMode 1 flow mails each owner once (flow, instance,
// failed task, its last log lines, the console link) and reaches the generic webhook; alertMode 2 posts
// to the SMS webhook; alertMode 0 alerts nobody; a timed-out task alerts; Get Flow Instance (V2.1 and
// V2.0) shows each channel's delivery. A second service whose SMS receiver is down (connection refused)
// retries with backoff until it is back, and skips the channel it has no configuration for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, waitFor, waitForInstanceEnd, taskInstIds, type InProcess } from '../engine/harness.js';
import { closedPort, startHttp, startSmtp, type HttpReceiver, type SmtpReceiver } from './receivers.js';

const DEADLINE = 30_000;
/** Short retries, so that a receiver that comes back is tried again within a second or two. */
const FAST_RETRIES = { alertRetryBaseMs: 200, alertRetryMaxMs: 1_000, alertPollMs: 500 };

let smtp: SmtpReceiver;
let sms: HttpReceiver;
let hook: HttpReceiver;
let env: InProcess;

beforeAll(async () => {
  [smtp, sms, hook] = await Promise.all([startSmtp(), startHttp(), startHttp()]);
  env = await startInProcess({
    ...FAST_RETRIES,
    smtpHost: '127.0.0.1',
    smtpPort: smtp.port,
    smtpTls: 'none',
    smtpFrom: 'alerts@batchflow.test',
    smsWebhookUrl: `${sms.url}/sms`,
    alertWebhookUrl: `${hook.url}/hook?token=secret`,
  });
  const s = env.server.store;
  await s.setUserContact('u-admin', { email: 'admin@example.com' });
  await s.createUser({ id: 'u-bob', name: 'bob', orgId: 'o-default', locked: false, createdAt: Date.now(), email: 'bob@example.com', phone: '+86 138-0000-0001' });
  await s.createUser({ id: 'u-carl', name: 'carl', orgId: 'o-default', locked: false, createdAt: Date.now() });
}, 60_000);
afterAll(async () => {
  await env?.close();
  await Promise.all([smtp?.close(), sms?.close(), hook?.close()]);
});

/** Imports a flow of `tasks` [name, cmd, timeout?] chained in order; returns its id. */
async function importAlerting(e: InProcess, name: string, alertMode: number, tasks: Array<[string, string, number?]>, extra: Record<string, unknown> = {}): Promise<number> {
  const dir = (await e.client.ok('GET', 'directories', 'listWorkFlowDirs'))[0].key;
  const flowJson = {
    name,
    type: 0,
    alertMode,
    owners: 'admin;bob',
    tasks: tasks.map(([n, cmd, timeout]) => ({ name: n, type: 'SHELL', cmd, timeout: timeout ?? 0, retryLimit: 0, retryInterval: 0, successCode: '0' })),
    relations: tasks.slice(1).map(([n], i) => ({ sourceTaskName: tasks[i][0], targetTaskName: n, rerun: true })),
    ...extra,
  };
  return Number((await e.client.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId: dir, flowJson })).flowId);
}

/** Get Flow Instance's alerts once every one of them is final (SENT or FAILED). */
async function settledAlerts(e: InProcess, id: string, count: number): Promise<any[]> {
  return waitFor(async () => {
    const alerts = (await e.client.instance(id)).alerts as any[];
    return alerts.length === count && alerts.every((a) => a.status !== 'PENDING') ? alerts : null;
  }, DEADLINE, `${count} settled alerts of ${id}`);
}

const mailsOf = (id: string) => smtp.mails.filter((m) => m.subject.includes(id));

describe('alerts', () => {
  it('mails each owner of a failed run once, with the failed task, its last log lines and the console link', async () => {
    const flowId = await importAlerting(env, 'nightly_load', 1, [
      ['extract', 'echo extracted'],
      ['load', 'for i in $(seq 1 30); do echo "load line $i"; done; exit 3'],
    ]);
    const id = await env.client.trigger(flowId);
    expect((await waitForInstanceEnd(env.client, id)).statusDesc).toBe('FAIL');
    const loadId = taskInstIds(await env.client.instance(id)).load;
    const [alert] = await settledAlerts(env, id, 1);

    const mails = mailsOf(id);
    expect(mails).toHaveLength(1);
    expect(mails.flatMap((m) => m.to).sort()).toEqual(['admin@example.com', 'bob@example.com']);
    const [m] = mails;
    expect(m.from).toBe('alerts@batchflow.test');
    expect(m.subject).toBe(`[batchflow] flow nightly_load (${flowId}): instance ${id} ended FAIL`);
    expect(m.headers['message-id']).toBe(`<alert-${alert.alertId}@batchflow>`);
    const consoleUrl = `${env.server.url}/console/runs/${id}`;
    for (const part of [`nightly_load (id ${flowId})`, `Instance:      ${id}`, 'Status:        FAIL', 'Trigger time:', `load (task instance ${loadId}): FAIL, exit code 3, attempt 1`, 'Last 20 log lines:', '| load line 30', '| load line 12', '| [batchflow] exit code 3 is not a success code (0)', consoleUrl]) {
      expect(m.text).toContain(part);
    }
    expect(m.text).not.toContain('load line 11\n');
    expect(m.text).not.toContain('extract (task instance');

    // The generic webhook: the same alert, structured, with its id in a header.
    const [post] = hook.posts.filter((p) => p.body.instance.id === id);
    expect(post.path).toBe('/hook?token=secret');
    expect(post.headers['x-batchflow-alert-id']).toBe(alert.alertId);
    expect(post.body).toMatchObject({ type: 'batchflow.alert', event: 'FAIL', flow: { id: flowId, name: 'nightly_load' }, consoleUrl, recipients: { email: ['admin@example.com', 'bob@example.com'] } });
    expect(post.body.tasks).toEqual([expect.objectContaining({ taskInstId: loadId, taskName: 'load', status: 'FAIL', exitCode: 3, timedOut: false })]);
    expect(post.body.tasks[0].logTail.slice(-2)).toEqual(['load line 30', '[batchflow] exit code 3 is not a success code (0)']);

    // Get Flow Instance: the delivery per channel.
    expect(alert).toMatchObject({ event: 'FAIL', taskInstId: null, status: 'SENT', tries: 1, nextTryAt: null });
    expect(alert.deliveries).toEqual([
      { channel: 'email', to: ['admin@example.com', 'bob@example.com'], status: 'SENT', tries: 1, error: null, sentAt: expect.any(String), sentAtMs: expect.any(Number) },
      { channel: 'webhook', to: [`${hook.url}/hook`], status: 'SENT', tries: 1, error: null, sentAt: expect.any(String), sentAtMs: expect.any(Number) },
    ]);
    const v20 = await fetch(`${env.server.url}/dataflow-batch-service/v2.0/flowInstances?action=get&flowInstId=${id}&userId=u-admin&orgId=o-default`).then((r) => r.json());
    expect(v20.data.alerts.map((a: any) => [a.event, a.status])).toEqual([['FAIL', 'SENT']]);
  });

  it('posts an alertMode 2 alert to the SMS webhook: the owners’ phones and alertTo’s', async () => {
    const flowId = await importAlerting(env, 'sms_flow', 2, [['only', 'exit 1']], { alertTo: '+1 555 0100;carl' });
    const id = await env.client.trigger(flowId);
    await waitForInstanceEnd(env.client, id);
    const [alert] = await settledAlerts(env, id, 1);
    const posts = sms.posts.filter((p) => p.body.instance.id === id);
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe('/sms');
    expect(posts[0].body).toMatchObject({ type: 'batchflow.alert.sms', event: 'FAIL', to: ['+86 138-0000-0001', '+1 555 0100'] });
    expect(posts[0].body.text).toContain(`instance ${id} ended FAIL`);
    expect(posts[0].body.text).toContain(`${env.server.url}/console/runs/${id}`);
    expect(alert.deliveries.map((d: any) => [d.channel, d.status])).toEqual([['sms', 'SENT'], ['webhook', 'SENT']]);
    expect(mailsOf(id)).toEqual([]);
  });

  it('writes no alert for a flow with alertMode 0', async () => {
    const flowId = await importAlerting(env, 'quiet_flow', 0, [['only', 'exit 1']]);
    const id = await env.client.trigger(flowId);
    await waitForInstanceEnd(env.client, id);
    // The alert would have been written in the commit of the end, which the instance's status shows.
    expect((await env.client.instance(id)).alerts).toEqual([]);
    expect(hook.posts.filter((p) => p.body.instance.id === id)).toEqual([]);
  });

  it('alerts a task that timed out, beside the failed instance', async () => {
    const flowId = await importAlerting(env, 'slow_flow', 1, [['slow', 'echo starting; sleep 30', 1]]);
    const id = await env.client.trigger(flowId);
    expect((await waitForInstanceEnd(env.client, id)).statusDesc).toBe('FAIL');
    const alerts = await settledAlerts(env, id, 2);
    expect(alerts.map((a) => [a.event, a.status]).sort()).toEqual([['FAIL', 'SENT'], ['TIMEOUT', 'SENT']]);
    const slowId = taskInstIds(await env.client.instance(id)).slow;
    expect(alerts.find((a) => a.event === 'TIMEOUT')).toMatchObject({ taskInstId: slowId, runNum: 1 });
    const timeout = mailsOf(id).find((m) => m.subject.includes('timed out'));
    expect(timeout?.subject).toBe(`[batchflow] flow slow_flow (${flowId}): instance ${id}: task slow timed out (attempt 1)`);
    expect(timeout?.text).toContain(`slow (task instance ${slowId}): TIMEOUT, timed out after 1 s, attempt 1`);
    expect(timeout?.text).toContain('| starting');
    expect(mailsOf(id)).toHaveLength(2);
  });
});

describe('alerts to a receiver that is down', () => {
  it('retries with backoff until the receiver is back, and skips the channel without configuration', async () => {
    const port = await closedPort();
    const down = await startInProcess({ ...FAST_RETRIES, smsWebhookUrl: `http://127.0.0.1:${port}/sms` });
    let receiver: HttpReceiver | null = null;
    try {
      await down.server.store.createUser({ id: 'u-bob', name: 'bob', orgId: 'o-default', locked: false, createdAt: Date.now(), phone: '+86 138-0000-0001' });
      const flowId = await importAlerting(down, 'both_flow', 3, [['only', 'exit 1']]);
      const id = await down.client.trigger(flowId);
      await waitForInstanceEnd(down.client, id);
      // Refused, and tried again: RETRYING with the error, the alert PENDING.
      const retrying = await waitFor(async () => {
        const [a] = (await down.client.instance(id)).alerts as any[];
        const s = a?.deliveries.find((d: any) => d.channel === 'sms');
        return s?.status === 'RETRYING' && s.tries >= 2 ? a : null;
      }, DEADLINE, 'sms RETRYING after two tries');
      expect(retrying.status).toBe('PENDING');
      expect(retrying.nextTryAtMs).toEqual(expect.any(Number));
      expect(retrying.deliveries.find((d: any) => d.channel === 'sms').error).toMatch(/ECONNREFUSED/);
      expect(retrying.deliveries.find((d: any) => d.channel === 'email')).toMatchObject({ status: 'SKIPPED', tries: 0, error: expect.stringContaining('not configured') });

      receiver = await startHttp(port);
      const [a] = await settledAlerts(down, id, 1);
      expect(a.status).toBe('SENT');
      expect(a.deliveries.find((d: any) => d.channel === 'sms')).toMatchObject({ status: 'SENT', to: ['+86 138-0000-0001'], error: null });
      expect(receiver.posts).toHaveLength(1);
      expect(receiver.posts[0].body).toMatchObject({ alertId: a.alertId, to: ['+86 138-0000-0001'] });
    } finally {
      await down.close();
      await receiver?.close();
    }
  });
});
