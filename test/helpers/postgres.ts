// PostgreSQL for tests: BATCHFLOW_TEST_DATABASE_URL (default the machine's local server), one fresh schema
// per store, dropped by dropSchemas(). Without a reachable server the PostgreSQL suites skip, loudly;
// under CI=true they fail instead (a CI that silently skipped them would prove nothing).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/store.js';

export const TEST_DATABASE_URL = process.env.BATCHFLOW_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<string | null> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => {});
  }
}

const why = await probe();
if (why !== null) {
  const msg = `PostgreSQL at ${TEST_DATABASE_URL} is not reachable (${why})`;
  if (process.env.CI === 'true') throw new Error(`${msg}: the PostgreSQL tests cannot run, and under CI=true they must`);
  console.warn(`\n*** SKIPPING the PostgreSQL tests: ${msg} ***\n`);
}

/** True when the PostgreSQL suites run (use with describe.runIf). */
export const postgresAvailable = why === null;

const made = new Set<string>();

/** A fresh schema name (tests own it and drop it). */
export function newSchema(prefix = 'bf_test'): string {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  made.add(name);
  return name;
}

/** A migrated store in a fresh schema. */
export async function pgStore(over: Partial<PostgresStoreOptions> = {}): Promise<Store> {
  return createPostgresStore({ connectionString: TEST_DATABASE_URL, schema: newSchema(), poolSize: 12, ...over });
}

/** Drops every schema this process made. */
export async function dropSchemas(): Promise<void> {
  if (!postgresAvailable || made.size === 0) return;
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    for (const s of made) await c.query(`drop schema if exists ${s} cascade`);
    made.clear();
  } finally {
    await c.end();
  }
}
