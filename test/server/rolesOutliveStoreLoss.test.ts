// Regression (found by the fault test, test/faults): during a PostgreSQL restart, scheduler and worker
// processes ended by themselves with exit code 0. Their timers and reconnects are unref'd and they serve
// no HTTP, so with every connection to the store gone nothing held node's event loop. Here every backend
// of one process (found by its application_name) is terminated; the process must reconnect its LISTEN
// connection and go on, then stop cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../engine/harness.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { createPostgresStore } from '../../src/store/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
afterAll(() => dropSchemas());

async function listenBackends(admin: pg.Client, app: string): Promise<number[]> {
  const r = await admin.query(`select pid from pg_stat_activity where application_name = $1 and query ilike 'listen %'`, [app]);
  return r.rows.map((x) => Number(x.pid));
}

describe.runIf(postgresAvailable)('serve --role scheduler|worker when every store connection is lost', () => {
  it.each(['scheduler', 'worker'])('the %s process reconnects instead of ending', async (role) => {
    const schema = newSchema();
    await (await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema, listen: false })).close();
    const app = `bf_role_${randomBytes(4).toString('hex')}`;
    const url = `${TEST_DATABASE_URL}?application_name=${app}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const dataDir = tempDir();
    const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', role, '--database-url', url, '--data', dataDir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', BATCHFLOW_LOG_LEVEL: 'fatal' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    let ended: number | null | undefined;
    void exited.then((c) => (ended = c));
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await waitFor(async () => out.includes(`role ${role}:`) || ended !== undefined, 60_000, `the ${role} to start`);
      expect(ended, out).toBeUndefined();
      const before = await waitFor(async () => ((await listenBackends(admin, app)).length > 0 ? listenBackends(admin, app) : null), 20_000, 'its LISTEN connection');
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [app]);
      // Either it comes back with a new LISTEN connection, or it ended: no fixed wait decides.
      await waitFor(async () => ended !== undefined || (await listenBackends(admin, app)).some((p) => !before.includes(p)), 30_000, 'a new LISTEN connection or an exit');
      expect(ended, `the ${role} ended by itself: ${out}`).toBeUndefined();
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (ended === undefined) proc.kill('SIGKILL');
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
