// Benchmark (a): a chain of N `true` tasks. Measures, from the engine's events (performance.now() stamps,
// the spawner's converted to this process's timeline), the gap between a task's process exit and its
// successor's start under two definitions (see bench/README.md): from the exit seen where the process was
// reaped until the successor's spawn() returned (what a watcher of the processes sees), and from the
// engine learning of the exit until it asks for the spawn (engine latency); where each task's time goes
// (exit relay, engine decision, spawn request to spawned, process life); and the chain's total time
// against N x the measured cost of spawning `/bin/sh -c true`, from a bare `node` (the floor every target
// uses) and, for reference, from this process.
import type { Config } from '../src/config.js';
import { median, percentile, round } from './machine.js';
import { importFlow, runInstance, startHarness } from './harness.js';
import { measureBareNodeSpawnFloor, measureSpawnFloor } from './spawnFloor.js';

export interface ChainResult {
  date: string;
  tasks: number;
  runs: number;
  /** Who forked the tasks: the spawner helper process (the default) or the service itself. */
  spawner: Config['spawner'];
  /** Engine decision: exit learned (exitedHr) -> the engine calls spawn for the successor (spawnHr; its RUNNING status is committed). */
  engineGapMedianMs: number;
  engineGapP99Ms: number;
  engineGapMaxMs: number;
  /** exit seen where it was reaped -> spawn() of the successor returned (includes libuv's fork and its wait for exec). */
  gapMedianMs: number;
  gapP99Ms: number;
  gapMaxMs: number;
  /** exit seen where it was reaped -> the successor's spawn asked (exit relay + engine decision): comparable with BullMQ's close -> next processor call. */
  exitToNextSpawnMedianMs: number;
  exitToNextSpawnP99Ms: number;
  /** Spawn request to spawned: the engine asked for the spawn -> spawn() returned (the request's trip to the spawner, then fork + exec). */
  spawnCallMedianMs: number;
  spawnCallP99Ms: number;
  /** Process life: spawn() returned -> the exit seen where it was reaped (exec, `true`, exit, pipes closed). */
  runMedianMs: number;
  runP99Ms: number;
  /** Exit relay: the exit seen where the process was reaped -> the engine learned it (0 with direct spawns). */
  exitRelayMedianMs: number;
  exitRelayP99Ms: number;
  /** First spawn asked -> last task's exit learned by the engine, per run. */
  chainTotalMs: number[];
  bestChainTotalMs: number;
  medianChainTotalMs: number;
  /** Trigger Flow request sent -> instanceEnded, per run (includes the HTTP call, the instance's creation and start, the last commit). */
  triggerToEndMs: number[];
  bestTriggerToEndMs: number;
  medianTriggerToEndMs: number;
  /** Floor 1: N sequential spawns awaited to exit, from this (big) process, measured before each run; median (absent when not measured). */
  spawnFloorPerTaskMs?: number;
  spawnFloorTotalMs?: number;
  spawnFloorSamplesMs?: number[];
  /** Median chain total / median floor 1, and best / best. */
  ratioToFloor?: number;
  bestRatioToFloor?: number;
  /** (median total - median floor 1) / N. */
  overheadPerTaskMs?: number;
  /** Floor 2: the same loop in a bare `node` child, measured before each run; median. The targets are judged on this one. */
  bareFloorPerTaskMs: number;
  bareFloorTotalMs: number;
  bareFloorSamplesMs: number[];
  /** Median chain total / median floor 2 (the verdict), and best / best. */
  ratioToBareFloor: number;
  bestRatioToBareFloor: number;
  /** (median total - median floor 2) / N: what the engine adds per task beyond a spawn loop in a small process. */
  overheadPerTaskBareMs: number;
  /** Median trigger -> instanceEnded / median floor 2. */
  triggerToEndRatioToBareFloor: number;
}

export interface ChainOptions {
  spawner?: Config['spawner'];
  /** Also measure floor 1 (spawns from this process) before each run; default true. */
  ownProcessFloor?: boolean;
}

