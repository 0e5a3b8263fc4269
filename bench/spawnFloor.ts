// The floor for the chain benchmark: N sequential spawns of `/bin/sh -c true`, each awaited to exit,
// with the same stdio and process-group options the executor uses.
import { spawn } from 'node:child_process';
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
