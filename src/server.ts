// The composition root: opens the store, bootstraps an empty one, starts the engine and the cron
// scheduler beside it (unless configured off) and serves the API. `close()` is the graceful shutdown:
// no more fires, new requests get 503, running tasks get the grace period, then the store closes.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { ConfigError, type Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { Engine } from './engine/engine.js';
import { Scheduler } from './engine/scheduler.js';
import { bootstrap } from './service/identity.js';
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

export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    throw new ConfigError('BATCHFLOW_DATABASE_URL: the PostgreSQL store is not part of this version yet; leave it empty for the embedded SQLite store');
  }
  return createSqliteStore({ filename: path.join(config.dataDir, 'batchflow.sqlite'), synchronous: config.sqliteSynchronous });
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'batchflow' } });
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: Logger; store?: Store } = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config);
  const store = opts.store ?? (await openStore(config));
  const { created } = await bootstrap(store, clock);
  let shuttingDown = false;
  const engine = config.runEngine ? new Engine({ store, config, clock, logger: logger.child({ component: 'engine' }) }) : null;
  await engine?.start();
  // After the engine: the fires missed while down are made at start, and the engine is already listening.
  const scheduler = engine ? new Scheduler({ store, config, clock, logger: logger.child({ component: 'scheduler' }) }) : null;
  await scheduler?.start();
  const app = await buildApp({ store, config, clock, logger: false, isShuttingDown: () => shuttingDown });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
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
        await scheduler?.stop();
        await engine?.stop();
        await app.close();
        await store.close();
      })()),
  };
}
