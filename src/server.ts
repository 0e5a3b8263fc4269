// The composition root. Start-up order, each step only once the one before it succeeded: lock the data
// directory (src/startup/dataDirLock.ts; refused first: no authentication on a non-loopback host), check
// the port, open (and migrate) the store, bootstrap an empty one, load the master key and check it is the
// store's, make the first app when there is none (authentication on), build the app and listen, then
// start the engine (its crash recovery runs here, after every check that could refuse the start; the alert
// sender, src/alerts/, runs beside it) and the
// cron scheduler beside it (unless configured off), and the retention purge (when configured). The role
// (config.role) leaves out what this process does not do: api serves HTTP only, scheduler fires cron
// only, worker runs the engine only; all three share one PostgreSQL store. A refused start
// undoes what it did and throws a StartupError. `close()` is the graceful shutdown: no more fires, new
// requests get 503, running tasks get the grace period, then the store closes and the lock goes.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { ConfigError, isLoopbackHost, serves, type Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { Engine } from './engine/engine.js';
import { Scheduler } from './engine/scheduler.js';
import { publicBaseUrl, startAlertSender } from './alerts/sender.js';
import { bootstrap } from './service/identity.js';
import { startRetention } from './service/retention.js';
import { bootstrapApp, type BootstrapCredentials } from './startup/bootstrapApp.js';
import { lockDataDir } from './startup/dataDirLock.js';
import { checkMasterKey, loadMasterKey } from './startup/masterKey.js';
import { causeOf, isOperational, redactUrl, StartupError } from './startup/errors.js';
import { checkPortFree, listenError } from './startup/portCheck.js';
import { createSqliteStore, type SqliteConnectionSettings } from './store/sqlite.js';
import { createPostgresStore } from './store/postgres.js';
import type { Store } from './store/store.js';
import path from 'node:path';

export interface RunningServer {
  /** The API; null in a process whose role serves no HTTP (scheduler, worker). */
  app: FastifyInstance | null;
  store: Store;
  engine: Engine | null;
  /** The cron scheduler; runs when the engine runs. */
  scheduler: Scheduler | null;
  /** Where the API listens; '' without one. */
  url: string;
  bootstrapped: boolean;
  /** The first app, made at this start (its secret shown once): null when the store had an app already. */
  bootstrapCredentials: BootstrapCredentials | null;
  close(): Promise<void>;
}

/** The embedded store's connection settings from the configuration. */
export function sqliteSettings(config: Config): SqliteConnectionSettings {
  return { synchronous: config.sqliteSynchronous, cacheSizeKiB: config.sqliteCacheMiB * 1024, mmapSizeBytes: config.sqliteMmapMiB * 1024 * 1024 };
}

/**
 * Opens and migrates the store: PostgreSQL when a database URL is set, else SQLite in the data directory.
 * An operational failure (a file it cannot open, a full disk, a database that refuses) is a StartupError.
 */
export async function openStore(config: Config, opts: { onReconnect?: () => void } = {}): Promise<Store> {
  if (config.databaseUrl) {
    try {
      return await createPostgresStore({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize, onReconnect: opts.onReconnect });
    } catch (err) {
      throw new StartupError(`cannot open the PostgreSQL store ${redactUrl(config.databaseUrl)}: ${causeOf(err)}`);
    }
  }
  const filename = path.join(config.dataDir, 'batchflow.sqlite');
  try {
    return await createSqliteStore({ filename, ...sqliteSettings(config) });
  } catch (err) {
    if (!isOperational(err)) throw err;
    throw new StartupError(`cannot open the store ${filename}: ${causeOf(err)}`);
  }
}

