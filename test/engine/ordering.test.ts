// One instance of a flow at a time, in the order they became due: a past trigger time is due at
// creation, a future one waits (WAIT) until its time. The service clock is shifted so that "the next
// minute" is three seconds away; the processes stamp real times into a file, which is the evidence.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importFlow, startInProcess, tempDir, waitForInstanceEnd, type InProcess } from './harness.js';

let h: InProcess;
let offset = 0;
const clock = { now: () => Date.now() + offset };
beforeAll(async () => {
  h = await startInProcess({}, clock);
});
afterAll(() => h.close());

it('runs one instance per flow at a time, past and present at once in creation order, the future one at its time', async () => {
  const file = path.join(tempDir(), 'stamps');
  const flowId = await importFlow(h.client, 'one_at_a_time', [
    { name: 'only', cmd: `echo "\${instance_id} start $(date +%s%N)" >> ${file}; sleep 0.5; echo "\${instance_id} end $(date +%s%N)" >> ${file}` },
  ]);
  // Shift the service clock now (not at load: start-up may take seconds on a loaded machine).
  offset = (57_000 - (Date.now() % 60_000) + 60_000) % 60_000;
  const now = clock.now();
  const futureAt = Math.ceil((now + 1000) / 60_000) * 60_000 + 500;
  const future = await h.client.trigger(flowId, futureAt);
  const waiting = await h.client.instance(future);
  expect(waiting.statusDesc).toBe('WAIT');
  expect(waiting.status).toBe(5);
  const present = await h.client.trigger(flowId, now);
  const past = await h.client.trigger(flowId, now - 3_600_000);

  for (const id of [future, present, past]) expect((await waitForInstanceEnd(h.client, id, 30_000)).statusDesc).toBe('SUCCESS');

  const runs: Array<{ id: string; start: number; end: number }> = [];
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [id, what, ns] = line.split(' ');
    let r = runs.find((x) => x.id === id);
    if (!r) runs.push((r = { id, start: NaN, end: NaN }));
    r[what as 'start' | 'end'] = Number(ns) / 1e6;
  }
  expect(runs.map((r) => r.id)).toEqual([present, past, future]);
  for (let i = 1; i < runs.length; i++) expect(runs[i].start).toBeGreaterThanOrEqual(runs[i - 1].end);
  // the future instance did not start before its trigger time (service clock = real clock + offset)
  expect(runs[2].start + offset).toBeGreaterThanOrEqual(futureAt - 5);
  const f = await h.client.instance(future);
  expect(f.startTimeMs).toBeGreaterThanOrEqual(futureAt);
});
