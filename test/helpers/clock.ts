// A clock the test moves by hand.
import type { Clock } from '../../src/domain/clock.js';

export interface FakeClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** Starts at 2024-03-02 10:20:30.000 UTC unless told otherwise. */
export function fakeClock(start = Date.UTC(2024, 2, 2, 10, 20, 30)): FakeClock {
  let t = start;
  return {
    now: () => t,
    set: (ms) => void (t = ms),
    advance: (ms) => void (t += ms),
  };
}
