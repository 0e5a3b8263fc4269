// Space reclaim of the embedded store. Every new file gets auto_vacuum INCREMENTAL (set before its first
// table, the only moment SQLite takes it); after a purge, incremental_vacuum gives the free pages back in
// small steps; a file made with auto_vacuum NONE (before this build) converts with one full VACUUM, which
// only its caller may decide on: it rewrites the whole file under the write lock. SQLite-only.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { DB } from './db.js';
import type { SpaceReport } from './store.js';

/** Pages per incremental_vacuum step: 8 MiB at 4 KiB pages, one short write each. */
const STEP_PAGES = 2_000;
const MODES = ['none', 'full', 'incremental'] as const;

/** Asks for auto_vacuum INCREMENTAL: takes effect on a new file (before its first table) or at the next VACUUM. */
export function preferIncrementalVacuum(raw: Database.Database): void {
  raw.pragma('auto_vacuum = INCREMENTAL');
}

export async function reclaimSqliteSpace(
  db: Kysely<DB>,
  raw: Database.Database,
  opts: { fullVacuum?: boolean; signal?: AbortSignal } = {},
): Promise<SpaceReport> {
  // The raw connection is Kysely's one connection: holding Kysely's connection (its mutex) first keeps
  // these statements out of a transaction another caller has open on it. exec, not a prepared statement:
  // incremental_vacuum frees one page per step of its statement, and exec steps it to the end.
  const held = <T>(fn: () => T): Promise<T> => db.connection().execute(async () => fn());
  const pragma = (name: string) => Number(raw.pragma(name, { simple: true }));
  const pageSize = await held(() => pragma('page_size'));
  let mode = MODES[await held(() => pragma('auto_vacuum'))] ?? 'none';
  let freedPages = 0;
  let vacuumed = false;
  if (mode === 'none' && opts.fullVacuum) {
    freedPages += await held(() => {
      const before = pragma('page_count');
      preferIncrementalVacuum(raw);
      raw.exec('VACUUM');
      return before - pragma('page_count');
    });
    vacuumed = true;
    mode = MODES[await held(() => pragma('auto_vacuum'))] ?? 'none';
  }
  while (mode === 'incremental' && !opts.signal?.aborted) {
    const freed = await held(() => {
      const before = pragma('freelist_count');
      if (before === 0) return 0;
      raw.exec(`pragma incremental_vacuum(${STEP_PAGES})`);
      return before - pragma('freelist_count');
    });
    if (freed <= 0) break;
    freedPages += freed;
    await nextTurn(); // between steps, whatever else waits for the store goes first
  }
  return { mode, vacuumed, freedBytes: Math.max(0, freedPages) * pageSize };
}
