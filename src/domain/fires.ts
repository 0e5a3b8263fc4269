// Pure rules of periodic scheduling (contract §5): which fire times of a flow count, and which one to make
// at a given moment. A flow fires on its Quartz cron in the service zone, never before its lower bound
// (the first instant of its effective date, the moment scheduling (re)started, the minute after the latest
// fire made), at most once per real minute (the instance id has minute precision). When several fires are
// due at once (the service was down, the process stalled), only the most recent is made and the others are
// counted for the log. No I/O, no clock: callers pass `now`.
import { lastFireTimeAtOrBefore, nextFireTime } from './cron.js';
import { fromCivil } from './time.js';

export const MINUTE_MS = 60_000;
/** Counting dropped fires stops here: each step costs tens of microseconds, and a minute cron down for a week has 10,080. */
export const MISSED_COUNT_CAP = 1_000;

const minuteStart = (t: number) => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** What decides a flow's fire times. */
export interface FlowSchedule {
  freq: string;
  /** Effective date `yyyy-MM-dd` in the service zone, "" = no bound. */
  startDate: string;
  scheduleFrom: number;
}

/** First instant of the effective date in tz (its midnight, or the first instant after a gap there); "" -> -Infinity. */
export function effectiveDateStart(startDate: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(startDate);
  if (!m) return -Infinity;
  return fromCivil({ year: +m[1], month: +m[2], day: +m[3], hour: 0, minute: 0, second: 0, millisecond: 0 }, tz);
}

/** No fire before this: max(effective date start, scheduleFrom, the minute after the latest fire made). */
export function lowerBound(s: FlowSchedule, lastFire: number | null, tz: string): number {
  const afterLast = lastFire === null ? -Infinity : minuteStart(lastFire) + MINUTE_MS;
  return Math.max(effectiveDateStart(s.startDate, tz), s.scheduleFrom, afterLast);
}

/** The first fire at or after `fromMs`, or null (invalid cron, or none left). */
export function firstFireAtOrAfter(freq: string, fromMs: number, tz: string): number | null {
  return nextFireTime(freq, fromMs - 1, tz);
}

/** The first fire in a later real minute than `t`'s, and after `notBefore`. */
function firstFireAfterMinuteOf(freq: string, t: number, notBefore: number, tz: string): number | null {
  return nextFireTime(freq, Math.max(minuteStart(t) + MINUTE_MS - 1, notBefore), tz);
}

export interface DueFire {
  /** The fire to make now. */
  fireAt: number;
  /** Earlier due fires (one per minute) that are dropped. */
  missed: number;
  /** True when counting stopped at MISSED_COUNT_CAP (there were at least that many). */
  missedCapped: boolean;
  /** The next fire to wait for (strictly after now), or null. */
  nextAt: number | null;
}

/**
 * With `nextAt` the earliest fire not yet considered: null while it is in the future; else the fire to make
 * (the first fire of the latest due minute), the count of earlier due minutes dropped, and the next fire.
 */
export function dueFire(freq: string, nextAt: number, now: number, tz: string): DueFire | null {
  if (nextAt > now) return null;
  let fireAt = nextAt;
  let missed = 0;
  let missedCapped = false;
  const later = firstFireAfterMinuteOf(freq, nextAt, nextAt, tz);
  if (later !== null && later <= now) {
    // Several minutes are due: the first fire of the latest one is made, as it would have been on time.
    const latest = lastFireTimeAtOrBefore(freq, now, later, tz) ?? later;
    fireAt = firstFireAtOrAfter(freq, Math.max(minuteStart(latest), later), tz) ?? latest;
    for (let t: number | null = nextAt; t !== null && t < fireAt; t = firstFireAfterMinuteOf(freq, t, t, tz)) {
      if (missed === MISSED_COUNT_CAP) {
        missedCapped = true;
        break;
      }
      missed++;
    }
  }
  return { fireAt, missed, missedCapped, nextAt: firstFireAfterMinuteOf(freq, fireAt, now, tz) };
}

/** Backfill (contract §12): fires per call at most, and how far past it a range's fires are counted for the message. */
export const BACKFILL_MAX = 1_000;
export const BACKFILL_COUNT_CAP = 10_000;

/**
 * The fires of `freq` in [fromMs, toMs], the first of each real minute (an instance id has minute
 * precision, as for the scheduler), in time order; at most `cap` of them (callers pass one past their
 * limit to tell a range that holds more).
 */
export function firesInRange(freq: string, fromMs: number, toMs: number, tz: string, cap: number): number[] {
  const out: number[] = [];
  let t = firstFireAtOrAfter(freq, fromMs, tz);
  while (t !== null && t <= toMs && out.length < cap) {
    out.push(t);
    t = firstFireAfterMinuteOf(freq, t, t, tz);
  }
  return out;
}
