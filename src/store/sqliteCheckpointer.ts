// Moves SQLite's WAL checkpoints (their page copies and fsyncs) off the event loop: a worker thread with
// its own connection runs PASSIVE checkpoints a little after commits, so the store's connection rarely
// reaches its own auto-checkpoint, which runs inside a commit and stalls every request meanwhile.
// It only ever checkpoints: PASSIVE never takes the write lock nor waits for one, so the store's
// connection is never blocked by it, and durability is unchanged (the checkpoint syncs as before).
// SQLite-only, used by sqlite.ts; the store works the same without it (auto-checkpoint stays on).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs in the worker (CommonJS, plain JS). The store's thread only counts commits in shared memory (no
 * system call, no wake-up at the moment it may be forking a task); the worker looks every roundMs while
 * there are commits, every idleMs when there were none, and checkpoints when the count moved.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const shared = new Int32Array(workerData.shared); // [0]: commits since the last look, [1]: stop
const { statSync } = require('node:fs');
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
const wal = workerData.filename + '-wal';
let busy = true; // it starts because the store is writing
let pending = 0; // commits not checkpointed yet
let last = Date.now();
while (Atomics.wait(shared, 1, 0, busy ? workerData.roundMs : workerData.idleMs) !== 'ok' && Atomics.load(shared, 1) === 0) {
  const commits = Atomics.exchange(shared, 0, 0);
  busy = commits > 0;
  pending += commits;
  if (pending === 0) continue;
  let size = 0;
  try { size = statSync(wal).size; } catch { /* no WAL yet */ }
  if (size < workerData.maxWalBytes && Date.now() - last < workerData.maxAgeMs) continue;
  try { db.pragma('wal_checkpoint(PASSIVE)'); pending = 0; last = Date.now(); } catch { /* busy or closing: the next round retries */ }
}
db.close();
`;

/**
 * When a busy store is checkpointed. A checkpoint that catches up with the WAL lets the next write restart
 * it, and that write syncs the new WAL header on the event loop (~0.4 ms on these machines): so checkpoint
 * only once the WAL holds MAX_WAL_BYTES (well below the store connection's own auto-checkpoint, 1000 pages:
 * a trigger burst is checkpointed every round, as before) or its oldest commit is MAX_AGE_MS old. A chain of
 * short tasks (one commit of ~13 pages per task) then pays that sync a few times a second instead of every
 * few commits. The worker looks every ROUND_MS while there are commits.
 */
const ROUND_MS = 25;
const MAX_WAL_BYTES = 1 << 20;
const MAX_AGE_MS = 1_000;
/** With no commits, look less often (5 wake-ups a second; log appends outside transactions are only seen here). */
const IDLE_MS = 200;

export interface Checkpointer {
  /** Call after every committed write transaction (a shared-memory add, nothing more). */
  committed(): void;
  stop(): Promise<void>;
}

export function startCheckpointer(opts: { filename: string; synchronous: 'NORMAL' | 'FULL' }): Checkpointer {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverPath: createRequire(import.meta.url).resolve('better-sqlite3'),
      filename: opts.filename,
      synchronous: opts.synchronous,
      shared: shared.buffer,
      roundMs: ROUND_MS,
      idleMs: IDLE_MS,
      maxWalBytes: MAX_WAL_BYTES,
      maxAgeMs: MAX_AGE_MS,
    },
  });
  worker.unref();
  worker.on('error', () => {}); // a dead checkpointer leaves auto-checkpoint doing the work
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    committed() {
      Atomics.add(shared, 0, 1);
    },
    async stop() {
      worker.ref(); // an unref'd worker would let the process end before 'exit' arrives
      Atomics.store(shared, 1, 1);
      Atomics.notify(shared, 1);
      await exited;
    },
  };
}
