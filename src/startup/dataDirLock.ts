// One serving process per data directory. The lock is an exclusive SQLite transaction on
// <dataDir>/serve.lock, held for the server's life: a POSIX lock that the kernel drops when the process
// dies (kill -9 included), which a second opener in this or another process gets SQLITE_BUSY from at once.
// serve.json beside it only names the holder in the message of a second server: the lock is the truth.
// Must not: delete serve.lock (an opener racing the unlink would lock a file no one else sees), or open it
// with node:fs in this process (closing any descriptor of a file drops the process's POSIX locks on it).
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { causeOf, DataDirLockedError, StartupError, type DataDirHolder } from './errors.js';

export const LOCK_FILE = 'serve.lock';
export const HOLDER_FILE = 'serve.json';

export interface DataDirLock {
  readonly dataDir: string;
  /** Records the port once the server listens, for the message of a second server. */
  setPort(port: number): void;
  /** Removes serve.json, then drops the lock. Idempotent. */
  release(): void;
}

/**
 * Takes the data directory (creating it if missing) or throws DataDirLockedError naming the holder.
 * A loser creates and changes nothing: serve.lock exists already, since its holder made it.
 */
export async function lockDataDir(dataDir: string, self: { host: string; port: number }): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  const db = openLock(dir);
  if (!db) throw new DataDirLockedError(dir, await readHolder(dir));
  const holder: DataDirHolder = { pid: process.pid, host: self.host, port: self.port === 0 ? null : self.port, startedAt: new Date().toISOString() };
  const holderFile = path.join(dir, HOLDER_FILE);
  // The holder makes the directory private (0700): the store, keys and logs are the service's alone, and
  // tasks running as other users must not read them. Best effort here (a directory of another owner keeps
  // its mode); the engine refuses to run tasks as other users unless it is private (src/engine/workDirs.ts).
  try {
    chmodSync(dir, 0o700);
  } catch {
    /* not ours to change */
  }
  const write = () => {
    // Write and rename, so that a second server never reads half a file.
    const tmp = `${holderFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(holder)}\n`);
    renameSync(tmp, holderFile);
  };
  try {
    write();
  } catch (err) {
    db.close();
    throw new StartupError(`cannot write ${holderFile}: ${causeOf(err)}`);
  }
  let released = false;
  return {
    dataDir: dir,
    setPort(port) {
      holder.port = port;
      try {
        write();
      } catch {
        // The file only feeds another server's message; the lock still holds.
      }
    },
    release() {
      if (released) return;
      released = true;
      // serve.json first: once the lock is gone, a new holder may already have written its own.
      rmSync(holderFile, { force: true });
      db.close(); // closing rolls the transaction back and drops the lock
    },
  };
}

/** The lock's connection, or null when another connection (in any process) holds it. */
function openLock(dir: string): Database.Database | null {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const cause = (err as { code?: unknown }).code === 'EEXIST' ? 'it exists and is not a directory' : causeOf(err);
    throw new StartupError(`cannot use data directory ${dir}: ${cause}`);
  }
  const file = path.join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    // timeout 0: a held lock answers SQLITE_BUSY at once instead of after better-sqlite3's default 5 s.
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new StartupError(`cannot open ${file}: ${causeOf(err)}`);
  }
  try {
    // EXCLUSIVE locking mode keeps the lock until close; MEMORY journal leaves no -journal file behind
    // (nothing is ever written: the open transaction is only there to hold the lock).
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return null;
    throw new StartupError(`cannot lock ${file}: ${causeOf(err)}`);
  }
}

/**
 * The holder named by serve.json, if that process is alive. A holder that has just taken the lock may not
 * have written the file yet (or an old one of a dead holder may still be there): look again for a moment.
 */
async function readHolder(dir: string, waitMs = 1_000): Promise<DataDirHolder | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = parseHolder(dir);
    if (holder && isAlive(holder.pid)) return holder;
    if (Date.now() >= deadline) return null;
    await sleep(50);
  }
}

function parseHolder(dir: string): DataDirHolder | null {
  try {
    const h = JSON.parse(readFileSync(path.join(dir, HOLDER_FILE), 'utf8')) as Partial<DataDirHolder>;
    if (!Number.isInteger(h.pid)) return null;
    return { pid: h.pid!, host: String(h.host ?? ''), port: Number.isInteger(h.port) ? h.port! : null, startedAt: String(h.startedAt ?? '') };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM'; // alive, someone else's
  }
}
