// Runs the README's tour exactly as written (only the service URL points at a fresh test server, with
// authentication on as `npm start` has it, and the data directory is the server's, for the bootstrap
// credentials `batchflow call` signs with) and checks that what it promises happened.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startInProcess, taskStatuses, type InProcess } from './engine/harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
let h: InProcess;
beforeAll(async () => {
  h = await startInProcess({ auth: true });
});
afterAll(() => h.close());

function tourScript(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/<!-- tour:start -->\s*```sh\n([\s\S]*?)```\s*<!-- tour:end -->/);
  if (!m) throw new Error('README.md has no tour block');
  expect(m[1]).toContain('export BATCHFLOW_URL=http://127.0.0.1:8080\n');
  return m[1].replace('http://127.0.0.1:8080', h.server.url);
}

it('the README tour works as written', async () => {
  const env = { ...process.env, BATCHFLOW_DATA_DIR: h.dataDir, BATCHFLOW_LOG_LEVEL: 'warn' };
  const { stdout } = await promisify(execFile)('bash', ['-eu', '-c', tourScript()], { cwd: ROOT, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => {
      // Which step failed: the script's last lines of output and its stderr.
      throw new Error(`the tour exited ${err.code}: ...${String(err.stdout).slice(-3000)}\nstderr: ${String(err.stderr).slice(-3000)}`);
    },
  );
  expect(stdout).toMatch(/"code":1202,"msg":"A parameter is empty: the apim-accesstoken header is missing/);
  const ids = [...stdout.matchAll(/^instance (\S+)$/gm)].map((m) => m[1]);
  expect(ids).toHaveLength(3);
  const [inst, inst2, inst3] = await Promise.all(ids.map((id) => h.client.instance(id)));
  expect(inst.statusDesc).toBe('SUCCESS');
  expect(inst2.statusDesc).toBe('SUCCESS');
  expect(JSON.parse(inst2.parameters)).toContainEqual({ key: 'region', value: 'ap-east' });
  expect(inst3.statusDesc).toBe('SUCCESS');
  expect(taskStatuses(inst3)).toMatchObject({ extract: 'SKIP', clean_b: 'SKIP', clean_a: 'SUCCESS', load: 'SUCCESS' });
  expect(stdout).toContain('extracting eu-west for business date');
  expect(stdout).toContain('run num:\\t1');
  // step 8: the flaky chain succeeded on the third attempt; the queued second run was cancelled;
  // step 9: that run, rerun, succeeded under its own id
  const runs = [...stdout.matchAll(/"instanceId":"(\d+-\d{14})"[^\n]*"statusDesc":"(\w+)"/g)].map((m) => [m[1], m[2]]);
  expect(runs.slice(-3).map((r) => r[1])).toEqual(['SUCCESS', 'CANCEL', 'SUCCESS']);
  expect(runs[runs.length - 1][0]).toBe(runs[runs.length - 2][0]);
  const last = await h.client.instance(runs[runs.length - 3][0]);
  const flaky = JSON.parse(last.graph).tasks.find((t: any) => t.taskName === 'flaky');
  expect((await h.client.taskInstance(flaky.taskInstId)).runNum).toBe(3);
  expect(stdout).toMatch(/"data":\{"flowInstanceId":"\d+-\d{14}","mode":"failed","resetTaskInstIds":\["\d+-\d{14}"/);
  // step 10: the backfill made one run per day at 06:00
  const backfill = /"data":\{"flowInstanceIds":\[([^\]]*)\],"skipped":\[\]\}/.exec(stdout);
  expect(backfill?.[1].split(',')).toHaveLength(3);
}, 180_000);
