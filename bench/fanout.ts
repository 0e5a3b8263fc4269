// Benchmark: fan-out. N independent `true` tasks and one join task that depends on all of them (N + 1
// tasks), worker concurrency 8, in a server started in this process (bench/harness.ts). Measures, from the
// engine's events, the total (first spawn asked -> the join's exit learned by the engine) and trigger ->
// instanceEnded, against the fan-out's floor: the same N spawns from a bare `node` with 8 in flight, then
// one more (the join), measured before each run.
import { maxOverlap, median, percentile, round } from './machine.js';
import { importFlow, runInstance, startHarness } from './harness.js';
import { measureBareNodeSpawnFloor } from './spawnFloor.js';

export interface FanoutResult {
  date: string;
  /** Independent tasks; the flow has one more, the join. */
  width: number;
  tasks: number;
  runs: number;
  workerConcurrency: number;
  /** The most attempts seen between their spawn asked and their exit learned at one time (should be the concurrency). */
  maxInFlight: number;
  /** First spawn asked -> the join's exit learned by the engine, per run. */
  totalMs: number[];
  bestTotalMs: number;
  medianTotalMs: number;
  /** Trigger Flow request sent -> instanceEnded, per run. */
  triggerToEndMs: number[];
  bestTriggerToEndMs: number;
  medianTriggerToEndMs: number;
  /** The floor: N spawns from a bare `node`, 8 in flight, then one; measured before each run; median. */
  floorTotalMs: number;
  floorPerTaskMs: number;
  floorSamplesMs: number[];
  /** Median total / median floor, and best / best. */
  ratioToFloor: number;
  bestRatioToFloor: number;
  /** (median total - median floor) / (N + 1). */
  overheadPerTaskMs: number;
  triggerToEndRatioToFloor: number;
  /** Per attempt, medians: spawn asked -> spawned, spawned -> exit seen, exit seen -> exit learned. */
  spawnCallMedianMs: number;
  spawnCallP99Ms: number;
  runMedianMs: number;
  exitRelayMedianMs: number;
  exitRelayP99Ms: number;
  /** The last of the N exits learned -> the join's spawn asked (the engine's decision to start the join). */
  joinDecisionMedianMs: number;
}



export async function benchFanout(width = 200, runs = 5, workerConcurrency = 8): Promise<FanoutResult> {
  const n = width + 1;
  const h = await startHarness({ workerConcurrency });
  try {
    const flowId = await importFlow(h, 'fanout', Array.from({ length: n }, () => 'true'), Array.from({ length: width }, (_, i) => [i, width] as [number, number]));
    const totals: number[] = [];
    const triggerToEnd: number[] = [];
    const floors: number[] = [];
    const spawnCalls: number[] = [];
    const lives: number[] = [];
    const exitRelays: number[] = [];
    const joinDecisions: number[] = [];
    let maxInFlight = 0;
    const base = Date.now();
    for (let r = 0; r < runs; r++) {
      floors.push((await measureBareNodeSpawnFloor(width, { parallel: workerConcurrency, join: true })).totalMs);
      const run = await runInstance(h, flowId, base - (r + 1) * 60_000);
      if (run.status !== 'SUCCESS') throw new Error(`fan-out run ended ${run.status}`);
      const t = run.tasks;
      if (t.length !== n) throw new Error(`fan-out run ${r}: ${t.length} of ${n} tasks reported`);
      // The join is the last to start (it depends on all the others).
      const join = t[n - 1];
      const lastOfWidth = Math.max(...t.slice(0, width).map((x) => x.exitedHr!));
      if (join.spawnHr < lastOfWidth) throw new Error(`fan-out run ${r}: the join started before all its predecessors ended`);
      for (const x of t) {
        spawnCalls.push(x.spawnedHr - x.spawnHr);
        lives.push(x.exitSeenHr! - x.spawnedHr);
        exitRelays.push(x.exitedHr! - x.exitSeenHr!);
      }
      joinDecisions.push(join.spawnHr - lastOfWidth);
      maxInFlight = Math.max(maxInFlight, maxOverlap(t));
      totals.push(join.exitedHr! - Math.min(...t.map((x) => x.spawnHr)));
      triggerToEnd.push(run.instanceEndedHr - run.triggerHr);
    }
    for (const a of [spawnCalls, lives, exitRelays]) a.sort((x, y) => x - y);
    const med = median(totals);
    const floorMed = median(floors);
    return {
      date: new Date().toISOString(),
      width,
      tasks: n,
      runs,
      workerConcurrency,
      maxInFlight,
      totalMs: totals.map((x) => round(x, 1)),
      bestTotalMs: round(Math.min(...totals), 1),
      medianTotalMs: round(med, 1),
      triggerToEndMs: triggerToEnd.map((x) => round(x, 1)),
      bestTriggerToEndMs: round(Math.min(...triggerToEnd), 1),
      medianTriggerToEndMs: round(median(triggerToEnd), 1),
      floorTotalMs: round(floorMed, 1),
      floorPerTaskMs: round(floorMed / n),
      floorSamplesMs: floors.map((f) => round(f, 1)),
      ratioToFloor: round(med / floorMed, 2),
      bestRatioToFloor: round(Math.min(...totals) / Math.min(...floors), 2),
      overheadPerTaskMs: round((med - floorMed) / n),
      triggerToEndRatioToFloor: round(median(triggerToEnd) / floorMed, 2),
      spawnCallMedianMs: round(percentile(spawnCalls, 50)),
      spawnCallP99Ms: round(percentile(spawnCalls, 99)),
      runMedianMs: round(percentile(lives, 50)),
      exitRelayMedianMs: round(percentile(exitRelays, 50)),
      exitRelayP99Ms: round(percentile(exitRelays, 99)),
      joinDecisionMedianMs: round(median(joinDecisions)),
    };
  } finally {
    await h.close();
  }
}
