// Safe by default (contract §9), on real processes: the first `serve` makes an app and shows its secret
// once, writes bootstrap-credentials.json, the key file and the store readable by the service's user
// only; `batchflow call` signs with them; the admin app commands; a start without authentication on a
// non-loopback host, a key file others can read, or another master key than the store's: exit 2.
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChildServer, freePort, tempDir, waitFor } from '../engine/harness.js';
import { lines, runCli } from './cli.js';

let dirs: string[] = [];
const servers: ChildServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

async function serve(dataDir: string, env: Record<string, string> = {}): Promise<{ server: ChildServer; port: number; stdout: () => string }> {
  const port = freePort();
  const server = new ChildServer(dataDir, port, { BATCHFLOW_LOG_LEVEL: 'warn', ...env });
  let out = '';
  await server.start();
  server.proc!.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  servers.push(server);
  return { server, port, stdout: () => out };
}

it('the first start makes an app, shows its secret once and saves it 0600; the data dir is 0700; `call` signs with it', async () => {
  const dataDir = dir();
  const port = freePort();
  // The start line comes before the credentials lines: read stdout until both are there.
  const server = new ChildServer(dataDir, port, { BATCHFLOW_LOG_LEVEL: 'warn' });
  servers.push(server);
  await server.start();
  const creds = JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-credentials.json'), 'utf8'));
  expect(creds).toMatchObject({ orgId: 'o-default', userId: 'u-admin', accessKey: expect.any(String), secretKey: expect.any(String) });
  expect(mode(path.join(dataDir, 'bootstrap-credentials.json'))).toBe('600');
  expect(mode(path.join(dataDir, 'master.key'))).toBe('600');
  expect(mode(path.join(dataDir, 'batchflow.sqlite'))).toBe('600');
  expect(mode(dataDir)).toBe('700');

  const call = await runCli(['call', 'GET', 'directories?action=listWorkFlowDirs', '--port', String(port), '--data-dir', dataDir]);
  expect(call.code).toBe(0);
  expect(JSON.parse(call.stdout)).toMatchObject({ code: 0, data: [{ title: 'Workflow' }] });
  // Unsigned: refused, with the envelope.
  const res = await fetch(`http://127.0.0.1:${port}/batch-processing-service/v2.1/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default`);
  expect(res.status).toBe(401);
  expect(await res.json()).toMatchObject({ code: 1202, data: null });
  // A V2.0 path and a body from standard input's stand-in (a file).
  const bodyFile = path.join(dir(), 'body.json');
  writeFileSync(bodyFile, JSON.stringify({ pagination: { pageNo: 0, pageSize: 5 } }));
  const search = await runCli(['call', 'POST', '/dataflow-batch-service/v2.0/flows?action=search', '--data', `@${bodyFile}`, '--port', String(port), '--data-dir', dataDir]);
  expect(search.code, search.stdout + search.stderr).toBe(0);
  expect(JSON.parse(search.stdout)).toMatchObject({ status: 0 });
  // A refused call exits 1 and prints the answer.
  const bad = await runCli(['call', 'GET', 'flows?action=get&flowId=999', '--port', String(port), '--data-dir', dataDir]);
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.stdout)).toMatchObject({ code: 62102 });

  // A restart shows no secret again and keeps the same app.
  await server.stop('SIGTERM');
  servers.length = 0;
  const again = await serve(dataDir);
  expect(JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-credentials.json'), 'utf8')).accessKey).toBe(creds.accessKey);
  const call2 = await runCli(['call', 'GET', 'directories?action=listWorkFlowDirs', '--port', String(again.port), '--data-dir', dataDir]);
  expect(call2.code).toBe(0);
  expect(again.stdout()).not.toContain(creds.secretKey);
}, 90_000);

it('admin app add prints the secret once; app list never shows it; app revoke stops its calls at once', async () => {
  const dataDir = dir();
  const { port } = await serve(dataDir);
  const added = await runCli(['admin', 'app', 'add', '--org', 'o-default', '--name', 'etl', '--data', dataDir]);
  expect(added.code, added.stderr).toBe(0);
  const app = JSON.parse(added.stdout);
  expect(app).toMatchObject({ accessKey: expect.any(String), secretKey: expect.any(String), orgId: 'o-default', name: 'etl' });
  const signed = ['--port', String(port), '--access-key', app.accessKey, '--secret-key', app.secretKey, '--user', 'u-admin', '--org', 'o-default'];
  expect((await runCli(['call', 'GET', 'directories?action=listWorkFlowDirs', ...signed])).code).toBe(0);

  const list = await runCli(['admin', 'app', 'list', '--data', dataDir]);
  expect(list.code).toBe(0);
  expect(list.stdout).not.toContain(app.secretKey);
  expect(JSON.parse(list.stdout).map((a: { accessKey: string }) => a.accessKey)).toContain(app.accessKey);

  const revoked = await runCli(['admin', 'app', 'revoke', app.accessKey, '--data', dataDir]);
  expect(JSON.parse(revoked.stdout)).toEqual({ accessKey: app.accessKey, revoked: true });
  const refused = await runCli(['call', 'GET', 'directories?action=listWorkFlowDirs', ...signed]);
  expect(refused.code).toBe(1);
  expect(refused.stdout + refused.stderr).toMatch(/1203|1002/);
  const twice = await runCli(['admin', 'app', 'revoke', app.accessKey, '--data', dataDir]);
  expect(twice.code).toBe(1);
  expect(twice.stderr).toContain('already revoked');
  const nowhere = await runCli(['admin', 'app', 'add', '--org', 'o-none', '--data', dataDir]);
  expect(nowhere.code).toBe(1);
  expect(nowhere.stderr).toContain('organization o-none not found');
}, 90_000);

