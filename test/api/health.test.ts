// /healthz and /readyz of a real server: public, ready once the engine runs, 503 naming the failing check
// when the store fails or while shutting down (when /healthz still answers 200).
import { afterEach, expect, it } from 'vitest';
import { failingStore } from '../helpers/failingStore.js';
import { startInProcess, type InProcess } from '../engine/harness.js';

let servers: InProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const LIMITS = expect.toSatisfy((l: { enforced: boolean; cgroup?: string; reason?: string }) => (l.enforced ? /^v[12]$/.test(l.cgroup ?? '') && !('reason' in l) : typeof l.reason === 'string' && !('cgroup' in l)));
const get = async (p: InProcess, path: string) => {
  const res = await fetch(p.server.url + path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

it('a running server is alive and ready, unsigned', async () => {
  const p = await startInProcess({ auth: false });
  servers.push(p);
  expect(await get(p, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  // `limits` (contract §11): whether tasks' cpu and memory limits are enforced here; readiness does not hang on it.
  expect(await get(p, '/readyz')).toEqual({ status: 200, body: { status: 'ready', checks: { store: 'ok', engine: 'running', draining: false }, limits: LIMITS } });
});

it('readyz is 503 naming the store when the store fails, and healthz stays 200', async () => {
  let failing = false;
  const p = await startInProcess({}, undefined, { wrapStore: (s) => failingStore(s, (m) => (failing && m === 'ping' ? 'before' : null)) });
  servers.push(p);
  failing = true;
  expect(await get(p, '/readyz')).toEqual({ status: 503, body: { status: 'unready', checks: { store: 'failing', engine: 'running', draining: false }, limits: LIMITS } });
  expect((await get(p, '/healthz')).status).toBe(200);
});

it('while shutting down readyz is 503 (draining) and healthz 200, while API calls get 503', async () => {
  const p = await startInProcess({ shutdownGraceMs: 5_000 });
  servers.push(p);
  // A running task holds the shutdown in the engine's grace period, with the HTTP server still up.
  const { importFlow } = await import('../engine/harness.js');
  const id = await p.client.trigger(await importFlow(p.client, 'slow', [{ name: 'a', cmd: 'sleep 3' }]));
  const deadline = Date.now() + 20_000;
  while (p.server.engine!.runningCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(id).toBeTruthy();
  const closing = p.server.close();
  const ready = await get(p, '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.checks).toMatchObject({ draining: true, store: 'ok' });
  expect(await get(p, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  expect((await fetch(`${p.server.url}/batch-processing-service/v2.1/time?action=getCurrentTime`)).status).toBe(503);
  await closing;
}, 30_000);
