// The simulator's host: fake task processes on virtual time, one executor per engine incarnation, and
// the Host that recovery uses (which engine processes are alive, kill an attempt's processes by marker).
// Processes outlive a crashed engine, as real process groups do; their ends then reach no one. It also
// checks, as they happen, the invariants only the host can see: two processes of one task instance
// never run at once, and nothing starts for an attempt the store does not show as just opened.
import type { ExecSpec, Executor, Outcome, ProcessStarted, RunningProcess } from '../../src/engine/executor.js';
import type { AttemptProcesses, Host } from '../../src/engine/host.js';
import type { EngineRecord } from '../../src/store/store.js';
import type { Random } from './random.js';
import type { TimerDomain, VirtualTime } from './virtualTime.js';

export const HOST = 'sim-host';

/** What a task process does, decided by the scenario when it starts. */
export interface ProcessScript {
  durationMs: number;
  exitCode: number;
  /** Never exits by itself (only with a timeout or a cancel). */
  hang: boolean;
  /** Ignores SIGTERM: only SIGKILL after the grace ends it. */
  ignoreTerm: boolean;
  /** The spawn fails (ENOENT and the like). */
  spawnFails: boolean;
  /** Output lines it writes at its start. */
  output: string;
}

export interface FakeProcess {
  pid: number;
  marker: string;
  taskInstanceId: string;
  runNum: number;
  incarnation: number;
  startedAt: number;
  endedAt: number | null;
  /** How it ended, as the executor reported it (or would have). */
  outcome: Outcome | null;
  /** Whether its end reached a live engine. */
  delivered: boolean;
  /** Killed by recovery (SIGTERM/SIGKILL from another engine). */
  killedByRecovery: boolean;
}

export class FakeHost {
  readonly processes: FakeProcess[] = [];
  readonly violations: string[] = [];
  private readonly alive = new Map<number, { p: FakeProcess; end: (o: Outcome) => void; term: () => void }>();
  private readonly liveEngines = new Set<number>();
  private nextPid = 5000;
  readonly timers: TimerDomain;

  constructor(
    private readonly vt: VirtualTime,
    private readonly rand: Random,
    private readonly script: (taskInstanceId: string, runNum: number) => ProcessScript,
    private readonly killGraceMs: number,
  ) {
    this.timers = vt.domain('host');
  }

  /** The pid an engine incarnation runs as. */
  enginePid(incarnation: number): number {
    return 100 + incarnation;
  }

  engineStarted(incarnation: number): void {
    this.liveEngines.add(this.enginePid(incarnation));
  }

  /** The engine process died: its executor hears of nothing any more. */
  engineDied(incarnation: number): void {
    this.liveEngines.delete(this.enginePid(incarnation));
  }

  aliveProcesses(): FakeProcess[] {
    return [...this.alive.values()].map((a) => a.p);
  }

  hostFor(incarnation: number): Host {
    return {
      name: HOST,
      pid: this.enginePid(incarnation),
      procStart: String(incarnation),
      isEngineAlive: (e: EngineRecord) => (e.host === HOST ? this.liveEngines.has(e.pid) : null),
      killAttempt: (a, graceMs) => this.killAttempt(a, graceMs),
    };
  }

  executorFor(incarnation: number): Executor {
    return { start: (spec) => this.start(spec, incarnation), close: async () => {} };
  }

