// `batchflow store ...`: operations on a whole store. `store copy` moves an embedded (SQLite) store into
// an empty PostgreSQL database (src/store/copy.ts) and prints the rows copied per table as JSON. A copy
// that is refused or cannot connect is a StartupError: one line and exit 2, as main.ts prints them.
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { causeOf, DataDirLockedError, isOperational, redactUrl, StartupError } from '../startup/errors.js';

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('operations on a whole store');
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
