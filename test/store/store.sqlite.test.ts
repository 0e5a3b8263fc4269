// SQLite-only behaviour: file and pragmas, two processes on one file (the admin CLI next to a running
// server) including concurrent migration, and a readable error for a database migrated by a newer build.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { migrations } from '../../src/store/migrations/index.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const root = mkdtempSync(path.join(tmpdir(), 'batchflow-sqlite-'));
let n = 0;
const freshFile = () => path.join(root, `case${++n}`, 'nested', 'batchflow.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sqliteModule = fileURLToPath(new URL('../../src/store/sqlite.ts', import.meta.url));
const childCode = `
  const [mod, file, input] = process.argv.slice(1);
  const { createSqliteStore } = await import(mod);
  const store = await createSqliteStore({ filename: file });
  let out = 'migrated';
  if (input !== 'null') out = await store.createFlowInstance(JSON.parse(input)).then(() => 'created', (e) => e.name);
  await store.close();
  process.stdout.write(out);
`;
/** Opens the store in a child process; with an instance, tries to create it. Resolves to what happened. */
function inChild(file: string, input: unknown): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childCode, sqliteModule, file, JSON.stringify(input)], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('SQLite store', () => {
  it('creates the parent directory, opens the file in WAL mode and enforces foreign keys', async () => {
    const file = freshFile();
    const store = await createSqliteStore({ filename: file, synchronous: 'FULL' });
    await expect(store.appendLog('no-such-task-instance', 1, 'x')).rejects.toThrow(/FOREIGN KEY/);
    await store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('select name from batchflow_migrations').pluck().all()).toEqual(migrations.map((m) => m.name));
    raw.close();
  });

  it('works in memory', async () => {
    const store = await createSqliteStore({ filename: ':memory:' });
    await store.createOrg({ id: 'o', name: 'o', createdAt: T0 });
    expect(await store.getRootDirectory('o')).not.toBeNull();
    await store.close();
  });

  // Two processes, as with the admin CLI next to a running server. (Two connections to one file inside a
  // single process would deadlock: better-sqlite3 waits for a lock synchronously, blocking the holder.)
  it('migrates from two processes at once and keeps one instance per minute across processes', async () => {
    const file = freshFile();
    expect(await Promise.all([inChild(file, null), inChild(file, null)])).toEqual(['migrated', 'migrated']);
    const store = await createSqliteStore({ filename: file });
    await store.createOrg({ id: 'o', name: 'o', createdAt: T0 });
    const f = await store.createFlow(flowOf('o', (await store.getRootDirectory('o'))!.id, 2));
    await store.close();
    const outcomes = await Promise.all([1, 2, 3].map(() => inChild(file, instanceOf(f, T0))));
    expect(outcomes.sort()).toEqual(['DuplicateKeyError', 'DuplicateKeyError', 'created']);
  });

  it('checkpoints the WAL in the background once a store is busy, and closes cleanly', async () => {
    const file = freshFile();
    const store = await createSqliteStore({ filename: file });
    const sizeBefore = statSync(file).size;
    // Small transactions: few enough pages that the connection's own auto-checkpoint (1000) stays out of it.
    for (let i = 0; i < 100; i++) await store.createOrg({ id: `o${i}`, name: `org ${i}`, createdAt: T0 });
    // The pages reach the database file once the background checkpoint ran (a condition, not a sleep).
    const deadline = Date.now() + 20_000;
    while (statSync(file).size <= sizeBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file).size).toBeGreaterThan(sizeBefore);
    await store.close();
    const again = await createSqliteStore({ filename: file });
    expect(await again.listOrgs()).toHaveLength(100);
    await again.close();
  });

  it('adds flows.version to a database migrated before 0003: its flows start at version 1', async () => {
    const file = freshFile();
    const first = await createSqliteStore({ filename: file });
    await first.createOrg({ id: 'o', name: 'o', createdAt: T0 });
    const f = await first.createFlow(flowOf('o', (await first.getRootDirectory('o'))!.id, 1));
    await first.close();
    // Back to the schema of a build without 0003.
    const raw = new Database(file);
    raw.exec("alter table flows drop column version; delete from batchflow_migrations where name = '0003_flow_version'");
    raw.close();
    const again = await createSqliteStore({ filename: file });
    expect((await again.getFlow('o', f.flow.id))?.flow.version).toBe(1);
    await again.close();
  });

  it('moves the flow copies of a database migrated before 0006 into versions: instances read as before', async () => {
    const file = freshFile();
    const first = await createSqliteStore({ filename: file });
    await first.createOrg({ id: 'o', name: 'o', createdAt: T0 });
    const f = await first.createFlow(flowOf('o', (await first.getRootDirectory('o'))!.id, 2));
    const a = await first.createFlowInstance(instanceOf(f, T0 + 3_600_000));
    const f2 = await first.updateFlow('o', {
      flow: { ...f.flow, desc: 'second', parameters: [{ key: 'p', value: '1' }], updateUser: 'bob', updatedAt: T0 + 5 },
      updatedTasks: [], newTasks: [], deletedTaskIds: [], guard: { version: f.flow.version, userId: 'u', now: T0 + 5 },
    });
    const b = await first.createFlowInstance({ ...instanceOf(f2, T0 + 7_200_000), instance: { ...instanceOf(f2, T0 + 7_200_000).instance, overrides: [{ key: 'p', value: '9' }] } });
    const readA = await first.getFlowInstance('o', a.id);
    const readB = await first.getFlowInstance('o', b.id);
    expect(readA!.version.number).toBe(1);
    expect(readB!.version.number).toBe(2);
    await first.close();

    // Back to the schema of a build without 0006: each instance carries its flow (with the bookkeeping
    // fields old builds kept) and its parameters.
    const raw = new Database(file);
    raw.exec("alter table flow_instances add column snapshot text not null default ''; alter table flow_instances add column parameters text not null default ''");
    const put = raw.prepare('update flow_instances set snapshot = ?, parameters = ? where id = ?');
    put.run(JSON.stringify({ flow: f.flow, tasks: f.tasks }), JSON.stringify(f.flow.parameters), a.id);
    put.run(JSON.stringify({ flow: f2.flow, tasks: f2.tasks }), JSON.stringify([{ key: 'p', value: '9' }]), b.id);
    raw.exec("drop table flow_versions; delete from batchflow_counters where name = 'flow_version'; alter table flow_instances drop column version_id; alter table flows drop column version_id; delete from batchflow_migrations where name = '0006_flow_versions'");
    raw.close();

    const again = await createSqliteStore({ filename: file });
    expect(await again.getFlowInstance('o', a.id)).toEqual(readA);
    expect(await again.getFlowInstance('o', b.id)).toEqual(readB);
    expect((await again.listFlowVersions('o', f.flow.id)).map((v) => [v.number, v.hash])).toEqual([
      [2, readB!.version.hash],
      [1, readA!.version.hash],
    ]);
    // The flow's current version is the one its latest content has.
    expect((await again.getFlow('o', f.flow.id))!.flow.versionId).toBe(readB!.version.id);
    // The next version made continues the counter and the numbering.
    const f3 = await again.updateFlow('o', {
      flow: { ...f2.flow, desc: 'third', updatedAt: T0 + 9 }, updatedTasks: [], newTasks: [], deletedTaskIds: [], guard: { version: f2.flow.version, userId: 'u', now: T0 + 9 },
    });
    const c = await again.createFlowInstance(instanceOf(f3, T0 + 10_800_000));
    expect(c.version.number).toBe(3);
    expect(c.version.id).toBeGreaterThan(Math.max(readA!.version.id, readB!.version.id));
    const cols = new Database(file, { readonly: true });
    expect(cols.prepare("select name from pragma_table_info('flow_instances')").pluck().all()).not.toContain('snapshot');
    cols.close();
    await again.close();
  });

  it('refuses a database migrated by a newer build', async () => {
    const file = freshFile();
    await (await createSqliteStore({ filename: file })).close();
    const raw = new Database(file);
    raw.prepare("insert into batchflow_migrations (name, applied_at) values ('9999_future', 0)").run();
    raw.close();
    await expect(createSqliteStore({ filename: file })).rejects.toThrow(/newer than this build.*9999_future/);
  });
});
