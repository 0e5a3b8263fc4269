// The floors for the chain benchmark: N sequential spawns of `/bin/sh -c true`, each awaited to exit, with
// the same stdio and process-group options the executor uses. Measured twice: from this process (the
// benchmark's, as big as the service: a fork copies its page tables) and from a bare `node` child (what a
// fork costs from a small process such as the spawner). bench/README.md says which one the target uses.
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

/** The same loop as measureSpawnFloor, run inside a bare `node -e` (nothing loaded, empty environment). */
const bareLoop = (n: number) => String.raw`
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
  for (let i = 0; i < ${n}; i++) await once();
  process.stdout.write(String(performance.now() - t0));
})();
`;

export function measureBareNodeSpawnFloor(n: number): Promise<{ totalMs: number; perSpawnMs: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', bareLoop(n)], { env: {} }, (error, stdout) => {
      if (error) return reject(error);
      const totalMs = Number(stdout);
      if (!Number.isFinite(totalMs)) return reject(new Error(`bare-node floor: unexpected output ${JSON.stringify(stdout)}`));
      resolve({ totalMs, perSpawnMs: totalMs / n });
    });
  });
}
