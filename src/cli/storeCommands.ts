// `batchflow store ...`: operations on a whole store. `store copy` moves an embedded (SQLite) store into
// an empty PostgreSQL database (src/store/copy.ts) and prints the rows copied per table as JSON. `store
// purge` removes finished instances that ended before a date (src/store/purge.ts) and prints the rows
// removed per table. A refusal or a store it cannot reach is a StartupError: one line and exit 2 (main.ts).
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { parseDateInput } from '../domain/dateInput.js';
import { causeOf, DataDirLockedError, isOperational, redactUrl, StartupError } from '../startup/errors.js';
import type { CliKit } from './authCommands.js';

export function registerStoreCommands(program: Command, kit: Pick<CliKit, 'configFrom' | 'storeOptions'>): void {
  const store = program.command('store').description('operations on a whole store');
  registerPurge(store, kit);
  store
    .command('copy')
    .description('copy an embedded SQLite store into an empty PostgreSQL database (stop the server first)')
    .requiredOption('--from <dir>', 'data directory of the SQLite store')
    .requiredOption('--to <url>', 'postgres://... of an empty database')
    .action(async (opts: { from: string; to: string }) => {
      const { copyStore, CopyRefusedError, sqliteFileOf } = await import('../store/copy.js');
      const { isPostgresUrl } = await import('../store/postgresPool.js');
      const { lockDataDir } = await import('../startup/dataDirLock.js');
      if (!isPostgresUrl(opts.to)) throw new StartupError(`store copy: --to must be a postgres:// URL, not ${JSON.stringify(redactUrl(opts.to))}`);
      // Checked before the lock: taking it would create the directory.
      if (!existsSync(sqliteFileOf(opts.from))) throw new StartupError(`store copy refused: no store at ${sqliteFileOf(opts.from)}`);
      // The serve lock for the copy's whole length: a server writing to the source after the copy's
      // snapshot would lose those writes, so none may run, or start, on it meanwhile.
      const lock = await lockDataDir(opts.from, { host: os.hostname(), port: 0 }).catch((err: unknown) => {
        if (err instanceof DataDirLockedError) throw new StartupError(`store copy refused: ${err.message}; stop it first`);
        throw err;
      });
      try {
        const report = await copyStore({ fromDataDir: opts.from, toUrl: opts.to });
        console.log(JSON.stringify(report, null, 2));
      } catch (err) {
        if (err instanceof CopyRefusedError) throw new StartupError(`store copy refused: ${err.message}`);
        // The copy is one transaction: whatever failed, the target holds none of it.
        if (isOperational(err)) throw new StartupError(`store copy to ${redactUrl(opts.to)} failed, nothing was copied: ${causeOf(err)}`);
        throw err;
      } finally {
        lock.release();
      }
    });
}

/**
 * `store purge --before DATE [--dry-run]`, on the store `serve` would open (--data / --database-url). On
 * SQLite it may run beside a server (WAL; each batch one short write transaction, with a pause after it in
 * which the server's writes get the lock); the one full VACUUM that turns on incremental vacuum for a file
 * made with auto_vacuum NONE runs only when no server holds the data directory, and the purge keeps the
 * directory's serve lock for its whole length then, so that no server starts to wait on that VACUUM.
 */
function registerPurge(store: Command, kit: Pick<CliKit, 'configFrom' | 'storeOptions'>): void {
  kit
    .storeOptions(
      store
        .command('purge')
        .description('remove finished instances (with their task instances, attempts, history and logs) that ended before a date; prints the rows removed per table')
        .requiredOption('--before <date>', 'yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" in the service time zone, or ISO 8601 with an offset (2024-05-01T00:00:00Z)')
        .option('--timezone <zone>', 'service time zone the date is read in (default BATCHFLOW_TIMEZONE, else UTC)')
        .option('--dry-run', 'count what would be removed; remove nothing'),
    )
    .action(async (opts: { before: string; dryRun?: boolean }, cmd: Command) => {
      const config = kit.configFrom(cmd);
      const before = parseDateInput(opts.before, config.timezone);
      if (before === null) {
        throw new StartupError(
          `store purge: --before must be yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" (in the time zone ${config.timezone}) or ISO 8601 with an offset such as 2024-05-01T00:00:00Z, got ${JSON.stringify(opts.before)}`,
        );
      }
      const { openStore } = await import('../server.js');
      let lock: { release(): void } | null = null;
      let besideServer = false;
      if (!config.databaseUrl) {
        const { sqliteFileOf } = await import('../store/copy.js');
        const { lockDataDir } = await import('../startup/dataDirLock.js');
        // Checked before anything else: opening (or locking) would create an empty store.
        if (!existsSync(sqliteFileOf(config.dataDir))) throw new StartupError(`store purge: no store at ${sqliteFileOf(config.dataDir)}`);
        lock = await lockDataDir(config.dataDir, { host: os.hostname(), port: 0 }).catch((err: unknown) => {
          if (err instanceof DataDirLockedError) return null;
          throw err;
        });
        besideServer = lock === null;
      }
      try {
        const s = await openStore(config);
        try {
          const result = await s.purgeInstances({ before, dryRun: opts.dryRun === true, pauseMs: besideServer ? 20 : 0 });
          const space = opts.dryRun ? null : await s.reclaimSpace({ fullVacuum: !besideServer });
          const note =
            space?.mode === 'none'
              ? 'this SQLite store was made with auto_vacuum NONE and a server holds its data directory: the freed pages stay in the file (reused by new rows); run store purge once with the server stopped to turn on incremental vacuum'
              : undefined;
          console.log(JSON.stringify({ before: new Date(before).toISOString(), ...result, space, note }, null, 2));
        } finally {
          await s.close();
        }
      } finally {
        lock?.release();
      }
    });
}
