// Benchmark (a): a chain of N `true` tasks. Measures, from the engine's events (performance.now() stamps,
// the spawner's converted to this process's timeline), the gap between a task's process exit and its
// successor's start under two definitions (see bench/README.md): from the exit seen where the process was
// reaped until the successor's spawn() returned (what a watcher of the processes sees), and from the
// engine learning of the exit until it asks for the spawn (engine latency); and the chain's total time
// against N x the measured cost of spawning `/bin/sh -c true`, from this process and from a bare `node`.
import type { Config } from '../src/config.js';
import { percentile, round } from './machine.js';
import { importFlow, startHarness } from './harness.js';
import { measureBareNodeSpawnFloor, measureSpawnFloor } from './spawnFloor.js';

export interface ChainResult {
  date: string;
  tasks: number;
  runs: number;
  /** Who forked the tasks: the spawner helper process (the default) or the service itself. */
  spawner: Config['spawner'];
  /** exit -> the engine calls spawn for the successor (the successor's RUNNING status is committed). */
  engineGapMedianMs: number;
  engineGapP99Ms: number;
  engineGapMaxMs: number;
  /** exit seen where it was reaped -> spawn() of the successor returned (includes libuv's fork and its wait for exec). */
  gapMedianMs: number;
  gapP99Ms: number;
  gapMaxMs: number;
  /** The engine asked for the spawn -> spawn() returned (the request's trip to the spawner, then fork + exec). */
  spawnCallMedianMs: number;
  /** spawn() returned -> the exit seen where it was reaped: the process's own life (exec, `true`, exit, pipes closed). */
  runMedianMs: number;
  /** The exit seen where the process was reaped -> the engine learned it (0 with direct spawns). */
  exitRelayMedianMs: number;
  exitRelayP99Ms: number;
  /** First spawn called -> last process exited, per run. */
  chainTotalMs: number[];
  bestChainTotalMs: number;
  medianChainTotalMs: number;
  /** Floor 1: N sequential spawns of `/bin/sh -c true` awaited to exit, from this (big) process, measured before each run; median. */
  spawnFloorPerTaskMs: number;
  spawnFloorTotalMs: number;
  spawnFloorSamplesMs: number[];
  /** Median chain total / median floor 1, and best / best. */
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor 1) / N. */
  overheadPerTaskMs: number;
  /** Floor 2: the same loop in a bare `node` child, measured before each run; median. The target is judged on this one. */
  bareFloorPerTaskMs: number;
  bareFloorTotalMs: number;
  bareFloorSamplesMs: number[];
  /** Median chain total / median floor 2 (the verdict), and best / best. */
  ratioToBareFloor: number;
  bestRatioToBareFloor: number;
  /** (median total - median floor 2) / N: what the engine adds per task beyond a spawn loop in a small process. */
  overheadPerTaskBareMs: number;
}

interface Stamps {
  spawnHr: number;
  spawnedHr: number;
  exitSeenHr?: number;
  exitedHr?: number;
}

export async function benchChain(n = 200, runs = 5, spawner: Config['spawner'] = 'spawner'): Promise<ChainResult> {
  const h = await startHarness({ workerConcurrency: 8, spawner });
  try {
    const engine = h.server.engine!;
    const flowId = await importFlow(h, 'chain', Array.from({ length: n }, () => 'true'), Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]));
    const engineGaps: number[] = [];
    const gaps: number[] = [];
    const spawnCalls: number[] = [];
    const exitRelays: number[] = [];
    const lives: number[] = [];
    const totals: number[] = [];
    const floors: number[] = [];
    const bareFloors: number[] = [];
    // Each run its own minute (instance ids are per minute), all counted from one base so that a minute
    // boundary crossed between two runs cannot give them the same one.
    const base = Date.now();
    for (let r = 0; r < runs; r++) {
      // The floor is measured before every run, in this same process: machine noise hits both alike.
      floors.push((await measureSpawnFloor(n)).totalMs);
      bareFloors.push((await measureBareNodeSpawnFloor(n)).totalMs);
      const tasks = new Map<string, Stamps>();
      const onStarted = (e: { taskInstanceId: string; spawnHr: number; spawnedHr: number }) => tasks.set(e.taskInstanceId, { spawnHr: e.spawnHr, spawnedHr: e.spawnedHr });
      const onEnded = (e: { taskInstanceId: string; exitSeenHr: number; exitedHr: number }) => Object.assign(tasks.get(e.taskInstanceId)!, { exitSeenHr: e.exitSeenHr, exitedHr: e.exitedHr });
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
      for (let i = 0; i < n; i++) {
        spawnCalls.push(at(i).spawnedHr - at(i).spawnHr);
        exitRelays.push(at(i).exitedHr! - at(i).exitSeenHr!);
        lives.push(at(i).exitSeenHr! - at(i).spawnedHr);
      }
      for (let i = 1; i < n; i++) {
        engineGaps.push(at(i).spawnHr - at(i - 1).exitedHr!);
        gaps.push(at(i).spawnedHr - at(i - 1).exitSeenHr!);
      }
      totals.push(at(n - 1).exitedHr! - at(0).spawnHr);
    }
    for (const a of [engineGaps, gaps, spawnCalls, exitRelays, lives]) a.sort((x, y) => x - y);
    const best = Math.min(...totals);
    const median = percentile([...totals].sort((x, y) => x - y), 50);
    const floorBest = Math.min(...floors);
    const floorMedian = percentile([...floors].sort((x, y) => x - y), 50);
    const bareBest = Math.min(...bareFloors);
    const bareMedian = percentile([...bareFloors].sort((x, y) => x - y), 50);
    return {
      date: new Date().toISOString(),
      tasks: n,
      runs,
      spawner: h.config.spawner,
      engineGapMedianMs: round(percentile(engineGaps, 50)),
      engineGapP99Ms: round(percentile(engineGaps, 99)),
      engineGapMaxMs: round(engineGaps[engineGaps.length - 1]),
      gapMedianMs: round(percentile(gaps, 50)),
      gapP99Ms: round(percentile(gaps, 99)),
      gapMaxMs: round(gaps[gaps.length - 1]),
      spawnCallMedianMs: round(percentile(spawnCalls, 50)),
      runMedianMs: round(percentile(lives, 50)),
      exitRelayMedianMs: round(percentile(exitRelays, 50)),
      exitRelayP99Ms: round(percentile(exitRelays, 99)),
      chainTotalMs: totals.map((t) => round(t, 1)),
      bestChainTotalMs: round(best, 1),
      medianChainTotalMs: round(median, 1),
      spawnFloorPerTaskMs: round(floorMedian / n),
      spawnFloorTotalMs: round(floorMedian, 1),
      spawnFloorSamplesMs: floors.map((f) => round(f, 1)),
      ratioToFloor: round(median / floorMedian, 2),
      bestRatioToFloor: round(best / floorBest, 2),
      overheadPerTaskMs: round((median - floorMedian) / n),
      bareFloorPerTaskMs: round(bareMedian / n),
      bareFloorTotalMs: round(bareMedian, 1),
      bareFloorSamplesMs: bareFloors.map((f) => round(f, 1)),
      ratioToBareFloor: round(median / bareMedian, 2),
      bestRatioToBareFloor: round(best / bareBest, 2),
      overheadPerTaskBareMs: round((median - bareMedian) / n),
    };
  } finally {
    await h.close();
  }
}
