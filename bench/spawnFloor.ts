// The floors: N spawns of `/bin/sh -c true`, each awaited to exit (`close`), with the same stdio and
// process-group options the executor uses. Sequential (the chain's floor) from this process (the
// benchmark's, as big as the service: a fork copies its page tables, for reference) and from a bare `node`
// child (what a fork costs from a small process such as the spawner: the floor every target is judged on);
// and from the bare `node` with 8 in flight plus a join (the fan-out's floor). bench/README.md says more.
import { execFile, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export async function measureSpawnFloor(n: number): Promise<{ totalMs: number; perSpawnMs: number }> {
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
      child.stdout.resume();
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', () => resolve());
    });
  for (let i = 0; i < 20; i++) await once(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  const totalMs = performance.now() - t0;
  return { totalMs, perSpawnMs: totalMs / n };
}

/**
 * The same spawn as measureSpawnFloor, run inside a bare `node -e` (nothing loaded, empty environment): n
 * spawns with `parallel` of them in flight at once (1: one after the other, the chain's floor; 8: a new one
 * started as soon as one of the 8 closes, the fan-out's floor), then, with `join`, one more spawn after all
 * n closed (the fan-out's join task). Warm-up: 20 spawns, not counted.
 */
const bareLoop = (n: number, parallel: number, join: boolean) => String.raw`
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const once = () => new Promise((resolve, reject) => {
  const child = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
  child.stdout.resume();
  child.stderr.resume();
  child.on('error', reject);
  child.on('close', () => resolve());
});
(async () => {
  for (let i = 0; i < 20; i++) await once();
  const t0 = performance.now();
  let started = 0;
  const lane = async () => { while (started < ${n}) { started++; await once(); } };
  await Promise.all(Array.from({ length: Math.min(${parallel}, ${n}) }, lane));
  if (${join}) await once();
  process.stdout.write(String(performance.now() - t0));
})();
`;

export interface FloorOptions {
  /** Spawns in flight at once (default 1: sequential). */
  parallel?: number;
  /** One more spawn after the n are done (the fan-out's join). */
  join?: boolean;
}

export function measureBareNodeSpawnFloor(n: number, opts: FloorOptions = {}): Promise<{ totalMs: number; perSpawnMs: number }> {
  const parallel = opts.parallel ?? 1;
  const join = opts.join ?? false;
  const spawns = n + (join ? 1 : 0);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', bareLoop(n, parallel, join)], { env: {} }, (error, stdout) => {
      if (error) return reject(error);
      const totalMs = Number(stdout);
      if (!Number.isFinite(totalMs)) return reject(new Error(`bare-node floor: unexpected output ${JSON.stringify(stdout)}`));
      resolve({ totalMs, perSpawnMs: totalMs / spawns });
    });
  });
}
