// Removal of the control groups of ended runs (cgroups.ts makes them). A run's group, empty at its end,
// is removed a little later with the others ended meanwhile, not at the run's end: its rmdir (0.2-0.3 ms
// on cgroup v1, and the kernel's work of taking it offline after it) then stays off the path from a
// task's exit to its successor's spawn (with the gate's pipe destroyed rather than ended, ~0.4-0.6 ms a
// grouped run on v1: bench/README.md). A group still busy is retried in the background. The timer does
// not hold the process: a group left by an exit before it fires is swept at the next start (cgroups.ts
// sweepDeadServices), and engine stop removes the pending ones first (ResourceLimits.close).
import { readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A group that could not be removed (still busy) is retried in the background this long. */
const RMDIR_RETRY_MS = 60_000;
/** How long after a run's end its group is removed. */
const REMOVE_AFTER_MS = 250;
/** Groups removed per turn of the event loop at most (many short keyed runs end within one delay). */
const REMOVE_PER_TURN = 32;

const toRemove: string[] = [];
let removeTimer: ReturnType<typeof setTimeout> | null = null;

/** Removes an empty group; false while it is busy (ENOENT counts as removed). */
export function rmdirQuiet(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The pids in a group (none when it is gone). */
export function pidsIn(dir: string): number[] {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'cgroup.procs'), 'latin1');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const l of text.split('\n')) if (l !== '') out.push(Number(l));
  return out;
}

/** Queues an ended run's (empty) groups for removal. */
export function removeLater(dirs: readonly string[]): void {
  toRemove.push(...dirs);
  schedule(REMOVE_AFTER_MS);
}

function schedule(ms: number): void {
  if (removeTimer !== null || toRemove.length === 0) return;
  removeTimer = setTimeout(() => {
    removeTimer = null;
    remove(REMOVE_PER_TURN);
    schedule(0);
  }, ms);
  removeTimer.unref();
}

function remove(n: number): void {
  for (const d of toRemove.splice(0, n)) if (!rmdirQuiet(d)) void retryRmdir(d);
}

/** Removes every ended run's group now (one still busy is retried in the background). */
export function removePending(): void {
  if (removeTimer !== null) clearTimeout(removeTimer);
  removeTimer = null;
  remove(toRemove.length);
}

/** A group still busy at its run's end (a process stuck in the kernel): removed once it empties. */
export async function retryRmdir(dir: string): Promise<void> {
  const deadline = Date.now() + RMDIR_RETRY_MS;
  while (Date.now() < deadline) {
    await sleep(1_000, undefined, { ref: false });
    for (const pid of pidsIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (rmdirQuiet(dir)) return;
  }
}
