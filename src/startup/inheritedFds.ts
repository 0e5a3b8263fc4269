// Closes the file descriptors this process inherited from whatever started it (a wrapper script's log, a
// supervisor's pipe), which node would otherwise hand on to every task process it forks directly: tasks
// may run as another, unprivileged user, and must get nothing of the service but their stdio.
// spawner.cjs does the same for its own (it loads nothing of the app).
import { closeSync, readdirSync, readFileSync } from 'node:fs';

/** O_CLOEXEC in /proc/<pid>/fdinfo's octal `flags`: what node and libuv open themselves all carry it. */
const O_CLOEXEC = 0o2000000;

/**
 * Every fd above 2 without close-on-exec is one this process inherited (node marks its own, the IPC channel
 * to a parent included): closed. Call once at start, before anything opens files. Returns the fds closed.
 */
export function closeInheritedFds(): number[] {
  const closed: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return closed; // no /proc: nothing to go by
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      if (!flags || (parseInt(flags[1], 8) & O_CLOEXEC) !== 0) continue;
      closeSync(fd);
      closed.push(fd);
    } catch {
      /* gone meanwhile (the directory listing's own fd) */
    }
  }
  return closed;
}
