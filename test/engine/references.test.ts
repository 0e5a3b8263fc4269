// References between workflows through the real API and engine (contract §10): a report that waits on the
// day's load (a flow reference) and on one of its tasks (a task reference), released by the load's
// success; a failed load keeps it waiting until a later instance in the window succeeds; the reference
// timeout fails it; cancel ends its waits; triggerFromTask waits only on references in its run set.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, waitFor, waitForInstanceEnd, type Client, type InProcess } from './harness.js';

let env: InProcess;
let c: Client;
let flagDir: string;

beforeAll(async () => {
  env = await startInProcess({ timezone: 'Asia/Shanghai' });
  c = env.client;
  flagDir = mkdtempSync(path.join(os.tmpdir(), 'bf-refs-'));
  chmodSync(flagDir, 0o755); // tasks may run as the service's task user (src/engine/taskUsers.ts)
});
afterAll(async () => {
  await env.close();
  rmSync(flagDir, { recursive: true, force: true });
});

async function dirKey(): Promise<string> {
  return (await c.ok('GET', 'directories', 'listWorkFlowDirs'))[0].key;
}

const task = (name: string, cmd: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SHELL', cmd, timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', ...extra });

/** A periodic flow that never fires by itself (its cron is years away): triggered by hand in the tests. */
async function importLoad(name: string, okFlag: string): Promise<number> {
  const flowJson = {
    name,
    type: 1,
    active: 0,
    cron: '0 0 0 1 1 ? 2099',
    tasks: [task('extract', 'true', { asLink: true }), task('publish', `test -f ${okFlag}`)],
    relations: [{ sourceTaskName: 'extract', targetTaskName: 'publish', rerun: true }],
  };
  return Number((await c.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId: await dirKey(), flowJson })).flowId);
}

async function importReport(name: string, load: string, extra: Record<string, unknown> = {}): Promise<number> {
  const flowJson = {
    name,
    type: 0,
    tasks: [task('prepare', 'true'), task('report', 'echo report')],
    relations: [{ sourceTaskName: 'prepare', targetTaskName: 'report', rerun: true }],
    flowLinks: [{ linkId: 'f_load', sourceFlowName: load }],
    taskLinks: [{ linkId: 'l_extract', sourceFlowName: load, sourceTaskName: 'extract' }],
    linkRelations: [
      { linkId: 'f_load', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
      { linkId: 'l_extract', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
    ],
    ...extra,
  };
  return Number((await c.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId: await dirKey(), flowJson })).flowId);
}

const graphOf = async (id: string) => JSON.parse((await c.instance(id)).graph);
const statusOf = async (id: string) => (await c.instance(id)).status;
const refEntries = async (id: string) => (await graphOf(id)).flows as Array<{ nodeId: string; flowInstId: string; status: string; isVirtual: boolean }>;

