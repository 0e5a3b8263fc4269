// The attempts this engine runs: spawns what a committed claim started, stops processes (cancel,
// shutdown, a lost lease), and turns each process's end into a PendingEnd that the engine keeps until its
// commit succeeds. The one piece of engine memory that is not a cache of the store: which processes it
// spawned. It holds no decision: whether a task is retried, or what its end means, is the planner's.
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import type { Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { launchAttempt, type LaunchedAttempt } from './attemptRunner.js';
import type { ResourceLimits } from './cgroups.js';
import type { Executor, ProcessStarted } from './executor.js';
import { attemptResult } from './outcome.js';
import type { ClaimedAttempt, PendingEnd } from './steps.js';
import type { Isolation } from './workDirs.js';

export const attemptKey = (taskInstanceId: string, runNum: number) => `${taskInstanceId}#${runNum}`;

/**
 * An attempt still running this long after its start gets its process group recorded in the store at
 * once (for recovery after a crash); a shorter one has it recorded with its end, which saves a commit per
 * task. Until recorded, recovery finds its processes by their marker.
 */
export const RECORD_PROCESS_AFTER_MS = 200;

interface Live {
  claimed: ClaimedAttempt;
  ownerEngineId: string;
  launched: LaunchedAttempt;
}

export interface AttemptsDeps {
  store: Pick<Store, 'appendLog' | 'recordKeyResults' | 'keyState'>;
  config: Config;
  timers: Timers;
  executor: () => Executor;
  storeId: () => string;
  isolation: () => Isolation;
  /** The host's cpu and memory limits (null: off). */
  limits?: () => ResourceLimits | null;
  /** The process runs and its pid is known (null: it never started). */
  onStarted(c: ClaimedAttempt, s: ProcessStarted | null, spawnHr: number): void;
  /** The process still runs RECORD_PROCESS_AFTER_MS after its start: record its group now. */
  onStillRunning(c: ClaimedAttempt, s: ProcessStarted): void;
  /** The process ended: its end must now be committed. */
  onEnded(end: PendingEnd): void;
  onLogError(c: ClaimedAttempt, e: unknown): void;
}

export class Attempts {
  private readonly live = new Map<string, Live>();

  constructor(private readonly deps: AttemptsDeps) {}

  /**
   * Processes spawned and not yet ended (their end reported or not): they hold worker slots. An attempt
   * holds one slot from its launch until its end is reported; a taskMode 2 attempt holds one per key run
   * in flight (at least one: between two keys it keeps the slot it was claimed with). It starts another key
   * only while this count is below the worker concurrency, so the engine's free slots stay honest.
   */
  count(): number {
    let n = 0;
    for (const l of this.live.values()) n += l.launched.keyed ? Math.max(1, l.launched.keyed.running()) : 1;
    return n;
  }

  has(key: string): boolean {
    return this.live.has(key);
  }

  /** Spawns a claimed attempt (its RUNNING status and attempt row are committed). */
  launch(c: ClaimedAttempt, ownerEngineId: string): void {
    const d = this.deps;
    const launched = launchAttempt(
      {
        store: {
          appendLog: (id, run, text) => d.store.appendLog(id, run, text),
        },
        config: d.config,
        executor: d.executor(),
        timers: d.timers,
        storeId: d.storeId(),
        ...d.isolation(),
        limits: d.limits?.() ?? null,
        keyed: {
          store: { recordKeyResults: (...a) => d.store.recordKeyResults(...a), keyState: (id) => d.store.keyState(id) },
          now: () => Date.now(),
          // '' once disowned (a lost lease): the key states are no longer written.
          owner: () => this.live.get(attemptKey(c.taskInstanceId, c.runNum))?.ownerEngineId ?? '',
          mayStartMore: () => this.count() < d.config.workerConcurrency,
        },
      },
      c,
    );
    const key = attemptKey(c.taskInstanceId, c.runNum);
    const entry: Live = { claimed: c, ownerEngineId, launched };
    this.live.set(key, entry);
    const { proc, log } = launched;
    let started: ProcessStarted | null = null;
    let recordTimer: unknown = null;
    void proc.started.then((s) => {
      started = s;
      d.onStarted(c, s, proc.spawnHr);
      // A taskMode 2 attempt has a group per key: recovery finds its processes by the attempt's marker.
      if (s && this.live.has(key) && !launched.keyed) {
        recordTimer = d.timers.setTimeout(() => {
          recordTimer = null;
          if (this.live.has(key)) d.onStillRunning(c, s);
        }, RECORD_PROCESS_AFTER_MS);
      }
    });
    void proc.done.then(async (outcome) => {
      if (recordTimer !== null) d.timers.clearTimeout(recordTimer);
      const exitedHr = performance.now();
      const base = attemptResult(outcome, c.def.successCode, c.def.timeoutSec);
      const result = launched.keyed ? launched.keyed.describe(base) : base;
      const logTail = await log.finish();
      this.live.delete(key);
      d.onEnded({
        taskInstanceId: c.taskInstanceId,
        runNum: c.runNum,
        ownerEngineId: entry.ownerEngineId,
        result,
        logTail,
        logTailAtLineStart: log.endsLine,
        exitedHr,
        exitSeenHr: proc.exitHr,
        cleanUp: launched.cleanUp,
        process: started && !launched.keyed ? { pid: (started as ProcessStarted).pid, pgid: (started as ProcessStarted).pgid, procStart: (started as ProcessStarted).procStart } : undefined,
      });
    });
  }

  /** Stops every process of the instance (cancel): SIGTERM to the group, SIGKILL after the grace. */
  stopInstance(instanceId: string, reason: 'cancel' | 'shutdown'): number {
    let n = 0;
    for (const l of this.live.values()) {
      if (l.claimed.instanceId !== instanceId) continue;
      l.launched.proc.kill(reason);
      n++;
    }
    return n;
  }

  stop(key: string, reason: 'cancel' | 'shutdown'): void {
    this.live.get(key)?.launched.proc.kill(reason);
  }

  stopAll(reason: 'cancel' | 'shutdown'): void {
    for (const l of this.live.values()) l.launched.proc.kill(reason);
  }

  /** A new identity (after a lost lease): the attempts still live are no longer ours to commit. */
  disown(): void {
    for (const l of this.live.values()) l.ownerEngineId = '';
  }
}
