// The whole content of a SQLite store file as one comparable value: the row count of every table and a
// SHA-256 over every row of every table in primary-key order, read through a read-only Kysely on the
// file (openSqliteReader), so tables added later are covered without naming them here. `changed()` is the
// cheap test between two checksums: SQLite's data_version moves when another connection has committed.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openSqliteReader } from '../../src/store/sqlite.js';

export interface StoreSum {
  counts: Record<string, number>;
  sha256: string;
}

export interface StoreReader {
  sum(): Promise<StoreSum>;
  /** True when a commit of another connection happened since the last call (or since open). */
  changed(): Promise<boolean>;
  /** Every `id` of the tables named, as text. */
  ids(tables: string[]): Promise<string[]>;
  close(): Promise<void>;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function canonical(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (typeof v === 'bigint') return { bigint: v.toString() };
  return v;
}

/** A reader of the store file in `dataDir` (the one tests' tempStore creates). */
export function storeReader(dataDir: string, filename = 'batchflow.db'): StoreReader {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = openSqliteReader(path.join(dataDir, filename)) as unknown as Kysely<any>;
  let version: number | undefined;
  const dataVersion = async () => Number((await sql<{ data_version: number }>`PRAGMA data_version`.execute(db)).rows[0].data_version);
  return {
    async sum() {
      const tables = (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(db)).rows.map((r) => r.name);
      const hash = createHash('sha256');
      const counts: Record<string, number> = {};
      for (const t of tables) {
        const cols = (await sql<{ name: string; pk: number }>`SELECT name, pk FROM pragma_table_info(${t})`.execute(db)).rows;
        const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => q(c.name));
        // Without a declared key, rowid; every column after the key makes the order total either way.
        const order = [...(pk.length > 0 ? pk : ['rowid']), ...cols.map((c) => q(c.name))].join(', ');
        const rows = (await sql.raw<Record<string, unknown>>(`SELECT * FROM ${q(t)} ORDER BY ${order}`).execute(db)).rows;
        counts[t] = rows.length;
        hash.update(`${t}\n`);
        for (const r of rows) hash.update(`${JSON.stringify(Object.entries(r).map(([k, v]) => [k, canonical(v)]))}\n`);
      }
      return { counts, sha256: hash.digest('hex') };
    },
    async changed() {
      const v = await dataVersion();
      const moved = version !== undefined && v !== version;
      version = v;
      return moved;
    },
    async ids(tables) {
      const out: string[] = [];
      for (const t of tables) out.push(...(await sql.raw<{ id: unknown }>(`SELECT id FROM ${q(t)}`).execute(db)).rows.map((r) => String(r.id)));
      return out;
    },
    close: () => db.destroy(),
  };
}
