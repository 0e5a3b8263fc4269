// Moving up: copies a whole embedded (SQLite) store into an empty PostgreSQL database. Both sides are
// migrated to this build's schema first, so that rows go across column for column; then every table is
// read in primary-key batches and written in foreign-key order inside ONE target transaction (all or
// nothing), and the target's sequences are moved past the copied ids. The CLI's `batchflow store copy`
// calls it; the caller keeps servers off the source (the data directory's serve lock).
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import type { DB } from './db.js';
import { createPostgresStore, MIGRATION_LOCK_KEY } from './postgres.js';
import { poolConfig } from './postgresPool.js';
import { createSqliteStore, openSqliteReader } from './sqlite.js';

export interface CopyStoreOptions {
  /** The data directory of the embedded store (its batchflow.sqlite). */
  fromDataDir: string;
  /** postgres://... of the target database. */
  toUrl: string;
  /** Schema of the target (tests); default the connection's search_path. */
  toSchema?: string;
  /** Rows read and written per statement (default 500). */
  batchSize?: number;
}

/** Rows copied per table, in copy order. */
export interface CopyReport {
  tables: Record<string, number>;
}

/** The copy was refused before anything was written (missing source, non-empty target). */
export class CopyRefusedError extends Error {
  override readonly name: string = 'CopyRefusedError';
}

/** The store file of a data directory (the same name openStore in server.ts opens). */
export const sqliteFileOf = (dataDir: string): string => path.join(dataDir, 'batchflow.sqlite');

type CopiedTable = Exclude<keyof DB, 'batchflow_migrations'>;

/**
 * Every table but the migration ledger (the target has its own, for the same migrations), parents before
 * children. `key` is the primary key: the batch order and the keyset of the next batch. Directories
 * reference directories, so they go by depth below their org's root (see directoryBatches).
 */
const PLAN: ReadonlyArray<{ table: CopiedTable; key: readonly string[] }> = [
  { table: 'batchflow_meta', key: ['key'] },
  { table: 'orgs', key: ['id'] },
  { table: 'users', key: ['id'] },
  { table: 'apps', key: ['access_key'] },
  { table: 'app_tokens', key: ['token_hash'] },
  { table: 'auth_nonces', key: ['nonce'] },
  { table: 'directories', key: ['id'] },
  { table: 'flows', key: ['id'] },
  { table: 'tasks', key: ['id'] },
  { table: 'flow_versions', key: ['id'] },
  { table: 'flow_instances', key: ['id'] },
  { table: 'task_instances', key: ['id'] },
  { table: 'attempts', key: ['task_instance_id', 'run_num'] },
  { table: 'task_logs', key: ['task_instance_id', 'run_num', 'seq'] },
  { table: 'task_keys', key: ['task_instance_id'] },
  { table: 'reference_waits', key: ['instance_id', 'node_id', 'cycle_gap'] },
  { table: 'alerts', key: ['id'] },
  { table: 'idempotency_keys', key: ['scope', 'key'] },
  { table: 'status_events', key: ['id'] },
  { table: 'engines', key: ['id'] },
  { table: 'batchflow_counters', key: ['name'] },
];

/**
 * Tables the migrations fill (a new random store_id, zero counters): an empty target has rows in them,
 * which the source's overwrite. Both are (key column, value) pairs.
 */
const MIGRATION_FILLED: ReadonlyMap<CopiedTable, 'key' | 'name'> = new Map([
  ['batchflow_meta', 'key'],
  ['batchflow_counters', 'name'],
]);

/** PostgreSQL takes at most 65535 parameters per statement; stay well below whatever the row width. */
const MAX_PARAMS = 30_000;

// The copy reads and writes through Kysely<any>: one loop serves every table, and the column lists come
// from the rows themselves (both sides have the same schema, migrated by this build).
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Row = Record<string, unknown>;

export async function copyStore(opts: CopyStoreOptions): Promise<CopyReport> {
  const file = sqliteFileOf(opts.fromDataDir);
  // Without this check createSqliteStore would make a new, empty store and copy that.
  if (!existsSync(file)) throw new CopyRefusedError(`no store at ${file}`);
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 500));
  const target: AnyDb = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: new pg.Pool(poolConfig({ connectionString: opts.toUrl, schema: opts.toSchema, max: 1 })) }),
  });
  try {
    // Before migrating either side: a refused copy writes nothing anywhere (a non-empty store at an older
    // schema would otherwise be migrated first). The check inside the copy's transaction is the one
    // that counts; this one only spares the writes.
    await refuseNonEmpty(target);
    await (await createSqliteStore({ filename: file })).close();
    await (await createPostgresStore({ connectionString: opts.toUrl, schema: opts.toSchema, listen: false, poolSize: 1 })).close();
    const source: AnyDb = openSqliteReader(file);
    try {
      // One read transaction on the source: every table from the same snapshot.
      return await source.transaction().execute((src) => target.transaction().execute((dst) => copyAll(src, dst, batchSize)));
    } finally {
      await source.destroy();
    }
  } finally {
    await target.destroy();
  }
}

