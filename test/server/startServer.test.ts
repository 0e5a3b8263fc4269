// startServer in this process: the data directory lock holds against a second start in the same process
// (SQLite tracks its POSIX locks per inode, so a second connection gets SQLITE_BUSY too, and its close
// does not drop the holder's lock), and a refused start leaves the directory as it found it.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { lockDataDir } from '../../src/startup/dataDirLock.js';
import { DataDirLockedError, PortInUseError } from '../../src/startup/errors.js';
import { Client, importFlow, tempDir, waitForInstanceEnd } from '../engine/harness.js';
import { lines, runCli } from './cli.js';

const silent = pino({ level: 'silent' });
const configFor = (dataDir: string, port = 0): Config => loadConfig({ dataDir, port, logLevel: 'silent', killGraceMs: 500 }, {});
let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
function dir(): string {
  const d = tempDir();
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
async function start(config: Config): Promise<RunningServer> {
  const s = await startServer(config, { logger: silent });
  cleanups.push(() => s.close());
  return s;
}
const storeFiles = (d: string) => readdirSync(d).filter((f) => f.startsWith('batchflow.sqlite'));

it('a second startServer on the same data directory in this process rejects with DataDirLockedError, and the first keeps its lock and its work', async () => {
  const dataDir = dir();
  const first = await start(configFor(dataDir));
  const port = Number(new URL(first.url).port);
  const refused = await startServer(configFor(dataDir), { logger: silent }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(DataDirLockedError);
  expect((refused as DataDirLockedError).holder).toMatchObject({ pid: process.pid, port });
  expect((refused as Error).message).toBe(`data directory ${dataDir} is in use by another batchflow server (pid ${process.pid}, port ${port})`);

  const c = new Client(first.url, dataDir);
  const id = await c.trigger(await importFlow(c, 'after', [{ name: 'ok', cmd: 'exit 0' }]));
  expect((await waitForInstanceEnd(c, id)).statusDesc).toBe('SUCCESS');
  // The refused start closed its own connection to serve.lock: another process still finds the lock held.
  const other = await runCli(['serve', '--port', '0', '--data', dataDir]);
  expect(other.code).toBe(2);
  expect(lines(other.stderr)).toEqual([`batchflow: data directory ${dataDir} is in use by another batchflow server (pid ${process.pid}, port ${port})`]);
}, 60_000);

it('close releases the data directory: serve.json goes and the next start succeeds', async () => {
  const dataDir = dir();
  const first = await startServer(configFor(dataDir), { logger: silent });
  expect(existsSync(path.join(dataDir, 'serve.json'))).toBe(true);
  await first.close();
  expect(existsSync(path.join(dataDir, 'serve.json'))).toBe(false);
  const again = await start(configFor(dataDir));
  expect((await new Client(again.url, dataDir).ok('GET', 'directories', 'listWorkFlowDirs')).length).toBeGreaterThan(0);
});

it('a start refused by a port in use rejects with PortInUseError naming the holder, opens no store and releases the data directory', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port));
  });
  cleanups.push(() => new Promise((r) => blocker.close(r)));
  const dataDir = dir();
  const refused = await startServer(configFor(dataDir, port), { logger: silent }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(PortInUseError);
  expect((refused as PortInUseError).holderPid).toBe(process.platform === 'linux' ? process.pid : null);
  expect(storeFiles(dataDir)).toEqual([]);
  expect(existsSync(path.join(dataDir, 'serve.json'))).toBe(false);
  await start(configFor(dataDir)); // the lock was let go
});

it('a held lock whose serve.json is missing or names a dead process is reported with the holder unknown', async () => {
  const dataDir = dir();
  const lock = await lockDataDir(dataDir, { host: '127.0.0.1', port: 0 });
  cleanups.push(() => lock.release());
  writeFileSync(path.join(dataDir, 'serve.json'), JSON.stringify({ pid: 2 ** 22 + 1, host: '127.0.0.1', port: 1, startedAt: '' }));
  const refused = await lockDataDir(dataDir, { host: '127.0.0.1', port: 0 }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(DataDirLockedError);
  expect((refused as Error).message).toBe(`data directory ${dataDir} is in use by another batchflow server (holder unknown)`);
});
