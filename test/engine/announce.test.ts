// Other workers are told of ready work (tasksReady) only when there is some this engine cannot take: not
// by every safety-net sweep of a saturated engine (each process sweeps on its own), which made a busy
// worker notify the whole deployment every rescan.
import { expect, it } from 'vitest';
import type { Store, StoreEvent } from '../../src/store/store.js';
import { importFlow, startInProcess, waitFor } from './harness.js';

it('a saturated engine announces nothing on its sweeps while nothing new is ready', async () => {
  const told: StoreEvent[] = [];
  const spy = (s: Store): Store =>
    new Proxy(s, {
      get(target, prop, receiver) {
        if (prop === 'announce') return (e: StoreEvent) => (told.push(e), target.announce(e));
        return Reflect.get(target, prop, receiver);
      },
    });
  const h = await startInProcess({ workerConcurrency: 1, engineRescanMs: 50, shutdownGraceMs: 0 }, undefined, { wrapStore: spy });
  try {
    const flowId = await importFlow(h.client, 'long', [{ name: 'nap', cmd: 'sleep 30' }]);
    await h.client.trigger(flowId);
    await waitFor(async () => h.server.engine!.runningCount() === 1, 20_000, 'the task to run');
    const before = told.filter((e) => e.type === 'tasksReady').length;
    // Twenty sweeps or more of a saturated engine.
    const t0 = Date.now();
    await waitFor(async () => Date.now() - t0 > 1_000, 5_000, 'a second');
    expect(told.filter((e) => e.type === 'tasksReady').length).toBe(before);
  } finally {
    await h.close();
  }
}, 60_000);
