// The embedded SQLite adapter: opens the file (WAL, busy_timeout, foreign keys), wraps better-sqlite3 in a
// Kysely dialect whose transactions BEGIN IMMEDIATE (a writer takes the lock up front, so a second process
// such as the admin CLI waits on busy_timeout instead of failing on lock upgrade) and whose prepared
// statements are cached, then migrates. SQLite-only code lives here and nowhere else.
// One store per file per process: better-sqlite3 waits for a lock synchronously, so a second connection
// in the same process would block the event loop of the transaction it waits for (other processes are fine).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import type { Store } from './store.js';
import type { DB, StoreDialect } from './db.js';
import { createKyselyStore, localEvents } from './kyselyStore.js';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory database. */
  filename: string;
  /** NORMAL: durable against process crashes (WAL); FULL: also against power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Kysely prepares every query it runs; caching the statements by SQL text saves that on the hot path. */
function cachingDatabase(raw: Database.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => raw.close(),
    prepare(sqlText) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText); // re-insert: Map order is the LRU order
      } else {
        stmt = raw.prepare(sqlText) as unknown as SqliteStatement;
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once (no busy
 * handler) when another process is opening the same file: retry until the busy timeout.
 */
function switchToWal(raw: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      raw.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, 10); // a synchronous 10 ms pause: nothing else runs in this store yet
    }
  }
}

export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  if (opts.filename !== ':memory:') mkdirSync(path.dirname(path.resolve(opts.filename)), { recursive: true });
  const raw = new Database(opts.filename);
  try {
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    if (opts.filename !== ':memory:') switchToWal(raw, opts.busyTimeoutMs ?? 5000);
    raw.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    raw.pragma('foreign_keys = ON');
  } catch (err) {
    raw.close();
    throw err;
  }
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: cachingDatabase(raw) }) });
  const dialect: StoreDialect = {
    isUniqueViolation,
    // One connection and BEGIN IMMEDIATE: writers are already serialized, in and across processes.
    lockFlowForStart: async () => {},
    lockMigrations: async () => {},
    ...localEvents(),
    close: () => db.destroy(),
  };
  const store = createKyselyStore(db, dialect);
  try {
    await store.migrate();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return store;
}
