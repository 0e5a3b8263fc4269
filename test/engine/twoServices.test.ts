// Two batchflow services on one host, each with its own store: the same flow id, task id and minute give
// both the same task instance id. One is killed -9 and restarts: its recovery kills its own leftover
// task and nothing of the other service (the attempt marker names the store), whose task runs on and
// succeeds on its first attempt.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChildServer, freePort, importFlow, taskInstIds, tempDir, waitFor, waitForInstanceEnd } from './harness.js';

const servers: ChildServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
});

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

it("a restarted service's recovery never touches the tasks of another service on the same host", async () => {
  const files = { a: path.join(tempDir(), 'a'), b: path.join(tempDir(), 'b') };
  const a = new ChildServer(tempDir(), freePort());
  let b = new ChildServer(tempDir(), freePort());
  servers.push(a, b);
  await Promise.all([a.start(), b.start()]);
  // Each attempt runs until the test opens the gate (at most 60 s): A's task is surely still running while
  // B restarts and recovers, however slow the machine, and B's first attempt is surely killed by it.
  const gate = path.join(tempDir(), 'gate');
  const cmd = (file: string) => `echo start >> ${file}; i=0; while [ ! -f ${gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo end >> ${file}`;
  const flowA = await importFlow(a.client, 'same', [{ name: 'work', cmd: cmd(files.a), retryLimit: 1 }]);
  const flowB = await importFlow(b.client, 'same', [{ name: 'work', cmd: cmd(files.b), retryLimit: 1 }]);
  expect(flowA).toBe(flowB); // fresh stores: the same ids
  const at = Date.now();
  const [ia, ib] = [await a.client.trigger(flowA, at), await b.client.trigger(flowB, at)];
  expect(ia).toBe(ib);
  await waitFor(async () => lines(files.a).length === 1 && lines(files.b).length === 1, 15_000, 'both tasks running');

  await b.stop('SIGKILL');
  b = new ChildServer(b.dataDir, b.port);
  servers.push(b);
  await b.start();
  // B's recovery closed its first attempt LOST and its retry runs: now let every attempt finish.
  await waitFor(async () => (await b.client.taskInstance(taskInstIds(await b.client.instance(ib)).work)).runNum === 2, 30_000, "B's retry to start");
  writeFileSync(gate, '');

  const instA = await waitForInstanceEnd(a.client, ia, 30_000);
  expect(instA.statusDesc).toBe('SUCCESS');
  expect((await a.client.taskInstance(taskInstIds(instA).work)).runNum).toBe(1);
  expect(lines(files.a)).toEqual(['start', 'end']);

  const instB = await waitForInstanceEnd(b.client, ib, 30_000);
  expect(instB.statusDesc).toBe('SUCCESS');
  expect((await b.client.taskInstance(taskInstIds(instB).work)).runNum).toBe(2);
  // B's first attempt was killed by B's recovery (it never wrote "end"); its retry ran to the end.
  expect(lines(files.b)).toEqual(['start', 'start', 'end']);
  // Killed by the recovery (by its marker), or already before it by the restarted engine's removal of the
  // dead service's control groups (src/engine/cgroups.ts): either way by B, never by A.
  expect(await b.client.log(taskInstIds(instB).work)).toMatch(/attempt lost: its engine .* is gone \(its process \d+ on .* is gone\); .*; (killed its leftover processes \d+|no process of it was left)/);
}, 120_000);
