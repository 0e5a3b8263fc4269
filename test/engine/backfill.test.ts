// Backfill through the real API and engine (contract §12): the instances of a range run one at a time in
// trigger-time order, each with its own trigger time in its environment, and a rerun of one of them
// afterwards runs it again under the same id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, waitForInstanceEnd, type Client, type InProcess } from './harness.js';

let env: InProcess;
let c: Client;
beforeAll(async () => {
  env = await startInProcess({ timezone: 'UTC' });
  c = env.client;
});
afterAll(() => env.close());

describe('backfill in the engine', () => {
  it('runs the range one instance at a time in trigger-time order, each at its own trigger time', async () => {
    const dirs = await c.ok('GET', 'directories', 'listWorkFlowDirs');
    // Periodic but inactive: only the backfill makes instances.
    const flowJson = {
      name: 'daily', type: 1, active: 0, cron: '0 0 2 * * ? *',
      tasks: [{ name: 'show', type: 'SHELL', cmd: 'echo "at $BATCHFLOW_TRIGGER_TIME_TEXT"; sleep 0.05', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' }],
      relations: [],
    };
    const flowId = Number((await c.ok('POST', 'flows', 'import', { flowName: 'daily', desc: '', dirId: dirs[0].key, flowJson })).flowId);
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const data = await c.ok('POST', 'flows', 'backfill', { flowId, fromTime: today - 5 * day, toTime: today - day });
    expect(data.flowInstanceIds).toHaveLength(4);
    expect(data.skipped).toEqual([]);
    const ends = [];
    for (const id of data.flowInstanceIds) ends.push(await waitForInstanceEnd(c, id, 30_000));
    expect(ends.map((i) => i.statusDesc)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(ends.map((i) => i.triggerTimeMs)).toEqual([5, 4, 3, 2].map((d) => today - d * day + 2 * 3_600_000));
    for (let k = 1; k < ends.length; k++) expect(ends[k].startTimeMs).toBeGreaterThanOrEqual(ends[k - 1].endTimeMs);
    const first = ends[0];
    const taskInstId = JSON.parse(first.graph).tasks[0].taskInstId;
    expect(await c.log(taskInstId)).toContain(`at ${new Date(today - 5 * day + 2 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19)}`);
  });
});
