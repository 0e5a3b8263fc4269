// Which OS user a task runs as. When the service runs as root, tasks switch to an unprivileged user: the
// one its flow's doAs maps to (config taskUsers), else the dedicated default (taskUser, `batchflow-task`,
// created at engine start when missing); root only when a setting names it. A service that is not root
// cannot switch: its tasks run as its own user. Owns that policy and the passwd lookups (getent, cached).
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Config } from '../config.js';
import { StartupError } from '../startup/errors.js';

const run = promisify(execFile);

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The user to spawn an attempt as (null: the service's own user, no switch), or why it cannot run. */
export type TaskUserChoice = { ok: true; user: OsUser | null } | { ok: false; error: string };

/** The settings' names, for messages: a person fixes what a message names. */
const TASK_USER = 'BATCHFLOW_TASK_USER';
const TASK_USERS = 'BATCHFLOW_TASK_USERS';
export const DEFAULT_TASK_USER = 'batchflow-task';

/**
 * `getent passwd NAME` (NSS: local files, LDAP...), or /etc/passwd where getent is missing; null when
 * unknown. Synchronous (a few ms): it runs once per user at start, and again only for a user still missing.
 */
function lookUp(name: string): OsUser | null {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null; // exit 2: no such user
    line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name) ?? '';
  }
  const f = line.trim().split(':');
  if (f.length < 7 || f[0] !== name || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return null;
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

export interface TaskUsersOptions {
  /** The service's uid (default process.getuid()). */
  uid?: number;
  /** Makes the default user when it is missing (default: useradd). Tests replace it. */
  createUser?: (name: string) => Promise<void>;
  /** A line for the service log. */
  warn?: (msg: string) => void;
  /** The passwd lookup (default: getent). Tests replace it. */
  lookUp?: (name: string) => OsUser | null;
}

async function useradd(name: string): Promise<void> {
  // A system account: no home, no login shell, a uid below the ordinary users'.
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { timeout: 30_000 });
}

export class TaskUsers {
  private readonly known = new Map<string, OsUser>();

  private constructor(
    private readonly config: Pick<Config, 'taskUser' | 'taskUsers'>,
    /** The service runs as root: tasks switch to the configured users. */
    readonly switching: boolean,
    private readonly lookUp: (name: string) => OsUser | null,
  ) {}

  /**
   * At engine start: the default user must exist (made when it is the dedicated default and missing, or the
   * start is refused naming the setting); mapped users are looked up now, and a missing one only warned
   * about: its attempts fail with a log line saying why, every other flow runs.
   */
  static async prepare(config: Pick<Config, 'taskUser' | 'taskUsers'>, opts: TaskUsersOptions = {}): Promise<TaskUsers> {
    const uid = opts.uid ?? process.getuid?.() ?? -1;
    const users = new TaskUsers(config, uid === 0, opts.lookUp ?? lookUp);
    const warn = opts.warn ?? (() => {});
    if (!users.switching) {
      if (config.taskUser !== DEFAULT_TASK_USER || Object.keys(config.taskUsers).length > 0) {
        warn(`the service does not run as root (uid ${uid}): tasks run as its own user; ${TASK_USER} and ${TASK_USERS} apply only to a service running as root`);
      }
      return users;
    }
    const name = config.taskUser;
    let user = users.resolve(name);
    if (!user && name === DEFAULT_TASK_USER) {
      try {
        await (opts.createUser ?? useradd)(name);
      } catch (e) {
        // Another service on this host may have made it at the same moment: only a still missing user is an error.
        if (!users.resolve(name)) {
          const why = (e as { stderr?: string }).stderr?.trim() || (e instanceof Error ? e.message : String(e));
          throw new StartupError(
            `${TASK_USER}: the OS user ${name} for tasks does not exist and could not be created (${why}); create it ` +
              `(useradd --system --no-create-home --shell /usr/sbin/nologin ${name}), or set ${TASK_USER} to an existing unprivileged user, or to root to run tasks as root`,
          );
        }
      }
      user = users.resolve(name);
    }
    if (!user) throw new StartupError(`${TASK_USER}: the OS user ${name} for tasks does not exist on this host; create it or name another user`);
    const rootByAnotherName = users.rootProblem(user, TASK_USER);
    if (rootByAnotherName) throw new StartupError(rootByAnotherName);
    for (const [doAs, mapped] of Object.entries(config.taskUsers)) {
      const u = users.resolve(mapped);
      if (!u) warn(`${TASK_USERS} maps the doAs "${doAs}" to the OS user ${mapped}, which does not exist on this host: those flows' tasks fail until it does`);
      else if (users.rootProblem(u, TASK_USERS)) warn(users.rootProblem(u, TASK_USERS)!);
    }
    return users;
  }

  /** The user for a task of a flow whose doAs is `doAs` (an empty or unmapped doAs: the default). */
  userFor(doAs: string): TaskUserChoice {
    if (!this.switching) return { ok: true, user: null };
    const mapped = doAs !== '' && Object.hasOwn(this.config.taskUsers, doAs);
    const name = mapped ? this.config.taskUsers[doAs] : this.config.taskUser;
    const user = this.resolve(name);
    const setting = mapped ? `${TASK_USERS} maps the flow's doAs "${doAs}" to the OS user ${name}` : `${TASK_USER} is ${name}`;
    if (!user) return { ok: false, error: `the task cannot run as its OS user: ${setting}, which does not exist on this host` };
    const root = this.rootProblem(user, mapped ? TASK_USERS : TASK_USER);
    if (root) return { ok: false, error: `the task cannot run as its OS user: ${root}` };
    // Root named explicitly: the service's own uid, nothing to switch.
    return { ok: true, user: user.uid === 0 ? null : user };
  }

  /** Some task may run as another uid than the service's: its work dirs cannot be in the (private) data dir. */
  get mayRunAsOthers(): boolean {
    return this.switching && [this.config.taskUser, ...Object.values(this.config.taskUsers)].some((n) => n !== 'root');
  }

  /** Known users are cached; a missing one is looked up again each time (it may have been made meanwhile). */
  private resolve(name: string): OsUser | null {
    const hit = this.known.get(name);
    if (hit) return hit;
    const u = this.lookUp(name);
    if (u) this.known.set(name, u);
    return u;
  }

  /** Root (uid 0) is allowed only when the setting says `root`, never through another name with uid 0. */
  private rootProblem(u: OsUser, setting: string): string | null {
    if (u.uid !== 0 || u.name === 'root') return null;
    return `${setting}: the OS user ${u.name} has uid 0 (root); name root explicitly to run tasks as root`;
  }
}
