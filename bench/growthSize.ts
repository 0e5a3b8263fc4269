// Size on disk for the growth benchmark: bytes per table, its indexes included, read from the store's
// own accounting (SQLite: the dbstat virtual table over the file, with the WAL checkpointed into it;
// PostgreSQL: pg_relation_size / pg_indexes_size / pg_total_relation_size per table of the schema).
// Read with no server on the store (SQLite) or beside it (PostgreSQL counts its relations' files).
import Database from 'better-sqlite3';
import pg from 'pg';

export interface TableSize {
  /** The table's own pages (SQLite) or heap + TOAST (PostgreSQL). */
  tableBytes: number;
  /** All its indexes, the primary key's included. */
  indexBytes: number;
  /** By index name. */
  indexes: Record<string, number>;
}

export interface StoreSize {
  /** Whole store: the SQLite file (after a checkpoint), or the schema's relations. */
  totalBytes: number;
  tables: Record<string, TableSize>;
}

/** Bytes of a table with its indexes. */
export const bytesOf = (t: TableSize | undefined) => (t ? t.tableBytes + t.indexBytes : 0);

export function sqliteSize(file: string): StoreSize {
  const db = new Database(file);
  try {
    // The rows written since the last checkpoint are in the WAL: fold them in before counting pages.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const owner = new Map<string, { table: string; isIndex: boolean }>();
    for (const r of db.prepare("select name, tbl_name, type from sqlite_master where type in ('table', 'index')").all() as Array<{ name: string; tbl_name: string; type: string }>) {
      owner.set(r.name, { table: r.tbl_name, isIndex: r.type === 'index' });
    }
    const tables: Record<string, TableSize> = {};
    // aggregate=TRUE: one row per b-tree (a page walk all the same, but no per-page rows).
    for (const r of db.prepare('select name, pgsize from dbstat where aggregate = TRUE').all() as Array<{ name: string; pgsize: number }>) {
      const o = owner.get(r.name) ?? { table: r.name, isIndex: false };
      const t = (tables[o.table] ??= { tableBytes: 0, indexBytes: 0, indexes: {} });
      if (o.isIndex) {
        t.indexBytes += r.pgsize;
        t.indexes[r.name] = r.pgsize;
      } else t.tableBytes += r.pgsize;
    }
    const pages = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return { totalBytes: pages * pageSize, tables };
  } finally {
    db.close();
  }
}

export async function postgresSize(connectionString: string, schema: string): Promise<StoreSize> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    const rel = await c.query<{ relname: string; heap: string; idx: string }>(
      `select c.relname, pg_table_size(c.oid) as heap, pg_indexes_size(c.oid) as idx
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind = 'r'`,
      [schema],
    );
    const idx = await c.query<{ tablename: string; indexname: string; bytes: string }>(
      `select i.tablename, i.indexname, pg_relation_size(format('%I.%I', i.schemaname, i.indexname)::regclass) as bytes
         from pg_indexes i where i.schemaname = $1`,
      [schema],
    );
    const tables: Record<string, TableSize> = {};
    let totalBytes = 0;
    for (const r of rel.rows) {
      tables[r.relname] = { tableBytes: Number(r.heap), indexBytes: Number(r.idx), indexes: {} };
      totalBytes += Number(r.heap) + Number(r.idx);
    }
    for (const r of idx.rows) if (tables[r.tablename]) tables[r.tablename].indexes[r.indexname] = Number(r.bytes);
    return { totalBytes, tables };
  } finally {
    await c.end();
  }
}

/** Per-table growth between two measurements, over `n` (bytes per instance, or per log byte). */
export function delta(before: StoreSize, after: StoreSize, n: number, only?: readonly string[]): { perUnit: number; byTable: Record<string, number> } {
  const byTable: Record<string, number> = {};
  let sum = 0;
  for (const name of only ?? Object.keys(after.tables)) {
    const d = bytesOf(after.tables[name]) - bytesOf(before.tables[name]);
    if (d === 0) continue;
    byTable[name] = Math.round((d / n) * 10) / 10;
    sum += d;
  }
  return { perUnit: Math.round((sum / n) * 10) / 10, byTable };
}
