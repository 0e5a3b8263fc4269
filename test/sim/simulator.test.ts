// The simulator itself: a seed replays exactly (same digest of everything that happened), and the runs
// really exercise what they claim (faults injected, crashes, retries, cancels, reruns across the seeds).
import { describe, expect, it } from 'vitest';
import { runSeed } from './simulator.js';

describe('engine simulator', () => {
  it('replays a seed exactly: the same seed gives the same history, processes and digest', async () => {
    for (const seed of [1, 2, 17]) {
      const [a, b] = [await runSeed(seed), await runSeed(seed)];
      expect(b.digest).toBe(a.digest);
      expect(b.stats).toEqual(a.stats);
    }
  }, 120_000);

  it('injects faults and crashes and runs real work across seeds', async () => {
    const runs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => runSeed(s)));
    const total = (k: keyof (typeof runs)[number]['stats']) => runs.reduce((n, r) => n + r.stats[k], 0);
    expect(total('faults')).toBeGreaterThan(50);
    expect(total('crashes')).toBeGreaterThan(3);
    expect(total('attempts')).toBeGreaterThan(100);
    expect(total('reruns')).toBeGreaterThan(0);
    expect(runs.every((r) => r.violations.length === 0)).toBe(true);
  }, 120_000);
});
