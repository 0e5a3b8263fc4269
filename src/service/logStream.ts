// The live log of a task instance (extension, server-sent events): its status, then its log from a tail
// or a cursor, then every chunk as the store gets it, until the task instance is terminal and all of its
// log was sent (or, with follow=false, once the log there is now was sent). The store is read, never the engine: any API process follows any task, on any worker.
// The events are transport-free here; src/api/sse.ts writes them as text/event-stream.
import { invalid, notFound, outOfRange } from '../domain/errors.js';
import { isTerminalTaskInstance, type TaskInstanceStatus } from '../domain/status.js';
import type { Caller, Deps } from './context.js';
import { show } from './input.js';

export type LogStreamEvent =
  | { event: 'status'; data: { status: TaskInstanceStatus; runNum: number } }
  | { event: 'log'; id: string; data: { text: string; runNum: number; truncated: boolean } }
  | { event: 'end'; data: { status: TaskInstanceStatus; terminal: boolean } };

export interface LogStreamOptions {
  /** A `runNum.seq` cursor from a previous stream's last `log` event id: continue after it. */
  after?: string;
  /** Without `after`: start with at most this many characters of the newest log (default 65,536). */
  tailChars?: string | number;
  /** "false": send the log there is now, then end (without waiting for the task to end). */
  follow?: string;
  signal: AbortSignal;
  /** How often the store is read for new chunks and status (default 200 ms). */
  pollMs?: number;
}

export const DEFAULT_TAIL_CHARS = 65_536;
/** Chunks per read: a log that grew while nobody followed is sent in pages of this many. */
const PAGE = 256;

function parseCursor(v: string): { runNum: number; seq: number } {
  const m = /^\s*(\d{1,9})\.(-1|\d{1,12})\s*$/.exec(v);
  if (!m) throw invalid('after', `Invalid parameter: after must be a log event id "runNum.seq" (e.g. "1.4"), got ${show(v)}`);
  return { runNum: Number(m[1]), seq: Number(m[2]) };
}

function parseTail(v: string | number | undefined, cap: number): number {
  if (v === undefined) return Math.min(DEFAULT_TAIL_CHARS, cap);
  const msg = `Invalid parameter: tailChars must be an integer from 0 up to ${cap} (the attempt log cap), got ${show(v)}`;
  if (!/^\s*\d+\s*$/.test(String(v))) throw invalid('tailChars', msg);
  const n = Number(v);
  if (n > cap) throw outOfRange('tailChars', msg);
  return n;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** One `log` event per attempt among consecutive chunks (an event never mixes two attempts' text). */
function* logEvents(chunks: Array<{ runNum: number; seq: number; text: string }>, truncated: boolean): Generator<LogStreamEvent> {
  let i = 0;
  let first = true;
  while (i < chunks.length) {
    let j = i;
    let text = '';
    while (j < chunks.length && chunks[j].runNum === chunks[i].runNum) text += chunks[j++].text;
    const last = chunks[j - 1];
    yield { event: 'log', id: `${last.runNum}.${last.seq}`, data: { text, runNum: last.runNum, truncated: first && truncated } };
    first = false;
    i = j;
  }
}

/**
 * Checks the request (the task instance is the caller's org's, the options are valid) and returns the
 * stream: errors before the first event are the caller's, thrown here as for any other operation.
 */
export async function openLogStream(deps: Deps, caller: Caller, id: string, opts: LogStreamOptions): Promise<AsyncGenerator<LogStreamEvent>> {
  const orgId = caller.user.orgId;
  const task = await deps.store.getTaskInstance(orgId, id);
  if (!task) throw notFound('Task instance', id);
  const capChars = deps.config.logCapBytes;
  const after = opts.after === undefined || opts.after === '' ? null : parseCursor(opts.after);
  const tailChars = parseTail(opts.tailChars, capChars);
  const pollMs = opts.pollMs ?? 200;
  if (opts.follow !== undefined && opts.follow !== 'true' && opts.follow !== 'false') {
    throw invalid('follow', `Invalid parameter: follow must be true or false, got ${show(opts.follow)}`);
  }
  const follow = opts.follow !== 'false';
  const { signal } = opts;
  return (async function* stream(): AsyncGenerator<LogStreamEvent> {
    let seen = { status: task.status, runNum: task.runNum };
    yield { event: 'status', data: seen };
    let cursor = after ?? { runNum: 0, seq: -1 };
    if (!after) {
      const tail = await deps.store.readLogTail(id, tailChars);
      if (tail.chunks.length > 0) {
        yield* logEvents(tail.chunks, tail.truncated);
        const last = tail.chunks[tail.chunks.length - 1];
        cursor = { runNum: last.runNum, seq: last.seq };
      } else if (tailChars === 0) {
        // Nothing of the past wanted: continue after whatever exists now.
        const newest = await deps.store.readLogTail(id, 1);
        const last = newest.chunks[newest.chunks.length - 1];
        if (last) cursor = { runNum: last.runNum, seq: last.seq };
      }
    }
    for (;;) {
      // Status first, then the log: a terminal status read before a read that finds no more chunks means
      // every chunk was sent (the engine appends the last one before it ends the attempt).
      const now = await deps.store.getTaskInstance(orgId, id);
      const status = now?.status ?? seen.status;
      const runNum = now?.runNum ?? seen.runNum;
      let chunks = await deps.store.readLogAfter(id, cursor, PAGE);
      while (chunks.length > 0) {
        yield* logEvents(chunks, false);
        const last = chunks[chunks.length - 1];
        cursor = { runNum: last.runNum, seq: last.seq };
        if (chunks.length < PAGE || signal.aborted) break;
        chunks = await deps.store.readLogAfter(id, cursor, PAGE);
      }
      if (status !== seen.status || runNum !== seen.runNum) {
        seen = { status, runNum };
        yield { event: 'status', data: seen };
      }
      // A deleted task instance (its flow deleted meanwhile) ends the stream as it last was.
      const terminal = !now || isTerminalTaskInstance(status);
      if ((terminal || !follow) && chunks.length < PAGE) {
        yield { event: 'end', data: { status, terminal } };
        return;
      }
      await sleep(pollMs, signal);
      if (signal.aborted) return;
    }
  })();
}
