// Time comes from an injected clock so that the scheduler and the tests agree on "now".
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
