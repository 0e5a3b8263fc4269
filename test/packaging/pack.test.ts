// Packaging: `npm pack` gives a tarball of compiled JavaScript (dist/, with the console's build) that a
// clean directory installs with npm and starts with `npx batchflow serve`: no TypeScript compiler, no
// tsx, no sources in the installed package. The install compiles better-sqlite3 from source (about 1.5
// min alone on this machine), so it runs niced and with a generous deadline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'batchflow-pack-'));
let tarball = '';
let packed: string[] = [];
let server: ChildProcess | null = null;

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  // The server's build is always fresh here (it is what the tarball ships); the console's is made by
  // `npm ci` (prepare) and only built here when missing.
  run(process.execPath, ['tools/build-server.mjs'], root, 120_000);
  if (!existsSync(path.join(root, 'dist', 'web', 'index.html'))) run('npm', ['run', 'build:web'], root, 300_000);
  const out = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root, 120_000)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, out[0].filename);
  packed = out[0].files.map((f) => f.path);
}, 420_000);

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds compiled JavaScript and the console, not the sources or the tests', () => {
    expect(packed).toEqual(expect.arrayContaining(['bin/batchflow.js', 'dist/cli/main.js', 'dist/server.js', 'dist/engine/spawner.cjs', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/web/index.html', 'package.json', 'README.md']));
    expect(packed.filter((p) => p.startsWith('src/') || p.startsWith('test/') || p.startsWith('bench/') || p.startsWith('web/'))).toEqual([]);
    expect(packed.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs in a clean directory and starts with npx batchflow serve, answering signed calls', async () => {
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'trial', private: true, type: 'module' }));
    run('nice', ['-n', '10', 'npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app, 600_000);
    const installed = path.join(app, 'node_modules', 'batchflow');
    expect(readdirSync(installed).sort()).not.toContain('src');
    // No compiler at run time: neither TypeScript nor tsx came with the package's dependencies.
    expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);

    const t0 = Date.now();
    server = spawn('npx', ['batchflow', 'serve', '--port', '0'], { cwd: app, env: { ...process.env, BATCHFLOW_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line within 60 s:\n${out}`)), 60_000);
      const look = () => {
        const m = /serving on (http:\/\/\S+?),/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      server!.stdout!.on('data', look);
      server!.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    console.log(`packaging: first start of the installed package took ${Date.now() - t0} ms (npx included)`);
    const tz = (await (await fetch(`${url}/batch-processing-service/v2.1/time?action=getTimeZone`)).json()) as { code: number };
    expect(tz.code).toBe(0);
    // The CLI of the installed package signs with the bootstrap credentials the first start wrote.
    const listed = JSON.parse(run('npx', ['batchflow', 'call', 'GET', 'directories?action=listWorkFlowDirs', '--url', url], app, 60_000)) as { code: number; data: unknown[] };
    expect(listed.code).toBe(0);
    expect(listed.data.length).toBe(1);
    // The SDK of the installed package, as `batchflow/client`.
    const sdk = `import { createClient } from 'batchflow/client'; const bf = createClient({ baseUrl: ${JSON.stringify(url)}, userId: 'u-admin', orgId: 'o-default' }); console.log(JSON.stringify(await bf.call('getTimeZone')));`;
    expect(JSON.parse(run(process.execPath, ['--input-type=module', '-e', sdk], app, 30_000))).toEqual({ timezone: 'GMT+0' });
    const page = await fetch(`${url}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root"/);
    // SIGTERM to the server itself (npx is its parent): a graceful stop, exit 0, which npx passes on.
    const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));
    const { pid } = JSON.parse(readFileSync(path.join(app, 'data', 'serve.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGTERM received');
    server = null;
  }, 720_000);
});
