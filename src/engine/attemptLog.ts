// The log of one attempt while it runs: buffers task output and service notes, flushes them to the
// store at most every flushMs (or past 64 KiB) so the log is readable live, enforces the per-attempt
// cap, and hands the unflushed rest back at finish so the engine can write it with the attempt's end.
// It never writes two appends at once for one attempt, and costs nothing for a task that prints nothing.
// A failed append keeps its text for the next flush (or the end's commit): a store error loses no output
// (an append whose commit failed ambiguously may show twice).
import { systemTimers, type Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';

const FLUSH_BYTES = 64 * 1024;

export interface AttemptLogOptions {
  store: Pick<Store, 'appendLog'>;
  taskInstanceId: string;
  runNum: number;
  capBytes: number;
  flushMs: number;
  /** A failed append (its text is kept and written later; the attempt goes on). */
  onError?(e: unknown): void;
  timers?: Timers;
}

export class AttemptLog {
  private buf = '';
  private bufBytes = 0;
  /** Bytes of task output kept so far (notes excluded). */
  private outBytes = 0;
  private dropped = 0;
  private truncated = false;
  private atLineStart = true;
  private timer: unknown = null;
  private inFlight: Promise<void> | null = null;
  /** A flush was due while another was in flight: run it when that one ends. */
  private flushAgain = false;
  private finishing: Promise<string> | null = null;

  private readonly timers: Timers;

  constructor(private readonly opts: AttemptLogOptions) {
    this.timers = opts.timers ?? systemTimers;
  }

  /** Whether the text so far ends a line (where a service line may start without a line break). */
  get endsLine(): boolean {
    return this.atLineStart;
  }

  /** Task output. Past the cap it is only counted. Ignored after finish(). */
  write(chunk: string): void {
    if (this.finishing !== null || chunk.length === 0) return;
    const n = Buffer.byteLength(chunk);
    if (this.truncated) {
      this.dropped += n;
      return;
    }
    if (this.outBytes + n > this.opts.capBytes) {
      this.truncated = true;
      const kept = cutBytes(chunk, this.opts.capBytes - this.outBytes);
      const keptBytes = Buffer.byteLength(kept);
      this.dropped += n - keptBytes;
      chunk = kept;
      if (chunk.length === 0) return;
    }
    this.outBytes += Buffer.byteLength(chunk);
    this.append(chunk);
  }

  /** A service line (e.g. "[batchflow] timed out ..."), on a line of its own, kept even past the cap. */
  note(line: string): void {
    if (this.finishing !== null) return;
    this.append(`${this.atLineStart ? '' : '\n'}${line}${line.endsWith('\n') ? '' : '\n'}`);
  }

  /**
   * Stops the timer, waits for appends in flight and returns what was not written (plus the
   * truncation marker), for the engine to write with the attempt's end. Idempotent.
   */
  finish(): Promise<string> {
    if (this.finishing === null) this.finishing = this.drainAndTake();
    return this.finishing;
  }

  private async drainAndTake(): Promise<string> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    while (this.inFlight !== null) await this.inFlight;
    let rest = this.buf;
    this.buf = '';
    this.bufBytes = 0;
    if (this.truncated) rest += `\n[batchflow] log truncated: output exceeded ${this.opts.capBytes} bytes; ${this.dropped} more bytes dropped\n`;
    return rest;
  }

  private append(text: string): void {
    this.buf += text;
    this.bufBytes += Buffer.byteLength(text);
    this.atLineStart = text.endsWith('\n');
    if (this.bufBytes >= FLUSH_BYTES) this.flush();
    else this.armFlush();
  }

  private armFlush(): void {
    if (this.timer === null) this.timer = this.timers.setTimeout(() => this.flush(), this.opts.flushMs);
  }

  private flush(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight !== null) {
      this.flushAgain = true;
      return;
    }
    if (this.buf === '' || this.finishing !== null) return;
    const text = this.buf;
    this.buf = '';
    this.bufBytes = 0;
    const { store, taskInstanceId, runNum, onError } = this.opts;
    let append: Promise<void>;
    try {
      append = store.appendLog(taskInstanceId, runNum, text);
    } catch (e) {
      append = Promise.reject(e);
    }
    this.inFlight = append
      .catch((e: unknown) => {
        // Keep the text: it goes with the next flush, or with the end of the attempt.
        this.buf = text + this.buf;
        this.bufBytes += Buffer.byteLength(text);
        if (this.finishing === null) this.armFlush();
        try {
          onError?.(e);
        } catch {
          /* the listener's problem */
        }
      })
      .then(() => {
        this.inFlight = null;
        if (this.flushAgain) {
          this.flushAgain = false;
          this.flush();
        }
      });
  }
}

/** The longest prefix of s that fits in maxBytes of UTF-8 without splitting a character. */
function cutBytes(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const b = Buffer.from(s);
  if (b.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // b[end] continues a character: cut before it
  return b.toString('utf8', 0, end);
}
