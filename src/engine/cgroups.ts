// Resource limits of task runs (contract §11) with Linux control groups: every run gets a group of its own
// (with the `cpu` and `memory` limits its task says, if any), made before it spawns, emptied at its end
// (everything still in it killed: the group finds the processes that left the process group and dropped
// the attempt's marker: setsid, double fork, `env -i`), and removed shortly after (groupRemoval.ts). It
// costs ~0.3 ms per SHELL spawn (mkdir, the gate below, cleanup) on the engine's hot path; where groups
// cannot be made (or with BATCHFLOW_RESOURCE_LIMITS=off) runs get none and their escapees are found by
// the marker.
//
// Which hierarchy: found once at engine start (`ResourceLimits.setUp`). cgroup v2 when a unified hierarchy
// has the memory and cpu controllers (at the root, or at <root>/unified), else cgroup v1 with memory and cpu
// hierarchies (<root>/memory, <root>/cpu). Groups are made under the service's own group of each hierarchy
// (/proc/self/cgroup), so that what limits the service limits its tasks too, in
// <own group>/batchflow/<store id>-<pid>/<task instance id>.<run>[.k<key index>]; v2 needs a parent free of
// processes to hand controllers down, so it takes the nearest such ancestor. A probe group proves it can be
// made and limited; when not (not root and no delegated group, no hierarchy, BATCHFLOW_RESOURCE_LIMITS=off)
// the engine warns once and runs tasks without limits, and /readyz says why.
//
// Placement without a race: the process must be in its group before it can fork. The spawner cannot
// place it after spawn() returned (it may have forked already), and the task itself may not write to
// cgroup.procs (it runs as another user; v2 wants write access to the common ancestor). So a grouped argv
// is gated: it starts as `/bin/sh` blocked reading its stdin (a pipe); whoever spawned it (the spawner
// helper or the service) writes its pid into the group's cgroup.procs, then closes the pipe; the shell
// execs the task (stdin /dev/null as for any task) inside the group. A SHELL task's own `/bin/sh -c` is
// gated in place (no extra exec: +0.3 ms a spawn, measured); any other argv is wrapped (+1 ms).
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { RunMode } from '../domain/runMode.js';
import { StartupError } from '../startup/errors.js';
import { pidsIn, removeLater, removePending, retryRmdir, rmdirQuiet } from './groupRemoval.js';

export type LimitsStatus = { enforced: true; cgroup: 'v1' | 'v2' } | { enforced: false; reason: string };

/** A control group one run is placed in (ExecSpec.group); made by `groupFor`. */
export interface ExecGroup {
  /** The cgroup.procs file of every hierarchy the run is limited in: its pid goes into each before it runs. */
  readonly procsFiles: readonly string[];
  /** The run's memory limit in bytes (null: none), for the log line of an OOM kill. */
  readonly memoryBytes: number | null;
  /**
   * At the run's end, once its leader was reaped: SIGKILLs whatever is still in the group and waits until
   * it is empty, then removes the group. Says whether the kernel's OOM killer killed a process of it (the
   * run went over its memory). Never rejects.
   */
  close(): Promise<{ oomKilled: boolean }>;
}

/** Which attempt (or key's run) a group is for. */
export interface GroupAttempt {
  taskInstanceId: string;
  runNum: number;
  /** taskMode 2: the key's index (its run gets a group of its own). */
  keyIndex?: number;
}

/**
 * The group of one run, or undefined when it runs without one (limits off on this host); a run mode
 * without cpu and memory gets a group without limits. Throws when the group cannot be made (the run then fails to start: its log
 * says why).
 */
export function groupFor(limits: ResourceLimits | null | undefined, attempt: GroupAttempt, runMode: Pick<RunMode, 'cpu' | 'memoryBytes'>): ExecGroup | undefined {
  // Every run gets a group where groups can be made, limited or not: the group is how every process of
  // the run is found at its end (a daemon that left its process group and emptied its environment too).
  if (!limits) return undefined;
  const name = `${attempt.taskInstanceId}.${attempt.runNum}${attempt.keyIndex === undefined ? '' : `.k${attempt.keyIndex}`}`;
  return limits.make(name, runMode.cpu, runMode.memoryBytes);
}

