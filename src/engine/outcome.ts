// Maps how a process ended (the executor's Outcome) to how the attempt ended (AttemptResult): pure and
// exhaustive. Whether the task is retried is the planner's decision (src/domain/plan.ts), made inside the
// transaction that closes the attempt, from the store's count of failures.
import type { AttemptResult } from '../domain/plan.js';
import { assertNever } from '../domain/status.js';
import type { Outcome } from './executor.js';
import { isSuccessCode } from './taskCommand.js';

export function attemptResult(o: Outcome, successCode: string, timeoutSec: number): AttemptResult {
  switch (o.kind) {
    case 'exited':
      if (isSuccessCode(successCode, o.code)) return { status: 'SUCCESS', exitCode: o.code, signal: null, note: null };
      return { status: 'FAIL', exitCode: o.code, signal: null, note: `exit code ${o.code} is not a success code (${successCode || '0'})` };
    case 'signaled':
      return { status: 'FAIL', exitCode: null, signal: o.signal, note: `killed by signal ${o.signal}` };
    case 'timedOut':
      return { status: 'TIMEOUT', exitCode: null, signal: null, note: `timed out after ${timeoutSec} s: process group killed` };
    case 'spawnFailed':
      return { status: 'FAIL', exitCode: null, signal: null, note: `could not start the process: ${o.error}` };
    case 'overMemory':
      // Whatever the exit status: a run the OOM killer hit did not do what it was to do.
      return { status: 'FAIL', exitCode: o.code, signal: o.signal, note: `killed: over its memory limit of ${gigabytes(o.limitBytes)} GB (runMode.memory)` };
    case 'stopped':
      if (o.reason === 'cancel') return { status: 'CANCEL', exitCode: null, signal: null, note: 'cancelled: process group stopped' };
      return { status: 'INTERRUPTED', exitCode: null, signal: null, note: 'stopped by service shutdown; it runs again when the service restarts' };
    default:
      return assertNever(o);
  }
}

/** Bytes as the GB (2^30) a runMode gives, e.g. 0.3 (not 0.29999999981373549). */
function gigabytes(bytes: number): string {
  return String(Number((bytes / 2 ** 30).toFixed(3)));
}
