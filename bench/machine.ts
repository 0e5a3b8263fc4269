// Describes the machine a benchmark ran on, for bench/RESULTS.md.
import os from 'node:os';

export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

/** The most intervals [spawnHr, exitedHr] open at one instant (the attempts in flight at once). */
export function maxOverlap(tasks: Array<{ spawnHr: number; exitedHr?: number | null }>): number {
  const points = tasks.flatMap((t) => [
    [t.spawnHr, 1],
    [t.exitedHr!, -1],
  ]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of points) most = Math.max(most, (open += d));
  return most;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The median of an unsorted list (the list is not changed). */
export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/** Median, p99 and max of a list of durations, rounded to the microsecond. */
export function spread(xs: number[]): { medianMs: number; p99Ms: number; maxMs: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { medianMs: round(percentile(s, 50)), p99Ms: round(percentile(s, 99)), maxMs: round(s[s.length - 1]) };
}
