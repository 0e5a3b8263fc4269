// Where attempts run: the work root and each attempt's fresh working directory. Tasks of the service's own
// user work under <dataDir>/work as always. Tasks of other users (a root service) cannot enter the data dir
// (private, 0700), so their root is elsewhere: BATCHFLOW_WORK_ROOT, by default
// /var/tmp/batchflow-work/<data dir name>-<hash of its path>, root-owned 0711 (reachable, not listable);
// each attempt's dir is 0700 and its task user's, and is removed without ever letting that user steer
// root's deletes (see `remove`). `prepareIsolation` sets users and work dirs up at engine start.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { StartupError } from '../startup/errors.js';
import { TaskUsers, type OsUser } from './taskUsers.js';

const WORK_ROOT = 'BATCHFLOW_WORK_ROOT';
/** The parent of every default work root of tasks of other users on this host. */
export const SHARED_WORK_BASE = '/var/tmp/batchflow-work';

/**
 * The default root when tasks run as other users: outside the data dir; on disk, not a tmpfs /tmp; one per
 * data dir (its name for the operator, a hash of its path so that two services on a host never share one).
 */
export function defaultSharedWorkRoot(dataDir: string): string {
  const name = path.basename(dataDir).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40) || 'data';
  return path.join(SHARED_WORK_BASE, `${name}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
}

/** Mode 0700 for the data dir: the store, the key file and the lock are nobody else's business. */
export function makeDataDirPrivate(dataDir: string): void {
  chmodSync(dataDir, 0o700);
}

const inside = (dir: string, parent: string) => {
  const rel = path.relative(parent, dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * An existing directory on the way to a root that other users' tasks must reach: searchable by them, and
 * replaceable by no one but root or the service (owned by one of them; writable by others only with the
 * sticky bit, as /var/tmp). Otherwise whoever could rename it could point root's mkdir and chown anywhere.
 */
function checkAncestor(dir: string, uid: number): void {
  const st = statSync(dir);
  if ((st.mode & 0o001) === 0) throw new StartupError(`${WORK_ROOT}: tasks run as other users and cannot reach their work root through ${dir} (mode ${octal(st.mode)})`);
  if (st.uid !== 0 && st.uid !== uid) throw new StartupError(`${WORK_ROOT}: ${dir} on the way to the work root belongs to uid ${st.uid}, who could replace what is in it; remove it or choose another work root`);
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) throw new StartupError(`${WORK_ROOT}: ${dir} on the way to the work root is writable by other users without the sticky bit (mode ${octal(st.mode)}): anyone could replace the work root`);
}

/** `dir` with its longest existing prefix resolved (no symbolic link left to check through), and that prefix. */
function realChain(dir: string): { real: string; existing: string } {
  let existing = dir;
  while (!existsSync(existing)) existing = path.dirname(existing);
  const real = realpathSync(existing);
  return { real: path.join(real, path.relative(existing, dir)), existing: real };
}

/**
 * Makes a directory of the root's chain, 0711 (tasks pass through, cannot list or change it); or checks one
 * that exists: a real directory, the service's, that no one else can write to and tasks can pass. An existing
 * one is never chmodded: a root configured as, say, /var/tmp must not lose its own mode.
 */
function ownDir(dir: string, uid: number): void {
  try {
    mkdirSync(dir, { mode: 0o711 });
    chmodSync(dir, 0o711); // mkdir's mode went through the umask
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`${WORK_ROOT}: cannot create ${dir}: ${(e as Error).message}`);
  }
  const st = lstatSync(dir);
  // Someone else's (made before us in a world-writable place) could be swapped or read: never used.
  if (!st.isDirectory()) throw new StartupError(`${WORK_ROOT}: ${dir} is not a directory (a symbolic link or a file)`);
  if (st.uid !== uid) throw new StartupError(`${WORK_ROOT}: ${dir} belongs to uid ${st.uid}, not to the service (uid ${uid}); remove it or choose another work root`);
  if ((st.mode & 0o022) !== 0) throw new StartupError(`${WORK_ROOT}: ${dir} is writable by other users (mode ${octal(st.mode)}); make it 0711 or choose another work root`);
  if ((st.mode & 0o001) === 0) throw new StartupError(`${WORK_ROOT}: tasks run as other users and cannot reach their work root through ${dir} (mode ${octal(st.mode)}); make it 0711`);
}

/**
 * The chain from / to a root for other users' tasks: the existing directories must let tasks through and be
 * nobody else's to replace; the missing ones are made ours, 0711. Returns the root without symbolic links.
 */
function ensureSharedRoot(root: string, uid: number): string {
  const real = realChain(root);
  const chain: string[] = [];
  for (let d = path.dirname(real.real); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of chain) {
    if (inside(real.existing, d)) checkAncestor(d, uid);
    else ownDir(d, uid);
  }
  ownDir(real.real, uid);
  return real.real;
}

export class WorkDirs {
  /** Removals under way (awaited by close). */
  private readonly removing = new Set<Promise<void>>();

  private constructor(
    readonly root: string,
    /** Attempts' dirs are handed to other users: made and removed with care. */
    readonly shared: boolean,
    /** The root is the default one of this data dir under SHARED_WORK_BASE: ours to remove when empty. */
    private readonly derived: boolean,
    private readonly uid: number,
    private readonly gid: number,
  ) {}

  /**
   * At engine start. `others`: some task may run as another uid than the service's (TaskUsers.mayRunAsOthers).
   * Makes the data dir private, then the work root, refusing one that other users could tamper with.
   */
  static prepare(config: Pick<Config, 'dataDir' | 'workRoot'>, others: boolean): WorkDirs {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    mkdirSync(config.dataDir, { recursive: true });
    try {
      makeDataDirPrivate(config.dataDir);
    } catch (e) {
      // Tasks of the service's own user could read it anyway; of other users, they must not.
      if (others) throw new StartupError(`cannot make the data directory ${config.dataDir} private (mode 0700): ${(e as Error).message}`);
    }
    if (!others) {
      const root = config.workRoot || path.join(config.dataDir, 'work');
      mkdirSync(root, { recursive: true });
      return new WorkDirs(root, false, false, uid, gid);
    }
    const root = config.workRoot || defaultSharedWorkRoot(config.dataDir);
    if (inside(root, config.dataDir)) {
      throw new StartupError(`${WORK_ROOT} (${root}) is inside the data directory, which tasks of other users cannot enter (it is private); choose a directory outside it`);
    }
    const real = ensureSharedRoot(root, uid);
    return new WorkDirs(real, true, config.workRoot === '', uid, gid);
  }

  /** The working directory of an attempt (not made yet). */
  pathOf(taskInstanceId: string, runNum: number): string {
    return path.join(this.root, `${taskInstanceId}.${runNum}`);
  }

  /**
   * Makes the attempt's fresh dir (0700) and its files (0600), then hands them to the task's user (null: the
   * service's own). Everything is written while the dir is still ours, so no one can plant a link in it first.
   */
  make(dir: string, files: Array<{ path: string; content: string }>, user: OsUser | null): void {
    this.mkdirFresh(dir);
    for (const f of files) {
      writeFileSync(f.path, f.content, { mode: 0o600, flag: 'wx' });
      if (user) chownSync(f.path, user.uid, user.gid);
    }
    if (user) chownSync(dir, user.uid, user.gid);
  }

  private mkdirFresh(dir: string): void {
    try {
      mkdirSync(dir, { mode: 0o700 });
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // The root was removed under us (a /var/tmp cleaner, an operator): made again as at start.
        if (this.shared) ensureSharedRoot(this.root, this.uid);
        else mkdirSync(this.root, { recursive: true });
      } else if (code === 'EEXIST') {
        // Left by an attempt of the same name (a store restored from a copy, kept work dirs): moved aside
        // and removed, never reused, since a former task may have left anything in it.
        const aside = `${dir}.old-${Date.now()}`;
        renameSync(dir, aside);
        void this.remove(aside, this.shared ? ownerOf(aside) : null);
      } else throw e;
    }
    mkdirSync(dir, { mode: 0o700 });
  }

  /**
   * Removes an attempt's dir once its processes are gone. For a dir of another user, root never walks into
   * anything that user can change (a directory swapped for a link would turn root's delete onto any file):
   * the dir becomes ours and 0711 first, so its entries are fixed; its files are unlinked; its subdirectories
   * are emptied by a process of the task's own user (whatever it is tricked into, that user could do anyway),
   * then removed. Resolves when done; never rejects (a leftover is not worth failing anything for).
   */
  remove(dir: string, user: OsUser | null): Promise<void> {
    const p = this.removeNow(dir, user).finally(() => this.removing.delete(p));
    this.removing.add(p);
    return p;
  }

  /**
   * At engine stop: waits for the removals under way; a derived root left empty goes too (each test's or
   * short-lived data dir would otherwise leave one behind in /var/tmp).
   */
  async close(): Promise<void> {
    await Promise.all([...this.removing]);
    if (!this.derived) return;
    try {
      rmdirSync(this.root);
    } catch {
      /* not empty (kept or leftover work dirs), or gone */
    }
  }

  private async removeNow(dir: string, user: OsUser | null): Promise<void> {
    if (!user || !this.shared) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      return;
    }
    try {
      lchownSync(dir, this.uid, this.gid);
      chmodSync(dir, 0o711);
      const subdirs: string[] = [];
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) subdirs.push(p);
        else unlinkSync(p);
      }
      if (subdirs.length > 0) {
        await emptyAs(user, subdirs);
        for (const s of subdirs) rmdirSync(s);
      }
      rmdirSync(dir);
    } catch {
      /* something was left (a file the user made undeletable, say): kept, as a kept work dir would be */
    }
  }
}

/** The owner of a leftover dir, as the user to empty it as (root's own: no one to fear). */
function ownerOf(dir: string): OsUser | null {
  try {
    const st = lstatSync(dir);
    return st.uid === 0 ? null : { name: String(st.uid), uid: st.uid, gid: st.gid, home: '/' };
  } catch {
    return null;
  }
}

/** Deletes the contents of `dirs` as `user`: read-only subdirectories made writable first (they are its own). */
function emptyAs(user: OsUser, dirs: string[]): Promise<void> {
  const script = 'chmod -R u+rwX -- "$@" 2>/dev/null; for d do find "$d" -mindepth 1 -delete; done';
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script, 'sh', ...dirs], { uid: user.uid, gid: user.gid, cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeout: 120_000 }, () => resolve());
  });
}

/** Who an engine's tasks run as, and where. */
export interface Isolation {
  users: TaskUsers;
  workDirs: WorkDirs;
}

/**
 * At engine start, before anything runs: the task users (maybe creating the default one), then the data
 * dir's mode and the work root. A missing user or an unsafe root refuses the start (StartupError).
 */
export async function prepareIsolation(config: Config, log: Pick<Logger, 'info' | 'warn'>): Promise<Isolation> {
  const users = await TaskUsers.prepare(config, { warn: (msg) => log.warn(msg) });
  const workDirs = WorkDirs.prepare(config, users.mayRunAsOthers);
  const mapped = Object.entries(config.taskUsers).map(([doAs, u]) => `${doAs}=${u}`).join(',');
  const who = users.switching ? `the OS user ${config.taskUser}${mapped ? ` (by doAs: ${mapped})` : ''}` : "the service's own user";
  log.info({ workRoot: workDirs.root }, `tasks run as ${who}, in work dirs under ${workDirs.root}`);
  return { users, workDirs };
}
