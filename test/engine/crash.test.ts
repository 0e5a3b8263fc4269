// Crash safety with the real CLI server as a child process: kill -9 mid-run, restart, and every instance
// still ends, no attempt overlaps its retry; SIGTERM lets running tasks finish within the grace period and
// stops (then reruns after restart) the ones that outlast it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChildServer, freePort, importFlow, taskInstIds, tempDir, waitFor, waitForInstanceEnd } from './harness.js';

let server: ChildServer | null = null;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = null;
});

/** Each attempt writes "start", then a tick every 100 ms for `ticks` ticks, then "end", tagged with its attempt. */
const ticking = (file: string, ticks: number) =>
  `tag="$BATCHFLOW_TASK_INSTANCE_ID#$BATCHFLOW_RUN_NUM"; echo "$tag start $(date +%s%N)" >> ${file}; ` +
  `i=0; while [ $i -lt ${ticks} ]; do sleep 0.1; echo "$tag tick $(date +%s%N)" >> ${file}; i=$((i+1)); done; echo "$tag end $(date +%s%N)" >> ${file}`;

it('recovers after kill -9: every instance ends and no attempt overlaps its retry', async () => {
  const dataDir = tempDir();
  const file = path.join(tempDir(), 'ticks');
  server = new ChildServer(dataDir, freePort());
  await server.start();
  const c = server.client;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const flowId = await importFlow(c, `crash_${i}`, [
      { name: 'first', cmd: ticking(file, 20), retryLimit: 1, retryInterval: 0 },
      { name: 'second', cmd: ticking(file, 2), retryLimit: 1, retryInterval: 0 },
    ], [['first', 'second']]);
    ids.push(await c.trigger(flowId));
  }
  // The file appears with the first task's start: on a loaded machine, later than the triggers' answers.
  await waitFor(async () => existsSync(file) && readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(' tick ')).length >= 6, 10_000, 'ticks');
  await server.stop('SIGKILL');
  const killedAt = Date.now();

  server = new ChildServer(dataDir, server.port);
  await server.start();
  for (const id of ids) {
    const inst = await waitForInstanceEnd(server.client, id, 30_000);
    expect(inst.statusDesc).toBe('SUCCESS');
    const first = await server.client.taskInstance(taskInstIds(inst).first);
    expect(first.runNum).toBe(2);
    const log = await server.client.log(taskInstIds(inst).first);
    // The new server sees the dead engine's process gone; on a loaded machine whose restart outlasts the
    // lease, it finds the lease expired first. Either is a correct recovery of the same attempt.
    expect(log).toMatch(/attempt lost: its engine \S+ \(host .*\) is gone \((its process \d+ on .* is gone|its lease expired at \S+)\)/);
  }
  // No overlap: every line of attempt 1 of a task comes before the start of its attempt 2.
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' '));
  const byTask = new Map<string, Array<{ run: number; what: string; ms: number }>>();
  for (const [tag, what, ns] of lines) {
    const [task, run] = tag.split('#');
    if (!byTask.has(task)) byTask.set(task, []);
    byTask.get(task)!.push({ run: Number(run), what, ms: Number(ns) / 1e6 });
  }
  let retried = 0;
  for (const [, events] of byTask) {
    const secondStart = events.find((e) => e.run === 2 && e.what === 'start');
    if (!secondStart) continue;
    retried++;
    for (const e of events.filter((e) => e.run === 1)) expect(e.ms).toBeLessThan(secondStart.ms);
    expect(secondStart.ms).toBeGreaterThan(killedAt);
  }
  expect(retried).toBe(3);
}, 90_000);

it('on SIGTERM lets short tasks finish, stops long ones, and reruns them after restart', async () => {
  const dataDir = tempDir();
  server = new ChildServer(dataDir, freePort(), { BATCHFLOW_SHUTDOWN_GRACE_MS: '1500' });
  await server.start();
  const c = server.client;
  const shortFlow = await importFlow(c, 'short', [{ name: 's', cmd: 'sleep 0.5; echo short done' }]);
  const longFlow = await importFlow(c, 'long', [{ name: 'l', cmd: 'echo "run $BATCHFLOW_RUN_NUM"; sleep 4; echo long done' }]);
  const shortId = await c.trigger(shortFlow);
  const longId = await c.trigger(longFlow);
  await waitFor(async () => (await c.instance(longId)).statusDesc === 'RUNNING' && (await c.instance(shortId)).statusDesc === 'RUNNING');
  const t0 = Date.now();
  expect(await server.stop('SIGTERM')).toBe(0);
  expect(Date.now() - t0).toBeLessThan(6000);

  server = new ChildServer(dataDir, server.port);
  await server.start();
  const short = await waitForInstanceEnd(server.client, shortId);
  expect(short.statusDesc).toBe('SUCCESS');
  expect(await server.client.log(taskInstIds(short).s)).toContain('short done');
  const long = await waitForInstanceEnd(server.client, longId, 20_000);
  expect(long.statusDesc).toBe('SUCCESS');
  const log = await server.client.log(taskInstIds(long).l);
  expect(log).toContain('stopped by service shutdown');
  expect(log).toContain('run 2');
  expect(log).toContain('long done');
}, 60_000);
