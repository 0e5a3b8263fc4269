// Rerun through the real API and engine (contract §12): a chain that failed at its middle task resumes
// there (`failed`: the succeeded task keeps its one attempt, the failed one runs attempt 2, the rest run),
// `all` runs a SUCCESS instance again, a triggerFromTask instance reruns only its run set, a rerun queues
// behind a running instance of its flow (one at a time), and every refusal names its reason.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFlow, startInProcess, taskInstIds, taskStatuses, waitFor, waitForInstanceEnd, type Client, type InProcess } from './harness.js';

let env: InProcess;
let c: Client;
let flagDir: string;

beforeAll(async () => {
  env = await startInProcess();
  c = env.client;
  flagDir = mkdtempSync(path.join(os.tmpdir(), 'bf-rerun-'));
  chmodSync(flagDir, 0o777); // tasks may run as the service's task user (src/engine/taskUsers.ts)
});
afterAll(async () => {
  await env.close();
  rmSync(flagDir, { recursive: true, force: true });
});

const rerun = (flowInstId: string, mode?: string) => c.raw('POST', 'flowInstances', 'rerun', mode === undefined ? { flowInstId } : { flowInstId, mode });
const decoded = async (id: string) => (await c.instance(id)).tasks as Array<{ taskName: string; status: string; runNum: number; attempts: Array<{ runNum: number; outcome: string }> }>;
const runNums = async (id: string) => Object.fromEntries((await decoded(id)).map((t) => [t.taskName, t.runNum]));

