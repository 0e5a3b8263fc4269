// The typed SDK (src/client): its route table is the registry's; its WebCrypto signer computes what the
// service's node:crypto check does; against a real server with authentication on it imports, triggers,
// reads, follows a log live and cancels; a refused call throws BatchflowApiError with the code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { BatchflowApiError, createClient, ROUTES, type BatchflowClient, type LogStreamEvent } from '../../src/client/index.js';
import { requestSignatureWeb, tokenEncryptionWeb } from '../../src/client/webSigner.js';
import { requestSignature, tokenEncryption } from '../../src/domain/signature.js';
import { startInProcess, waitFor, type InProcess } from '../engine/harness.js';

describe('the SDK route table', () => {
  it('is the registry: every operation (but the event stream, streamLog) with its method, resource and action', () => {
    const registry = OPERATIONS.filter((o) => !o.stream).map((o) => `${o.name} ${o.method} ${o.resource} ${o.action}`).sort();
    const sdk = Object.entries(ROUTES).map(([name, r]) => `${name} ${r.method} ${r.resource} ${r.action}`).sort();
    expect(sdk).toEqual(registry);
    for (const o of OPERATIONS) if (o.name in ROUTES) expect([o.name, ROUTES[o.name as keyof typeof ROUTES].public === true]).toEqual([o.name, o.access === 'public']);
  });
});

describe('the WebCrypto signer', () => {
  const vectors = [
    { accessToken: 'tok', rawQuery: '', rawBody: '', timestamp: '1', appSecret: 's' },
    { accessToken: 'tok-1', rawQuery: 'b=2&a=1&a=0&c=%E4%B8%AD%20x', rawBody: '{"name":"日本 ✓"}', timestamp: '1764750000000', appSecret: 'secret/+=' },
    { accessToken: 'x', rawQuery: 'action=get&flowId=7&userId=u-admin&orgId=o-default', rawBody: '', timestamp: '1700000000001', appSecret: 'ü' },
  ];
  it('signs as the service checks, over non-ASCII, repeated keys and empty parts', async () => {
    for (const v of vectors) expect(await requestSignatureWeb(v)).toBe(requestSignature(v));
    expect(await tokenEncryptionWeb('app-1', 1700000000000, 'sécret')).toBe(tokenEncryption('app-1', 1700000000000, 'sécret'));
  });
});

describe('against a server with authentication on', () => {
  let h: InProcess;
  let bf: BatchflowClient;
  beforeAll(async () => {
    h = await startInProcess({ auth: true, workerConcurrency: 4 });
    const creds = JSON.parse(readFileSync(path.join(h.dataDir, 'bootstrap-credentials.json'), 'utf8'));
    bf = createClient({ baseUrl: h.server.url, accessKey: creds.accessKey, secretKey: creds.secretKey, userId: creds.userId, orgId: creds.orgId });
  });
  afterAll(() => h.close());

  it('imports, triggers, follows the log live and reads the run', async () => {
    const [root] = (await bf.call('listWorkFlowDirs')) as Array<{ key: string }>;
    const flowJson = { name: 'sdk-ticker', type: 0, cycle: 'D', tasks: [{ name: 'tick', type: 'SHELL', cmd: 'for i in 1 2 3; do echo "tick $i"; sleep 0.2; done' }], relations: [] };
    const { flowId } = await bf.call('importFlow', { flowName: 'sdk-ticker', desc: '', dirId: root.key, flowJson });
    const { flowInstanceId } = await bf.triggerFlow(flowId);
    const taskInstId = await waitFor(async () => (await bf.getFlowInstance(flowInstanceId)).tasks?.[0]?.taskInstId || null, 20_000, 'the task instance');
    const events: LogStreamEvent[] = [];
    for await (const e of bf.streamLog(taskInstId)) events.push(e);
    expect(events[0].event).toBe('status');
    expect(events.at(-1)).toEqual({ event: 'end', data: { status: 'SUCCESS', terminal: true } });
    const text = events.map((e) => (e.event === 'log' ? e.data.text : '')).join('');
    expect(text.match(/tick \d/g)).toEqual(['tick 1', 'tick 2', 'tick 3']);
    const run = await bf.getFlowInstance(flowInstanceId);
    expect(run).toMatchObject({ instanceId: flowInstanceId, statusDesc: 'SUCCESS' });
    expect(run.tasks?.[0]).toMatchObject({ taskName: 'tick', status: 'SUCCESS', attempts: [expect.objectContaining({ outcome: 'SUCCESS' })] });
    expect(await bf.getTaskLog(taskInstId)).toContain('tick 3');
    const page = await bf.call('searchFlowInstances', {
      type: 0, expression: 'sdk-ticker', owner: '', status: '', fromTriggerTime: 0, toTriggerTime: Date.now() + 86_400_000,
      pagination: { pageNo: 1, pageSize: 10, sorters: [] },
    } as never);
    expect(page.count).toBe(1);
    // A second run a minute earlier, cancelled while it waits behind nothing: WAIT -> CANCEL.
    const later = await bf.call('triggerFlow', { flowId, triggerTime: Date.now() + 3_600_000 });
    await bf.cancel(later.flowInstanceId);
    expect((await bf.getFlowInstance(later.flowInstanceId)).statusDesc).toBe('CANCEL');
  }, 60_000);

  it('throws BatchflowApiError with the code, message and request id', async () => {
    const err = await bf.call('getFlow', { flowId: 987654 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchflowApiError);
    expect(err).toMatchObject({ operation: 'getFlow', code: 62102, httpStatus: 200 });
    expect((err as BatchflowApiError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    const stream = await (async () => {
      for await (const e of bf.streamLog('1-20240101000000')) void e;
    })().catch((e: unknown) => e);
    expect(stream).toMatchObject({ operation: 'streamTaskInstanceLog', code: 62102 });
    // Unsigned: the gateway's 401.
    const anon = createClient({ baseUrl: h.server.url, userId: 'u-admin', orgId: 'o-default' });
    expect(await anon.call('getFlow', { flowId: 1 }).catch((e: unknown) => e)).toMatchObject({ code: 1202, httpStatus: 401 });
    // Public operations need no identity.
    expect(await anon.call('getTimeZone')).toEqual({ timezone: 'GMT+0' });
  });
});
