// Runs one process in its own process group, streams its output and reports how it ended. It only
// spawns, kills (always the whole group: SIGTERM, grace, SIGKILL) and resolves an Outcome; it knows
// nothing of tasks, logs or the store. Two ways to spawn share this contract: from a small helper process
// (spawnerExecutor.ts, the default: a fork of the big service costs 2-3 ms) or directly (`startProcess`).
// Hot path: no timers unless a timeout is set or the pipes outlive the process.
//
// stdout and stderr are two pipes, so their relative order is only as good as the event loop's reads
// (writes to both within one loop turn come out stream by stream). Task commands that need the exact
// interleaving merge stderr into stdout at the source (see taskCommand.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { gatedArgv, type ExecGroup } from './cgroups.js';
import { killMarkedSince, readProcStart } from './procs.js';

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
  /**
   * An entry of `env` that marks this process and its descendants: when the spawner dies before it could
   * report a process's pid or exit, this is how that process is found and killed.
   */
  marker?: { name: string; value: string };
  /**
   * Run as this uid and gid (the service is root; src/engine/taskUsers.ts). Supplementary groups are
   * dropped (libuv calls setgroups(0) when switching), so the process has exactly the user's primary group.
   */
  user?: { uid: number; gid: number };
  /**
   * The control group of the run (src/engine/cgroups.ts; with its cpu and memory limits, if any): the process is in it
   * before it runs anything (its argv is gated: whoever spawns it writes its pid into the group's
   * cgroup.procs files, then closes its stdin). At the end everything left in the group is killed and the
   * group removed before `done` resolves; a run the OOM killer hit ends `overMemory`.
   */
  group?: ExecGroup;
}

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'timedOut' }
  | { kind: 'stopped'; reason: 'cancel' | 'shutdown' }
  | { kind: 'spawnFailed'; error: string }
  /** The kernel killed a process of the run for going over its memory limit (the leader's exit as it was). */
  | { kind: 'overMemory'; limitBytes: number; code: number | null; signal: string | null };

export interface ProcessStarted {
  pid: number;
  /** The process leads its own group: pgid === pid. */
  pgid: number;
  /** /proc/<pid>/stat field 22, read right after the spawn (null if unreadable). */
  procStart: string | null;
  /** performance.now() (this process's timeline) when spawn() returned, in whichever process called it. */
  hr: number;
}

export interface RunningProcess {
  /** performance.now() when the spawn was asked for (for latency measurements). */
  spawnHr: number;
  /** Resolves once the process runs, before `done`; null when it never started (`done` says why). */
  started: Promise<ProcessStarted | null>;
  /** performance.now() when the process that reaped it saw the exit and the pipes closed; NaN until then. */
  exitHr: number;
  /**
   * SIGTERM to the group, SIGKILL after killGraceMs if it still has members; outcome `stopped`. Works
   * before the pid is known (the spawner spawns and signals in the order asked).
   */
  kill(reason: 'cancel' | 'shutdown'): void;
  done: Promise<Outcome>;
}

/** Spawns processes; `close` once nothing runs any more. */
export interface Executor {
  start(spec: ExecSpec): RunningProcess;
  close(): Promise<void>;
}

/**
 * What the executor decides about one process, wherever it was spawned: its timeout, kill() with the
 * SIGTERM-grace-SIGKILL escalation, and which Outcome an exit becomes (a stop or a timeout we caused wins
 * over the exit status it caused).
 */
export class ProcessControl {
  stopReason: 'cancel' | 'shutdown' | null = null;
  timedOut = false;
  private exited = false;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: ExecSpec,
    private readonly signalGroup: (sig: NodeJS.Signals) => void,
  ) {
    if (spec.timeoutMs > 0) {
      this.timeoutTimer = setTimeout(() => {
        if (this.exited || this.stopReason !== null) return;
        this.timedOut = true;
        this.terminate();
      }, spec.timeoutMs);
    }
  }

  kill(reason: 'cancel' | 'shutdown'): void {
    // Once the leader exited, what is left of the group is killed anyway; the first reason to stop wins.
    if (this.exited || this.stopReason !== null || this.timedOut) return;
    this.stopReason = reason;
    this.terminate();
  }

  /** The leader exited: no more timeout; the outcome, given its exit code or signal. */
  exit(code: number | null, signal: string | null): Outcome {
    this.exited = true;
    clearTimeout(this.timeoutTimer);
    if (this.stopReason !== null) return { kind: 'stopped', reason: this.stopReason };
    if (this.timedOut) return { kind: 'timedOut' };
    if (code !== null) return { kind: 'exited', code };
    return { kind: 'signaled', signal: signal ?? 'unknown' };
  }

  /** Nothing more to signal: drops every timer. */
  finish(): void {
    this.exited = true;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.killTimer);
  }

  private terminate(): void {
    clearTimeout(this.timeoutTimer);
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), this.spec.killGraceMs);
  }
}

/** After the process exits, how long its pipes may stay open (a grandchild holding them) before we stop waiting. */
const PIPE_DRAIN_MS = 50;

const noop = (): void => {};

/** A process that never started: `done` resolves spawnFailed. */
export function notStarted(error: string | Promise<string>, spawnHr = performance.now()): RunningProcess {
  const done = Promise.resolve(error).then((e): Outcome => ({ kind: 'spawnFailed', error: e }));
  return { spawnHr, started: Promise.resolve(null), exitHr: NaN, kill: noop, done };
}