describe('references in the engine', () => {
  it('waits for the load of the day, is released by its success, and shows the bound instance', async () => {
    const ok = path.join(flagDir, 'ok1');
    writeFileSync(ok, '');
    await importLoad('load1', ok);
    const reportId = await importReport('report1', 'load1');
    const t = Date.now();
    const rep = await c.trigger(reportId, t);
    // The report runs its own root, then waits on the load: RUNNING, `report` INIT, the references unbound.
    await waitFor(async () => (await c.instance(rep)).status === 2 && (await graphOf(rep)).tasks.find((x: any) => x.taskName === 'prepare')?.status === 'SUCCESS', 20_000, 'prepare done');
    const before = await refEntries(rep);
    expect(before.map((f) => [f.nodeId, f.flowInstId, f.status, f.isVirtual])).toEqual([
      ['f_load', '', 'NONE', false],
      ['l_extract', '', 'NONE', true],
    ]);
    expect((await graphOf(rep)).tasks.find((x: any) => x.taskName === 'report').status).toBe('INIT');
    const loadFlowId = Number((before[0] as any).flowId);
    const load = await c.trigger(loadFlowId, t - 60_000);
    const end = await waitForInstanceEnd(c, rep);
    expect(end.status).toBe(1); // SUCCESS
    const after = await refEntries(rep);
    expect(after.map((f) => [f.nodeId, f.flowInstId, f.status])).toEqual([
      ['f_load', load, 'SUCCESS'],
      ['l_extract', load, 'SUCCESS'],
    ]);
  });

  it('keeps waiting while the bound load failed, and a later load in the window releases it', async () => {
    const ok = path.join(flagDir, 'ok2');
    await importLoad('load2', ok);
    const reportId = await importReport('report2', 'load2');
    const loadFlowId = Number((await refEntriesOfNew(reportId))[0]);
    const t = Date.now();
    const failed = await c.trigger(loadFlowId, t - 120_000);
    expect((await waitForInstanceEnd(c, failed)).status).toBe(-1); // FAIL: publish finds no flag
    const rep = await c.trigger(reportId, t);
    await waitFor(async () => (await refEntries(rep))[0].flowInstId === failed, 20_000, 'bound to the failed load');
    expect((await refEntries(rep)).map((f) => f.status)).toEqual(['FAIL', 'SUCCESS']); // the task ref's extract did succeed
    expect(await statusOf(rep)).toBe(2); // still RUNNING: waiting
    writeFileSync(ok, '');
    const rerun = await c.trigger(loadFlowId, t - 60_000);
    expect((await waitForInstanceEnd(c, rep)).status).toBe(1);
    // The task reference was satisfied by the failed instance's extract (it succeeded): it stays so.
    expect((await refEntries(rep)).map((f) => f.flowInstId)).toEqual([rerun, failed]);
  });

  it('fails after its reference timeout naming the reference and its window', async () => {
    await importLoad('load3', path.join(flagDir, 'never'));
    const reportId = await importReport('report3', 'load3', { refTimeoutSec: 1 });
    const rep = await c.trigger(reportId, Date.now());
    const end = await waitForInstanceEnd(c, rep);
    expect(end.status).toBe(-1); // FAIL
    const g = await graphOf(rep);
    expect(g.tasks.find((x: any) => x.taskName === 'report').status).toBe('SKIP');
    const decoded = (await c.instance(rep)).references as Array<{ nodeId: string; status: string; reason: string | null }>;
    expect(decoded.find((r) => r.status === 'FAIL')?.reason).toMatch(/^reference (f_load|l_extract) \(.*load3.*\) timed out after 1 s: no instance of it in the window \d{4}-\d\d-\d\d 00:00 to \d{4}-\d\d-\d\d 00:00 Asia\/Shanghai/);
  });

  it('cancel ends the waiting references', async () => {
    await importLoad('load4', path.join(flagDir, 'never'));
    const reportId = await importReport('report4', 'load4');
    const rep = await c.trigger(reportId, Date.now());
    await waitFor(async () => ((await c.instance(rep)).references ?? []).length === 2, 20_000, 'waits open');
    await c.cancel(rep);
    expect((await waitForInstanceEnd(c, rep)).status).toBe(8); // CANCEL
    expect(((await c.instance(rep)).references as any[]).map((r) => r.status)).toEqual(['CANCEL', 'CANCEL']);
  });

  it('triggerFromTask waits only on references in its run set', async () => {
    await importLoad('load5', path.join(flagDir, 'never'));
    const reportId = await importReport('report5', 'load5');
    const flow = await c.ok('GET', 'flows', 'get', undefined, `&flowId=${reportId}`);
    const reportTask = JSON.parse(flow.graph ?? '{}').tasks?.find((x: any) => x.taskName === 'report') ?? flow.tasks?.find((x: any) => x.taskName === 'report');
    const from = await c.ok('POST', 'flows', 'triggerFromTask', { flowId: reportId, taskId: Number(reportTask.taskId), triggerTime: Date.now() });
    const end = await waitForInstanceEnd(c, from.flowInstanceId ?? from);
    expect(end.status).toBe(1); // ran at once: the references are upstream of the start task, outside the run set
    expect((await c.instance(end.flowInstId ?? from.flowInstanceId ?? from)).references).toEqual([]);
  });
});

/** The referenced flow ids of a report flow (its stored reference nodes). */
async function refEntriesOfNew(reportId: number): Promise<number[]> {
  const f = await c.ok('GET', 'flows', 'get', undefined, `&flowId=${reportId}`);
  const graph = typeof f.graph === 'string' ? JSON.parse(f.graph) : f;
  return (graph.flows as Array<{ flowId: string }>).map((x) => Number(x.flowId));
}

