// taskMode 2 (contract §11): the status of each key of a task instance, kept as one character per key (in
// key order) so that 10,000 keys are a 10 KB text, written whole by the attempt that runs them
// (src/engine/keyedAttempt.ts, src/store/taskKeys.ts). Pure.
//
// What a retry runs: every key whose status is not SUCCESS (a key that failed, timed out, was stopped, was
// running when its engine died, or never ran). Keys that succeeded in an earlier attempt are not run again.

export type KeyStatus = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAIL' | 'TIMEOUT' | 'CANCEL' | 'INTERRUPTED';

export const KEY_STATUSES: readonly KeyStatus[] = ['PENDING', 'RUNNING', 'SUCCESS', 'FAIL', 'TIMEOUT', 'CANCEL', 'INTERRUPTED'];

/** The stored character of each status (ASCII: a state text is as many bytes as keys). */
export const KEY_CHAR: Readonly<Record<KeyStatus, string>> = {
  PENDING: '.',
  RUNNING: 'R',
  SUCCESS: 'S',
  FAIL: 'F',
  TIMEOUT: 'T',
  CANCEL: 'C',
  INTERRUPTED: 'I',
};

const BY_CHAR = new Map<string, KeyStatus>(KEY_STATUSES.map((s) => [KEY_CHAR[s], s]));

/** The status a stored character stands for (an unknown one reads as PENDING: it runs again). */
export function keyStatusOf(ch: string): KeyStatus {
  return BY_CHAR.get(ch) ?? 'PENDING';
}

/** What Get Task Instance shows of a taskMode 2 task instance: how many keys are in each status. */
export interface KeyCounts {
  /** The attempt that wrote the states last. */
  runNum: number;
  /** Keys of the task (the length of the state text). */
  total: number;
  byStatus: Record<KeyStatus, number>;
}

export function emptyByStatus(): Record<KeyStatus, number> {
  return { PENDING: 0, RUNNING: 0, SUCCESS: 0, FAIL: 0, TIMEOUT: 0, CANCEL: 0, INTERRUPTED: 0 };
}

/** Counts of a state text. */
export function countKeyStates(states: string): Record<KeyStatus, number> {
  const out = emptyByStatus();
  for (let i = 0; i < states.length; i++) out[keyStatusOf(states[i]!)]++;
  return out;
}

/** The recorded states of a task instance's keys. */
export interface KeyState {
  /** The attempt that wrote them. */
  runNum: number;
  /** One KEY_CHAR per key, in key order. */
  states: string;
}

/**
 * The indexes of the keys attempt `runNum` runs: all of them when nothing was recorded (or what was recorded
 * does not fit the keys: another number of them), else those not SUCCESS.
 */
export function keysToRun(keyCount: number, recorded: KeyState | null): number[] {
  const out: number[] = [];
  const usable = recorded !== null && recorded.states.length === keyCount;
  for (let i = 0; i < keyCount; i++) if (!usable || recorded.states[i] !== KEY_CHAR.SUCCESS) out.push(i);
  return out;
}
