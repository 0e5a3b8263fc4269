// Process facts read from /proc (Linux only) for crash recovery: is a recorded process still the
// same one (pid reuse guard), which processes carry an attempt's marker variable, and killing what
// is left of an attempt before its retry starts. It must never signal a process it cannot tie to the
// attempt: same start time as recorded, or the attempt's marker in its environment.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 20;
/** After SIGKILL, how long to wait for the kernel to finish them (a process stuck in D state may never go). */
const AFTER_KILL_MAX_MS = 2_000;

/** Fields of /proc/<pid>/stat from field 3 (state) on; null when the process does not exist. */
function statFields(pid: number): string[] | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: everything after the LAST ')' is fixed-format.
  const close = s.lastIndexOf(')');
  return close < 0 ? null : s.slice(close + 2).split(' ');
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (stable for the process's life). */
export function readProcStart(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** Alive (zombies count as dead: they run nothing) and, when procStart is given, the same start time. */
export function isSameProcess(pid: number, procStart: string | null): boolean {
  const f = statFields(pid);
  if (f === null || f[0] === 'Z' || f[0] === 'X') return false;
  return procStart === null || f[19] === procStart;
}

/** kill(-pgid, 0): the group has at least one member (zombies included). */
export function groupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false; // -0 is our own group, -1 is every process
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function numericEntries(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) if (/^\d+$/.test(n)) out.push(Number(n));
  return out;
}

/** Live (non-zombie) members of process group pgid. */
function groupMembers(pgid: number): number[] {
  return numericEntries().filter((pid) => {
    const f = statFields(pid);
    return f !== null && f[0] !== 'Z' && f[0] !== 'X' && Number(f[2]) === pgid;
  });
}

function environHas(pid: number, entry: Buffer): boolean {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // gone, or another user's process
  }
  for (let i = env.indexOf(entry); i !== -1; i = env.indexOf(entry, i + 1)) {
    const end = i + entry.length;
    if ((i === 0 || env[i - 1] === 0) && (end === env.length || env[end] === 0)) return true;
  }
  return false;
}

/** Pids whose environment holds NAME=value exactly (unreadable processes skipped), never our own. */
export function findProcessesWithEnv(name: string, value: string): number[] {
  const entry = Buffer.from(`${name}=${value}`);
  return numericEntries().filter((pid) => pid !== process.pid && environHas(pid, entry));
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    /* already gone */
  }
}

/** Attempts that ran longer than this get a full /proc scan at their end (pids may have wrapped around). */
const FULL_SCAN_AFTER_MS = 5_000;
/** Pids made since the leader read one by one rather than by listing /proc. */
const FEW_PIDS = 64;

/**
 * SIGKILLs every process whose environment holds `entry` (NAME=value) exactly: what is left of an attempt
 * outside its process group (setsid, double fork), at its end. Only pids handed out since the attempt's
 * leader are read (a /proc/<pid>/environ read costs ~0.05 ms), unless it ran long or the pid counter
 * wrapped. spawner.cjs has the same rule (it loads nothing of the app). Returns the pids killed.
 */
export function killMarkedSince(entry: string, leaderPid: number, startedMs: number): number[] {
  const want = Buffer.from(entry);
  let last = 0;
  try {
    last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'latin1'));
  } catch {
    /* no such file: scan everything */
  }
  const full = !(last > 0) || Date.now() - startedMs >= FULL_SCAN_AFTER_MS;
  const wrapped = last < leaderPid;
  const killed: number[] = [];
  // The common case costs one read: nothing made since the leader, or a few pids read one by one.
  if (!full && last === leaderPid) return killed;
  const candidates =
    !full && !wrapped && last - leaderPid <= FEW_PIDS ? Array.from({ length: last - leaderPid }, (_, i) => leaderPid + 1 + i) : numericEntries();
  for (const pid of candidates) {
    if (pid === process.pid) continue;
    if (!full && (wrapped ? pid < leaderPid && pid > last : pid < leaderPid || pid > last)) continue;
    if (!environHas(pid, want)) continue;
    signal(pid, 'SIGKILL');
    killed.push(pid);
  }
  return killed;
}

export interface RecordedAttempt {
  pid: number | null;
  pgid: number | null;
  procStart: string | null;
  marker: { name: string; value: string } | null;
}

/**
 * Kills whatever is left of a recorded attempt: its process group when the recorded leader is still
 * the same process, or (leader gone) when a group member carries the marker; plus every process
 * carrying the marker (spawned but pgid never recorded, or escaped via setsid). SIGTERM, up to graceMs
 * polling every 20 ms, then SIGKILL; resolves when they are gone. Returns the pids signalled.
 */
export async function killAttemptProcesses(a: RecordedAttempt, graceMs: number): Promise<{ killed: number[] }> {
  const entry = a.marker ? Buffer.from(`${a.marker.name}=${a.marker.value}`) : null;
  const ownGroup = Number(statFields(process.pid)?.[2] ?? 0);
  const targets = new Map<number, string | null>(); // pid -> start time, so a reused pid is never hit later
  const add = (pid: number) => {
    if (pid !== process.pid && !targets.has(pid)) targets.set(pid, readProcStart(pid));
  };

  let group: number | null = null;
  const pgid = a.pgid ?? 0;
  if (pgid > 1 && pgid !== ownGroup) {
    const members = groupMembers(pgid);
    // Without a recorded start time, only the marker can tell our leader from a stranger with its pid.
    const leaderOurs =
      a.pid !== null && isSameProcess(a.pid, a.procStart) && (a.procStart !== null || entry === null || environHas(a.pid, entry));
    if (leaderOurs) add(a.pid!);
    // A group outlives its leader, and its id cannot be reused while it has members; but a reused pid
    // may have founded a new group of that id, so without our leader only the marker proves it is ours.
    if (members.length > 0 && (leaderOurs || (entry !== null && members.some((m) => environHas(m, entry))))) {
      group = pgid;
      members.forEach(add);
    }
  }
  if (a.marker) findProcessesWithEnv(a.marker.name, a.marker.value).forEach(add);
  if (targets.size === 0) return { killed: [] };

  const survivors = (): number[] => {
    const alive = [...targets].filter(([pid, start]) => isSameProcess(pid, start)).map(([pid]) => pid);
    return group !== null ? [...new Set([...alive, ...groupMembers(group)])] : alive;
  };
  const waitGone = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (survivors().length === 0) return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
  };
  const hit = (sig: NodeJS.Signals) => {
    if (group !== null) signal(-group, sig);
    for (const [pid, start] of targets) if (isSameProcess(pid, start)) signal(pid, sig);
  };

  hit('SIGTERM');
  if (!(await waitGone(graceMs))) {
    hit('SIGKILL');
    await waitGone(AFTER_KILL_MAX_MS);
  }
  return { killed: [...targets.keys()].sort((x, y) => x - y) };
}
