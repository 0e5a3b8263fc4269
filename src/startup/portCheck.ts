// Is the port free? Checked before the store is opened, so that a server that cannot listen exits before
// it migrates, recovers or kills anything. Names the listening process best-effort through /proc
// (Linux only; elsewhere, or for another user's or namespace's process, the holder is unknown).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { causeOf, PortInUseError, StartupError } from './errors.js';

/** Binds host:port and lets go of it at once; port 0 (any free port) needs no check. */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  }).catch((err: unknown) => {
    throw listenError(err, host, port);
  });
}

/** The start-up error for a failed listen (the probe's, or the real one if the port was taken between). */
export function listenError(err: unknown, host: string, port: number): StartupError {
  if ((err as { code?: unknown }).code === 'EADDRINUSE') return new PortInUseError(host, port, listenerPid(port));
  return new StartupError(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${causeOf(err)}`);
}

/** The pid of a process with a TCP socket listening on `port`, or null. */
export function listenerPid(port: number): number | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  for (const pid of safe(() => readdirSync('/proc'), [])) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of safe(() => readdirSync(`/proc/${pid}/fd`), [])) {
      const m = /^socket:\[(\d+)\]$/.exec(safe(() => readlinkSync(`/proc/${pid}/fd/${fd}`), ''));
      if (m && inodes.has(m[1])) return Number(pid);
    }
  }
  return null;
}

/** Socket inodes in LISTEN state (st 0A) on `port`, from /proc/net/tcp and tcp6 (local_address is ADDR:PORT in hex). */
function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of safe(() => readFileSync(table, 'utf8'), '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      if (parseInt(f[1].split(':')[1] ?? '', 16) === port && f[9] !== '0') out.add(f[9]);
    }
  }
  return out;
}

/** /proc entries vanish and deny access as we read them: any of that just means "not this one". */
function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
