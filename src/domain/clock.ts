// Time comes from an injected clock so that the scheduler and the tests agree on "now".
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Node timers hold at most 2^31-1 ms; a longer wait is armed for that long and re-checked when it fires. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The timer delay from `now` until `at`: never negative, never over what a Node timer can hold. */
export function timerDelay(at: number, now: number): number {
  return Math.min(Math.max(0, at - now), MAX_TIMER_MS);
}

/**
 * Timers come from the same place as the clock, so that a simulator can run the engine on virtual time.
 * Handles are opaque. The system timers never keep the process alive (the server's socket does).
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