export { redactUrl };

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'batchflow' } });
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: Logger; store?: Store } = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config);
  const role = serves(config.role);
  const runsWorker = config.runEngine && role.worker;
  const runsScheduler = config.runEngine && role.scheduler;
  // What a refused start has to undo, last step first.
  const undo: Array<() => unknown> = [];
  const rollBack = async () => {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => {});
  };
  try {
    if (role.api && !config.auth && !isLoopbackHost(config.host)) {
      throw new ConfigError(
        `refusing to serve on ${config.host} without authentication: --no-auth (BATCHFLOW_AUTH=false) works on a loopback host (127.0.0.1, ::1, localhost) only`,
      );
    }
    // The data directory holds the SQLite store and the work directories of task attempts: one process
    // per directory. An API or scheduler process on PostgreSQL keeps nothing on disk and takes none.
    const lock = !config.databaseUrl || runsWorker ? await lockDataDir(config.dataDir, { host: config.host, port: role.api ? config.port : 0 }) : null;
    if (lock) undo.push(() => lock.release());
    if (role.api) await checkPortFree(config.host, config.port);
    let engine: Engine | null = null;
    let scheduler: Scheduler | null = null;
    // A lost LISTEN connection is back: what was notified meanwhile is re-derived from the store.
    const rescan = () => {
      engine?.rescan();
      scheduler?.rescan().catch(() => {}); // its own step logs a failure; the periodic rescan retries
    };
    const store = opts.store ?? (await openStore(config, { onReconnect: rescan }));
    if (!opts.store) undo.push(() => store.close());
    const { created } = role.api ? await bootstrap(store, clock) : { created: false };
    // The master key (its file made on the first start), and it must be the one the store's secrets know.
    const secrets = role.api && config.auth ? loadMasterKey(config) : null;
    if (secrets) await checkMasterKey(store, secrets);
    const bootstrapCredentials = secrets ? await bootstrapApp(store, clock, secrets, config.dataDir) : null;
    // Expired tokens and replay nonces mean nothing: dropped now and then by every API process.
    const purge = secrets ? setInterval(() => void store.purgeAuth(clock.now()).catch(() => {}), 60_000).unref() : null;
    undo.push(() => purge && clearInterval(purge));
    // Idempotency keys older than a day (contract §12) likewise, by every API process.
    const keysPurge = role.api ? setInterval(() => void store.purgeIdempotencyKeys(clock.now()).catch(() => {}), 600_000).unref() : null;
    undo.push(() => keysPurge && clearInterval(keysPurge));
    let shuttingDown = false;
    engine = runsWorker ? new Engine({ store, config, clock, logger: logger.child({ component: 'engine' }) }) : null;
    let app: FastifyInstance | null = null;
    let url = '';
    if (role.api) {
      const api = await buildApp({ store, config, clock, logger: logger.child({ component: 'api' }), isShuttingDown: () => shuttingDown, secrets, engine });
      app = api;
      undo.push(() => api.close());
      await api.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
        throw listenError(err, config.host, config.port);
      });
      const address = api.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      lock?.setPort(port);
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    }
    // Recovery runs in start(): only now that nothing can refuse the start any more.
    undo.push(() => engine?.stop(0));
    await engine?.start();
    // Alerts (contract §12) go out from every process that runs the engine: woken by its ends, never awaited by it.
    const alerts = engine ? startAlertSender({ store, config, clock, logger: logger.child({ component: 'alerts' }), publicUrl: publicBaseUrl(config, url), engine }) : null;
    undo.push(() => alerts?.stop());
    // After the engine: the fires missed while down are made at start, and the engine is already listening.
    scheduler = runsScheduler ? new Scheduler({ store, config, clock, logger: logger.child({ component: 'scheduler' }) }) : null;
    undo.push(() => scheduler?.stop());
    await scheduler?.start();
    // Retention (config.retentionDays) in processes that fire cron (all, scheduler): its first purge runs in
    // the background, so a large one never delays the start.
    const retention = role.scheduler ? startRetention({ store, config, clock, logger: logger.child({ component: 'retention' }) }) : null;
    undo.push(() => retention?.stop());
    let closing: Promise<void> | null = null;
    return {
      app,
      store,
      engine,
      scheduler,
      url,
      bootstrapped: created,
      bootstrapCredentials,
      close: () =>
        (closing ??= (async () => {
          shuttingDown = true;
          if (purge) clearInterval(purge);
          try {
            await retention?.stop();
            await scheduler?.stop();
            await engine?.stop();
            await alerts?.stop();
            await app?.close();
            await store.close();
          } finally {
            lock?.release();
          }
        })()),
    };
  } catch (err) {
    await rollBack();
    throw err;
  }
}
