// Maps an executor Outcome to what happens to the task instance: pure, exhaustive. A failure is retried
// while the failures so far (this one included) do not exceed retryLimit (contract §5).
import { assertNever } from '../domain/status.js';
import type { TaskInstanceStatus } from '../domain/status.js';
import type { AttemptStatus } from '../domain/types.js';
import type { Outcome } from './executor.js';
import { isSuccessCode } from './taskCommand.js';

export interface AttemptVerdict {
  /** What the task instance becomes. */
  task: TaskInstanceStatus;
  /** What the attempt row records. */
  attempt: Exclude<AttemptStatus, 'RUNNING'>;
  exitCode: number | null;
  signal: string | null;
  isTimeout: boolean;
  /** A service line for the log (why it ended, when not a plain exit). */
  note: string | null;
}

export interface VerdictInput {
  outcome: Outcome;
  successCode: string;
  timeoutSec: number;
  /** Failures of this task instance before this attempt. */
  priorFailures: number;
  retryLimit: number;
  retryIntervalSec: number;
}

export function verdictFor(i: VerdictInput): AttemptVerdict {
  const o = i.outcome;
  const retry = i.priorFailures + 1 <= i.retryLimit;
  const failed = (attempt: 'FAIL' | 'TIMEOUT', exitCode: number | null, signal: string | null, note: string | null): AttemptVerdict => ({
    task: retry ? 'RERUN' : attempt,
    attempt,
    exitCode,
    signal,
    isTimeout: attempt === 'TIMEOUT',
    note: retry ? `${note ? note + '; ' : ''}retry ${i.priorFailures + 1} of ${i.retryLimit} in ${i.retryIntervalSec} s` : note,
  });
  switch (o.kind) {
    case 'exited':
      if (isSuccessCode(i.successCode, o.code)) return { task: 'SUCCESS', attempt: 'SUCCESS', exitCode: o.code, signal: null, isTimeout: false, note: null };
      return failed('FAIL', o.code, null, `exit code ${o.code} is not a success code (${i.successCode || '0'})`);
    case 'signaled':
      return failed('FAIL', null, o.signal, `killed by signal ${o.signal}`);
    case 'timedOut':
      return failed('TIMEOUT', null, null, `timed out after ${i.timeoutSec} s: process group killed`);
    case 'spawnFailed':
      return failed('FAIL', null, null, `could not start the process: ${o.error}`);
    case 'stopped':
      if (o.reason === 'cancel') return { task: 'CANCEL', attempt: 'CANCEL', exitCode: null, signal: null, isTimeout: false, note: 'cancelled: process group stopped' };
      return { task: 'READY', attempt: 'INTERRUPTED', exitCode: null, signal: null, isTimeout: false, note: 'stopped by service shutdown; it runs again when the service restarts' };
    default:
      return assertNever(o);
  }
}
