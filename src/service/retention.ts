// The retention job of a server (config.retentionDays): purges the instances that ended more than N days
// ago at start and then every retentionIntervalMs (Store.purgeInstances: short batches, never an instance
// still running), gives the space back (Store.reclaimSpace) and logs the counts. A failed run is logged and
// tried again at the next tick, never fatal; runs never overlap. stop() ends a run after its current batch.
// Never the full VACUUM: it would hold the SQLite write lock for as long as it rewrites the whole file.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';

const DAY_MS = 86_400_000;

export interface RetentionJob {
  /** Stops the timer and the run in progress (after its batch); resolves once it has stopped. */
  stop(): Promise<void>;
}

export function startRetention(opts: { store: Store; config: Config; clock: Clock; logger: Logger }): RetentionJob | null {
  const { store, config, clock, logger } = opts;
  const days = config.retentionDays;
  if (days === null) return null;
  const abort = new AbortController();
  let running: Promise<void> | null = null;
  let hinted = false;
  const runOnce = async () => {
    const before = clock.now() - days * DAY_MS;
    try {
      const purged = await store.purgeInstances({ before, signal: abort.signal });
      const space = abort.signal.aborted ? null : await store.reclaimSpace({ signal: abort.signal });
      const { tables, kept, batches } = purged;
      logger.info({ before: new Date(before).toISOString(), retentionDays: days, tables, kept, batches, space }, `retention: purged ${tables.flow_instances} instances that ended more than ${days} days ago`);
      if (space?.mode === 'none' && !hinted) {
        hinted = true;
        logger.warn(
          'retention: this SQLite store was made with auto_vacuum NONE, so purged rows leave free pages inside the file instead of shrinking it; stop the server once and run `batchflow store purge --before <date>`: it runs the one VACUUM that turns incremental vacuum on',
        );
      }
    } catch (err) {
      logger.error({ err }, `retention: the purge failed; it runs again in ${Math.round(config.retentionIntervalMs / 1000)} s`);
    }
  };
  const tick = () => {
    // One run at a time: a purge longer than the interval is not started twice.
    if (running || abort.signal.aborted) return;
    running = runOnce().finally(() => (running = null));
  };
  tick();
  const timer = setInterval(tick, config.retentionIntervalMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
