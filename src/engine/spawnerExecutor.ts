// The executor's default: tasks are spawned by a small helper process (spawner.cjs, started once), so the
// fork that starts each task copies a ~40 MB process, not the service. This side keeps the executor's
// contract and every decision (timeouts, kill escalation, outcomes); the helper only spawns, signals when
// asked, relays output and reports exits. If the helper dies, the attempts it ran are killed (their exit
// status is unknowable) and fail; the next task gets a new helper, or direct spawns after repeated deaths.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gatedArgv } from './cgroups.js';
import {
  describeSpawnError,
  directExecutor,
  endInGroup,
  ProcessControl,
  startProcess,
  type ExecSpec,
  type Executor,
  type Outcome,
  type ProcessStarted,
  type RunningProcess,
} from './executor.js';
import { killAttemptProcesses } from './procs.js';
import type { FromSpawner, ToSpawner } from './spawnerProtocol.js';

const SCRIPT = path.join(import.meta.dirname, 'spawner.cjs');
/**
 * A fork copies the parent's page tables: one V8 worker thread instead of four and a 1 MB young generation
 * leave fewer mappings, which measured ~0.1 ms less per spawn (1.01-1.06 against 1.10-1.27 ms).
 */
const LEAN_FLAGS = ['--v8-pool-size=1', '--max-semi-space-size=1'];
/** Helpers that die this soon after their start count towards giving up on them. */
const SHORT_LIFE_MS = 60_000;
/** After this many short-lived helpers in a row, spawn directly for the rest of the service's life. */
const MAX_SHORT_LIVES = 3;

/** What the service log should hear of (the executor itself logs nothing). */
export type SpawnerEvent =
  | { kind: 'spawnerDied'; pid: number; code: number | null; signal: string | null; lost: number }
  | { kind: 'spawnerFallback'; deaths: number };

/** Where a process of the spawner stands, as far as this side knows. */
interface Tracked {
  id: number;
  spec: ExecSpec;
  control: ProcessControl;
  proc: RunningProcess;
  info: ProcessStarted | null;
  /** The output so far ends a line (or there is none): where a service line may start. */
  atLineStart: boolean;
  resolveStarted(s: ProcessStarted | null): void;
  resolveDone(o: Outcome): void;
}

interface Helper {
  child: ChildProcess;
  startedAt: number;
  procs: Map<number, Tracked>;
}

/** spawner.cjs stamps process.hrtime() in ms; this process's performance.now() is the same clock, shifted. */
const HR_SHIFT = (() => {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const p = performance.now();
    const h = Number(process.hrtime.bigint()) / 1e6;
    best = Math.min(best, h - p);
  }
  return best;
})();

export class SpawnerExecutor implements Executor {
  private helper: Helper | null = null;
  private nextId = 1;
  private shortLives = 0;
  private direct = false;
  private closed = false;
  private readonly gone = new Set<Promise<void>>();

  constructor(private readonly onEvent: (e: SpawnerEvent) => void = () => {}) {
    this.ensureHelper(); // now, so that the first task does not wait for node to boot
  }

  start(spec: ExecSpec): RunningProcess {
    if (this.direct || this.closed) return startProcess(spec);
    const spawnHr = performance.now();
    const h = this.ensureHelper();
    if (!h) return startProcess(spec);
    const id = this.nextId++;
    let resolveStarted!: (s: ProcessStarted | null) => void;
    let resolveDone!: (o: Outcome) => void;
    const started = new Promise<ProcessStarted | null>((r) => (resolveStarted = r));
    const done = new Promise<Outcome>((r) => (resolveDone = r));
    // Signals go through the helper: only the process that reaps the leader knows whether its pid (and so
    // the group id) is still ours. Messages are handled in order, so a kill before the pid is known works.
    const control = new ProcessControl(spec, (sig) => this.send(h, { t: 'k', id, sig }));
    const proc: RunningProcess = { spawnHr, started, exitHr: NaN, kill: (reason) => control.kill(reason), done };
    const t: Tracked = { id, spec, control, proc, info: null, atLineStart: true, resolveStarted, resolveDone };
    h.procs.set(id, t);
    if (h.procs.size === 1) h.child.channel?.ref(); // running tasks keep this process alive, as direct children would
    const marker = spec.marker ? `${spec.marker.name}=${spec.marker.value}` : null;
    const [file, ...args] = spec.group ? gatedArgv(spec.argv) : spec.argv;
    const procs = spec.group ? [...spec.group.procsFiles] : null;
    this.send(h, { t: 's', id, file, args, cwd: spec.cwd, env: spec.env, marker, uid: spec.user?.uid ?? null, gid: spec.user?.gid ?? null, procs });
    return proc;
  }

