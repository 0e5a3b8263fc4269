// Runs a range of simulator seeds as one vitest case each batch: a failing seed names itself and how to
// replay it (`npm run sim -- --seed K`). The ranges are split over several files so that vitest runs them
// in parallel.
import { expect, it } from 'vitest';
import { runSeed } from './simulator.js';

export function itRunsSeeds(from: number, to: number): void {
  it(`keeps every invariant on seeds ${from}..${to} (replay one with: npm run sim -- --seed K)`, async () => {
    const failures: string[] = [];
    for (let seed = from; seed <= to; seed++) {
      const r = await runSeed(seed).catch((e: unknown) => ({ violations: [`the run threw: ${(e as Error).stack ?? e}`] }));
      if (r.violations.length > 0) failures.push(`seed ${seed} (npm run sim -- --seed ${seed}):\n    ${r.violations.slice(0, 10).join('\n    ')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 600_000);
}
