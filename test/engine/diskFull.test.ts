// A full disk stops nothing for good (contract §5): while the store refuses every write (SQLITE_FULL), the
// engine retries its decisions with backoff and the API answers errors; once space is back the running
// chain finishes, each task run once, and new triggers run. Once with the failures injected into the
// store, once for real: the data directory on a small tmpfs filled to the last byte (when this machine
// lets the test mount one; as root it does).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { failingStore, WRITES } from '../helpers/failingStore.js';
import { importFlow, startInProcess, taskInstIds, tempDir, waitFor, waitForInstanceEnd, type InProcess } from './harness.js';

let h: InProcess | null = null;
const mounts: string[] = [];
afterEach(async () => {
  await h?.close();
  h = null;
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', [m]);
      rmSync(m, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
  }
});

const chain = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `t${i}`, cmd: 'sleep 0.3; echo ok' }));
const edges = (n: number) => Array.from({ length: n - 1 }, (_, i) => [`t${i}`, `t${i + 1}`] as [string, string]);

async function expectChainFinished(c: InProcess['client'], id: string, n: number): Promise<void> {
  const inst = await waitForInstanceEnd(c, id, 60_000);
  expect(inst.statusDesc).toBe('SUCCESS');
  for (const tid of Object.values(taskInstIds(inst))) expect((await c.taskInstance(tid)).runNum).toBe(1);
  expect(Object.keys(taskInstIds(inst))).toHaveLength(n);
}

it('survives a full disk (injected SQLITE_FULL): the running chain finishes and new triggers run once space is back', async () => {
  let full = false;
  h = await startInProcess({ engineRescanMs: 300 }, undefined, { wrapStore: (s) => failingStore(s, (m) => (full && WRITES.has(m) ? 'before' : null)) });
  const failures: unknown[] = [];
  h.server.engine!.events.on('stepFailed', (e) => failures.push(e.error));
  const flowId = await importFlow(h.client, 'chain', chain(4), edges(4));
  const id = await h.client.trigger(flowId);
  await new Promise<void>((resolve) => h!.server.engine!.events.once('taskStarted', () => resolve()));
  full = true;
  // While full: the API answers an error (never crashes), the engine keeps failing and retrying.
  const refused = await h.client.raw('POST', 'flows', 'trigger', { flowId, triggerTime: Date.now() - 600_000 });
  expect(refused.code).toBe(62109);
  await waitFor(async () => failures.length >= 3, 20_000, 'the engine to meet the full disk');
  expect(failures.every((e) => (e as { code?: string }).code === 'SQLITE_FULL')).toBe(true);
  full = false;
  await expectChainFinished(h.client, id, 4);
  const again = await h.client.trigger(flowId, Date.now() - 120_000);
  await expectChainFinished(h.client, again, 4);
}, 120_000);

const canMount = (() => {
  const probe = tempDir('bf-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();
if (!canMount) console.warn('diskFull.test.ts: SKIPPED the real full-disk case: this user cannot mount a tmpfs (the injected case ran)');

it.skipIf(!canMount)('survives a real full disk (a tmpfs filled to the last byte): the chain finishes once space is back', async () => {
  const mount = tempDir('bf-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
  mounts.push(mount);
  const dataDir = path.join(mount, 'data');
  h = await startInProcess({ engineRescanMs: 300, keepWorkDirs: false }, undefined, { dataDir });
  const failures: unknown[] = [];
  h.server.engine!.events.on('stepFailed', (e) => failures.push(e.error));
  const flowId = await importFlow(h.client, 'chain', chain(3), edges(3));
  const id = await h.client.trigger(flowId);
  await new Promise<void>((resolve) => h!.server.engine!.events.once('taskStarted', () => resolve()));
  // Fill every byte left (small files at the end, so that not even a page fits).
  const filler = path.join(dataDir, 'filler');
  mkdirSync(filler);
  for (const size of [1 << 20, 1 << 16, 1 << 12, 512]) {
    for (let k = 0; ; k++) {
      try {
        writeFileSync(path.join(filler, `${size}-${k}`), Buffer.alloc(size));
      } catch {
        break;
      }
    }
  }
  await waitFor(async () => failures.some((e) => (e as { code?: string }).code === 'SQLITE_FULL'), 20_000, 'SQLITE_FULL in the engine');
  rmSync(filler, { recursive: true, force: true });
  const inst = await waitForInstanceEnd(h.client, id, 60_000);
  expect(inst.statusDesc).toBe('SUCCESS');
  const again = await h.client.trigger(flowId, Date.now() - 120_000);
  expect((await waitForInstanceEnd(h.client, again, 60_000)).statusDesc).toBe('SUCCESS');
}, 120_000);
