// Reference windows (contract §10): a reference's `cycleGap` (`D0`, `D-1`, `H-2`, `M+1`, `mi-5`) and the
// window of trigger times it selects for a dependent instance: the calendar unit of the gap (month, ISO week
// from Monday, day, hour, minute, in the service zone) that contains the dependent's trigger time, moved by
// the offset. Binding picks the referenced workflow's latest instance inside the window; that is elsewhere.
// Pure: no I/O, no clock; the zone is the caller's. Windows are half-open [start, end) in epoch ms.
import type { CivilTime } from './time.js';
import { addDays, addMonths, formatInZone, fromCivil, gmtOffsetLabel, offsetMinutes, toCivil, weekday } from './time.js';

export type CycleGapUnit = 'M' | 'W' | 'D' | 'H' | 'mi';

export interface CycleGap {
  unit: CycleGapUnit;
  /** Whole units to move the window by: negative = earlier, 0 = the unit that contains the trigger time. */
  offset: number;
}

/** Half-open interval of instants [start, end), epoch ms. */
export interface ReferenceWindow {
  start: number;
  end: number;
}

export const CYCLE_GAP_UNITS: readonly CycleGapUnit[] = ['M', 'W', 'D', 'H', 'mi'];
/** Largest |offset| accepted: 1000 months is 83 years, 1000 minutes is under 17 hours; nothing real needs more. */
export const MAX_CYCLE_GAP_OFFSET = 1000;
/** What an absent or empty cycleGap means. */
export const DEFAULT_CYCLE_GAP_TEXT = 'D0';

const MS_MINUTE = 60_000;
const MS_HOUR = 3_600_000;

const ACCEPTED = 'a unit M (month), W (week), D (day), H (hour) or mi (minute), exactly so cased, then a signed integer offset, e.g. D0, D-1, H-2, M+1';

/**
 * `<unit><signed integer offset>`: unit exactly one of M W D H mi (case-sensitive: `d`, `MI` are refused), offset
 * digits with an optional `+` or `-` (`D0`, `D-1`, `D+1`, `D1`), |offset| <= 1000. "", null and undefined are the
 * default `D0`. Nothing else is accepted: no spaces, no unit without an offset (`D`), no fractions.
 */
export function parseCycleGap(text: string | null | undefined): { ok: true; gap: CycleGap } | { ok: false; message: string } {
  if (text === undefined || text === null || text === '') return { ok: true, gap: { unit: 'D', offset: 0 } };
  if (typeof text !== 'string') return { ok: false, message: `cycleGap must be a string: ${ACCEPTED}` };
  const m = /^([A-Za-z]*)([\s\S]*)$/.exec(text)!;
  const unit = m[1];
  const rest = m[2];
  const shown = JSON.stringify(text);
  if (unit === '') return { ok: false, message: `cycleGap ${shown} does not start with a unit: ${ACCEPTED}` };
  if (!(CYCLE_GAP_UNITS as readonly string[]).includes(unit)) {
    return { ok: false, message: `cycleGap ${shown} has unknown unit ${JSON.stringify(unit)}: ${ACCEPTED}` };
  }
  if (rest === '') return { ok: false, message: `cycleGap ${shown} has no offset (write ${unit}0 for the unit that contains the trigger time): ${ACCEPTED}` };
  if (!/^[+-]?\d+$/.test(rest)) {
    return { ok: false, message: `cycleGap ${shown} has offset ${JSON.stringify(rest)}, not a signed integer: ${ACCEPTED}` };
  }
  const offset = Number(rest);
  if (Math.abs(offset) > MAX_CYCLE_GAP_OFFSET) {
    return { ok: false, message: `cycleGap ${shown} moves the window by ${rest.replace(/^[+-]/, '')} units; at most ${MAX_CYCLE_GAP_OFFSET} are allowed` };
  }
  return { ok: true, gap: { unit: unit as CycleGapUnit, offset: offset === 0 ? 0 : offset /* no -0 */ } };
}

/** Canonical text: the unit then the offset as a plain integer, `-` only when negative (`D0`, `D-1`, `M1`). */
export function formatCycleGap(gap: CycleGap): string {
  return `${gap.unit}${gap.offset === 0 ? 0 : gap.offset}`;
}

/**
 * The window a reference with `gap` selects for a dependent instance triggered at `triggerTime`, in zone `tz`.
 *
 * M, W, D are civil: from the first instant of the (moved) month / ISO week (Monday) / day in tz to the first
 * instant of the next one, each read with fromCivil, so a day is 23 or 25 hours long on a DST change day and a
 * day whose midnight is skipped starts at the first instant after the gap.
 *
 * H and mi are elapsed time. T's hour (minute) runs from the instant its wall clock last showed minute 0
 * (second 0) of T's wall hour (minute) for one real hour (minute); the offset then moves by that many real
 * hours (minutes): the window of H-k is the hour that contains T - k hours. So every hour window is 60 real
 * minutes: at a fall-back the repeated wall hour is two distinct windows (02:00-03:00 CEST, then 02:00-03:00
 * CET), and at a spring-forward the skipped wall hour has no window (H-1 of 03:30 CEST is 01:00-02:00 CET, the
 * real hour before), never an empty or negative one. Half- and quarter-hour zones (Asia/Kolkata, Asia/Kathmandu)
 * follow their own wall clock: an hour of Kolkata starts at :30 UTC. Where a transition changes the offset by
 * other than whole hours, or falls inside a wall hour (Australia/Lord_Howe's 30-minute DST), the windows either
 * side of it are cut at the transition so the windows still partition time (one may be 30 minutes); shifting
 * stays by real hours, so it can step over such a short window.
 *
 * Throws a RangeError for a non-finite trigger time, an offset that is not an integer or an unknown unit (a
 * gap from parseCycleGap never is); an unknown zone throws as Intl does.
 */