async function copyAll(src: Transaction<any>, dst: Transaction<any>, batchSize: number): Promise<CopyReport> {
  // The migration lock for the transaction: a second copy (or a migration) into the same database waits,
  // then finds this copy's rows and is refused, instead of failing halfway on a duplicate key.
  await sql.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`).execute(dst);
  await refuseNonEmpty(dst);
  const tables: Record<string, number> = {};
  for (const { table, key } of PLAN) {
    const batches = table === 'directories' ? directoryBatches(src, batchSize) : keyBatches(src, table, key, batchSize);
    let copied = 0;
    for await (const rows of batches) {
      await insertRows(dst, table, rows);
      copied += rows.length;
    }
    // A row the batches missed (a directory under no root, say) would otherwise vanish silently.
    const inSource = await countRows(src, table);
    if (copied !== inSource) throw new Error(`copied ${copied} rows of ${table}, but the source has ${inSource}`);
    tables[table] = copied;
  }
  await moveSequences(dst);
  return { tables };
}

// Reads: which of the target's tables (those that exist) hold rows; the migration-filled ones don't count.
async function refuseNonEmpty(db: AnyDb): Promise<void> {
  const withRows: string[] = [];
  for (const { table } of PLAN) {
    if (MIGRATION_FILLED.has(table)) continue;
    const exists = await sql<{ t: string | null }>`select to_regclass(${table}::text)::text as t`.execute(db);
    if (exists.rows[0]?.t == null) continue;
    if (await db.selectFrom(table).select(sql`1`.as('one')).limit(1).executeTakeFirst()) withRows.push(table);
  }
  if (withRows.length > 0) {
    const which = withRows.length === 1 ? `table ${withRows[0]} has rows` : `tables ${withRows.join(', ')} have rows`;
    throw new CopyRefusedError(`the target database is not empty (${which}); copy only into an empty database`);
  }
}

/** `(a, b) > (x, y)`: the keyset condition of the batch after `last` (row values: SQLite 3.15+). */
const after = (key: readonly string[], last: Row) => sql<boolean>`(${sql.join(key.map((k) => sql.ref(k)))}) > (${sql.join(key.map((k) => last[k]))})`;

// Reads: one source table in primary-key order, `batchSize` rows at a time (never the whole table).
async function* keyBatches(src: AnyDb, table: CopiedTable, key: readonly string[], batchSize: number): AsyncGenerator<Row[]> {
  let last: Row | null = null;
  for (;;) {
    let q = src.selectFrom(table).selectAll();
    if (last) q = q.where(after(key, last));
    for (const k of key) q = q.orderBy(k);
    const rows: Row[] = await q.limit(batchSize).execute();
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    last = rows[rows.length - 1];
  }
}

// Reads: the source's directories by depth below their org's root, then id: a parent is always in an
// earlier batch or earlier in the same one, so each insert's parent_id reference already exists.
async function* directoryBatches(src: AnyDb, batchSize: number): AsyncGenerator<Row[]> {
  let last: Row | null = null;
  for (;;) {
    let q = src
      .withRecursive('tree(id, depth)', (db) =>
        db
          .selectFrom('directories')
          .select(['id', sql<number>`0`.as('depth')])
          .where('parent_id', 'is', null)
          .unionAll(db.selectFrom('directories as d').innerJoin('tree as t', 't.id', 'd.parent_id').select(['d.id', sql<number>`t.depth + 1`.as('depth')])),
      )
      .selectFrom('directories')
      .innerJoin('tree', 'tree.id', 'directories.id')
      .selectAll('directories')
      .select('tree.depth as tree_depth');
    if (last) q = q.where(sql<boolean>`(tree.depth, directories.id) > (${last.tree_depth}, ${last.id})`);
    const rows: Row[] = await q.orderBy('tree.depth').orderBy('directories.id').limit(batchSize).execute();
    if (rows.length === 0) return;
    yield rows.map(({ tree_depth: _depth, ...row }) => row);
    if (rows.length < batchSize) return;
    last = rows[rows.length - 1];
  }
}

// Writes: the rows into the same table of the target, as they are (ids included: status_events' identity
// is BY DEFAULT, so explicit ids are taken). The migration-filled tables are overwritten by key.
async function insertRows(dst: AnyDb, table: CopiedTable, rows: Row[]): Promise<void> {
  const perInsert = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(rows[0]).length));
  const keyColumn = MIGRATION_FILLED.get(table);
  for (let i = 0; i < rows.length; i += perInsert) {
    let q = dst.insertInto(table).values(rows.slice(i, i + perInsert));
    if (keyColumn) q = q.onConflict((oc) => oc.column(keyColumn).doUpdateSet({ value: sql.ref('excluded.value') }));
    await q.execute();
  }
}

// Reads: the row count of one table.
async function countRows(db: AnyDb, table: CopiedTable): Promise<number> {
  const r = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

// Writes: the target's sequences and counters, so that nothing the target allocates next collides with a
// copied id. flow_instance_seq (PostgreSQL's source of instance seqs, migration 0004) continues past the
// source's counter and past every copied seq; status_events' identity past every copied id. The flow and
// task counters (copied from the source) are raised to the copied ids should the source have lagged.
async function moveSequences(dst: AnyDb): Promise<void> {
  await sql`select setval('flow_instance_seq', greatest(
      coalesce((select value from batchflow_counters where name = 'flow_instance_seq'), 0),
      coalesce((select max(seq) from flow_instances), 0)) + 1, false)`.execute(dst);
  await sql`select setval(pg_get_serial_sequence('status_events', 'id'), coalesce((select max(id) from status_events), 0) + 1, false)`.execute(dst);
  for (const [name, table] of [
    ['flow', 'flows'],
    ['task', 'tasks'],
    ['flow_version', 'flow_versions'],
  ] as const) {
    await sql`update batchflow_counters set value = greatest(value, coalesce((select max(id) from ${sql.table(table)}), 0)) where name = ${name}`.execute(dst);
  }
}
