// The composition root. Start-up order, each step only once the one before it succeeded: lock the data
// directory (src/startup/dataDirLock.ts), check the port, open (and migrate) the store, bootstrap an empty
// one, build the app and listen, then start the engine (its crash recovery runs here, after every check
// that could refuse the start) and the cron scheduler beside it (unless configured off). A refused start
// undoes what it did and throws a StartupError. `close()` is the graceful shutdown: no more fires, new
// requests get 503, running tasks get the grace period, then the store closes and the lock goes.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { ConfigError, type Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { Engine } from './engine/engine.js';
import { Scheduler } from './engine/scheduler.js';
import { bootstrap } from './service/identity.js';
import { lockDataDir } from './startup/dataDirLock.js';
import { causeOf, isOperational, StartupError } from './startup/errors.js';
import { checkPortFree, listenError } from './startup/portCheck.js';
import { createSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';
import path from 'node:path';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  engine: Engine | null;
  /** The cron scheduler; runs when the engine runs. */
  scheduler: Scheduler | null;
  url: string;
  bootstrapped: boolean;
  close(): Promise<void>;
}

/** Opens and migrates the store; an operational failure (a file it cannot open, a full disk) is a StartupError. */
export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    throw new ConfigError('the database URL (--database-url, BATCHFLOW_DATABASE_URL): the PostgreSQL store is not part of this version yet; leave it empty for the embedded SQLite store');
  }
  const filename = path.join(config.dataDir, 'batchflow.sqlite');
  try {
    return await createSqliteStore({ filename, synchronous: config.sqliteSynchronous });
  } catch (err) {
    if (!isOperational(err)) throw err;
    throw new StartupError(`cannot open the store ${filename}: ${causeOf(err)}`);
  }
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'batchflow' } });
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: Logger; store?: Store } = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config);
  // What a refused start has to undo, last step first.
  const undo: Array<() => unknown> = [];
  const rollBack = async () => {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => {});
  };
  try {
    const lock = await lockDataDir(config.dataDir, { host: config.host, port: config.port });
    undo.push(() => lock.release());
    await checkPortFree(config.host, config.port);
    const store = opts.store ?? (await openStore(config));
    if (!opts.store) undo.push(() => store.close());
    const { created } = await bootstrap(store, clock);
    let shuttingDown = false;
    const engine = config.runEngine ? new Engine({ store, config, clock, logger: logger.child({ component: 'engine' }) }) : null;
    const app = await buildApp({ store, config, clock, logger: logger.child({ component: 'api' }), isShuttingDown: () => shuttingDown });
    undo.push(() => app.close());
    await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
      throw listenError(err, config.host, config.port);
    });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    lock.setPort(port);
    // Recovery runs in start(): only now that nothing can refuse the start any more.
    undo.push(() => engine?.stop(0));
    await engine?.start();
    // After the engine: the fires missed while down are made at start, and the engine is already listening.
    const scheduler = engine ? new Scheduler({ store, config, clock, logger: logger.child({ component: 'scheduler' }) }) : null;
    undo.push(() => scheduler?.stop());
    await scheduler?.start();
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    let closing: Promise<void> | null = null;
    return {
      app,
      store,
      engine,
      scheduler,
      url,
      bootstrapped: created,
      close: () =>
        (closing ??= (async () => {
          shuttingDown = true;
          try {
            await scheduler?.stop();
            await engine?.stop();
            await app.close();
            await store.close();
          } finally {
            lock.release();
          }
        })()),
    };
  } catch (err) {
    await rollBack();
    throw err;
  }
}
