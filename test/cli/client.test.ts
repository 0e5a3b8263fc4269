// The client CLI as a subprocess against a real server with authentication on (credentials from the
// bootstrap file of the data directory): each command's human view and --json, `trigger --wait` with
// plain-line progress and under a pseudo-terminal (script(1)) with the redrawn bar, and the exit codes:
// 0 done, 1 a run that failed, 2 a usage error, 3 an API refusal or an unreachable service.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcess } from '../engine/harness.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'batchflow.js');
let h: InProcess;
beforeAll(async () => {
  h = await startInProcess({ auth: true, workerConcurrency: 4 });
});
afterAll(() => h.close());

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const full = { ...process.env, BATCHFLOW_DATA_DIR: h.dataDir, BATCHFLOW_URL: h.server.url, BATCHFLOW_LOG_LEVEL: 'warn', ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env: full, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
  }
}

const json = (r: Ran) => JSON.parse(r.stdout);

describe('batchflow client commands', () => {
  let flowId = 0;
  let failingId = 0;

  it('prints its version', async () => {
    const r = await cli(['--version']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('imports a workflow file into the root directory and lists and shows it', async () => {
    const r = await cli(['flows', 'import', 'examples/diamond.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    flowId = json(r).flowId;
    expect(flowId).toBeGreaterThan(0);
    const list = await cli(['flows', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${flowId}\\tD\\tyou\\tdiamond_demo$`, 'm'));
    const got = await cli(['flows', 'get', String(flowId)]);
    expect(got.stdout).toContain('tasks: extract, clean_a, clean_b, load');
    const exported = json(await cli(['flows', 'export', String(flowId)]));
    expect(exported.tasks.map((t: { name: string }) => t.name)).toEqual(['extract', 'clean_a', 'clean_b', 'load']);
    const failing = JSON.stringify({ flowName: 'cli-failing', desc: '', dirId: 'ROOT_DIR_ID', flowJson: { name: 'cli-failing', type: 0, cycle: 'D', tasks: [{ name: 'boom', type: 'SHELL', cmd: 'echo boom; exit 4' }], relations: [] } });
    const file = path.join(h.dataDir, 'failing.json');
    (await import('node:fs')).writeFileSync(file, failing);
    failingId = json(await cli(['flows', 'import', file, '--json'])).flowId;
  }, 60_000);

  it('triggers with a one-off parameter and waits with plain progress lines, exit 0, then shows the run as a tree', async () => {
    const r = await cli(['trigger', String(flowId), '--param', 'region=cli-land', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const id = /^triggered run (\S+)$/m.exec(r.stdout)![1];
    expect(r.stdout).toMatch(new RegExp(`^${id} RUNNING: \\d/4 done, \\d running, 0 failed$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${id} SUCCESS: 4/4 done, 0 running, 0 failed$`, 'm'));
    expect(r.stdout).not.toContain('\r');
    const show = await cli(['runs', 'show', id]);
    // DAG order, indented by depth: extract, then clean_a and clean_b, then load.
    expect(show.stdout).toMatch(/\n  extract +SUCCESS +attempts 1 .*\n    clean_a +SUCCESS .*\(after extract\)\n    clean_b +SUCCESS .*\n      load +SUCCESS .*\(after clean_a, clean_b\)/);
    const shown = json(await cli(['runs', 'show', id, '--json']));
    expect(JSON.parse(shown.parameters)).toContainEqual({ key: 'region', value: 'cli-land' });
    const extract = shown.tasks.find((t: { taskName: string }) => t.taskName === 'extract').taskInstId;
    const log = await cli(['logs', extract]);
    expect(log.stdout).toContain('extracting cli-land');
    const followed = await cli(['logs', extract, '--follow']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('extracting cli-land');
    expect(followed.stderr).toContain('ended SUCCESS');
    const runs = await cli(['runs', 'list', '--flow', String(flowId), '--status', 'success']);
    expect(runs.stdout).toContain(`${id}\tSUCCESS`);
    expect(json(await cli(['runs', 'list', '--status', 'running', '--json'])).flowInsts).toEqual([]);
  }, 90_000);

  it('draws a redrawn bar on a terminal', async () => {
    const cmd = `${process.execPath} ${BIN} trigger ${flowId} --at ${Date.now() - 7_200_000} --wait`;
    const r = await promisify(execFile)('script', ['-qfec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, BATCHFLOW_DATA_DIR: h.dataDir, BATCHFLOW_URL: h.server.url, TERM: 'xterm' },
      timeout: 90_000,
    });
    expect(r.stdout).toMatch(/\r\x1b\[2K\[[#.]{24}\] \S+ RUNNING: /);
    expect(r.stdout).toMatch(/\r\x1b\[2K\[#{24}\] \S+ SUCCESS: 4\/4 done, 0 running, 0 failed/);
  }, 90_000);

  it('exits 1 when the run fails, 2 on usage errors, 3 when the API refuses or is unreachable', async () => {
    const failed = await cli(['trigger', String(failingId), '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAIL: 0\/1 done, 0 running, 1 failed/);
    expect((await cli(['runs', 'list', '--bogus'])).code).toBe(2);
    expect((await cli(['trigger', String(flowId), '--param', 'novalue'])).code).toBe(2);
    expect((await cli(['trigger', 'abc'])).code).toBe(2);
    const missing = await cli(['flows', 'get', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/getFlow refused: 62102/);
    const down = await cli(['runs', 'list'], { BATCHFLOW_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the service/);
  }, 90_000);

  it('cancels a queued run, and enables and disables a workflow', async () => {
    const queued = json(await cli(['trigger', String(flowId), '--at', String(Date.now() + 86_400_000), '--json'])).flowInstanceId;
    const c = await cli(['cancel', queued]);
    expect(c).toMatchObject({ code: 0, stdout: `cancelled run ${queued}\n` });
    expect(json(await cli(['runs', 'show', queued, '--json'])).statusDesc).toBe('CANCEL');
    expect((await cli(['disable', String(flowId)])).stdout).toBe(`workflow ${flowId} disabled\n`);
    expect(json(await cli(['enable', String(flowId), '--json']))).toEqual({ flowId, enabled: true });
  }, 60_000);
});
