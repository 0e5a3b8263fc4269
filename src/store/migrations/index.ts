// The migration runner: applies the numbered migrations not yet in the ledger `batchflow_migrations`, in
// order, in one transaction under the dialect's migration lock, so concurrent starters (server + CLI)
// neither race nor half-apply. Migrations are append-only: add a file and list it below, never edit one.
import { sql, type Kysely } from 'kysely';
import type { DB, StoreDialect } from '../db.js';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_engine.js';
import * as m0003 from './0003_flow_version.js';
import * as m0004 from './0004_multi_process.js';
import * as m0005 from './0005_auth.js';
import * as m0006 from './0006_flow_versions.js';
import * as m0007 from './0007_search.js';
import * as m0008 from './0008_retention.js';
import * as m0009 from './0009_partial_indexes.js';
import * as m0010 from './0010_task_keys.js';
import * as m0011 from './0011_references.js';
import * as m0012 from './0012_operations.js';

interface Migration {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, kind: StoreDialect['kind']): Promise<void>;
}

export const migrations: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010, m0011, m0012];

// Reads and writes: batchflow_migrations (ledger) and whatever each pending migration touches.
// Guard: dialect.lockMigrations inside the transaction; the ledger is re-read under that lock.
export async function migrate(db: Kysely<DB>, dialect: StoreDialect, now: () => number = Date.now): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await dialect.lockMigrations(trx);
    await sql`create table if not exists batchflow_migrations (name text primary key, applied_at bigint not null)`.execute(trx);
    const applied = new Set((await trx.selectFrom('batchflow_migrations').select('name').execute()).map((r) => r.name));
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied].filter((n) => !known.has(n));
    if (unknown.length > 0) {
      // A newer build migrated this database: running old code against a newer schema risks corrupting it.
      throw new Error(`database schema is newer than this build (unknown migrations: ${unknown.join(', ')})`);
    }
    for (const m of migrations) {
      if (applied.has(m.name)) continue;
      await m.up(trx, dialect.kind);
      await trx.insertInto('batchflow_migrations').values({ name: m.name, applied_at: now() }).execute();
    }
  });
}
