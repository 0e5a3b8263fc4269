// AttemptLog: when it flushes, that appends never overlap, the cap and its marker, and finish().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptLog } from '../../src/engine/attemptLog.js';

/** A store whose appends resolve at once, or stay pending until released when `hold` is set. */
function fakeStore(hold = false) {
  const calls: string[] = [];
  const pending: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const store = {
    appendLog(taskInstanceId: string, runNum: number, text: string): Promise<void> {
      expect([taskInstanceId, runNum]).toEqual(['7-20240101000000', 2]);
      calls.push(text);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      return new Promise<void>((resolve) => {
        const done = () => { inFlight--; resolve(); };
        if (hold) pending.push(done); else done();
      });
    },
  };
  return { store, calls, release: () => pending.shift()?.(), get maxInFlight() { return maxInFlight; } };
}
const newLog = (store: ReturnType<typeof fakeStore>['store'], over: { capBytes?: number; onError?: (e: unknown) => void } = {}) =>
  new AttemptLog({ store, taskInstanceId: '7-20240101000000', runNum: 2, capBytes: 1_000_000, flushMs: 200, ...over });

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('AttemptLog', () => {
  it('costs nothing for a task that writes nothing', async () => {
    const f = fakeStore();
    const log = newLog(f.store);
    expect(vi.getTimerCount()).toBe(0);
    expect(await log.finish()).toBe('');
    expect(f.calls).toEqual([]);
  });

  it('flushes what was written within flushMs as one append, not before', async () => {
    const f = fakeStore();
    const log = newLog(f.store);
    log.write('a\n');
    log.write('b\n');
    await vi.advanceTimersByTimeAsync(199);
    expect(f.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls).toEqual(['a\nb\n']);
    log.write('c\n');
    await vi.advanceTimersByTimeAsync(200);
    expect(f.calls).toEqual(['a\nb\n', 'c\n']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flushes at once when the buffer passes 64 KiB', async () => {
    const f = fakeStore();
    const log = newLog(f.store);
    log.write('x'.repeat(40_000));
    log.write('y'.repeat(30_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls.map((c) => c.length)).toEqual([70_000]);
  });

  it('never has two appends in flight, and sends what piled up meanwhile in one append', async () => {
    const f = fakeStore(true);
    const log = newLog(f.store);
    log.write('one\n');
    await vi.advanceTimersByTimeAsync(200);
    log.write('two\n');
    await vi.advanceTimersByTimeAsync(200);
    log.write('three\n');
    await vi.advanceTimersByTimeAsync(200);
    expect(f.calls).toEqual(['one\n']);
    f.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls).toEqual(['one\n', 'two\nthree\n']);
    f.release();
    expect(f.maxInFlight).toBe(1);
  });

  it('finish waits for the append in flight and returns the rest instead of writing it; idempotent', async () => {
    const f = fakeStore(true);
    const log = newLog(f.store);
    log.write('flushed\n');
    await vi.advanceTimersByTimeAsync(200);
    log.write('rest\n');
    let result: string | null = null;
    const fin = log.finish().then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(500);
    expect(result).toBeNull();
    f.release();
    await fin;
    expect(result).toBe('rest\n');
    expect(f.calls).toEqual(['flushed\n']);
    expect(await log.finish()).toBe('rest\n');
    log.write('late\n');
    await vi.advanceTimersByTimeAsync(500);
    expect(f.calls).toEqual(['flushed\n']);
  });

  it('keeps output up to the cap, counts the rest and marks the cut once at finish', async () => {
    const f = fakeStore();
    const log = newLog(f.store, { capBytes: 10 });
    log.write('abcdef');
    log.write('ghijkl');
    log.write('mno');
    log.note('[batchflow] timed out after 5 s: process group 1234 killed');
    expect(await log.finish()).toBe(
      'abcdefghij\n[batchflow] timed out after 5 s: process group 1234 killed\n' +
        '\n[batchflow] log truncated: output exceeded 10 bytes; 5 more bytes dropped\n',
    );
  });

  it('counts the cap in UTF-8 bytes and never cuts a character in half', async () => {
    const f = fakeStore();
    const log = newLog(f.store, { capBytes: 4 });
    log.write('€€');
    expect(await log.finish()).toBe('€\n[batchflow] log truncated: output exceeded 4 bytes; 3 more bytes dropped\n');
  });

  it('adds no marker when the output fits the cap exactly', async () => {
    const log = newLog(fakeStore().store, { capBytes: 4 });
    log.write('abcd');
    expect(await log.finish()).toBe('abcd');
  });

  it('puts a note on a line of its own', async () => {
    const log = newLog(fakeStore().store);
    log.write('no newline');
    log.note('[batchflow] cancelled');
    log.note('[batchflow] again\n');
    expect(await log.finish()).toBe('no newline\n[batchflow] cancelled\n[batchflow] again\n');
  });

  it('reports a failed append and writes its text again with the next flush: a store error loses no output', async () => {
    const errors: unknown[] = [];
    const calls: string[] = [];
    let fail = true;
    const store = { appendLog: async (_t: string, _r: number, text: string) => { calls.push(text); if (fail) { fail = false; throw new Error('db down'); } } };
    const log = newLog(store as never, { onError: (e) => errors.push(e) });
    log.write('lost\n');
    await vi.advanceTimersByTimeAsync(200);
    log.write('kept\n');
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['lost\n', 'lost\nkept\n']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['db down']);
  });
});
