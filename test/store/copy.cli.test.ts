// `batchflow store copy --from <dir> --to <url>` as a person runs it: the JSON report on success; a refused
// copy (target not empty, a server on the source) exits 2 with one line on stderr. The CLI takes a URL
// only, so the test's schema travels in it as libpq `options` (search_path). Needs PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/startup/dataDirLock.js';
import { sqliteFileOf } from '../../src/store/copy.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { lines, runCli } from '../server/cli.js';
import { T0 } from './store.contract.js';

describe.runIf(postgresAvailable)('batchflow store copy', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bf-copy-cli-'));
  const schema = newSchema('bf_copy_cli');
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

  beforeAll(async () => {
    const store = await createSqliteStore({ filename: sqliteFileOf(dataDir) });
    await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
    await store.close();
    // Without a schema option the store uses the search_path as it is, and does not create the schema.
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  });
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await dropSchemas();
  });

  it('refuses while a server holds the data directory, then copies and prints the report, then refuses a second copy', async () => {
    const lock = await lockDataDir(dataDir, { host: 'h', port: 8080 });
    try {
      const held = await runCli(['store', 'copy', '--from', dataDir, '--to', url]);
      expect(held.code).toBe(2);
      expect(lines(held.stderr)).toEqual([expect.stringMatching(/^batchflow: store copy refused: data directory .* is in use by another batchflow server \(pid \d+, port 8080\); stop it first$/)]);
    } finally {
      lock.release();
    }

    const first = await runCli(['store', 'copy', '--from', dataDir, '--to', url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).tables).toMatchObject({ orgs: 1, directories: 1, batchflow_meta: 1, batchflow_counters: 4, flows: 0 });

    const second = await runCli(['store', 'copy', '--from', dataDir, '--to', url]);
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(lines(second.stderr)).toEqual([
      'batchflow: store copy refused: the target database is not empty (tables orgs, directories have rows); copy only into an empty database',
    ]);
  }, 60_000);
});
