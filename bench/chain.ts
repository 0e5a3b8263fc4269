// Benchmark (a): a chain of N `true` tasks. Measures, from the engine's events (performance.now() stamps),
// the gap between a task's process exit and its successor's start under two definitions (see
// bench/README.md): until the engine calls spawn (engine latency) and until spawn returns (what a
// watcher of the processes sees); and the chain's total time against N x the measured cost of spawning
// `/bin/sh -c true` from this same process, measured before each run.
import { percentile, round } from './machine.js';
import { importFlow, startHarness } from './harness.js';
import { measureSpawnFloor } from './spawnFloor.js';

export interface ChainResult {
  tasks: number;
  runs: number;
  /** exit -> the engine calls spawn for the successor (the successor's RUNNING status is committed). */
  engineGapMedianMs: number;
  engineGapP99Ms: number;
  engineGapMaxMs: number;
  /** exit -> spawn of the successor returned (includes libuv's fork and its wait for exec). */
  gapMedianMs: number;
  gapP99Ms: number;
  gapMaxMs: number;
  /** Time spawn() itself took in the engine (median), the part of the gap that is not the engine's. */
  spawnCallMedianMs: number;
  /** First spawn called -> last process exited, per run. */
  chainTotalMs: number[];
  bestChainTotalMs: number;
  medianChainTotalMs: number;
  /** The floor: N sequential spawns of `/bin/sh -c true` awaited to exit, measured before each run; median. */
  spawnFloorPerTaskMs: number;
  spawnFloorTotalMs: number;
  spawnFloorSamplesMs: number[];
  /** Median chain total / median floor (the verdict), and best / best. */
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor) / N: what the engine adds per task beyond a bare spawn loop. */
  overheadPerTaskMs: number;
}

interface Stamps {
  spawnHr: number;
  startedHr: number;
  exitedHr?: number;
}

export async function benchChain(n = 200, runs = 5): Promise<ChainResult> {
  const h = await startHarness({ workerConcurrency: 8 });
  try {
    const engine = h.server.engine!;
    const flowId = await importFlow(h, 'chain', Array.from({ length: n }, () => 'true'), Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]));
    const engineGaps: number[] = [];
    const gaps: number[] = [];
    const spawnCalls: number[] = [];
    const totals: number[] = [];
    const floors: number[] = [];
    // Each run its own minute (instance ids are per minute), all counted from one base so that a minute
    // boundary crossed between two runs cannot give them the same one.
    const base = Date.now();
    for (let r = 0; r < runs; r++) {
      // The floor is measured before every run, in this same process: machine noise hits both alike.
      floors.push((await measureSpawnFloor(n)).totalMs);
      const tasks = new Map<string, Stamps>();
      const onStarted = (e: { taskInstanceId: string; spawnHr: number; hr: number }) => tasks.set(e.taskInstanceId, { spawnHr: e.spawnHr, startedHr: e.hr });
      const onEnded = (e: { taskInstanceId: string; exitedHr: number }) => (tasks.get(e.taskInstanceId)!.exitedHr = e.exitedHr);
      engine.events.on('taskStarted', onStarted);
      engine.events.on('taskEnded', onEnded);
      // taskEnded of the last task comes before instanceEnded (both after the commit that records them).
      const done = new Promise<string>((resolve) => engine.events.once('instanceEnded', (e) => resolve(e.status)));
      await h.call('POST', 'flows', 'trigger', { flowId, triggerTime: base - (r + 1) * 60_000 });
      const status = await done;
      engine.events.off('taskStarted', onStarted);
      engine.events.off('taskEnded', onEnded);
      if (status !== 'SUCCESS') throw new Error(`chain run ended ${status}`);
      // Task instance ids are <taskId>-<minute>; task ids grow along the chain.
      const order = [...tasks.keys()].sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
      const at = (i: number) => tasks.get(order[i])!;
      if (order.length !== n || order.some((id) => tasks.get(id)!.exitedHr === undefined)) throw new Error(`chain run ${r}: not every task reported its start and end`);
      for (let i = 0; i < n; i++) spawnCalls.push(at(i).startedHr - at(i).spawnHr);
      for (let i = 1; i < n; i++) {
        engineGaps.push(at(i).spawnHr - at(i - 1).exitedHr!);
        gaps.push(at(i).startedHr - at(i - 1).exitedHr!);
      }
      totals.push(at(n - 1).exitedHr! - at(0).spawnHr);
    }
    for (const a of [engineGaps, gaps, spawnCalls]) a.sort((x, y) => x - y);
    const best = Math.min(...totals);
    const median = percentile([...totals].sort((x, y) => x - y), 50);
    const floorBest = Math.min(...floors);
    const floorMedian = percentile([...floors].sort((x, y) => x - y), 50);
    return {
      tasks: n,
      runs,
      engineGapMedianMs: round(percentile(engineGaps, 50)),
      engineGapP99Ms: round(percentile(engineGaps, 99)),
      engineGapMaxMs: round(engineGaps[engineGaps.length - 1]),
      gapMedianMs: round(percentile(gaps, 50)),
      gapP99Ms: round(percentile(gaps, 99)),
      gapMaxMs: round(gaps[gaps.length - 1]),
      spawnCallMedianMs: round(percentile(spawnCalls, 50)),
      chainTotalMs: totals.map((t) => round(t, 1)),
      bestChainTotalMs: round(best, 1),
      medianChainTotalMs: round(median, 1),
      spawnFloorPerTaskMs: round(floorMedian / n),
      spawnFloorTotalMs: round(floorMedian, 1),
      spawnFloorSamplesMs: floors.map((f) => round(f, 1)),
      ratioToFloor: round(median / floorMedian, 2),
      bestRatioToFloor: round(best / floorBest, 2),
      overheadPerTaskMs: round((median - floorMedian) / n),
    };
  } finally {
    await h.close();
  }
}