/** The gate: an argv that waits for its stdin to close, then runs `argv` (see the file's head). */
export function gatedArgv(argv: readonly [string, ...string[]]): [string, ...string[]] {
  // `read` returns at EOF; stdin becomes /dev/null, as an ungrouped task's is. Same line: the shell's line
  // numbers in error messages stay the user's.
  if (argv.length === 3 && argv[0] === '/bin/sh' && argv[1] === '-c') return ['/bin/sh', '-c', `read -r _ ; exec </dev/null; ${argv[2]}`];
  return ['/bin/sh', '-c', 'read -r _ ; exec "$@" </dev/null', 'batchflow-gate', ...argv];
}

const CGROUP_MAGIC = 0x27e0eb;
const CGROUP2_MAGIC = 0x63677270;
const CPU_PERIOD_US = 100_000;
/** How long the end of a run waits for the group's processes to die after SIGKILL (one stuck in D state may never). */
const KILL_WAIT_MS = 5_000;

interface V1 {
  version: 'v1';
  /** The service's parent group in the memory and the cpu hierarchy (the same dir when co-mounted). */
  memory: string;
  cpu: string;
  memsw: boolean;
  oomKillCounter: boolean;
}
interface V2 {
  version: 'v2';
  parent: string;
  swapMax: boolean;
  oomGroup: boolean;
  kill: boolean;
}
type Layout = V1 | V2;

const isFs = (dir: string, magic: number) => {
  try {
    return statfsSync(dir).type === magic;
  } catch {
    return false;
  }
};
const readText = (file: string) => readFileSync(file, 'latin1');
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48) || 'store';

/** `id:controllers:path` lines of /proc/self/cgroup: the service's own group per controller ('' = v2). */
function ownGroups(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') out.set('', m[2]);
    for (const c of m[1].split(',')) if (c) out.set(c, m[2]);
  }
  return out;
}

/** <mount>/<own group> when it is there (not in a namespace that hides it), else the mount itself. */
function under(mount: string, own: string | undefined): string {
  if (own && own !== '/') {
    const p = path.join(mount, own);
    if (existsSync(p)) return p;
  }
  return mount;
}