it.each([
  [['--host', '0.0.0.0', '--no-auth'], {}],
  [['--host', '0.0.0.0'], { BATCHFLOW_AUTH: 'false' }],
])('serve %j %j without authentication on a non-loopback host exits 2 with one line, nothing written', async (args, env) => {
  const dataDir = dir();
  const run = await runCli(['serve', '--port', String(freePort()), '--data', dataDir, ...args], env);
  expect(run.code).toBe(2);
  expect(lines(run.stderr)).toEqual([expect.stringContaining('refusing to serve on 0.0.0.0 without authentication: --no-auth (BATCHFLOW_AUTH=false) works on a loopback host')]);
  expect(readdirSync(dataDir)).toEqual([]);
});

it('--no-auth on loopback warns and accepts unsigned calls', async () => {
  const dataDir = dir();
  const port = freePort();
  const server = new ChildServer(dataDir, port, { BATCHFLOW_AUTH: 'false' });
  servers.push(server);
  await server.start();
  const res = await fetch(`http://127.0.0.1:${port}/batch-processing-service/v2.1/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default`);
  expect(await res.json()).toMatchObject({ code: 0 });
  await waitFor(async () => server.output.includes('WARNING: authentication is off (--no-auth)'), 20_000, 'the warning');
  expect(existsSync(path.join(dataDir, 'bootstrap-credentials.json'))).toBe(false);
});

it('a key file others can read, or another master key than the one the store knows: exit 2 with one line', async () => {
  const dataDir = dir();
  const { server } = await serve(dataDir);
  await server.stop('SIGTERM');
  servers.length = 0;
  chmodSync(path.join(dataDir, 'master.key'), 0o644);
  const loose = await runCli(['serve', '--port', String(freePort()), '--data', dataDir]);
  expect(loose.code).toBe(2);
  expect(lines(loose.stderr)).toEqual([`batchflow: the master key file ${path.join(dataDir, 'master.key')} is readable by others (mode 0644); chmod 600 it`]);
  chmodSync(path.join(dataDir, 'master.key'), 0o600);
  const other = await runCli(['serve', '--port', String(freePort()), '--data', dataDir], { BATCHFLOW_MASTER_KEY: 'ab'.repeat(32) });
  expect(other.code).toBe(2);
  expect(lines(other.stderr)).toEqual([expect.stringMatching(/^batchflow: the master key \(id [0-9a-f]{16}\) is not the one this store's secrets are sealed with \(id [0-9a-f]{16}\)/)]);
  const bad = await runCli(['serve', '--port', String(freePort()), '--data', dataDir], { BATCHFLOW_MASTER_KEY: 'short' });
  expect(bad.code).toBe(2);
  expect(lines(bad.stderr)).toEqual(['batchflow: BATCHFLOW_MASTER_KEY must be 64 hex digits or 32 bytes in base64 (its value is not shown)']);
}, 90_000);

it('master-key rotate reseals every secret under a new key: the old credentials still sign after a restart', async () => {
  const dataDir = dir();
  const { server } = await serve(dataDir);
  await server.stop('SIGTERM');
  servers.length = 0;
  const before = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
  const rotated = await runCli(['admin', 'master-key', 'rotate', '--data', dataDir]);
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(JSON.parse(rotated.stdout)).toMatchObject({ resealed: { apps: 1 }, keyFile: path.join(dataDir, 'master.key') });
  expect(readFileSync(path.join(dataDir, 'master.key'), 'utf8')).not.toBe(before);
  expect(mode(path.join(dataDir, 'master.key'))).toBe('600');
  const { port } = await serve(dataDir);
  const call = await runCli(['call', 'GET', 'directories?action=listWorkFlowDirs', '--port', String(port), '--data-dir', dataDir]);
  expect(call.code, call.stdout).toBe(0);
}, 90_000);