  private start(spec: ExecSpec, incarnation: number): RunningProcess {
    const spawnHr = 0;
    const marker = spec.marker ? spec.marker.value : '';
    const m = /\/(.+)#(\d+)$/.exec(marker);
    const taskInstanceId = m ? m[1]! : '?';
    const runNum = m ? Number(m[2]) : 0;
    let resolveDone!: (o: Outcome) => void;
    const done = new Promise<Outcome>((r) => (resolveDone = r));
    if (!this.liveEngines.has(this.enginePid(incarnation))) {
      // A dead process spawns nothing (its last commit may have resolved just before the crash).
      return { spawnHr, started: new Promise(() => {}), exitHr: NaN, kill: () => {}, done };
    }
    const s = this.script(taskInstanceId, runNum);
    if (s.spawnFails) {
      resolveDone({ kind: 'spawnFailed', error: 'simulated spawn failure (ENOENT)' });
      return { spawnHr, started: Promise.resolve(null), exitHr: NaN, kill: () => {}, done };
    }
    for (const other of this.alive.values()) {
      if (other.p.taskInstanceId === taskInstanceId) {
        this.violations.push(`attempt ${runNum} of ${taskInstanceId} started at ${this.vt.now()} while attempt ${other.p.runNum} (pid ${other.p.pid}) still runs`);
      }
    }
    const p: FakeProcess = { pid: this.nextPid++, marker, taskInstanceId, runNum, incarnation, startedAt: this.vt.now(), endedAt: null, outcome: null, delivered: false, killedByRecovery: false };
    this.processes.push(p);
    let stopReason: 'cancel' | 'shutdown' | null = null;
    let timedOut = false;
    let terminating = false;
    const timers: unknown[] = [];
    const at = (ms: number, fn: () => void) => timers.push(this.timers.setTimeout(fn, ms));
    const end = (o: Outcome) => {
      if (!this.alive.has(p.pid)) return;
      this.alive.delete(p.pid);
      for (const t of timers) this.timers.clearTimeout(t);
      p.endedAt = this.vt.now();
      p.outcome = o;
      if (this.liveEngines.has(this.enginePid(incarnation))) {
        p.delivered = true;
        resolveDone(o);
      }
    };
    const outcomeOf = (natural: Outcome): Outcome => (stopReason ? { kind: 'stopped', reason: stopReason } : timedOut ? { kind: 'timedOut' } : natural);
    const term = () => {
      if (terminating) return;
      terminating = true;
      if (s.ignoreTerm) at(this.killGraceMs, () => end(outcomeOf({ kind: 'signaled', signal: 'SIGKILL' })));
      else at(this.rand.int(0, 50), () => end(outcomeOf({ kind: 'signaled', signal: 'SIGTERM' })));
    };
    this.alive.set(p.pid, { p, end, term });
    if (!s.hang) at(s.durationMs, () => end(outcomeOf({ kind: 'exited', code: s.exitCode })));
    if (spec.timeoutMs > 0) {
      at(spec.timeoutMs, () => {
        if (stopReason) return;
        timedOut = true;
        term();
      });
    }
    if (s.output) spec.onOutput(s.output);
    const started: ProcessStarted = { pid: p.pid, pgid: p.pid, procStart: String(p.startedAt), hr: 0 };
    return {
      spawnHr,
      started: Promise.resolve(started),
      exitHr: NaN,
      kill: (reason) => {
        if (!this.liveEngines.has(this.enginePid(incarnation))) return; // a dead engine signals nothing
        if (stopReason || timedOut || !this.alive.has(p.pid)) return;
        stopReason = reason;
        term();
      },
      done,
    };
  }

  /** Recovery's kill: every live process carrying the marker gets SIGTERM, SIGKILL after the grace. */
  private killAttempt(a: AttemptProcesses, graceMs: number): Promise<{ killed: number[] }> {
    const targets = [...this.alive.values()].filter((x) => x.p.marker === a.marker.value);
    if (targets.length === 0) return Promise.resolve({ killed: [] });
    const killed = targets.map((t) => t.p.pid);
    for (const t of targets) {
      t.p.killedByRecovery = true;
      t.term();
    }
    return new Promise((resolve) => {
      const check = (waited: number) => {
        if (targets.every((t) => !this.alive.has(t.p.pid))) return resolve({ killed });
        if (waited >= graceMs) for (const t of targets) t.end({ kind: 'signaled', signal: 'SIGKILL' });
        this.timers.setTimeout(() => check(waited + 20), 20);
      };
      check(0);
    });
  }
}