function enableControllers(dir: string): void {
  const have = readText(path.join(dir, 'cgroup.subtree_control')).split(/\s+/);
  const want = ['memory', 'cpu'].filter((c) => !have.includes(c));
  if (want.length) writeFileSync(path.join(dir, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
}

function counter(file: string, name: string): number | null {
  try {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(readText(file));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Finds the hierarchy to use under `root` (normally /sys/fs/cgroup) and makes the service's parent groups.
 * Returns the layout, or why limits cannot be enforced.
 */
function findLayout(root: string, serviceDir: string, selfCgroup: string): { layout: Layout; made: string[] } | { reason: string } {
  const own = ownGroups(selfCgroup);
  const why: string[] = [];
  // cgroup v2: a unified hierarchy at the root (pure v2) or at <root>/unified (hybrid).
  for (const mount of [root, path.join(root, 'unified')]) {
    if (!isFs(mount, CGROUP2_MAGIC)) continue;
    const controllers = readText(path.join(mount, 'cgroup.controllers')).split(/\s+/);
    const missing = ['memory', 'cpu'].filter((c) => !controllers.includes(c));
    if (missing.length) {
      why.push(`the cgroup v2 hierarchy at ${mount} has no ${missing.join(' and ')} controller (they are bound to cgroup v1, or not delegated)`);
      continue;
    }
    // The nearest group from the service's own up that can hand memory and cpu down: v2 refuses that to a
    // non-root group that has processes (the service's own, unless it was delegated a subtree).
    const start = under(mount, own.get(''));
    let lastError = '';
    for (let dir = start; ; dir = path.dirname(dir)) {
      const made: string[] = [];
      try {
        enableControllers(dir);
        let d = dir;
        for (const part of ['batchflow', serviceDir]) {
          d = path.join(d, part);
          if (!existsSync(d)) {
            mkdirSync(d);
            made.push(d);
          }
          enableControllers(d);
        }
        return {
          layout: {
            version: 'v2',
            parent: d,
            swapMax: false, // what the kernel has: seen once the parent is made (setUp)
            oomGroup: false,
            kill: false,
          },
          made,
        };
      } catch (e) {
        for (const m of made.reverse()) rmdirQuiet(m);
        lastError = `${dir}: ${errText(e)}`;
      }
      if (dir === mount || path.dirname(dir) === dir) break;
    }
    why.push(`cannot make cgroup v2 groups with the memory and cpu controllers (${lastError})`);
  }
  // cgroup v1: separate memory and cpu hierarchies (cpu maybe co-mounted with cpuacct).
  const mem = path.join(root, 'memory');
  const cpu = path.join(root, 'cpu');
  if (!isFs(mem, CGROUP_MAGIC) || !isFs(cpu, CGROUP_MAGIC)) {
    if (why.length === 0) why.push(`no control group hierarchy at ${root} (neither cgroup v2 nor cgroup v1 memory and cpu)`);
    else why.push(`no cgroup v1 memory and cpu hierarchies at ${root}`);
    return { reason: why.join('; ') };
  }
  const made: string[] = [];
  try {
    const parents: string[] = [];
    for (const [mount, c] of [
      [realpathSync(mem), 'memory'],
      [realpathSync(cpu), 'cpu'],
    ] as const) {
      let d = under(mount, own.get(c));
      for (const part of ['batchflow', serviceDir]) {
        d = path.join(d, part);
        if (!existsSync(d)) {
          mkdirSync(d);
          made.push(d);
        }
      }
      parents.push(d);
    }
    return { layout: { version: 'v1', memory: parents[0], cpu: parents[1], memsw: false, oomKillCounter: false }, made };
  } catch (e) {
    for (const m of made.reverse()) rmdirQuiet(m);
    why.push(`cannot create cgroup v1 groups: ${errText(e)}`);
    return { reason: why.join('; ') };
  }
}

/**
 * Removes what services of this store no longer running (a crash) left under a `batchflow` parent: their
 * groups, after killing what is still in them. (Only this store's are killed: a service of another store
 * may run in a pid namespace where its pid means nothing here; of those only empty groups are removed.)
 */
function sweepDeadServices(batchflowDir: string, self: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(batchflowDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /-(\d+)$/.exec(name);
    if (!m || name === self) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // alive (or its pid reused): not ours to touch
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    const dir = path.join(batchflowDir, name);
    if (!name.startsWith(prefix)) {
      // Another store's service that is gone: only its empty groups go (rmdir refuses a group with
      // processes; what they are is that store's recovery's business).
      try {
        for (const g of readdirSync(dir, { withFileTypes: true })) if (g.isDirectory()) rmdirQuiet(path.join(dir, g.name));
      } catch {
        /* gone meanwhile */
      }
      rmdirQuiet(dir);
      continue;
    }
    let busy = false;
    try {
      for (const g of readdirSync(dir, { withFileTypes: true })) {
        if (!g.isDirectory()) continue;
        const group = path.join(dir, g.name);
        // What is still in it belongs to an attempt of that dead engine (recovery closes the attempt; a
        // process that dropped the attempt's marker is found only here).
        for (const pid of pidsIn(group)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        if (!rmdirQuiet(group)) {
          busy = true;
          void retryRmdir(group).then(() => rmdirQuiet(dir));
        }
      }
    } catch {
      /* gone meanwhile */
    }
    if (!busy) rmdirQuiet(dir);
  }
}

export class ResourceLimits {
  private constructor(
    readonly status: LimitsStatus,
    private readonly layout: Layout | null,
  ) {}

  /**
   * At engine start: finds a usable hierarchy and proves a group can be made and limited there. Not usable
   * (or configured off): limits are off, and `required` refuses the start instead (StartupError).
   */
  static setUp(config: Pick<Config, 'resourceLimits' | 'cgroupRoot'>, storeId: string, opts: { selfCgroup?: string } = {}): ResourceLimits {
    const off = (reason: string) => {
      if (config.resourceLimits === 'required') throw new StartupError(`BATCHFLOW_RESOURCE_LIMITS=required, but task resource limits cannot be enforced: ${reason}`);
      return new ResourceLimits({ enforced: false, reason }, null);
    };
    if (config.resourceLimits === 'off') return new ResourceLimits({ enforced: false, reason: 'turned off (BATCHFLOW_RESOURCE_LIMITS=off)' }, null);
    if (process.platform !== 'linux') return off(`control groups are Linux's (this is ${process.platform})`);
    let selfCgroup = opts.selfCgroup;
    try {
      selfCgroup ??= readText('/proc/self/cgroup');
    } catch (e) {
      return off(`cannot read /proc/self/cgroup: ${errText(e)}`);
    }
    const serviceDir = `${safeName(storeId)}-${process.pid}`;
    const found = findLayout(config.cgroupRoot, serviceDir, selfCgroup);
    if ('reason' in found) return off(found.reason);
    const { layout, made } = found;
    // What this kernel has (seen on the service's parent group, made with the controllers of its children).
    if (layout.version === 'v1') {
      layout.memsw = existsSync(path.join(layout.memory, 'memory.memsw.limit_in_bytes'));
      layout.oomKillCounter = counter(path.join(layout.memory, 'memory.oom_control'), 'oom_kill') !== null;
    } else {
      layout.swapMax = existsSync(path.join(layout.parent, 'memory.swap.max'));
      layout.oomGroup = existsSync(path.join(layout.parent, 'memory.oom.group'));
      layout.kill = existsSync(path.join(layout.parent, 'cgroup.kill'));
    }
    // The probe: a group with both limits written, then removed.
    const limits = new ResourceLimits({ enforced: true, cgroup: layout.version }, layout);
    try {
      const probe = limits.create(`probe-${process.pid}`, 0.1, 512 * 2 ** 20);
      for (const g of probe.dirs) rmdirSync(g);
    } catch (e) {
      for (const m of made.reverse()) rmdirQuiet(m);
      return off(`cannot create a limited control group (cgroup ${layout.version}): ${errText(e)}`);
    }
    for (const parent of limits.parents()) sweepDeadServices(path.dirname(parent), serviceDir, `${safeName(storeId)}-`);
    return limits;
  }

  /** The service's parent groups (one per hierarchy used). */
  private parents(): string[] {
    const l = this.layout;
    if (!l) return [];
    return l.version === 'v2' ? [l.parent] : [...new Set([l.memory, l.cpu])];
  }

  /** A limited group named `name` (groupFor's). Throws when it cannot be made. */
  make(name: string, cpu: number | null, memoryBytes: number | null): ExecGroup | undefined {
    return this.layout ? this.create(name, cpu, memoryBytes) : undefined;
  }

  private create(name: string, cpu: number | null, memoryBytesIn: number | null): LiveGroup {
    const l = this.layout!;
    const memoryBytes = memoryBytesIn === null ? null : Math.round(memoryBytesIn);
    const dirs: string[] = [];
    const fresh = (parent: string) => {
      const d = path.join(parent, name);
      // Left by a previous service with this pid (a crash): made anew, with this run's limits only.
      if (existsSync(d) && !rmdirQuiet(d)) throw new Error(`the control group ${d} exists and still has processes`);
      try {
        mkdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        // The service's parent was removed under it (by hand, or a cleanup that took it for a dead one's): again.
        mkdirSync(parent, { recursive: true });
        if (l.version === 'v2') for (const p of [path.dirname(parent), parent]) enableControllers(p);
        mkdirSync(d);
      }
      dirs.push(d);
      return d;
    };
    const write = (dir: string, file: string, value: string) => writeFileSync(path.join(dir, file), value);
    try {
      if (l.version === 'v2') {
        const d = fresh(l.parent);
        if (memoryBytes !== null) {
          write(d, 'memory.max', String(memoryBytes));
          if (l.swapMax) write(d, 'memory.swap.max', '0'); // swap must not dodge the limit
          if (l.oomGroup) write(d, 'memory.oom.group', '1'); // over its memory, the run is killed whole
        }
        if (cpu !== null) write(d, 'cpu.max', `${Math.round(cpu * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
      } else {
        // Only the hierarchies of the limits set: a run limited in one is still found whole through it. A
        // run without limits gets a memory group without a limit, only to find its processes.
        const mem = memoryBytes !== null || cpu === null ? fresh(l.memory) : null;
        if (mem !== null && memoryBytes !== null) {
          write(mem, 'memory.limit_in_bytes', String(memoryBytes));
          if (l.memsw) write(mem, 'memory.memsw.limit_in_bytes', String(memoryBytes)); // memory + swap: swap must not dodge it
        }
        if (cpu !== null) {
          const d = mem !== null && l.cpu === l.memory ? mem : fresh(l.cpu);
          write(d, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
          write(d, 'cpu.cfs_quota_us', String(Math.round(cpu * CPU_PERIOD_US)));
        }
      }
    } catch (e) {
      for (const d of dirs.reverse()) rmdirQuiet(d);
      throw new Error(`cannot create the control group ${name} for the task's limits: ${errText(e)}`);
    }
    return new LiveGroup(l, dirs, memoryBytes !== null ? dirs[0] : null, memoryBytes);
  }

  /**
   * At engine stop, once no run is left: removes the service's parent groups. A parent whose children were
   * just removed may stay busy for a moment (the kernel takes them offline asynchronously); one that stays
   * busy is left for the next start's sweep.
   */
  async close(): Promise<void> {
    removePending(); // the ended runs' groups first: their parents can go only once they are gone
    for (const p of this.parents()) {
      for (let i = 0; i < 20 && !rmdirQuiet(p); i++) await sleep(10 * (i + 1));
    }
  }
}

class LiveGroup implements ExecGroup {
  readonly procsFiles: string[];
  private closing: Promise<{ oomKilled: boolean }> | null = null;

  constructor(
    private readonly layout: Layout,
    /** v1: the memory group first when there is one. */
    readonly dirs: string[],
    /** Where the OOM kills are counted (the memory group), null without a memory limit. */
    private readonly memoryDir: string | null,
    readonly memoryBytes: number | null,
  ) {
    this.procsFiles = dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  close(): Promise<{ oomKilled: boolean }> {
    return (this.closing ??= this.end().catch(() => ({ oomKilled: false })));
  }

  private async end(): Promise<{ oomKilled: boolean }> {
    await this.killAll();
    const oomKilled = this.oomKilled();
    removeLater(this.dirs);
    return { oomKilled };
  }

  /** SIGKILL to everything in the group until it is empty (a process may fork while we kill). */
  private async killAll(): Promise<void> {
    const deadline = Date.now() + KILL_WAIT_MS;
    const where = this.dirs[0];
    let wait = 1;
    for (let round = 0; ; round++) {
      const pids = pidsIn(where);
      if (pids.length === 0) return;
      if (round === 0 && this.layout.version === 'v2' && this.layout.kill) {
        try {
          writeFileSync(path.join(where, 'cgroup.kill'), '1');
        } catch {
          /* killed one by one below */
        }
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
      if (Date.now() > deadline) return;
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  private oomKilled(): boolean {
    const d = this.memoryDir;
    if (d === null) return false;
    if (this.layout.version === 'v2') return (counter(path.join(d, 'memory.events'), 'oom_kill') ?? 0) > 0;
    if (this.layout.oomKillCounter) return (counter(path.join(d, 'memory.oom_control'), 'oom_kill') ?? 0) > 0;
    // Kernels before 4.13 count no OOM kills: the limit was hit (memory that could not be reclaimed).
    try {
      return Number(readText(path.join(d, this.layout.memsw ? 'memory.memsw.failcnt' : 'memory.failcnt'))) > 0;
    } catch {
      return false;
    }
  }
}

