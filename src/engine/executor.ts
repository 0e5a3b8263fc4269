// Runs one process in its own process group, streams its output and reports how it ended. It only
// spawns, kills (always the whole group: SIGTERM, grace, SIGKILL) and resolves an Outcome; it knows
// nothing of tasks, logs or the store. Hot path: one /proc read per spawn, no timers unless a timeout
// is set or the pipes outlive the process, no allocation per chunk beyond the decoded string.
//
// stdout and stderr are two pipes, so their relative order is only as good as the event loop's reads
// (writes to both within one loop turn come out stream by stream). Task commands that need the exact
// interleaving merge stderr into stdout at the source (see taskCommand.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { readProcStart } from './procs.js';

export interface ExecSpec {
  argv: [string, ...string[]];
  cwd: string;
  /** The COMPLETE environment: nothing is inherited from process.env. */
  env: Record<string, string>;
  /** 0 = none. */
  timeoutMs: number;
  /** SIGTERM to the group, then SIGKILL after this. */
  killGraceMs: number;
  /** stdout and stderr in arrival order, utf8-decoded (a character split across chunks arrives whole). */
  onOutput(chunk: string): void;
}

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'timedOut' }
  | { kind: 'stopped'; reason: 'cancel' | 'shutdown' }
  | { kind: 'spawnFailed'; error: string };

export interface RunningProcess {
  pid: number;
  pgid: number;
  /** /proc/<pid>/stat field 22, read right after the spawn (null if unreadable). */
  procStart: string | null;
  /** performance.now() just before spawn() was called (for latency measurements). */
  spawnHr: number;
  /** SIGTERM to the group, SIGKILL after killGraceMs if it still has members; outcome `stopped`. */
  kill(reason: 'cancel' | 'shutdown'): void;
  done: Promise<Outcome>;
}

/** After the process exits, how long its pipes may stay open (a grandchild holding them) before we stop waiting. */
const PIPE_DRAIN_MS = 50;

const noop = (): void => {};

function spawnFailed(error: string, spawnHr: number): RunningProcess {
  return { pid: 0, pgid: 0, procStart: null, spawnHr, kill: noop, done: Promise.resolve({ kind: 'spawnFailed', error }) };
}

function describe(e: unknown, spec: ExecSpec): string {
  const msg = e instanceof Error ? e.message : String(e);
  // libuv reports a missing cwd as ENOENT of the executable: name both.
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? `${msg} (executable ${spec.argv[0]} or working directory ${spec.cwd} not found)` : msg;
}

/** Reads one pipe through its own decoder; `onClose` fires when the pipe is closed. */
function drain(stream: Readable, onOutput: (s: string) => void, onClose: () => void): StringDecoder {
  const dec = new StringDecoder('utf8');
  stream.on('data', (b: Buffer) => {
    const s = dec.write(b);
    if (s.length > 0) onOutput(s);
  });
  stream.on('end', () => {
    const s = dec.end();
    if (s.length > 0) onOutput(s);
  });
  stream.on('error', noop); // a read error ends the stream: 'close' follows
  stream.on('close', onClose);
  return dec;
}

/** Never throws: a failed spawn resolves `done` with spawnFailed (pid and pgid 0). */
export function startProcess(spec: ExecSpec): RunningProcess {
  let child: ChildProcess;
  const spawnHr = performance.now();
  try {
    child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return spawnFailed(describe(e, spec), spawnHr);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // ENOENT, EACCES, EMFILE...: Node emits 'error' on the next tick and nothing else.
    const done = new Promise<Outcome>((resolve) => child.once('error', (e) => resolve({ kind: 'spawnFailed', error: describe(e, spec) })));
    return { pid: 0, pgid: 0, procStart: null, spawnHr, kill: noop, done };
  }
  const pgid = pid; // detached: the child leads a new group
  const procStart = readProcStart(pid);

  let exited = false;
  let settled = false;
  let stopReason: 'cancel' | 'shutdown' | null = null;
  let timedOut = false;
  let outcome: Outcome = { kind: 'timedOut' }; // replaced on exit
  let openPipes = 2;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolveDone = r));

  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* ESRCH: the group has no members left */
    }
  };
  const terminate = (): void => {
    clearTimeout(timeoutTimer);
    signalGroup('SIGTERM');
    killTimer = setTimeout(signalGroup, spec.killGraceMs, 'SIGKILL');
  };
  const settle = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(drainTimer);
    clearTimeout(killTimer);
    // A finished task must leave no process behind: group members still running once the leader
    // exited (a daemonised child, a grandchild holding the pipes) are killed outright. Their output
    // not yet read is dropped. The group id cannot have been reused: it still had members, or it is empty.
    signalGroup('SIGKILL');
    if (openPipes > 0) {
      for (const dec of [outDec, errDec]) {
        const s = dec.end();
        if (s.length > 0) spec.onOutput(s);
      }
      child.stdout!.destroy();
      child.stderr!.destroy();
    }
    resolveDone(outcome);
  };
  const pipeClosed = (): void => {
    if (--openPipes === 0 && exited) settle();
  };
  const outDec = drain(child.stdout!, spec.onOutput, pipeClosed);
  const errDec = drain(child.stderr!, spec.onOutput, pipeClosed);

  child.on('error', noop); // after a successful spawn only kill() failures land here, and we never use child.kill
  child.on('exit', (code, sig) => {
    exited = true;
    clearTimeout(timeoutTimer);
    if (stopReason !== null) outcome = { kind: 'stopped', reason: stopReason };
    else if (timedOut) outcome = { kind: 'timedOut' };
    else if (code !== null) outcome = { kind: 'exited', code };
    else outcome = { kind: 'signaled', signal: sig ?? 'unknown' };
    if (openPipes === 0) settle();
    else drainTimer = setTimeout(settle, PIPE_DRAIN_MS);
  });

  if (spec.timeoutMs > 0) {
    timeoutTimer = setTimeout(() => {
      if (exited || stopReason !== null) return;
      timedOut = true;
      terminate();
    }, spec.timeoutMs);
  }

  return {
    pid,
    pgid,
    procStart,
    spawnHr,
    kill(reason) {
      // Once the leader exited, settle() kills any leftovers itself; the first reason to stop wins.
      if (exited || stopReason !== null || timedOut) return;
      stopReason = reason;
      terminate();
    },
    done,
  };
}
