// Regression tests, one per engine bug of issue 6, named after what was broken. Real processes, an
// in-process server, and a store that fails on purpose (test/helpers/failingStore.ts) where the bug needs
// one. The simulator (test/sim) covers these and their combinations on virtual time; these prove them on
// the real executor, spawner and SQLite file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { driver } from '../helpers/drive.js';
import { failingStore, type FailWhen } from '../helpers/failingStore.js';
import { importFlow, startInProcess, taskInstIds, tempDir, waitFor, waitForInstanceEnd, type InProcess } from './harness.js';

let h: InProcess | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** A server whose store fails while `fail` says so; `calls` counts the calls of each method. */
async function serverWithFailures(fail: (method: string, n: number) => FailWhen, overrides = {}) {
  const calls = new Map<string, number>();
  let armed = false;
  h = await startInProcess({ engineRescanMs: 300, ...overrides }, undefined, {
    wrapStore: (s) =>
      failingStore(s, (m) => {
        const n = (calls.get(m) ?? 0) + 1;
        calls.set(m, n);
        return armed ? fail(m, n) : null;
      }),
  });
  const failures: string[] = [];
  h.server.engine!.events.on('stepFailed', (e) => failures.push(`${e.where}: ${(e.error as Error).message}`));
  return { h, calls, failures, arm: () => (armed = true), disarm: () => (armed = false) };
}

describe('engine regressions (issue 6)', () => {
  it('a failed engine step no longer stops the engine: the step is retried and later triggers still run', async () => {
    let failing = 3;
    const { h, failures, arm } = await serverWithFailures((m) => (m === 'engineTx' && failing-- > 0 ? 'before' : null));
    const flowId = await importFlow(h.client, 'retried_steps', [{ name: 'a', cmd: 'true' }, { name: 'b', cmd: 'true' }], [['a', 'b']]);
    arm();
    const first = await h.client.trigger(flowId);
    expect((await waitForInstanceEnd(h.client, first)).statusDesc).toBe('SUCCESS');
    expect(failures.length).toBeGreaterThanOrEqual(3);
    // Nobody listens for an 'error' event: an engine that emitted one would have thrown here.
    expect(h.server.engine!.events.listenerCount('error')).toBe(0);
    const second = await h.client.trigger(flowId, Date.now() - 120_000); // another minute, due at once
    expect((await waitForInstanceEnd(h.client, second)).statusDesc).toBe('SUCCESS');
  });

  it("an attempt's end whose commit fails is committed later, not dropped, and the task is not run again", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'runs');
    let endFailures = 0;
    let running = false;
    const { h, failures, arm } = await serverWithFailures((m) => {
      // While the task runs, every decision fails: its end's commit (and retries of it) among them.
      if (m === 'engineTx' && running && endFailures < 6) {
        endFailures++;
        return endFailures % 2 === 0 ? 'after' : 'before'; // some of them commit and still answer an error
      }
      return null;
    });
    const flowId = await importFlow(h.client, 'lost_end', [{ name: 'once', cmd: `echo run >> ${file}; sleep 0.3`, retryLimit: 2 }]);
    h.server.engine!.events.on('taskStarted', () => (running = true));
    arm();
    const id = await h.client.trigger(flowId);
    const inst = await waitForInstanceEnd(h.client, id);
    expect(inst.statusDesc).toBe('SUCCESS');
    expect(endFailures).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    const t = await h.client.taskInstance(taskInstIds(inst).once);
    expect(t.runNum).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('run\n');
  });

  it('a cancel racing a start no longer loses READY tasks of other instances: they still run', async () => {
    const { h, arm } = await serverWithFailures(() => null, { workerConcurrency: 1 });
    const long = await importFlow(h.client, 'long', [{ name: 'sleeper', cmd: 'sleep 30' }]);
    const other = await importFlow(h.client, 'other', [{ name: 'x', cmd: 'true' }, { name: 'y', cmd: 'true' }], [['x', 'y']]);
    arm();
    const a = await h.client.trigger(long);
    await waitFor(async () => (await h.client.instance(a)).statusDesc === 'RUNNING' && h.server.engine!.runningCount() === 1, 10_000, 'the long task');
    // The other instance starts and its root waits, READY, for the only slot.
    const b = await h.client.trigger(other);
    await waitFor(async () => taskStatusOf(await h.client.instance(b), 'x') === 'READY', 10_000, 'x READY');
    await h.client.cancel(a);
    const inst = await waitForInstanceEnd(h.client, b);
    expect(inst.statusDesc).toBe('SUCCESS');
    expect((await waitForInstanceEnd(h.client, a)).statusDesc).toBe('CANCEL');
  });

  it("recovery touches only a gone engine's attempts: a live engine's attempt on another host is left alone until its lease expires", async () => {
    const fast = { engineHeartbeatMs: 100, engineLeaseMs: 1_000, engineRescanMs: 100 };
    const first = await startInProcess(fast);
    const flowId = await importFlow(first.client, 'elsewhere', [{ name: 'remote', cmd: 'true', retryLimit: 1 }]);
    // Another engine, on another host, claims the task: the instance is started and the attempt opened
    // through the store, as that engine would, while ours is stopped.
    const now = Date.now();
    await first.server.store.registerEngine({ id: 'far-away', host: 'elsewhere', pid: 1, procStart: null, startedAt: now, heartbeatAt: now, leaseUntil: now + 60_000, state: 'live', endedAt: null });
    await first.server.engine!.stop(0);
    const drive = driver(first.server.store, 'far-away');
    const id = await first.client.trigger(flowId);
    await drive.startInstance(flowId, Date.now());
    const [t] = await first.server.store.listTaskInstances(id);
    await drive.startTask(t.id, Date.now());
    await first.server.close();
    // Restart on the same data directory while the remote engine keeps renewing its lease.
    let recoveryPasses = 0;
    h = await startInProcess(fast, undefined, {
      dataDir: first.dataDir,
      wrapStore: (s) =>
        failingStore(s, (m) => {
          if (m === 'listEngines') recoveryPasses++; // each recovery pass of our engine lists the engines
          return null;
        }),
    });
    const store = h.server.store;
    let renewing = true;
    const renew = (async () => {
      while (renewing) {
        await store.renewEngineLease('far-away', Date.now(), Date.now() + 1_000);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor(async () => recoveryPasses >= 5, 20_000, 'five recovery passes of our engine');
    expect((await store.listOpenAttemptsOf('far-away')).map((a) => a.taskInstanceId)).toEqual([t.id]);
    expect((await store.getTaskInstanceById(t.id))?.status).toBe('RUNNING');
    renewing = false;
    await renew;
    // Its lease expires: our engine takes over: LOST (it ran elsewhere: nothing killed here), then the retry.
    const inst = await waitForInstanceEnd(h.client, id, 20_000);
    expect(inst.statusDesc).toBe('SUCCESS');
    const attempts = await store.listAttempts(t.id);
    expect(attempts.map((a) => [a.runNum, a.status, a.engineId === 'far-away'])).toEqual([[1, 'LOST', true], [2, 'SUCCESS', false]]);
    expect(attempts[0].host).not.toBe(h.config.hostName); // the test driver's attempts run on host 'h'
    expect(await h.client.log(t.id)).toMatch(/attempt lost: its engine far-away \(host h, pid unknown\) is gone \(its lease expired at .*\); .*; it ran on host h, whose processes this host cannot check/);
  });
});

function taskStatusOf(inst: { graph: string }, name: string): string {
  return (JSON.parse(inst.graph).tasks as Array<{ taskName: string; status: string }>).find((t) => t.taskName === name)!.status;
}
