// The PostgreSQL adapter: a pg pool wrapped in Kysely's PostgresDialect, the StoreDialect hooks that
// differ from SQLite (row locks, sequences, the migration advisory lock, unique violations) and the event
// bus over LISTEN/NOTIFY (postgresEvents.ts), then migrate. Like sqlite.ts it writes no queries of the
// store's own: those are shared in the query files. Several processes on several machines may open the
// same database: every rule that keeps them apart is in the database (locks, unique keys), not in memory.
// The statements compiled once (db.ts) run as named prepared statements: parsed and planned once per
// connection instead of once per execution.
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, PostgresDriver, type Driver, type PostgresDialectConfig } from 'kysely';
import type { Store } from './store.js';
import { compiledTexts, driverTransaction, type DB, type QueryRunner, type StoreDialect } from './db.js';
import { createKyselyStore, localEvents, queryLog } from './kyselyStore.js';
import { postgresEvents } from './postgresEvents.js';
import { poolConfig, schemaOfUrl } from './postgresPool.js';

/**
 * The key of the advisory lock migrations run under: 'bflw' as a 32-bit integer (0x62666c77). Any tool
 * that changes batchflow's schema by hand should take it too: `select pg_advisory_lock(1650879607)`.
 */
export const MIGRATION_LOCK_KEY = 1650879607;

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  connectionString: string;
  /** Schema for every table (created when absent); default: the URL's `options=-c search_path=<schema>`, else public. */
  schema?: string;
  /** Pool size of this process (default 10). */
  poolSize?: number;
  /** Deliver events of other processes through LISTEN/NOTIFY (default true). */
  listen?: boolean;
  /** Told when the LISTEN connection was lost and is back: what was notified meanwhile must be rescanned. */
  onReconnect?: () => void;
  /**
   * Run the compiled-once statements as named prepared statements (default true). Turn off behind a
   * pooler that does not keep prepared statements across transactions (PgBouncer in transaction mode
   * before 1.21, or without max_prepared_statements).
   */
  preparedStatements?: boolean;
  /** Told every statement run through Kysely (tests: the query plans of API reads). */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
}

/** Statement names of compiled texts, the same in every connection of the process. */
const statementNames = new Map<string, string>();

/**
 * Makes a pool client send the compiled-once statements (db.ts `compiledTexts`, with parameters) as named
 * statements: pg prepares each one once per connection, and the server keeps its plan. Texts with a `*`
 * (select * and the like) stay unnamed: a column added by a later migration would change their result
 * type, which a prepared statement refuses ("cached plan must not change result type").
 */
function prepareCompiled(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || !compiledTexts.has(text) || text.includes('*')) return query(...args);
    let name = statementNames.get(text);
    if (!name) statementNames.set(text, (name = `bf_${statementNames.size}`));
    return query({ name, text, values }, ...args.slice(2));
  };
}

class PostgresStoreDialect extends PostgresDialect {
  driver: PostgresDriver | null = null;
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return (this.driver = new PostgresDriver(this.#config));
  }
}

export async function createPostgresStore(input: PostgresStoreOptions): Promise<Store> {
  const opts = { ...input, schema: input.schema ?? schemaOfUrl(input.connectionString) };
  if (opts.schema) {
    const admin = new pg.Client(poolConfig({ connectionString: opts.connectionString }));
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${opts.schema}`);
    } catch (err) {
      // Two processes creating it at once: one of them loses the catalog race, and the schema exists.
      if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P06') throw err;
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool(poolConfig({ connectionString: opts.connectionString, schema: opts.schema, max: opts.poolSize }));
  // An idle connection the server closed (restart, failover): the next query gets a new one.
  pool.on('error', () => {});
  // A connection checked out of the pool has no 'error' listener (pg-pool removes its idle one), and pg
  // emits a server's FATAL that arrives between two statements (a restart, pg_terminate_backend while a
  // transaction is held open) as 'error' on the client: unheard, that throws and kills the process. Heard
  // here, the client is marked unusable, the transaction's next statement fails (the step is retried),
  // and pg-pool drops the client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  if (opts.preparedStatements !== false) pool.on('connect', prepareCompiled);
  const pgDialect = new PostgresStoreDialect({ pool });
  const db = new Kysely<DB>({ dialect: pgDialect, log: queryLog(opts.onQuery) });
  const events = opts.listen === false ? null : postgresEvents({ connectionString: opts.connectionString, schema: opts.schema, onReconnect: opts.onReconnect });
  // This process's own events at once, in-process; other processes' through LISTEN.
  const local = localEvents();
  const dialect: StoreDialect = {
    kind: 'postgres',
    isUniqueViolation: (err) => (err as { code?: unknown } | null)?.code === '23505',
    transaction: (fn) => driverTransaction(pgDialect.driver!, fn),
    async lockFlowForStart(conn: QueryRunner, flowId: number) {
      // NO KEY UPDATE: two starters of one flow queue here, a Delete (FOR UPDATE) too, but triggers
      // (the FOR KEY SHARE of their insert's foreign key) pass.
      await conn.executeQuery(CompiledQuery.raw('select 1 from flows where id = $1 for no key update', [flowId]));
    },
    async lockMigrations(trx) {
      await trx.executeQuery(CompiledQuery.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`));
    },
    async allocateSeq(conn: QueryRunner, n: number) {
      const r = await conn.executeQuery<{ v: number }>(CompiledQuery.raw('select nextval(\'flow_instance_seq\') as v from generate_series(1, $1::int)', [n]));
      return r.rows.map((x) => Number(x.v));
    },
    // Autovacuum makes deleted rows' space reusable (docs/deploy.md, Retention); nothing to do here.
    reclaimSpace: async () => ({ mode: 'autovacuum', vacuumed: false, freedBytes: 0 }),
    publish(e) {
      local.publish(e);
      events?.notify(pool, e);
    },
    subscribe(listener) {
      const offLocal = local.subscribe(listener);
      const offRemote = events?.subscribe(listener);
      return () => {
        offLocal();
        offRemote?.();
      };
    },
    async close() {
      await events?.close();
      await db.destroy();
    },
  };
  const store = createKyselyStore(db, dialect);
  try {
    await store.migrate();
    await events?.start();
  } catch (err) {
    await events?.close().catch(() => {});
    await db.destroy();
    throw err;
  }
  return store;
}
