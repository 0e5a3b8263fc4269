// taskMode 2 (contract §11): one attempt of a task that runs once per key. A composite RunningProcess: it
// reads which keys are still to run (the store's task_keys: a retry runs only the keys that did not
// succeed), then runs them through the engine's executor, each as a process group of its own, at most
// min(maxParallel, keys to run, worker concurrency) at a time, and never more than the engine's free worker
// slots allow (see Attempts.count); it resolves one Outcome for the attempt.
//
// - Each key's run sees `${key}` in its command (replaced by the key's text, per key) and BATCHFLOW_KEY.
// - The attempt succeeds when every key it ran succeeded (the task's successCode applies to each key); it
//   fails otherwise, with the first failed key's outcome (its exit code, signal, ...) and a note with the
//   counts. The task's timeout applies to the whole attempt: at its end every key still running is stopped
//   and no other starts (TIMEOUT). kill() (cancel, shutdown, a lost lease) stops every key's group.
// - `started` resolves at the first key's start (null when no key started: none to run, or none could).
// - Key states (src/domain/keyStatus.ts) are written whole to the store at most every flush interval while
//   keys run, and once more before `done` resolves, i.e. before the attempt's end is reported; the write
//   is guarded by the attempt's ownership (a fenced or stale attempt writes nothing). A state lost to a store
//   failure only makes a retry run a key again (at least once, never skipped unrun).
//
// The log. Keys run in parallel, so each key's output is kept apart (up to KEY_OUTPUT_CAP bytes) and goes
// into the attempt's log as one section when the key ends, never interleaved with another key's:
//   [batchflow] key 17/10000 "k17" started
//   ...its output...
//   [batchflow] key 17 "k17" exited 0 in 3 ms
// Bounded for 10,000 keys: every key that does not succeed gets its section; the first SHOWN_SUCCESSES keys
// that succeed get theirs, later successes are only counted (a line says so when it starts), with a
// progress line every PROGRESS_EVERY ended keys. The attempt's log cap applies to the output as for any task.
import { performance } from 'node:perf_hooks';
import type { Timers } from '../domain/clock.js';
import { KEY_CHAR, keysToRun, type KeyState } from '../domain/keyStatus.js';
import type { AttemptResult } from '../domain/plan.js';
import type { Store } from '../store/store.js';
import type { AttemptLog } from './attemptLog.js';
import { notStarted, type ExecSpec, type Executor, type Outcome, type ProcessStarted, type RunningProcess } from './executor.js';
import { attemptResult } from './outcome.js';

/** The name of the placeholder replaced by each key's text in its run's command (never a parameter's). */
export const KEY_NAME = 'key';
export const KEY_PLACEHOLDER = '${key}';
/** The environment variable with the key of the run. */
export const KEY_ENV = 'BATCHFLOW_KEY';
/**
 * Marks the processes of one key's run (its ExecSpec.marker): what is left of it outside its group is
 * killed at its end without touching the other keys' runs, which share the attempt's BATCHFLOW_ATTEMPT
 * marker (by which recovery finds every process of the attempt).
 */
export const KEY_MARKER = 'BATCHFLOW_KEY_RUN';

/** Output of one key's run kept for its log section; the rest is counted. */
export const KEY_OUTPUT_CAP = 64 * 1024;
/** Keys that succeed whose sections are written; later successes are counted only. */
export const SHOWN_SUCCESSES = 100;
/** A progress line every this many ended keys (when keys are not all shown). */
export const PROGRESS_EVERY = 1000;
/** Reads of the keys' state tried before the attempt fails; writes of the last state tried before giving up. */
const STORE_TRIES = 3;
const RETRY_DELAYS_MS = [200, 1000];

/** `${key}` replaced by the key (literally: a key's own text is not scanned again). */
export function forKey(text: string, key: string): string {
  return text.includes(KEY_PLACEHOLDER) ? text.split(KEY_PLACEHOLDER).join(key) : text;
}