export function referenceWindow(triggerTime: number, gap: CycleGap, tz: string): ReferenceWindow {
  if (!Number.isFinite(triggerTime)) throw new RangeError(`trigger time ${triggerTime} is not an instant`);
  if (!Number.isInteger(gap.offset)) throw new RangeError(`cycleGap offset ${gap.offset} is not an integer`);
  const k = gap.offset;
  switch (gap.unit) {
    case 'M': {
      const first: CivilTime = { ...midnight(toCivil(triggerTime, tz)), day: 1 };
      return civilSpan(addMonths(first, k), addMonths(first, k + 1), tz);
    }
    case 'W': {
      const day = midnight(toCivil(triggerTime, tz));
      const monday = addDays(day, -((weekday(day) + 6) % 7) + 7 * k);
      return civilSpan(monday, addDays(monday, 7), tz);
    }
    case 'D': {
      const day = addDays(midnight(toCivil(triggerTime, tz)), k);
      return civilSpan(day, addDays(day, 1), tz);
    }
    case 'H':
      return elapsedWindow(triggerTime + k * MS_HOUR, MS_HOUR, tz);
    case 'mi':
      return elapsedWindow(triggerTime + k * MS_MINUTE, MS_MINUTE, tz);
    default:
      throw new RangeError(`unknown cycleGap unit ${JSON.stringify((gap as { unit: unknown }).unit)}`);
  }
}

/**
 * The window of a stored cycleGap (validated when it was written; one that does not parse, from data older
 * than the rule, reads as the default D0).
 */
export function windowOfGapText(triggerTime: number, cycleGap: string, tz: string): ReferenceWindow {
  const p = parseCycleGap(cycleGap);
  return referenceWindow(triggerTime, p.ok ? p.gap : { unit: 'D', offset: 0 }, tz);
}

/** True when `t` is inside the half-open window. */
export function windowContains(w: ReferenceWindow, t: number): boolean {
  return w.start <= t && t < w.end;
}

/**
 * Human text for logs and failure reasons: `2026-11-30 00:00 to 2026-12-01 00:00 Asia/Shanghai` (wall clock in
 * tz). When either end falls in a repeated wall hour (a fall-back), both ends carry their GMT offset, so the two
 * windows of a repeated hour read differently: `2026-10-25 02:00 GMT+2 to 2026-10-25 02:00 GMT+1 Europe/Berlin`.
 * Seconds are shown only when an end is not on a whole minute.
 */
export function describeWindow(w: ReferenceWindow, tz: string): string {
  const pattern = w.start % MS_MINUTE === 0 && w.end % MS_MINUTE === 0 ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm:ss.SSS';
  const label = isRepeatedWallTime(w.start, tz) || isRepeatedWallTime(w.end, tz);
  const end = (t: number) => formatInZone(t, tz, pattern) + (label ? ` ${gmtOffsetLabel(t, tz)}` : '');
  return `${end(w.start)} to ${end(w.end)} ${tz}`;
}

function midnight(c: CivilTime): CivilTime {
  return { ...c, hour: 0, minute: 0, second: 0, millisecond: 0 };
}

function civilSpan(from: CivilTime, to: CivilTime, tz: string): ReferenceWindow {
  return { start: fromCivil(from, tz), end: fromCivil(to, tz) };
}

/** The hour (unit = MS_HOUR) or minute (MS_MINUTE) window containing t; see referenceWindow. */
function elapsedWindow(t: number, unit: number, tz: string): ReferenceWindow {
  const c = toCivil(t, tz);
  const into = (unit === MS_HOUR ? c.minute * MS_MINUTE : 0) + c.second * 1000 + c.millisecond;
  let start = t - into;
  let end = start + unit;
  // With the same offset at both ends as at t, nothing changed in between (transitions are months apart, or
  // at least days: Morocco's Ramadan pair), and the wall clock reads the unit's start at `start`.
  const off = offsetMinutes(t, tz);
  if (offsetMinutes(start, tz) !== off) start = firstChange(start, t, tz);
  if (offsetMinutes(end - 1, tz) !== off) end = firstChange(t, end - 1, tz);
  return { start, end };
}

/** The first instant in (lo, hi] whose offset differs from lo's, given that hi's does (one transition between). */
function firstChange(lo: number, hi: number, tz: string): number {
  const base = offsetMinutes(lo, tz);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMinutes(mid, tz) === base) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** True when the wall time tz shows at `t` is also shown at another instant (the repeated hour of a fall-back). */
function isRepeatedWallTime(t: number, tz: string): boolean {
  const off = offsetMinutes(t, tz);
  for (const probe of [t - 86_400_000, t + 86_400_000]) {
    const other = offsetMinutes(probe, tz);
    if (other === off) continue;
    // The same wall time under the other offset, if the zone really shows that offset there.
    const twin = t + (off - other) * MS_MINUTE;
    if (offsetMinutes(twin, tz) === other) return true;
  }
  return false;
}