describe('rerun', () => {
  it('failed: resumes at the failure point, keeps id, trigger time and the earlier attempts, and records who reran it', async () => {
    const flag = path.join(flagDir, 'b-ok');
    const flowId = await importFlow(c, 'chain', [
      { name: 'a', cmd: 'echo a' },
      { name: 'b', cmd: `test -f ${flag} && echo b-ok || { echo b-failed; exit 3; }` },
      { name: 'c', cmd: 'echo c' },
    ], [['a', 'b'], ['b', 'c']]);
    const t = Date.now() - 3_600_000;
    const id = await c.trigger(flowId, t);
    const failed = await waitForInstanceEnd(c, id);
    expect(failed.statusDesc).toBe('FAIL');
    expect(taskStatuses(failed)).toEqual({ a: 'SUCCESS', b: 'FAIL', c: 'SKIP' });

    writeFileSync(flag, '');
    const r = await rerun(id);
    expect(r.code).toBe(0);
    const ids = taskInstIds(failed);
    expect(r.data).toEqual({ flowInstanceId: id, mode: 'failed', resetTaskInstIds: [ids.b, ids.c] });
    const done = await waitForInstanceEnd(c, id);
    expect(done.statusDesc).toBe('SUCCESS');
    expect(done.triggerTimeMs).toBe(t);
    expect(taskStatuses(done)).toEqual({ a: 'SUCCESS', b: 'SUCCESS', c: 'SUCCESS' });
    expect(await runNums(id)).toEqual({ a: 1, b: 2, c: 1 });
    const b = (await decoded(id)).find((x) => x.taskName === 'b')!;
    expect(b.attempts.map((a) => [a.runNum, a.outcome])).toEqual([[1, 'FAIL'], [2, 'SUCCESS']]);
    const log = await c.log(ids.b);
    expect(log).toContain('b-failed');
    expect(log).toContain('b-ok');
    const back = done.transitions.find((h: any) => h.kind === 'instance' && h.to === 'WAIT' && h.from === 'FAIL');
    expect(back?.reason).toBe('rerun (failed) by admin');
    expect(done.transitions.filter((h: any) => h.to === 'INIT' && h.reason === 'rerun (failed) by admin').map((h: any) => h.id).sort()).toEqual([ids.b, ids.c].sort());
  });

  it('all: runs a SUCCESS instance again, every task one more attempt; failed refuses a SUCCESS instance', async () => {
    const flowId = await importFlow(c, 'twice', [{ name: 'x', cmd: 'echo x' }, { name: 'y', cmd: 'echo y' }], [['x', 'y']]);
    const id = await c.trigger(flowId, Date.now() - 7_200_000);
    expect((await waitForInstanceEnd(c, id)).statusDesc).toBe('SUCCESS');
    const refused = await rerun(id, 'failed');
    expect(refused.code).toBe(62102);
    expect(refused.msg).toMatch(new RegExp(`flow instance ${id} is SUCCESS; only an ended instance \\(FAIL, CANCEL or INTERNAL_ERROR`));
    expect((await rerun(id, 'all')).code).toBe(0);
    expect((await waitForInstanceEnd(c, id)).statusDesc).toBe('SUCCESS');
    expect(await runNums(id)).toEqual({ x: 2, y: 2 });
  });

  it('a triggerFromTask instance reruns only its run set', async () => {
    const flowId = await importFlow(c, 'partial', [{ name: 'up', cmd: 'echo up' }, { name: 'mid', cmd: 'exit 1' }, { name: 'down', cmd: 'echo down' }], [['up', 'mid'], ['mid', 'down']]);
    const graph = await c.ok('GET', 'flows', 'get', undefined, `&flowId=${flowId}`);
    const midId = JSON.parse(graph.graph).tasks.find((t: any) => t.taskName === 'mid').taskId;
    const id = (await c.ok('POST', 'flows', 'triggerFromTask', { flowId, taskId: midId, triggerTime: Date.now() - 10_800_000 })).flowInstanceId;
    const failed = await waitForInstanceEnd(c, id);
    expect(taskStatuses(failed)).toEqual({ up: 'SKIP', mid: 'FAIL', down: 'SKIP' });
    const r = await rerun(id, 'all');
    expect(r.data.resetTaskInstIds).toEqual([taskInstIds(failed).mid, taskInstIds(failed).down]);
    const again = await waitForInstanceEnd(c, id);
    expect(again.statusDesc).toBe('FAIL');
    expect(taskStatuses(again)).toEqual({ up: 'SKIP', mid: 'FAIL', down: 'SKIP' });
    expect(await runNums(id)).toEqual({ up: 0, mid: 2, down: 0 });
  });

  it('queues behind a running instance of its flow and starts when it ends', async () => {
    const gate = path.join(flagDir, 'gate');
    const flowId = await importFlow(c, 'queued', [{ name: 'w', cmd: `while [ ! -f ${gate} ]; do sleep 0.05; done; test -f ${gate}.ok` }]);
    const first = await c.trigger(flowId, Date.now() - 600_000);
    writeFileSync(gate, '');
    expect((await waitForInstanceEnd(c, first)).statusDesc).toBe('FAIL');
    rmSync(gate);
    const second = await c.trigger(flowId, Date.now() - 300_000);
    await waitFor(async () => (await c.instance(second)).statusDesc === 'RUNNING', 20_000, 'second running');
    expect((await rerun(first)).code).toBe(0);
    // The first waits (WAIT) while the second runs: one instance of a flow at a time.
    expect((await c.instance(first)).statusDesc).toBe('WAIT');
    writeFileSync(`${gate}.ok`, '');
    writeFileSync(gate, '');
    expect((await waitForInstanceEnd(c, second)).statusDesc).toBe('SUCCESS');
    expect((await waitForInstanceEnd(c, first)).statusDesc).toBe('SUCCESS');
    const a = await c.instance(first);
    const b = await c.instance(second);
    expect(a.startTimeMs).toBeGreaterThanOrEqual(b.endTimeMs);
  });

  it('refuses what cannot be rerun, naming why, and changes nothing', async () => {
    const flowId = await importFlow(c, 'refusals', [{ name: 'slow', cmd: 'sleep 30' }]);
    const id = await c.trigger(flowId, Date.now() - 60_000);
    await waitFor(async () => (await c.instance(id)).statusDesc === 'RUNNING', 20_000, 'running');
    const running = await rerun(id, 'all');
    expect(running.code).toBe(62102);
    expect(running.msg).toMatch(new RegExp(`flow instance ${id} is RUNNING; only an ended instance`));
    const bad = await rerun(id, 'some');
    expect(bad.code).toBe(62102);
    expect(bad.msg).toBe('Invalid parameter: mode must be "failed" or "all", got "some"');
    const unknown = await rerun('999-20260101000000');
    expect(unknown.code).toBe(62102);
    expect(unknown.msg).toMatch(/999-20260101000000 not found/);
    await c.cancel(id);
    await waitForInstanceEnd(c, id);
    // Cancelled: its task ends CANCEL once its process is gone; then a rerun of the failed part runs it again.
    await waitFor(async () => taskStatuses(await c.instance(id)).slow === 'CANCEL', 20_000, 'task cancelled');
    const history = (await c.instance(id)).transitions.length;
    expect((await rerun(id)).code).toBe(0);
    await waitFor(async () => (await c.instance(id)).statusDesc === 'RUNNING', 20_000, 'rerun running');
    expect((await c.instance(id)).transitions.length).toBeGreaterThan(history);
    await c.cancel(id);
    await waitForInstanceEnd(c, id);
  });
});
