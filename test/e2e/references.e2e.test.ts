// References end to end on real processes (issue 10, item 2): `batchflow serve` as a child process, a
// periodic `load` (per-minute cron) and a `report` that references it for the day (D0), one of its tasks
// (asLink) and the day before (D-1). The report waits; the cron's load releases it within 100 ms of its
// success; when the day's load fails it waits again, and a manual rerun of the load in the same window
// releases it; a reference nothing satisfies fails after the reference timeout. Up to three minutes of
// real time: it waits for the next three minute boundaries (two cron fires and the rerun).
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChildServer, freePort, tempDir, waitFor, waitForInstanceEnd, type Client } from '../engine/harness.js';

const DAY = 86_400_000;
let server: ChildServer;
let c: Client;
let dataDir: string;
let flagDir: string;

beforeAll(async () => {
  dataDir = tempDir('bf-refs-e2e-');
  flagDir = mkdtempSync(path.join(os.tmpdir(), 'bf-refs-flag-'));
  chmodSync(flagDir, 0o777);
  server = new ChildServer(dataDir, freePort(), { BATCHFLOW_TIMEZONE: 'UTC' });
  await server.start();
  c = server.client;
}, 60_000);
afterAll(async () => {
  await server?.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(flagDir, { recursive: true, force: true });
});

const task = (name: string, cmd: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SHELL', cmd, timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', ...extra });

async function importFlow(name: string, flowJson: Record<string, unknown>): Promise<number> {
  const dirId = (await c.ok('GET', 'directories', 'listWorkFlowDirs'))[0].key;
  return Number((await c.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId, flowJson: { name, ...flowJson } })).flowId);
}

function reportJson(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 0,
    tasks: [task('report', 'echo report')],
    flowLinks: [
      { linkId: 'today', sourceFlowName: 'load' },
      { linkId: 'yesterday', sourceFlowName: 'load' },
    ],
    taskLinks: [{ linkId: 'extracted', sourceFlowName: 'load', sourceTaskName: 'extract' }],
    linkRelations: [
      { linkId: 'today', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
      { linkId: 'yesterday', targetTaskName: 'report', rerun: true, cycleGap: 'D-1' },
      { linkId: 'extracted', targetTaskName: 'report', rerun: true, cycleGap: 'D0' },
    ],
    ...extra,
  };
}

const waitsOf = async (id: string) => ((await c.instance(id)).references as Array<{ nodeId: string; status: string; flowInstId: string; boundStatus: string }>);
/** The start of the report task's first attempt (epoch ms). */
const reportStart = async (id: string) => (await c.instance(id)).tasks.find((t: any) => t.taskName === 'report').attempts[0]?.startTimeMs as number | undefined;

it('waits on the load, is released by its success, waits again after a failed load, and times out when nothing comes', async () => {
  const ok = path.join(flagDir, 'ok');
  writeFileSync(ok, '');
  const loadId = await importFlow('load', {
    type: 1,
    cron: '0 * * * * ? *',
    tasks: [task('extract', 'true', { asLink: true }), task('publish', `test -f ${ok}`)],
    relations: [{ sourceTaskName: 'extract', targetTaskName: 'publish', rerun: true }],
  });
  // Yesterday's load, by hand: the D-1 reference is satisfied by it.
  const yesterday = await c.trigger(loadId, Date.now() - DAY);
  expect((await waitForInstanceEnd(c, yesterday)).statusDesc).toBe('SUCCESS');
  const reportId = await importFlow('report', reportJson());
  // The cron's first fire comes at the next minute boundary; the report triggered now waits for it
  // (unless the boundary is so near that the fire already happened: then it is bound at once).
  const rep = await c.trigger(reportId, Date.now());
  await waitFor(async () => ((await waitsOf(rep)) ?? []).length === 3, 20_000, 'the report to open its waits');
  const fired = await waitFor(async () => {
    const w = await waitsOf(rep);
    return w.find((x) => x.nodeId === 'today')?.flowInstId || null;
  }, 75_000, 'a cron fire of the load today');
  const load = await waitForInstanceEnd(c, fired, 30_000);
  expect(load.statusDesc).toBe('SUCCESS');
  const report = await waitForInstanceEnd(c, rep, 30_000);
  expect(report.statusDesc).toBe('SUCCESS');
  const waits = await waitsOf(rep);
  expect(waits.map((w) => [w.nodeId, w.status, w.flowInstId])).toEqual([
    ['extracted', 'SUCCESS', fired],
    ['today', 'SUCCESS', fired],
    ['yesterday', 'SUCCESS', yesterday],
  ]);
  // Released within 100 ms of the load's success (the end wakes the dependents in its own commit).
  const released = (await reportStart(rep))! - load.endTimeMs;
  console.info(`references e2e: the report's task started ${released} ms after the load's success`);
  expect(released).toBeGreaterThanOrEqual(0);
  expect(released).toBeLessThan(100);

  // The next fire fails (no flag): a report triggered after it is bound to that failed load and waits.
  unlinkSync(ok);
  // The next minute boundary's fire (ids are the trigger minute in the service zone, UTC here).
  const next = new Date(Math.ceil((Date.now() + 1) / 60_000) * 60_000).toISOString();
  const failed = `${loadId}-${next.slice(0, 4)}${next.slice(5, 7)}${next.slice(8, 10)}${next.slice(11, 13)}${next.slice(14, 16)}00`;
  const fireEnd = await waitFor(async () => {
    const i = await c.instance(failed).catch(() => null);
    return i && ['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'].includes(i.statusDesc) ? i : null;
  }, 90_000, `the cron fire ${failed} of the load`);
  expect(fireEnd.statusDesc).toBe('FAIL');
  await c.ok('POST', 'flows', 'disable', { flowId: loadId }); // no more fires: the rerun below is the only later one
  const rep2 = await c.trigger(reportId, Date.now());
  await waitFor(async () => (await waitsOf(rep2)).find((w) => w.nodeId === 'today')?.flowInstId === failed, 20_000, 'the report bound to the failed load');
  expect((await c.instance(rep2)).statusDesc).toBe('RUNNING');
  writeFileSync(ok, '');
  // A manual rerun later in the window: instance ids are per minute and the failed fire holds this one,
  // so it is triggered for the next minute (due then: up to a minute of waiting).
  const rerun = await c.trigger(loadId, Math.ceil((Date.now() + 1) / 60_000) * 60_000);
  expect((await waitForInstanceEnd(c, rerun, 90_000)).statusDesc).toBe('SUCCESS');
  expect((await waitForInstanceEnd(c, rep2)).statusDesc).toBe('SUCCESS');
  expect((await waitsOf(rep2)).find((w) => w.nodeId === 'today')).toMatchObject({ status: 'SUCCESS', flowInstId: rerun });

  // Tomorrow's load never comes: the reference fails after its timeout, naming itself and its window.
  const never = await importFlow('report tomorrow', reportJson({ refTimeoutSec: 2, linkRelations: [{ linkId: 'today', targetTaskName: 'report', rerun: true, cycleGap: 'D1' }], flowLinks: [{ linkId: 'today', sourceFlowName: 'load' }], taskLinks: [] }));
  const rep3 = await c.trigger(never, Date.now());
  const end = await waitForInstanceEnd(c, rep3, 30_000);
  expect(end.statusDesc).toBe('FAIL');
  expect(end.tasks.find((t: any) => t.taskName === 'report').status).toBe('SKIP');
  expect((await waitsOf(rep3))[0]).toMatchObject({ nodeId: 'today', status: 'FAIL' });
}, 330_000);
