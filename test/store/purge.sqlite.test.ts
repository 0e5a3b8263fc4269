// Retention on SQLite only: the purge finds its candidates through the partial index (no table scan), a
// new file frees space incrementally, and a file made with auto_vacuum NONE frees nothing until the one
// full VACUUM that reclaimSpace({ fullVacuum }) runs, and incrementally from then on.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { candidatesQuery, purgeableQuery } from '../../src/store/purge.js';
import { createSqliteStore, openSqliteReader } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { driver } from '../helpers/drive.js';
import { flowOf, instanceIdOf, instanceOf, T0 } from './store.contract.js';

const root = mkdtempSync(path.join(tmpdir(), 'batchflow-purge-'));
let n = 0;
const freshFile = () => path.join(root, `case${++n}`, 'batchflow.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MIN = 60_000;
const CUTOFF = T0 + 86_400_000;
const autoVacuum = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('auto_vacuum', { simple: true });
  } finally {
    db.close();
  }
};

/** `count` ended instances of one-task flows, each with a 32 KiB log: pages enough to see them freed. */
async function fill(store: Store, count: number, from = T0): Promise<void> {
  if (!(await store.getOrg('o1'))) {
    await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
    await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
  }
  const dirId = (await store.getRootDirectory('o1'))!.id;
  const drive = driver(store);
  for (let i = 0; i < count; i++) {
    const f = await store.createFlow(flowOf('o1', dirId, 1, { name: `f${i}` }));
    const at = from + i * MIN;
    await store.createFlowInstance(instanceOf(f, at));
    await drive.startInstance(f.flow.id, at);
    const [t] = await store.listTaskInstances(instanceIdOf(f.flow.id, at));
    await drive.startTask(t.id, at);
    await drive.endTask(t.id, 1, 'SUCCESS', at, { logTail: 'x'.repeat(32 * 1024) });
  }
}

describe('SQLite retention', () => {
  it('finds the candidates of a purge through the partial index on ended_at, with or without a cursor', async () => {
    const file = freshFile();
    await (await createSqliteStore({ filename: file })).close();
    const db = openSqliteReader(file);
    const raw = new Database(file, { readonly: true });
    try {
      for (const cursor of [null, { endedAt: T0, id: '1-20240101000000' }]) {
        const q = candidatesQuery(db, CUTOFF, cursor, 500).compile();
        const plan = (raw.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail);
        // Seeks past the cursor, instead of reading the index from its start every batch.
        // (Without one, "ended_at is not null" is the lower bound: ended_at>NULL.)
        expect(plan.join('\n')).toContain(`USING COVERING INDEX flow_instances_ended_idx (${cursor ? '(ended_at,id)>(?,?)' : 'ended_at>?'} AND ended_at<?)`);
        expect(plan.join('\n')).not.toMatch(/SCAN flow_instances|TEMP B-TREE/);
      }
    } finally {
      raw.close();
      await db.destroy();
    }
  });

  it("re-checks a batch's instances by primary key, never through an index of every ended or CANCEL instance", async () => {
    const file = freshFile();
    await (await createSqliteStore({ filename: file })).close();
    const db = openSqliteReader(file);
    const raw = new Database(file, { readonly: true });
    try {
      const q = purgeableQuery(db, 'sqlite', ['1-20240101000000', '1-20240101000100']).compile();
      const plan = (raw.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail);
      expect(plan[0]).toMatch(/^SEARCH fi USING (COVERING )?INDEX sqlite_autoindex_flow_instances_1 \(id=\?\)$/);
      expect(plan.join('\n')).not.toMatch(/SCAN/);
    } finally {
      raw.close();
      await db.destroy();
    }
  });

  it('a new store frees the pages of purged rows with incremental vacuum, without a full VACUUM', async () => {
    const file = freshFile();
    const store = await createSqliteStore({ filename: file });
    try {
      expect(autoVacuum(file)).toBe(2); // INCREMENTAL
      await fill(store, 30);
      expect((await store.purgeInstances({ before: CUTOFF })).tables.flow_instances).toBe(30);
      const space = await store.reclaimSpace();
      expect(space).toMatchObject({ mode: 'incremental', vacuumed: false });
      expect(space.freedBytes).toBeGreaterThan(30 * 32 * 1024 * 0.9);
      expect((await store.reclaimSpace()).freedBytes).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('a store made with auto_vacuum NONE frees nothing until one full VACUUM turns it INCREMENTAL', async () => {
    const file = freshFile();
    mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    old.pragma('auto_vacuum = NONE');
    old.exec('create table made_by_an_older_build (x integer)');
    old.close();
    const store = await createSqliteStore({ filename: file });
    try {
      expect(autoVacuum(file)).toBe(0);
      await fill(store, 20);
      await store.purgeInstances({ before: CUTOFF });
      expect(await store.reclaimSpace()).toEqual({ mode: 'none', vacuumed: false, freedBytes: 0 });
      const converted = await store.reclaimSpace({ fullVacuum: true });
      expect(converted).toMatchObject({ mode: 'incremental', vacuumed: true });
      expect(converted.freedBytes).toBeGreaterThan(20 * 32 * 1024 * 0.9);
      expect(autoVacuum(file)).toBe(2);
      // From now on, incrementally.
      await fill(store, 10, T0 + 100 * MIN);
      await store.purgeInstances({ before: CUTOFF });
      const next = await store.reclaimSpace({ fullVacuum: true });
      expect(next).toMatchObject({ mode: 'incremental', vacuumed: false });
      expect(next.freedBytes).toBeGreaterThan(10 * 32 * 1024 * 0.9);
    } finally {
      await store.close();
    }
  });
});
