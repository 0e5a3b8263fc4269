// The host an engine runs on, as recovery sees it: is another engine's process on this host still alive,
// and kill what is left of an attempt here. The real one reads /proc (procs.ts); the engine simulator
// gives its own. Recovery kills only processes of this host that carry this store's attempt marker.
import { killAttemptProcesses, isSameProcess, readProcStart } from './procs.js';
import type { EngineRecord } from '../store/store.js';

export interface AttemptProcesses {
  pid: number | null;
  pgid: number | null;
  procStart: string | null;
  /** BATCHFLOW_ATTEMPT=<store id>/<task instance>#<run>: the only proof a process is this attempt's. */
  marker: { name: string; value: string };
}

export interface Host {
  /** The host name attempts and engines record (config.hostName). */
  readonly name: string;
  /** This process, as an engine record names it. */
  readonly pid: number;
  readonly procStart: string | null;
  /**
   * false when the engine's process is known to be gone (same host, its pid dead or reused by another
   * process); true when it runs; null when this host cannot tell (another host: only its lease can).
   */
  isEngineAlive(e: EngineRecord): boolean | null;
  /** Kills what is left of an attempt on this host (SIGTERM, grace, SIGKILL); resolves once it is gone. */
  killAttempt(a: AttemptProcesses, graceMs: number): Promise<{ killed: number[] }>;
}

export function localHost(name: string): Host {
  const procStart = readProcStart(process.pid);
  return {
    name,
    pid: process.pid,
    procStart,
    isEngineAlive(e) {
      if (e.host !== name) return null;
      return isSameProcess(e.pid, e.procStart);
    },
    killAttempt: (a, graceMs) => killAttemptProcesses(a, graceMs),
  };
}