/** A key as the log shows it: quoted, at most 100 characters. */
export function showKey(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 97)}...` : key);
}

export interface KeyedRunDeps {
  store: Pick<Store, 'recordKeyResults' | 'keyState'>;
  executor: Executor;
  timers: Timers;
  /** Epoch ms (the state's updated_at). */
  now(): number;
  /** The engine that owns the attempt now ('' once disowned: nothing more is written). */
  owner(): string;
  /**
   * Whether one more process may start now: the engine's worker slots. Asked only while this attempt
   * already runs a key (its first always may: the attempt was claimed into a free slot).
   */
  mayStartMore(): boolean;
  /** The worker's concurrency: no attempt runs more keys at once. */
  workerConcurrency: number;
  /** How often the key states are written while keys run. */
  flushMs: number;
}

export interface KeyedRunSpec {
  taskInstanceId: string;
  runNum: number;
  keys: readonly string[];
  maxParallel: number;
  /** The attempt's timeout (0: none). */
  timeoutSec: number;
  successCode: string;
  log: AttemptLog;
  /** Makes the attempt's working directory for the keys to run; throws when it cannot (the attempt fails to start). */
  prepare(toRun: readonly number[]): void;
  /** The process of key `index` (0-based); may throw (that key fails to start). */
  specOf(index: number, onOutput: (chunk: string) => void): ExecSpec;
}

type StatusChar = (typeof KEY_CHAR)[keyof typeof KEY_CHAR];
const CHAR_OF_RESULT: Record<AttemptResult['status'], StatusChar> = {
  SUCCESS: KEY_CHAR.SUCCESS,
  FAIL: KEY_CHAR.FAIL,
  TIMEOUT: KEY_CHAR.TIMEOUT,
  CANCEL: KEY_CHAR.CANCEL,
  INTERRUPTED: KEY_CHAR.INTERRUPTED,
  LOST: KEY_CHAR.FAIL,
};
const code = (ch: string) => ch.charCodeAt(0);

/** One key's output, kept up to KEY_OUTPUT_CAP bytes. */
class KeyOutput {
  private parts: string[] = [];
  private bytes = 0;
  dropped = 0;
  add(chunk: string): void {
    const n = Buffer.byteLength(chunk);
    if (this.bytes + n <= KEY_OUTPUT_CAP) {
      this.parts.push(chunk);
      this.bytes += n;
      return;
    }
    const room = KEY_OUTPUT_CAP - this.bytes;
    if (room > 0) {
      const b = Buffer.from(chunk);
      let end = room;
      while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // never split a character
      this.parts.push(b.toString('utf8', 0, end));
      this.bytes += end;
      this.dropped += n - end;
    } else this.dropped += n;
  }
  text(): string {
    return this.parts.join('');
  }
}

interface Failure {
  index: number;
  outcome: Outcome;
  result: AttemptResult;
}

export class KeyedRun implements RunningProcess {
  readonly spawnHr = performance.now();
  exitHr = NaN;
  readonly started: Promise<ProcessStarted | null>;
  readonly done: Promise<Outcome>;

  private resolveStarted!: (s: ProcessStarted | null) => void;
  private resolveDone!: (o: Outcome) => void;
  private startedSettled = false;

  /** One KEY_CHAR code per key. */
  private readonly states: Uint8Array;
  private toRun: number[] = [];
  private next = 0;
  private width = 1;
  private readonly inFlight = new Map<number, RunningProcess>();
  private ready = false;
  private setupError: string | null = null;
  private stopReason: 'cancel' | 'shutdown' | null = null;
  private timedOut = false;
  private finishing = false;
  private firstFailure: Failure | null = null;
  private lastSuccessCode: number | null = null;
  private ended = 0;
  private shownSuccesses = 0;
  private timeoutTimer: unknown = null;

  private dirty = false;
  private writing: Promise<void> | null = null;
  private flushTimer: unknown = null;
  /** The store refused a write (the attempt is no longer this engine's): nothing more is written. */
  private fenced = false;

  constructor(
    private readonly deps: KeyedRunDeps,
    private readonly spec: KeyedRunSpec,
  ) {
    this.states = new Uint8Array(spec.keys.length).fill(code(KEY_CHAR.PENDING));
    this.started = new Promise((r) => (this.resolveStarted = r));
    this.done = new Promise((r) => (this.resolveDone = r));
    if (spec.timeoutSec > 0) {
      this.timeoutTimer = deps.timers.setTimeout(() => {
        this.timeoutTimer = null;
        this.onTimeout();
      }, spec.timeoutSec * 1000);
    }
    void this.setUp();
  }

  /** Key runs spawned and not yet ended: the processes this attempt holds worker slots for. */
  running(): number {
    return this.inFlight.size;
  }

  kill(reason: 'cancel' | 'shutdown'): void {
    if (this.finishing || this.stopReason !== null || this.timedOut) return;
    this.stopReason = reason;
    for (const p of this.inFlight.values()) p.kill(reason);
    this.pump();
  }

  /** The attempt's result with the counts in its note (the engine reports it). */
  describe(base: AttemptResult): AttemptResult {
    const n = this.spec.keys.length;
    const counts = this.countsText();
    const ran = this.toRun.length;
    const before = n - ran;
    const earlier = before > 0 ? ` (the other ${before} had succeeded in earlier attempts)` : '';
    let note: string;
    if (this.setupError !== null) note = base.note ?? this.setupError;
    else if (base.status === 'SUCCESS') {
      note = ran === 0 ? `every one of the ${n} keys had succeeded in earlier attempts: nothing to run` : `every key succeeded: ${ran} of ${n} keys run${earlier}`;
    } else if (this.firstFailure !== null && (base.status === 'FAIL' || base.status === 'LOST')) {
      const f = this.firstFailure;
      note = `key ${f.index + 1} ${showKey(this.spec.keys[f.index]!)} failed first: ${f.result.note ?? f.result.status}; keys run: ${counts} of ${ran}${earlier}`;
    } else note = `${base.note ?? base.status}; keys run: ${counts} of ${ran}${earlier}`;
    return { ...base, note };
  }

  // ---- the run --------------------------------------------------------------------------------------

  private async setUp(): Promise<void> {
    const { spec } = this;
    let recorded: KeyState | null = null;
    try {
      recorded = await this.withRetries(() => this.deps.store.keyState(spec.taskInstanceId));
    } catch (e) {
      this.setupError = `could not read the state of the task's keys from the store: ${message(e)}`;
    }
    if (this.setupError === null && this.stopReason === null && !this.timedOut) {
      const n = spec.keys.length;
      const usable = recorded !== null && recorded.states.length === n;
      if (usable) for (let i = 0; i < n; i++) this.states[i] = recorded!.states.charCodeAt(i);
      this.toRun = keysToRun(n, usable ? recorded : null);
      for (const i of this.toRun) this.states[i] = code(KEY_CHAR.PENDING);
      this.width = Math.max(1, Math.min(spec.maxParallel, this.deps.workerConcurrency, this.toRun.length));
      spec.log.note(this.introLine(recorded, usable));
      try {
        if (this.toRun.length > 0) spec.prepare(this.toRun);
      } catch (e) {
        this.setupError = message(e);
        this.toRun = [];
      }
      if (this.setupError === null) this.markDirty();
    }
    this.ready = true;
    this.pump();
  }

  private introLine(recorded: KeyState | null, usable: boolean): string {
    const n = this.spec.keys.length;
    const ran = this.toRun.length;
    const within = this.spec.maxParallel > this.deps.workerConcurrency ? ` (maxParallel ${this.spec.maxParallel}, within the worker's concurrency of ${this.deps.workerConcurrency})` : '';
    const at = `at most ${this.width} at a time${within}`;
    const mismatch = recorded !== null && !usable ? `; the recorded states were of ${recorded.states.length} keys: every key runs` : '';
    if (ran === 0) return `[batchflow] taskMode 2: every one of the ${n} keys succeeded in an earlier attempt: nothing to run`;
    if (ran === n) return `[batchflow] taskMode 2: ${n} key${n === 1 ? '' : 's'}, ${at}${mismatch}`;
    const list = this.toRun
      .slice(0, 10)
      .map((i) => `${i + 1} ${showKey(this.spec.keys[i]!)}`)
      .join(', ');
    return `[batchflow] taskMode 2: running the ${ran} of ${n} keys that did not succeed before (${list}${ran > 10 ? ', ...' : ''}), ${at}`;
  }

  /** Starts keys while there are slots; finishes once nothing runs and nothing more may start. */
  private pump(): void {
    if (!this.ready || this.finishing) return;
    const halted = this.stopReason !== null || this.timedOut || this.setupError !== null;
    while (!halted && this.next < this.toRun.length && this.inFlight.size < this.width && (this.inFlight.size === 0 || this.deps.mayStartMore())) {
      this.startKey(this.toRun[this.next++]!);
    }
    if (this.inFlight.size === 0 && (halted || this.next >= this.toRun.length)) void this.finish();
  }

  private startKey(index: number): void {
    const out = new KeyOutput();
    const t0 = performance.now();
    let proc: RunningProcess;
    try {
      proc = this.deps.executor.start(this.spec.specOf(index, (chunk) => out.add(chunk)));
    } catch (e) {
      proc = notStarted(message(e));
    }
    this.inFlight.set(index, proc);
    this.states[index] = code(KEY_CHAR.RUNNING);
    this.markDirty();
    void proc.started.then((s) => {
      if (s && !this.startedSettled) {
        this.startedSettled = true;
        this.resolveStarted(s);
      }
    });
    void proc.done.then((o) => this.keyEnded(index, o, out, t0, proc));
  }

  private keyEnded(index: number, o: Outcome, out: KeyOutput, t0: number, proc: RunningProcess): void {
    this.inFlight.delete(index);
    this.ended++;
    const ms = Math.round((Number.isFinite(proc.exitHr) ? proc.exitHr : performance.now()) - t0);
    let status: StatusChar;
    let how: string;
    if (o.kind === 'stopped' || o.kind === 'timedOut') {
      // Stopped by this attempt: its timeout, a cancel or a shutdown.
      if (this.timedOut || o.kind === 'timedOut') {
        status = KEY_CHAR.TIMEOUT;
        how = `stopped after ${ms} ms: the attempt timed out after ${this.spec.timeoutSec} s`;
      } else {
        const reason = o.kind === 'stopped' ? o.reason : (this.stopReason ?? 'shutdown');
        status = reason === 'cancel' ? KEY_CHAR.CANCEL : KEY_CHAR.INTERRUPTED;
        how = `stopped after ${ms} ms: ${reason === 'cancel' ? 'cancelled' : 'service shutdown'}`;
      }
    } else {
      const r = attemptResult(o, this.spec.successCode, this.spec.timeoutSec);
      status = CHAR_OF_RESULT[r.status];
      if (r.status === 'SUCCESS') this.lastSuccessCode = r.exitCode;
      else this.firstFailure ??= { index, outcome: o, result: r };
      how = o.kind === 'exited' ? `exited ${o.code} in ${ms} ms${r.status === 'SUCCESS' ? '' : `: not a success code (${this.spec.successCode || '0'})`}` : `${r.note ?? r.status} (after ${ms} ms)`;
    }
    this.states[index] = code(status);
    this.markDirty();
    this.writeSection(index, status, how, out);
    this.pump();
  }

  private writeSection(index: number, status: StatusChar, how: string, out: KeyOutput): void {
    const { log, keys } = this.spec;
    const n = keys.length;
    const shown = status !== KEY_CHAR.SUCCESS || this.shownSuccesses < SHOWN_SUCCESSES;
    if (shown) {
      if (status === KEY_CHAR.SUCCESS) this.shownSuccesses++;
      const k = showKey(keys[index]!);
      log.note(`[batchflow] key ${index + 1}/${n} ${k} started`);
      const text = out.text();
      if (text !== '') log.write(text);
      if (out.dropped > 0) log.note(`[batchflow] key ${index + 1}: ${out.dropped} more bytes of output dropped (at most ${KEY_OUTPUT_CAP} bytes a key)`);
      log.note(`[batchflow] key ${index + 1} ${k} ${how}`);
    } else if (this.shownSuccesses === SHOWN_SUCCESSES) {
      this.shownSuccesses++; // once
      log.note(`[batchflow] keys that succeed from now on are counted, not shown (keys that do not succeed still are)`);
    }
    if (this.toRun.length > SHOWN_SUCCESSES && this.ended % PROGRESS_EVERY === 0 && this.ended < this.toRun.length) {
      log.note(`[batchflow] keys: ${this.ended} of ${this.toRun.length} ended: ${this.countsText()}`);
    }
  }

  private onTimeout(): void {
    if (this.finishing || this.stopReason !== null) return;
    this.timedOut = true;
    for (const p of this.inFlight.values()) p.kill('shutdown');
    this.pump();
  }

  private outcome(): Outcome {
    if (this.setupError !== null) return { kind: 'spawnFailed', error: this.setupError };
    if (this.stopReason !== null) return { kind: 'stopped', reason: this.stopReason };
    if (this.timedOut) return { kind: 'timedOut' };
    if (this.firstFailure) return this.firstFailure.outcome;
    return { kind: 'exited', code: this.lastSuccessCode ?? firstSuccessCode(this.spec.successCode) };
  }

  private async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.timeoutTimer !== null) this.deps.timers.clearTimeout(this.timeoutTimer);
    this.timeoutTimer = null;
    const outcome = this.outcome();
    await this.finalWrite();
    this.exitHr = performance.now();
    if (!this.startedSettled) {
      this.startedSettled = true;
      this.resolveStarted(null);
    }
    this.resolveDone(outcome);
  }

  /** "3 succeeded, 1 failed, 6 not run" over the keys of this attempt. */
  private countsText(): string {
    const c = new Map<number, number>();
    for (const i of this.toRun) c.set(this.states[i]!, (c.get(this.states[i]!) ?? 0) + 1);
    const parts: string[] = [];
    const add = (ch: string, what: string) => {
      const k = c.get(code(ch)) ?? 0;
      if (k > 0) parts.push(`${k} ${what}`);
    };
    add(KEY_CHAR.SUCCESS, 'succeeded');
    add(KEY_CHAR.FAIL, 'failed');
    add(KEY_CHAR.TIMEOUT, 'timed out');
    add(KEY_CHAR.CANCEL, 'cancelled');
    add(KEY_CHAR.INTERRUPTED, 'interrupted');
    add(KEY_CHAR.RUNNING, 'running');
    add(KEY_CHAR.PENDING, 'not run');
    return parts.length ? parts.join(', ') : 'none';
  }

  // ---- the key states in the store ------------------------------------------------------------------

  private statesText(): string {
    return Buffer.from(this.states.buffer, this.states.byteOffset, this.states.length).toString('latin1');
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.finishing || this.fenced || this.flushTimer !== null || this.writing !== null) return;
    this.flushTimer = this.deps.timers.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.deps.flushMs);
  }

  private flush(): void {
    if (this.writing !== null || this.fenced || !this.dirty) return;
    this.dirty = false;
    const text = this.statesText();
    this.writing = this.write(text)
      .catch(() => {
        this.dirty = true; // written with the next flush, or at the end
      })
      .finally(() => {
        this.writing = null;
        if (this.dirty && !this.finishing) this.markDirty();
      });
  }

  private async write(text: string): Promise<void> {
    const { spec, deps } = this;
    const ok = await deps.store.recordKeyResults(spec.taskInstanceId, spec.runNum, deps.owner(), text, deps.now());
    if (!ok && !this.fenced) {
      this.fenced = true;
      spec.log.note('[batchflow] the state of the keys is no longer recorded: this attempt is not open as this engine\'s any more');
    }
  }

  /** The last states, before the attempt's end is reported: tried STORE_TRIES times. */
  private async finalWrite(): Promise<void> {
    if (this.flushTimer !== null) this.deps.timers.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    while (this.writing !== null) await this.writing;
    if (!this.dirty || this.fenced || this.setupError !== null) return;
    const text = this.statesText();
    try {
      await this.withRetries(() => this.write(text));
      this.dirty = false;
    } catch (e) {
      this.spec.log.note(`[batchflow] the state of the keys could not be recorded (${message(e)}): a retry may run keys that succeeded again`);
    }
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (i + 1 >= STORE_TRIES) throw e;
        await new Promise<void>((r) => this.deps.timers.setTimeout(r, RETRY_DELAYS_MS[i] ?? 1000));
      }
    }
  }
}

/** An exit code the task's successCode accepts (the attempt's, when every key succeeded without one to show). */
function firstSuccessCode(successCode: string): number {
  const t = successCode.split(/[\s,;]+/).find((x) => /^-?\d+$/.test(x));
  return t === undefined ? 0 : Number(t);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