/**
 * The end of a grouped run: kills what is left in its group, removes it, and says `overMemory` when the
 * OOM killer hit it (unless we stopped it or it timed out: those outcomes are ours).
 */
export async function endInGroup(group: ExecGroup, o: Outcome): Promise<Outcome> {
  const { oomKilled } = await group.close();
  if (!oomKilled || o.kind === 'stopped' || o.kind === 'timedOut' || o.kind === 'spawnFailed' || o.kind === 'overMemory') return o;
  return { kind: 'overMemory', limitBytes: group.memoryBytes ?? 0, code: o.kind === 'exited' ? o.code : null, signal: o.kind === 'signaled' ? o.signal : null };
}

/** Puts a spawned (gated, still waiting) process into its group; the error's text when it could not. */
export function placeInGroup(pid: number, group: ExecGroup): string | null {
  try {
    for (const f of group.procsFiles) writeFileSync(f, String(pid));
    return null;
  } catch (e) {
    return `cannot place the process in its control group (${(e as Error).message})`;
  }
}

/** The spawn error as the log shows it. */
export function describeSpawnError(message: string, code: string | null | undefined, spec: ExecSpec): string {
  // libuv reports a missing cwd as ENOENT of the executable: name both.
  return code === 'ENOENT' ? `${message} (executable ${spec.argv[0]} or working directory ${spec.cwd} not found)` : message;
}

function describe(e: unknown, spec: ExecSpec): string {
  return describeSpawnError(e instanceof Error ? e.message : String(e), (e as NodeJS.ErrnoException)?.code, spec);
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

/** Spawns from this process (the fallback, and the reference the spawner's behaviour is tested against). */
export const directExecutor: Executor = { start: startProcess, close: async () => {} };

/** Spawns from this process. Never throws: a failed spawn resolves `done` with spawnFailed. */
export function startProcess(spec: ExecSpec): RunningProcess {
  let child: ChildProcess;
  const spawnHr = performance.now();
  const group = spec.group;
  const [file, ...args] = group ? gatedArgv(spec.argv) : spec.argv;
  // A grouped run's group is removed however it ends, before `done` resolves.
  const failed = (error: string | Promise<string>) => notStarted(group ? Promise.resolve(error).then((e) => group.close().then(() => e)) : error, spawnHr);
  try {
    child = spawn(file, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: [group ? 'pipe' : 'ignore', 'pipe', 'pipe'], ...spec.user });
  } catch (e) {
    return failed(describe(e, spec));
  }
  const pid = child.pid;
  if (pid === undefined) {
    // ENOENT, EACCES, EMFILE...: Node emits 'error' on the next tick and nothing else.
    return failed(new Promise<string>((resolve) => child.once('error', (e) => resolve(describe(e, spec)))));
  }
  if (group) {
    // Still blocked in the gate: into its group, then let it run.
    child.stdin!.on('error', noop);
    const error = placeInGroup(pid, group);
    if (error !== null) {
      child.on('error', noop);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      child.stdout!.destroy();
      child.stderr!.destroy();
      child.stdin!.destroy();
      return failed(error);
    }
    child.stdin!.destroy(); // EOF to the gate now, not on the next turn of the loop (spawner.cjs says why)
  }
  const hr = performance.now();
  const startedMs = Date.now();
  const pgid = pid; // detached: the child leads a new group
  const started = Promise.resolve<ProcessStarted>({ pid, pgid, procStart: readProcStart(pid), hr });

  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* ESRCH: the group has no members left */
    }
  };
  const control = new ProcessControl(spec, signalGroup);
  let exited = false;
  let settled = false;
  let outcome: Outcome = { kind: 'timedOut' }; // replaced on exit
  let openPipes = 2;
  let drainTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolveDone = r));

  const settle = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(drainTimer);
    control.finish();
    // A finished task must leave no process behind: group members still running once the leader
    // exited (a daemonised child, a grandchild holding the pipes) are killed outright. Their output
    // not yet read is dropped. The group id cannot have been reused: it still had members, or it is empty.
    signalGroup('SIGKILL');
    // ... and so are those that left the group (setsid, double fork): found by the attempt's marker.
    if (spec.marker) killMarkedSince(`${spec.marker.name}=${spec.marker.value}`, pid, startedMs);
    if (openPipes > 0) {
      for (const dec of [outDec, errDec]) {
        const s = dec.end();
        if (s.length > 0) spec.onOutput(s);
      }
      child.stdout!.destroy();
      child.stderr!.destroy();
    }
    proc.exitHr = performance.now();
    if (group) void endInGroup(group, outcome).then(resolveDone);
    else resolveDone(outcome);
  };
  const pipeClosed = (): void => {
    if (--openPipes === 0 && exited) settle();
  };
  const outDec = drain(child.stdout!, spec.onOutput, pipeClosed);
  const errDec = drain(child.stderr!, spec.onOutput, pipeClosed);

  child.on('error', noop); // after a successful spawn only kill() failures land here, and we never use child.kill
  child.on('exit', (code, sig) => {
    exited = true;
    outcome = control.exit(code, sig);
    if (openPipes === 0) settle();
    else drainTimer = setTimeout(settle, PIPE_DRAIN_MS);
  });

  const proc: RunningProcess = { spawnHr, started, exitHr: NaN, kill: (reason) => control.kill(reason), done };
  return proc;
}
