// Benchmark (a): a chain of N `true` tasks. Measures the gap between a task's process exit and its
// successor's spawn (engine events carry performance.now() stamps) and the chain's total time, against
// N x the measured cost of spawning `/bin/sh -c true`.
import { percentile, round } from './machine.js';
import { importFlow, startHarness } from './harness.js';
import { measureSpawnFloor } from './spawnFloor.js';

export interface ChainResult {
  tasks: number;
  runs: number;
  gapMedianMs: number;
  gapP99Ms: number;
  gapMaxMs: number;
  chainTotalMs: number[];
  bestChainTotalMs: number;
  spawnFloorPerTaskMs: number;
  spawnFloorTotalMs: number;
  ratioToFloor: number;
}

export async function benchChain(n = 200, runs = 5): Promise<ChainResult> {
  const h = await startHarness({ workerConcurrency: 8 });
  try {
    const engine = h.server.engine!;
    const flowId = await importFlow(h, 'chain', Array.from({ length: n }, () => 'true'), Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]));
    const gaps: number[] = [];
    const totals: number[] = [];
    for (let r = 0; r < runs; r++) {
      const started = new Map<string, number>();
      const exited = new Map<string, number>();
      engine.events.on('taskStarted', (e) => started.set(e.taskInstanceId, e.hr));
      engine.events.on('taskEnded', (e) => exited.set(e.taskInstanceId, e.exitedHr));
      const done = new Promise<string>((resolve) => engine.events.on('instanceEnded', (e) => resolve(e.status)));
      await h.call('POST', 'flows', 'trigger', { flowId, triggerTime: Date.now() - (r + 1) * 60_000 });
      const status = await done;
      engine.events.removeAllListeners();
      if (status !== 'SUCCESS') throw new Error(`chain run ended ${status}`);
      const order = [...started.keys()].sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
      for (let i = 1; i < order.length; i++) gaps.push(started.get(order[i])! - exited.get(order[i - 1])!);
      totals.push(exited.get(order[order.length - 1])! - started.get(order[0])!);
    }
    const floor = await measureSpawnFloor(n);
    gaps.sort((a, b) => a - b);
    const best = Math.min(...totals);
    return {
      tasks: n,
      runs,
      gapMedianMs: round(percentile(gaps, 50)),
      gapP99Ms: round(percentile(gaps, 99)),
      gapMaxMs: round(gaps[gaps.length - 1]),
      chainTotalMs: totals.map((t) => round(t, 1)),
      bestChainTotalMs: round(best, 1),
      spawnFloorPerTaskMs: round(floor.perSpawnMs),
      spawnFloorTotalMs: round(floor.totalMs, 1),
      ratioToFloor: round(best / floor.totalMs, 2),
    };
  } finally {
    await h.close();
  }
}