export async function benchChain(n = 200, runs = 5, opts: ChainOptions = {}): Promise<ChainResult> {
  const ownProcessFloor = opts.ownProcessFloor ?? true;
  const h = await startHarness({ workerConcurrency: 8, spawner: opts.spawner ?? 'spawner' });
  try {
    const flowId = await importFlow(h, 'chain', Array.from({ length: n }, () => 'true'), Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]));
    const engineGaps: number[] = [];
    const gaps: number[] = [];
    const exitToNext: number[] = [];
    const spawnCalls: number[] = [];
    const exitRelays: number[] = [];
    const lives: number[] = [];
    const totals: number[] = [];
    const triggerToEnd: number[] = [];
    const floors: number[] = [];
    const bareFloors: number[] = [];
    // Each run its own minute (instance ids are per minute), all counted from one base so that a minute
    // boundary crossed between two runs cannot give them the same one.
    const base = Date.now();
    for (let r = 0; r < runs; r++) {
      // The floors are measured before every run: machine noise hits both alike.
      if (ownProcessFloor) floors.push((await measureSpawnFloor(n)).totalMs);
      bareFloors.push((await measureBareNodeSpawnFloor(n)).totalMs);
      const run = await runInstance(h, flowId, base - (r + 1) * 60_000);
      if (run.status !== 'SUCCESS') throw new Error(`chain run ended ${run.status}`);
      // A chain starts its tasks one after the other: the order of taskStarted is the chain's order.
      const t = run.tasks;
      if (t.length !== n) throw new Error(`chain run ${r}: ${t.length} of ${n} tasks reported`);
      for (let i = 0; i < n; i++) {
        spawnCalls.push(t[i].spawnedHr - t[i].spawnHr);
        exitRelays.push(t[i].exitedHr! - t[i].exitSeenHr!);
        lives.push(t[i].exitSeenHr! - t[i].spawnedHr);
      }
      for (let i = 1; i < n; i++) {
        if (t[i].spawnHr < t[i - 1].exitedHr!) throw new Error(`chain run ${r}: task ${i} started before its predecessor ended`);
        engineGaps.push(t[i].spawnHr - t[i - 1].exitedHr!);
        gaps.push(t[i].spawnedHr - t[i - 1].exitSeenHr!);
        exitToNext.push(t[i].spawnHr - t[i - 1].exitSeenHr!);
      }
      totals.push(t[n - 1].exitedHr! - t[0].spawnHr);
      triggerToEnd.push(run.instanceEndedHr - run.triggerHr);
    }
    for (const a of [engineGaps, gaps, exitToNext, spawnCalls, exitRelays, lives]) a.sort((x, y) => x - y);
    const p = (a: number[], q: number) => round(percentile(a, q));
    const best = Math.min(...totals);
    const med = median(totals);
    const bareBest = Math.min(...bareFloors);
    const bareMedian = median(bareFloors);
    const own = ownProcessFloor
      ? {
          spawnFloorPerTaskMs: round(median(floors) / n),
          spawnFloorTotalMs: round(median(floors), 1),
          spawnFloorSamplesMs: floors.map((f) => round(f, 1)),
          ratioToFloor: round(med / median(floors), 2),
          bestRatioToFloor: round(best / Math.min(...floors), 2),
          overheadPerTaskMs: round((med - median(floors)) / n),
        }
      : {};
    return {
      date: new Date().toISOString(),
      tasks: n,
      runs,
      spawner: h.config.spawner,
      engineGapMedianMs: p(engineGaps, 50),
      engineGapP99Ms: p(engineGaps, 99),
      engineGapMaxMs: round(engineGaps[engineGaps.length - 1]),
      gapMedianMs: p(gaps, 50),
      gapP99Ms: p(gaps, 99),
      gapMaxMs: round(gaps[gaps.length - 1]),
      exitToNextSpawnMedianMs: p(exitToNext, 50),
      exitToNextSpawnP99Ms: p(exitToNext, 99),
      spawnCallMedianMs: p(spawnCalls, 50),
      spawnCallP99Ms: p(spawnCalls, 99),
      runMedianMs: p(lives, 50),
      runP99Ms: p(lives, 99),
      exitRelayMedianMs: p(exitRelays, 50),
      exitRelayP99Ms: p(exitRelays, 99),
      chainTotalMs: totals.map((x) => round(x, 1)),
      bestChainTotalMs: round(best, 1),
      medianChainTotalMs: round(med, 1),
      triggerToEndMs: triggerToEnd.map((x) => round(x, 1)),
      bestTriggerToEndMs: round(Math.min(...triggerToEnd), 1),
      medianTriggerToEndMs: round(median(triggerToEnd), 1),
      ...own,
      bareFloorPerTaskMs: round(bareMedian / n),
      bareFloorTotalMs: round(bareMedian, 1),
      bareFloorSamplesMs: bareFloors.map((f) => round(f, 1)),
      ratioToBareFloor: round(med / bareMedian, 2),
      bestRatioToBareFloor: round(best / bareBest, 2),
      overheadPerTaskBareMs: round((med - bareMedian) / n),
      triggerToEndRatioToBareFloor: round(median(triggerToEnd) / bareMedian, 2),
    };
  } finally {
    await h.close();
  }
}
