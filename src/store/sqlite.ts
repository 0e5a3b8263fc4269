// The embedded SQLite adapter: opens the file (WAL, busy_timeout, foreign keys), wraps better-sqlite3 in a
// Kysely dialect whose transactions BEGIN IMMEDIATE (a writer takes the lock up front, so a second process
// such as the admin CLI waits on busy_timeout instead of failing on lock upgrade) and whose prepared
// statements are cached, then migrates. SQLite-only code lives here and in sqliteCheckpointer.ts (WAL
// checkpoints on a worker thread, so that their page copies and fsyncs stay off the event loop); also the
// read-only Kysely that store tools (copy.ts) read a store file through.
// One store per file per process: better-sqlite3 waits for a lock synchronously, so a second connection
// in the same process would block the event loop of the transaction it waits for (other processes are fine;
// the checkpointer's connection never takes the write lock and never waits).
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
import { allocateOn, driverTransaction, type DB, type StoreDialect } from './db.js';
import { createKyselyStore, localEvents, queryLog } from './kyselyStore.js';
import { startCheckpointer, type Checkpointer } from './sqliteCheckpointer.js';
import { preferIncrementalVacuum, reclaimSqliteSpace } from './sqliteSpace.js';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory database. */
  filename: string;
  /** NORMAL: durable against process crashes (WAL); FULL: also against power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Page cache of the connection, KiB (PRAGMA cache_size = -N); default DEFAULT_CACHE_KIB. */
  cacheSizeKiB?: number;
  /** Memory-mapped I/O, bytes (PRAGMA mmap_size); default 0 (off, SQLite's default). */
  mmapSizeBytes?: number;
  /** Told every statement run through Kysely (tests: the query plans of API reads). */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
}

/** SQLite's own default page cache (2,000 KiB). */
export const DEFAULT_CACHE_KIB = 2000;

class ImmediateSqliteDriver extends SqliteDriver {
  /** Told after every committed transaction (feeds the background checkpointer). */
  onCommit: () => void = () => {};
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.onCommit();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  /** The driver Kysely uses (created once by Kysely): StoreDialect.transaction runs on it too. */
  driver: ImmediateSqliteDriver | null = null;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return (this.driver = new ImmediateSqliteDriver(this.#config));
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
        // Map order is the LRU order; re-inserting costs two map operations per query, so only once
        // eviction is near (a store uses far fewer statements than `max`).
        if (cache.size > max / 2) {
          cache.delete(sqlText);
          cache.set(sqlText, stmt);
        }
        return stmt;
      }
      stmt = raw.prepare(sqlText) as unknown as SqliteStatement;
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
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

/** The options that are settings of the connection (the server takes them from its configuration). */
export type SqliteConnectionSettings = Pick<SqliteStoreOptions, 'synchronous' | 'cacheSizeKiB' | 'mmapSizeBytes'>;

/** The connection's settings from the options (exported for its test). */
export function applyPragmas(raw: Database.Database, opts: SqliteConnectionSettings): void {
  raw.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma(`cache_size = -${Math.max(0, Math.floor(opts.cacheSizeKiB ?? DEFAULT_CACHE_KIB))}`);
  if (opts.mmapSizeBytes) raw.pragma(`mmap_size = ${Math.max(0, Math.floor(opts.mmapSizeBytes))}`);
}

export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  if (opts.filename !== ':memory:') mkdirSync(path.dirname(path.resolve(opts.filename)), { recursive: true });
  const raw = new Database(opts.filename);
  try {
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    // Before anything creates a table (WAL, migrate): a new file then frees space incrementally (retention).
    preferIncrementalVacuum(raw);
    if (opts.filename !== ':memory:') switchToWal(raw, opts.busyTimeoutMs ?? 5000);
    applyPragmas(raw, opts);
  } catch (err) {
    raw.close();
    throw err;
  }
  const sqliteDialect = new ImmediateSqliteDialect({ database: cachingDatabase(raw) });
  const db = new Kysely<DB>({ dialect: sqliteDialect, log: queryLog(opts.onQuery) });
  const checkpoints = opts.filename === ':memory:' ? null : lazyCheckpointer(path.resolve(opts.filename), opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL');
  const dialect: StoreDialect = {
    kind: 'sqlite',
    isUniqueViolation,
    async allocateSeq(conn, n) {
      const first = await allocateOn({ db, dialect }, conn, 'flow_instance_seq', n);
      return Array.from({ length: n }, (_, i) => first + i);
    },
    // Kysely initializes its driver lazily; migrate() below has run a query before anyone gets here.
    transaction: (fn) => driverTransaction(sqliteDialect.driver!, fn),
    // One connection and BEGIN IMMEDIATE: writers are already serialized, in and across processes.
    lockFlowForStart: async () => {},
    lockMigrations: async () => {},
    reclaimSpace: (o) => reclaimSqliteSpace(db, raw, o),
    ...localEvents(),
    close: async () => {
      await checkpoints?.stop();
      await db.destroy();
    },
  };
  const store = createKyselyStore(db, dialect);
  try {
    await store.migrate();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  if (checkpoints) sqliteDialect.driver!.onCommit = checkpoints.committed;
  return store;
}

/**
 * A read-only Kysely over an existing store file, for store tools (copy.ts): no migrations, no store
 * around it, and SQLite itself refuses any write (a tool that only reads can never damage the source).
 * The caller migrates the file first (createSqliteStore) when it needs the current schema.
 */
export function openSqliteReader(filename: string, busyTimeoutMs = 5000): Kysely<DB> {
  const raw = new Database(filename, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: raw }) });
}

/** Writes before the checkpointer starts: short-lived stores (the admin CLI, most tests) never start one. */
const CHECKPOINTER_AFTER_COMMITS = 64;

function lazyCheckpointer(filename: string, synchronous: 'NORMAL' | 'FULL'): Checkpointer {
  let commits = 0;
  let running: Checkpointer | null = null;
  let stopped = false;
  return {
    committed() {
      if (running) return running.committed();
      if (++commits !== CHECKPOINTER_AFTER_COMMITS || stopped) return;
      try {
        running = startCheckpointer({ filename, synchronous });
      } catch {
        // No worker thread to be had: SQLite's own auto-checkpoint goes on doing the work.
      }
    },
    async stop() {
      stopped = true;
      await running?.stop();
    },
  };
}
