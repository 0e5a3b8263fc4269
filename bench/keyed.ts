// Benchmark: taskMode 2 (contract §11). One task over N keys (10,000) of `true` at maxParallel 8, worker
// concurrency 8, in a server started in this process (bench/harness.ts). Measured from the engine's events:
// the attempt's launch (taskStarted.spawnHr: the composite run is asked for) -> its end learned
// (taskEnded.exitedHr), and trigger -> instanceEnded. The floor: the same N spawns of a key's command
// (`/bin/sh -c 'umask 022; exec 2>&1; true'`, its environment and marker) through the same executor the
// engine uses (a fresh spawner helper of its own), 8 in flight, measured before each run. Target: the
// keyed run within 1.2 x the floor (median over median).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Executor } from '../src/engine/executor.js';
import { createExecutor } from '../src/engine/spawnerExecutor.js';
import { median, round } from './machine.js';
import { runInstance, startHarness, type Harness } from './harness.js';

export interface KeyedResult {
  date: string;
  keys: number;
  maxParallel: number;
  workerConcurrency: number;
  runs: number;
  /** Attempt launched -> its end learned by the engine, per run. */
  totalMs: number[];
  medianTotalMs: number;
  bestTotalMs: number;
  /** Trigger Flow request sent -> instanceEnded, per run. */
  triggerToEndMs: number[];
  medianTriggerToEndMs: number;
  /** The floor: N spawns through the executor, 8 in flight; measured before each run; median. */
  floorTotalMs: number;
  floorPerKeyMs: number;
  floorSamplesMs: number[];
  /** Median total / median floor (the target: <= 1.2), and best / best. */
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor) / N. */
  overheadPerKeyMs: number;
  /** Log size of one run (bytes): bounded whatever N. */
  logBytes: number;
}

/** N spawns of a key's command through `executor`, `parallel` in flight (a new one as soon as one ends). */
export async function measureExecutorFloor(executor: Executor, n: number, parallel: number, cwd: string): Promise<number> {
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: cwd,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    BATCHFLOW_INSTANCE_ID: '1-20240101000000',
    BATCHFLOW_TASK_ID: '1',
    BATCHFLOW_TASK_INSTANCE_ID: '1-20240101000000-1',
    BATCHFLOW_RUN_NUM: '1',
    BATCHFLOW_TRIGGER_TIME: '0',
    BATCHFLOW_TRIGGER_TIME_TEXT: '2024-01-01 00:00:00',
    BATCHFLOW_ATTEMPT: 'bench/1-20240101000000-1#1',
  };
  let seq = 0;
  const once = async () => {
    const i = ++seq;
    const marker = { name: 'BATCHFLOW_KEY_RUN', value: `bench/1-20240101000000-1#1/k${i}` };
    const p = executor.start({
      argv: ['/bin/sh', '-c', 'umask 022; exec 2>&1; true'],
      cwd,
      env: { ...env, BATCHFLOW_KEY: `k${i}`, [marker.name]: marker.value },
      timeoutMs: 0,
      killGraceMs: 5000,
      onOutput: () => {},
      marker,
    });
    const o = await p.done;
    if (o.kind !== 'exited' || o.code !== 0) throw new Error(`floor spawn ${i}: ${JSON.stringify(o)}`);
  };
  for (let i = 0; i < 20; i++) await once(); // warm-up
  seq = 0;
  const t0 = performance.now();
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      await once();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  return performance.now() - t0;
}

async function importKeyedFlow(h: Harness, keys: number, maxParallel: number): Promise<number> {
  const dirs = await h.call('GET', 'directories', 'listWorkFlowDirs');
  const content = Array.from({ length: keys }, (_, i) => `k${i + 1}`).join('\n');
  const flowJson = {
    name: 'keyed',
    type: 0,
    tasks: [{ name: 'keys', type: 'SHELL', cmd: 'true', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', runMode: JSON.stringify({ taskMode: 2, keyType: 2, content, maxParallel }) }],
    relations: [],
    parameters: [],
  };
  const data = await h.call('POST', 'flows', 'import', { flowName: 'keyed', desc: '', dirId: dirs[0].key, flowJson });
  return Number(data.flowId);
}

export async function benchKeyed(keys = 10_000, runs = 3, maxParallel = 8, workerConcurrency = 8): Promise<KeyedResult> {
  const h = await startHarness({ workerConcurrency });
  const floorDir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-floor-'));
  const floorExecutor = createExecutor(h.config.spawner);
  try {
    const flowId = await importKeyedFlow(h, keys, maxParallel);
    const totals: number[] = [];
    const triggerToEnd: number[] = [];
    const floors: number[] = [];
    let logBytes = 0;
    const base = Date.now();
    for (let r = 0; r < runs; r++) {
      floors.push(await measureExecutorFloor(floorExecutor, keys, maxParallel, floorDir));
      let tid = '';
      h.server.engine!.events.once('taskStarted', (e) => (tid = e.taskInstanceId));
      const run = await runInstance(h, flowId, base - (r + 1) * 60_000);
      if (run.status !== 'SUCCESS') throw new Error(`keyed run ${r} ended ${run.status}`);
      const [t] = run.tasks;
      if (!t || run.tasks.length !== 1) throw new Error(`keyed run ${r}: ${run.tasks.length} tasks reported`);
      totals.push(t.exitedHr! - t.spawnHr);
      triggerToEnd.push(run.instanceEndedHr - run.triggerHr);
      if (r === 0) {
        const counts = (await h.server.store.keyCounts([tid])).get(tid);
        if (counts?.byStatus.SUCCESS !== keys) throw new Error(`keyed run ${r}: key counts ${JSON.stringify(counts)}`);
        logBytes = Buffer.byteLength((await h.call('GET', 'taskInstances', 'getLog', undefined, `&taskInstId=${tid}`)).log);
      }
    }
    const med = median(totals);
    const floorMed = median(floors);
    return {
      date: new Date().toISOString(),
      keys,
      maxParallel,
      workerConcurrency,
      runs,
      totalMs: totals.map((x) => round(x, 1)),
      medianTotalMs: round(med, 1),
      bestTotalMs: round(Math.min(...totals), 1),
      triggerToEndMs: triggerToEnd.map((x) => round(x, 1)),
      medianTriggerToEndMs: round(median(triggerToEnd), 1),
      floorTotalMs: round(floorMed, 1),
      floorPerKeyMs: round(floorMed / keys),
      floorSamplesMs: floors.map((f) => round(f, 1)),
      ratioToFloor: round(med / floorMed, 3),
      bestRatioToFloor: round(Math.min(...totals) / Math.min(...floors), 3),
      overheadPerKeyMs: round((med - floorMed) / keys, 4),
      logBytes,
    };
  } finally {
    await floorExecutor.close();
    rmSync(floorDir, { recursive: true, force: true });
    await h.close();
  }
}