  /** Stops the helper once nothing runs (anything still running is killed as if the helper had died). */
  async close(): Promise<void> {
    this.closed = true;
    const h = this.helper;
    if (h && h.child.connected) h.child.disconnect(); // the helper exits when its channel closes
    await Promise.all([...this.gone]);
  }

  /** The helper for the next spawn: the running one, a new one, or null when spawning directly. */
  private ensureHelper(): Helper | null {
    if (this.helper?.child.connected) return this.helper;
    if (this.direct) return null;
    let child: ChildProcess;
    try {
      // Its own session: a terminal's Ctrl-C or hangup reaches the service, which shuts down gracefully,
      // not the helper. An empty environment: no NODE_OPTIONS (tsx), nothing of the service's settings.
      // JSON serialization: for these small messages it measured 0.05-0.15 ms faster per spawn than
      // 'advanced' (which moves bulk output faster: ~160 vs ~110 MB/s, still far above what a log keeps).
      child = spawn(process.execPath, [...LEAN_FLAGS, SCRIPT], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json', detached: true, env: {} });
    } catch {
      this.shortLife();
      return null;
    }
    if (child.pid === undefined) {
      // EAGAIN, ENOMEM...: this spawn goes direct; the next one tries a helper again.
      child.on('error', () => {});
      this.shortLife();
      return null;
    }
    const h: Helper = { child, startedAt: Date.now(), procs: new Map() };
    this.helper = h;
    child.unref();
    child.channel?.unref();
    child.on('message', (batch: FromSpawner[]) => this.receive(h, batch));
    child.on('error', () => {}); // a failed spawn of the helper, or a send on a closed channel: 'close' follows or has come
    let resolveGone!: () => void;
    const gone = new Promise<void>((r) => (resolveGone = r));
    this.gone.add(gone);
    // Gone once it exited AND its channel closed: by then every message it sent has been received. (Not
    // 'close': node does not emit it after a disconnect that this side started.)
    let exit: [number | null, string | null] | null = null;
    let disconnected = false;
    const maybeGone = () => {
      if (!exit || !disconnected) return;
      void this.helperGone(h, ...exit).finally(() => {
        this.gone.delete(gone);
        resolveGone();
      });
    };
    child.once('exit', (code, signal) => {
      exit = [code, signal];
      maybeGone();
    });
    child.once('disconnect', () => {
      disconnected = true;
      maybeGone();
    });
    return h;
  }

  private send(h: Helper, m: ToSpawner): void {
    if (h.child.connected) h.child.send(m);
  }

  private receive(h: Helper, batch: FromSpawner[]): void {
    for (const m of batch) {
      const t = h.procs.get(m.id);
      if (!t) continue;
      switch (m.t) {
        case 'o':
          t.atLineStart = m.s.endsWith('\n');
          t.spec.onOutput(m.s);
          break;
        case 'p':
          t.info = { pid: m.pid, pgid: m.pid, procStart: m.procStart, hr: m.hr - HR_SHIFT };
          t.resolveStarted(t.info);
          break;
        case 'f':
          this.untrack(h, t);
          t.control.finish();
          t.resolveStarted(null);
          this.end(t, { kind: 'spawnFailed', error: describeSpawnError(m.error, m.code, t.spec) });
          break;
        case 'x': {
          this.untrack(h, t);
          const outcome = t.control.exit(m.code, m.signal);
          t.control.finish();
          t.proc.exitHr = m.hr - HR_SHIFT;
          this.end(t, outcome);
          break;
        }
      }
    }
  }

  /** Resolves `done`; a grouped run's group is emptied and removed first (and may turn the outcome). */
  private end(t: Tracked, outcome: Outcome): void {
    if (t.spec.group) void endInGroup(t.spec.group, outcome).then(t.resolveDone);
    else t.resolveDone(outcome);
  }

  private untrack(h: Helper, t: Tracked): void {
    h.procs.delete(t.id);
    if (h.procs.size === 0) h.child.channel?.unref();
  }

  private async helperGone(h: Helper, code: number | null, signal: string | null): Promise<void> {
    if (this.helper === h) this.helper = null;
    const lost = [...h.procs.values()];
    h.procs.clear();
    if (!this.closed || lost.length > 0) this.onEvent({ kind: 'spawnerDied', pid: h.child.pid ?? 0, code, signal, lost: lost.length });
    if (!this.closed) {
      if (Date.now() - h.startedAt < SHORT_LIFE_MS) this.shortLife();
      else this.shortLives = 0;
      this.ensureHelper(); // ready for the next task (null once given up)
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    await Promise.all(lost.map((t) => this.abandon(t, h.child.pid ?? 0, how)));
  }

  /**
   * A process whose helper died: its exit status can no longer be known, so whatever is left of it is
   * killed (found by its recorded group, guarded against pid reuse, and by its marker) before `done`
   * resolves, so that a retry never overlaps it. A stop or timeout already under way keeps its outcome.
   */
  private async abandon(t: Tracked, helperPid: number, how: string): Promise<void> {
    t.control.finish();
    let killed: number[] = [];
    try {
      // As recovery does: SIGTERM, the kill grace, then SIGKILL; resolves once they are gone.
      const recorded = { pid: t.info?.pid ?? null, pgid: t.info?.pgid ?? null, procStart: t.info?.procStart ?? null, marker: t.spec.marker ?? null };
      ({ killed } = await killAttemptProcesses(recorded, t.spec.killGraceMs));
    } catch {
      /* /proc unreadable: nothing more we can do */
    }
    t.spec.onOutput(
      `${t.atLineStart ? '' : '\n'}[batchflow] attempt lost: the spawner process (pid ${helperPid}) died (${how}) while it ran, so its exit ` +
        `status is unknown; ${killed.length ? `killed its processes ${killed.join(', ')}` : 'none of its processes was left'}\n`,
    );
    t.resolveStarted(null); // no-op when the pid was reported
    let outcome: Outcome;
    if (t.control.stopReason !== null) outcome = { kind: 'stopped', reason: t.control.stopReason };
    else if (t.control.timedOut) outcome = { kind: 'timedOut' };
    else if (killed.length > 0) outcome = { kind: 'signaled', signal: 'SIGTERM' };
    else if (t.info) outcome = { kind: 'signaled', signal: 'unknown' };
    else outcome = { kind: 'spawnFailed', error: 'the spawner process died before it reported the start' };
    t.proc.exitHr = performance.now();
    this.end(t, outcome);
  }

  /** A helper that could not start or died young; after MAX_SHORT_LIVES in a row, spawn directly from now on. */
  private shortLife(): void {
    if (this.direct || ++this.shortLives < MAX_SHORT_LIVES) return;
    this.direct = true;
    this.onEvent({ kind: 'spawnerFallback', deaths: this.shortLives });
  }
}

/** The executor the engine uses: the spawner (default) or direct spawns (BATCHFLOW_SPAWNER=direct). */
export function createExecutor(mode: 'spawner' | 'direct', onEvent?: (e: SpawnerEvent) => void): Executor {
  return mode === 'direct' ? directExecutor : new SpawnerExecutor(onEvent);
}

