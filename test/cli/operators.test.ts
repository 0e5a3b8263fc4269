// `batchflow rerun` and `batchflow backfill` (contract §12) as a subprocess against a real server with
// authentication on: a failed run rerun from its failure point with --wait (exit 0 once it succeeds),
// --all, a refusal (exit 3 with the API's message), a backfill with --wait following every run it made
// (exit 0), the same command again with --key answering as the first time, and usage errors (exit 2).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFlow, startInProcess, waitForInstanceEnd, type InProcess } from '../engine/harness.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'batchflow.js');
let h: InProcess;
let dir: string;
beforeAll(async () => {
  h = await startInProcess({ auth: true, workerConcurrency: 2, timezone: 'UTC' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'bf-cli-ops-'));
  chmodSync(dir, 0o777);
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Ran> {
  const env = { ...process.env, BATCHFLOW_DATA_DIR: h.dataDir, BATCHFLOW_URL: h.server.url, BATCHFLOW_LOG_LEVEL: 'warn' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
  }
}

describe('batchflow rerun and backfill', () => {
  it('reruns a failed run from its failure point and follows it; --all; refusals exit 3', async () => {
    const flag = path.join(dir, 'ok');
    const flowId = await importFlow(h.client, 'cli-rerun', [{ name: 'first', cmd: 'echo first' }, { name: 'second', cmd: `test -f ${flag}` }], [['first', 'second']]);
    const id = await h.client.trigger(flowId, Date.now() - 3_600_000);
    expect((await waitForInstanceEnd(h.client, id)).statusDesc).toBe('FAIL');
    writeFileSync(flag, '');
    const r = await cli(['rerun', id, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^rerun of ${id} \\(failed\\): 1 task instance to run again \\(\\d+-\\d{14}\\)$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`run ${id} of workflow ${flowId} cli-rerun: SUCCESS`));
    expect(r.stdout).toMatch(/second\s+SUCCESS\s+attempts 2/);
    expect(r.stdout).toMatch(/first\s+SUCCESS\s+attempts 1/);
    const refused = await cli(['rerun', id]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`rerunFlowInstance refused: 62102 Invalid parameter: flow instance ${id} is SUCCESS`));
    const all = await cli(['rerun', id, '--all', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ flowInstanceId: id, mode: 'all' });
    expect(JSON.parse(all.stdout).resetTaskInstIds).toHaveLength(2);
    expect((await waitForInstanceEnd(h.client, id)).statusDesc).toBe('SUCCESS');
  });

  it('backfills a range and follows every run; the same --key answers as the first time; usage errors exit 2', async () => {
    const flowId = await importFlow(h.client, 'cli-backfill', [{ name: 'only', cmd: 'echo "$BATCHFLOW_TRIGGER_TIME_TEXT"' }]);
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const from = new Date(today - 3 * day).toISOString().slice(0, 10);
    const to = new Date(today - day).toISOString().slice(0, 10);
    const args = ['backfill', String(flowId), '--from', `${from}T00:00Z`, '--to', `${to}T23:59Z`, '--cron', '0 0 6 * * ? *', '--key', 'cli-backfill-1'];
    const r = await cli([...args, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^backfill of workflow ${flowId}: 3 runs created, 0 skipped`, 'm'));
    expect(r.stdout.match(/^\d+-\d{14} SUCCESS {3}\(\d\/3 ended, \d SUCCESS\)$/gm)).toHaveLength(3);
    expect(r.stdout).toMatch(/\(3\/3 ended, 3 SUCCESS\)/);
    // Again with the same key: the first answer (3 created), nothing new.
    const again = await cli([...args, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).flowInstanceIds).toHaveLength(3);
    // Without the key: every minute exists now.
    const nokey = await cli(args.slice(0, -2));
    expect(nokey.stdout).toMatch(/0 runs created, 3 skipped/);
    const bad = await cli(['backfill', String(flowId), '--from', 'yesterday', '--to', `${to}T23:59Z`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from must be epoch milliseconds or a date and time/);
    const missing = await cli(['backfill', String(flowId), '--from', `${from}T00:00Z`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/required option '--to <time>'/);
    const noCron = await cli(['backfill', String(flowId), '--from', `${from}T00:00Z`, '--to', `${to}T23:59Z`]);
    expect(noCron.code).toBe(3);
    expect(noCron.stderr).toMatch(/Missing parameter: cron/);
  });
});
