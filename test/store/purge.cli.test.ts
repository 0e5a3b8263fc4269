// `batchflow store purge --before DATE [--dry-run]` as a person runs it on an embedded store: the counts as
// JSON; a dry run removes nothing; beside a server (its data directory lock held) it purges but leaves a
// store made with auto_vacuum NONE as it is, and with no server the one VACUUM turns incremental vacuum on;
// a bad date or a missing store is one line and exit 2.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/startup/dataDirLock.js';
import { sqliteFileOf } from '../../src/store/copy.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { lines, runCli } from '../server/cli.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const DAY = 86_400_000;

describe('batchflow store purge', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bf-purge-cli-'));
  const ids: string[] = [];
  const exists = async (id: string) => {
    const store = await createSqliteStore({ filename: sqliteFileOf(dataDir) });
    try {
      return (await store.getFlowInstanceById(id)) !== null;
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    // A store made before incremental vacuum: auto_vacuum NONE.
    mkdirSync(dataDir, { recursive: true });
    const raw = new Database(sqliteFileOf(dataDir));
    raw.pragma('auto_vacuum = NONE');
    raw.exec('create table made_by_an_older_build (x integer)');
    raw.close();
    const store = await createSqliteStore({ filename: sqliteFileOf(dataDir) });
    await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
    await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
    const dirId = (await store.getRootDirectory('o1'))!.id;
    // Cancelled on 2024-01-01, 01-02 (old) and 2024-03-01 (recent).
    for (const at of [T0, T0 + DAY, T0 + 60 * DAY]) {
      const f = await store.createFlow(flowOf('o1', dirId, 1, { name: `f${at}` }));
      const inst = await store.createFlowInstance(instanceOf(f, at + 365 * DAY, { createdAt: at }));
      await store.cancelInstance('o1', inst.id, at, 'no longer needed', 'u1');
      ids.push(inst.id);
    }
    await store.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const counts = { flow_instances: 2, task_instances: 2, attempts: 0, status_events: 4, task_logs: 0 };

  it('refuses a date it cannot read, and a data directory without a store, with one line and exit 2', async () => {
    const bad = await runCli(['store', 'purge', '--data', dataDir, '--before', '2024-02-30']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(lines(bad.stderr)).toEqual([
      'batchflow: store purge: --before must be yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" (in the time zone UTC) or ISO 8601 with an offset such as 2024-05-01T00:00:00Z, got "2024-02-30"',
    ]);
    const empty = path.join(dataDir, 'no-store-here');
    const none = await runCli(['store', 'purge', '--data', empty, '--before', '2024-02-01']);
    expect(none.code).toBe(2);
    expect(lines(none.stderr)).toEqual([`batchflow: store purge: no store at ${sqliteFileOf(empty)}`]);
  }, 60_000);

  it('a dry run prints what would go, in the service time zone, and removes nothing', async () => {
    const dry = await runCli(['store', 'purge', '--data', dataDir, '--before', '2024-02-01 08:00:00', '--timezone', 'Asia/Shanghai', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ before: '2024-02-01T00:00:00.000Z', dryRun: true, tables: counts, kept: 0, batches: 1, stopped: false, space: null });
    for (const id of ids) expect(await exists(id)).toBe(true);
  }, 60_000);

  it('purges beside a server holding the data directory (no VACUUM then), and runs the one VACUUM once none does', async () => {
    const lock = await lockDataDir(dataDir, { host: 'h', port: 8080 });
    try {
      const beside = await runCli(['store', 'purge', '--data', dataDir, '--before', '2024-02-01T00:00:00Z']);
      expect(beside.stderr).toBe('');
      expect(beside.code).toBe(0);
      const out = JSON.parse(beside.stdout);
      expect(out).toMatchObject({ dryRun: false, tables: counts, space: { mode: 'none', vacuumed: false, freedBytes: 0 } });
      expect(out.note).toMatch(/auto_vacuum NONE .* run store purge once with the server stopped/);
    } finally {
      lock.release();
    }
    expect([await exists(ids[0]), await exists(ids[1]), await exists(ids[2])]).toEqual([false, false, true]);

    const alone = await runCli(['store', 'purge', '--data', dataDir, '--before', '2024-02-01']);
    expect(alone.code).toBe(0);
    const out = JSON.parse(alone.stdout);
    expect(out).toMatchObject({ tables: { flow_instances: 0 }, space: { mode: 'incremental', vacuumed: true } });
    expect(out.note).toBeUndefined();
    expect(await exists(ids[2])).toBe(true);
  }, 60_000);
});
