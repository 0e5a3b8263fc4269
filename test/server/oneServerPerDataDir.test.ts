// One server per data directory and per port, with real `batchflow serve` child processes: a second one
// exits 2 with one line naming the holder and changes nothing, the first one's work goes on untouched,
// and the lock dies with its process (kill -9), whatever serve.json still says.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChildServer, freePort, importFlow, taskInstIds, taskStatuses, tempDir, waitFor, waitForInstanceEnd } from '../engine/harness.js';
import { lines, runCli } from './cli.js';

// SIGTERM with a short grace at the end of a test: tasks still running are stopped, not orphaned.
const ENV = { BATCHFLOW_SHUTDOWN_GRACE_MS: '500' };
let servers: ChildServer[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const s of servers) if (s.proc) await s.stop('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

async function serve(dataDir: string, port = freePort()): Promise<ChildServer> {
  const s = new ChildServer(dataDir, port, ENV);
  servers.push(s);
  await s.start();
  return s;
}
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
const holderFile = (dataDir: string) => JSON.parse(readFileSync(path.join(dataDir, 'serve.json'), 'utf8'));

it("a second server on a data directory in use exits 2 with one line naming the holder's pid and port, and the first one's task runs on to SUCCESS", async () => {
  const dataDir = dir();
  const first = await serve(dataDir);
  const c = first.client;
  // The task sleeps until the second server has come and gone (a gate file), so that the two overlap on
  // any machine; a plain `sleep 3` could end before a slow second start even tried the lock.
  const gate = path.join(dir(), 'gate');
  const flowId = await importFlow(c, 'nap', [{ name: 'nap', cmd: `until [ -e ${gate} ]; do sleep 0.1; done; echo woke up` }]);
  const id = await c.trigger(flowId);
  await waitFor(async () => taskStatuses(await c.instance(id)).nap === 'RUNNING', 20_000, 'the task to run');
  const before = readdirSync(dataDir).sort();
  const holder = holderFile(dataDir);

  const second = await runCli(['serve', '--port', String(freePort()), '--data', dataDir], ENV);
  expect(second.code).toBe(2);
  expect(lines(second.stderr)).toEqual([`batchflow: data directory ${dataDir} is in use by another batchflow server (pid ${first.proc!.pid}, port ${first.port})`]);
  expect(second.stdout).toBe('');
  expect(readdirSync(dataDir).sort()).toEqual(before);
  expect(holderFile(dataDir)).toEqual(holder);
  expect(taskStatuses(await c.instance(id)).nap).toBe('RUNNING');
  writeFileSync(gate, '');

  const inst = await waitForInstanceEnd(c, id, 30_000);
  expect(inst.statusDesc).toBe('SUCCESS');
  const nap = taskInstIds(inst).nap;
  expect((await c.taskInstance(nap)).runNum).toBe(1);
  expect(await c.log(nap)).toContain('woke up');
}, 90_000);

it('a second server on a port in use exits 2 with one line naming the port and its holder, and its data directory gets no store', async () => {
  const first = await serve(dir());
  const other = dir();
  const second = await runCli(['serve', '--port', String(first.port), '--data', other], ENV);
  expect(second.code).toBe(2);
  // The holder comes from /proc (Linux): the first server's own process, since it listens itself.
  const holder = process.platform === 'linux' ? `pid ${first.proc!.pid}` : 'holder unknown';
  expect(lines(second.stderr)).toEqual([`batchflow: port ${first.port} on 127.0.0.1 is in use (${holder})`]);
  expect(readdirSync(other).filter((f) => f.startsWith('batchflow.sqlite') || f === 'serve.json')).toEqual([]);
  expect((await first.client.ok('GET', 'directories', 'listWorkFlowDirs')).length).toBeGreaterThan(0);
}, 60_000);

it('after kill -9 of a server a new one starts on its data directory: the lock died with the process and the stale serve.json is ignored', async () => {
  const dataDir = dir();
  const first = await serve(dataDir);
  // A task that outlives the killed server (its process group is its own) must not keep the lock either.
  const flowId = await importFlow(first.client, 'long', [{ name: 'long', cmd: 'sleep 60' }]);
  const id = await first.client.trigger(flowId);
  await waitFor(async () => taskStatuses(await first.client.instance(id)).long === 'RUNNING', 20_000, 'the task to run');
  const deadPid = first.proc!.pid;
  await first.stop('SIGKILL');
  expect(holderFile(dataDir).pid).toBe(deadPid);

  const second = await serve(dataDir, first.port);
  expect(holderFile(dataDir)).toMatchObject({ pid: second.proc!.pid, port: second.port });
  // Recovery ran in the new server: the orphaned attempt is closed (and its process killed).
  const inst = await waitForInstanceEnd(second.client, id, 30_000);
  expect(inst.statusDesc).toBe('FAIL');
  expect(await second.client.log(taskInstIds(inst).long)).toMatch(/attempt lost/);

  expect(await second.stop('SIGTERM')).toBe(0);
  expect(existsSync(path.join(dataDir, 'serve.json'))).toBe(false);
}, 90_000);
