import { describe, expect, it } from 'vitest';
import { lastFireTimeAtOrBefore, nextFireTime, validateQuartzCron } from '../../src/domain/cron.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('validateQuartzCron', () => {
  it.each([
    '0 0 0 * * ? *', '0 1/1 * * * ? *', '59 59 23 * * ? *', '0 0 12 ? * MON-FRI *', '0 0 0 L * ? *',
    '0 0/15 * * * ? *', '0 0 0 1 1 ? 2030', '0 0 0 * * ?', '0 0 0 ? * 6L', '0 0 0 ? * FRIL *', '0 0 0 ? * 6#3 *',
    '0 0 0 15W * ? *', '0 0 0 LW * ? *', '0 0 0 * JAN-MAR ? *', '0 0 0 * * * *', '0 0 0 1,15 * ? *',
    '0 0 10-12 * * ? *', '0 0 0 ? * 1,7 *', '0 0 0 * * ? 2026-2030', '0 0 0 * * ? */2', '  0  0 0 * * ? *  ',
    '0 0 0 ? * L *',
  ])('accepts %j', (expr) => {
    expect(validateQuartzCron(expr)).toBeNull();
  });

  it.each([
    ['', 'the cron expression is empty'],
    ['0 0 * * *', 'a Quartz cron has 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), got 5'],
    ['0 0 0 * * ? * *', 'a Quartz cron has 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), got 8'],
    ['60 0 0 * * ? *', 'seconds: 60 is out of range 0-59'],
    ['0 60 0 * * ? *', 'minutes: 60 is out of range 0-59'],
    ['0 0 24 * * ? *', 'hours: 24 is out of range 0-23'],
    ['0 0 0 32 * ? *', 'day-of-month: 32 is out of range 1-31'],
    ['0 0 0 0 * ? *', 'day-of-month: 0 is out of range 1-31'],
    ['0 0 0 * 13 ? *', 'month: 13 is out of range 1-12'],
    ['0 0 0 ? * 8 *', 'day-of-week: 8 is out of range 1-7'],
    ['0 0 0 ? * 0 *', 'day-of-week: 0 is out of range 1-7'],
    ['0 0 0 * * ? 1969', 'year: 1969 is out of range 1970-2099'],
    ['x 0 0 * * ? *', "seconds: 'x' is not a seconds value"],
    ['0 0 0 ? * FUN *', "day-of-week: 'FUN' is not a day-of-week value"],
    ['0 0/0 * * * ? *', "minutes: '0/0': the step must be a positive number"],
    ['0 0 5-2 * * ? *', "hours: '5-2': the range start is after its end"],
    ['0 0 0 ? * MON#6 *', "day-of-week: 'MON#6': the occurrence after # must be 1-5"],
    ['0 0 0 L-3 * ? *', "day-of-month: 'L-3' (offset from the last day) is not supported"],
    ['0 0 ? * * * *', "'?' is allowed only in day-of-month or day-of-week, not in hours"],
    ['0 0 0 ? * ? *', "'?' may be used in only one of day-of-month and day-of-week"],
    ['0 0 0 1 * MON *', "one of day-of-month and day-of-week must be '?' (e.g. '0 0 12 ? * MON-FRI *')"],
    ['0 0 0 * * MON *', "one of day-of-month and day-of-week must be '?' (e.g. '0 0 12 ? * MON-FRI *')"],
  ])('refuses %j: %s', (expr, message) => {
    expect(validateQuartzCron(expr)).toBe(message);
  });
});

describe('nextFireTime', () => {
  it.each([
    ['last day of a leap February', '0 0 0 L * ? *', '2024-01-31T00:00:00Z', 'UTC', '2024-02-29T00:00:00.000Z'],
    ['last day of a common February', '0 0 0 L * ? *', '2023-02-01T00:00:00Z', 'UTC', '2023-02-28T00:00:00.000Z'],
    ['weekdays only: Friday noon -> Monday noon, strictly after', '0 0 12 ? * MON-FRI *', '2026-03-06T12:00:00Z', 'UTC', '2026-03-09T12:00:00.000Z'],
    ['Quartz day 1 is Sunday', '0 0 12 ? * 1 *', '2026-03-06T13:00:00Z', 'UTC', '2026-03-08T12:00:00.000Z'],
    ['Quartz day 7 is Saturday', '0 0 12 ? * 7 *', '2026-03-06T13:00:00Z', 'UTC', '2026-03-07T12:00:00.000Z'],
    ['Quartz 2-6 is Monday-Friday', '0 0 12 ? * 2-6 *', '2026-03-07T00:00:00Z', 'UTC', '2026-03-09T12:00:00.000Z'],
    ['every 15 minutes, from between fires', '0 0/15 * * * ? *', '2026-03-06T00:07:00Z', 'UTC', '2026-03-06T00:15:00.000Z'],
    ['every 15 minutes, from a fire time exactly', '0 0/15 * * * ? *', '2026-03-06T00:15:00Z', 'UTC', '2026-03-06T00:30:00.000Z'],
    ['every 15 minutes, from 1 ms before a fire', '0 0/15 * * * ? *', '2026-03-06T00:14:59.999Z', 'UTC', '2026-03-06T00:15:00.000Z'],
    ['every 15 minutes, from 1 ms after a fire', '0 0/15 * * * ? *', '2026-03-06T00:15:00.001Z', 'UTC', '2026-03-06T00:30:00.000Z'],
    ['every minute (1/1)', '0 1/1 * * * ? *', '2026-03-06T00:07:30Z', 'UTC', '2026-03-06T00:08:00.000Z'],
    ['daily at 23:59:59', '59 59 23 * * ? *', '2026-03-06T23:59:59Z', 'UTC', '2026-03-07T23:59:59.000Z'],
    ['a year field in the future', '0 0 0 1 1 ? 2030', '2026-03-06T00:00:00Z', 'UTC', '2030-01-01T00:00:00.000Z'],
    ['midnight in Asia/Shanghai', '0 0 0 * * ? *', '2026-01-01T00:00:00Z', 'Asia/Shanghai', '2026-01-01T16:00:00.000Z'],
    ['midnight in Asia/Kolkata', '0 0 0 * * ? *', '2026-01-01T00:00:00Z', 'Asia/Kolkata', '2026-01-01T18:30:00.000Z'],
    ['a 6-field cron (no year)', '0 30 6 * * ?', '2026-01-01T07:00:00Z', 'UTC', '2026-01-02T06:30:00.000Z'],
    ["Quartz 'L' alone in day-of-week is Saturday", '0 0 0 ? * L *', '2026-03-02T00:00:00Z', 'UTC', '2026-03-07T00:00:00.000Z'],
    ['the last Friday of the month (6L)', '0 0 0 ? * 6L *', '2026-03-01T00:00:00Z', 'UTC', '2026-03-27T00:00:00.000Z'],
    ['the third Friday (6#3)', '0 0 0 ? * 6#3 *', '2026-03-01T00:00:00Z', 'UTC', '2026-03-20T00:00:00.000Z'],
    ['a fifth Friday skips months without one', '0 0 12 ? * 6#5 *', '2026-03-06T12:00:00Z', 'UTC', '2026-05-29T12:00:00.000Z'],
    ['the weekday nearest the 15th (a Sunday -> Monday)', '0 0 0 15W * ? *', '2026-03-01T00:00:00Z', 'UTC', '2026-03-16T00:00:00.000Z'],
    ['1W on a Sunday the 1st stays in the month (Monday the 2nd)', '0 0 0 1W * ? *', '2026-01-31T00:00:00Z', 'UTC', '2026-02-02T00:00:00.000Z'],
    ['the last weekday (LW) when the month ends on a Saturday', '0 0 0 LW * ? *', '2026-02-01T00:00:00Z', 'UTC', '2026-02-27T00:00:00.000Z'],
    ['every second, from inside a second', '* * * * * ? *', '2026-03-01T00:00:00.500Z', 'UTC', '2026-03-01T00:00:01.000Z'],
    ['Quartz */2 in day-of-week counts from 1 (SUN, TUE, THU, SAT)', '0 0 0 ? * */2 *', '2026-03-31T12:00:00Z', 'UTC', '2026-04-02T00:00:00.000Z'],
  ])('%s', (_what, expr, after, tz, expected) => {
    expect(iso(nextFireTime(expr, at(after), tz))).toBe(expected);
  });

  it.each([
    ['a year that has passed', '0 0 0 1 1 ? 2030', '2030-01-01T00:00:00Z'],
    ['an invalid expression', '0 0 0 1 * MON *', '2026-01-01T00:00:00Z'],
    ['an empty expression', '', '2026-01-01T00:00:00Z'],
  ])('answers null for %s', (_what, expr, after) => {
    expect(nextFireTime(expr, at(after), 'UTC')).toBeNull();
  });

  const walk = (expr: string, from: string, tz: string, n: number) => {
    const out: Array<string | null> = [];
    let t: number | null = at(from);
    for (let i = 0; i < n && t !== null; i++) out.push(iso((t = nextFireTime(expr, t, tz))));
    return out;
  };

  // croner: a fixed-time cron in the spring gap fires at the first valid time after it (03:00), once.
  it.each([
    ['America/New_York', '2026-03-07T12:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['Europe/Berlin', '2026-03-28T12:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
  ])('fires a daily 02:30 at 03:00 on spring-forward day in %s', (tz, from, expected) => {
    expect(walk('0 30 2 * * ? *', from, tz, 2)).toEqual(expected);
  });

  // croner: in the repeated hour a fixed-time cron fires once, at the first (summer time) occurrence.
  it.each([
    ['a daily 01:30', 'America/New_York', '0 30 1 * * ? *', '2026-10-31T12:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
    ['a daily 02:30 (outside the repeated hour)', 'America/New_York', '0 30 2 * * ? *', '2026-10-31T12:00:00Z', ['2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']],
    ['a daily 02:30', 'Europe/Berlin', '0 30 2 * * ? *', '2026-10-24T12:00:00Z', ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
  ])('fires %s once on fall-back day in %s', (_what, tz, expr, from, expected) => {
    expect(walk(expr, from, tz, 2)).toEqual(expected);
  });

  // croner: an interval cron (not one value each in seconds, minutes, hours) skips wall times in the gap.
  it.each([
    ['every 30 minutes', '0 0/30 * * * ? *', '2026-03-28T23:50:00Z', ['2026-03-29T00:00:00.000Z', '2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']],
    ['02:30 and 03:30 daily', '0 30 2,3 * * ? *', '2026-03-28T12:00:00Z', ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['every minute of 02:xx', '0 * 2 * * ? *', '2026-03-28T12:00:00Z', ['2026-03-30T00:00:00.000Z']],
  ])('skips spring-gap times of an interval cron (%s) in Europe/Berlin', (_what, expr, from, expected) => {
    expect(walk(expr, from, 'Europe/Berlin', expected.length)).toEqual(expected);
  });

  it('fires an interval cron in both passes of the repeated hour', () => {
    expect(walk('0 0/30 * * * ? *', '2026-11-01T04:50:00Z', 'America/New_York', 5)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
  });
});

describe('lastFireTimeAtOrBefore', () => {
  it.each([
    ['the latest fire in the window', '0 0 0 * * ? *', '2026-03-06T10:00:00Z', '2026-03-01T00:00:00Z', 'UTC', '2026-03-06T00:00:00.000Z'],
    ['a fire exactly at the end (inclusive)', '0 0 0 * * ? *', '2026-03-06T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC', '2026-03-06T00:00:00.000Z'],
    ['a fire exactly at the start (inclusive)', '0 0 0 * * ? *', '2026-03-06T10:00:00Z', '2026-03-06T00:00:00Z', 'UTC', '2026-03-06T00:00:00.000Z'],
    ['nothing when the latest fire is before the window', '0 0 0 * * ? *', '2026-03-06T10:00:00Z', '2026-03-06T00:00:00.001Z', 'UTC', null],
    ['nothing for an inverted window', '0 0 0 * * ? *', '2026-03-06T10:00:00Z', '2026-03-07T00:00:00Z', 'UTC', null],
    ['the fire before 1 ms short of the next', '0 0/15 * * * ? *', '2026-03-06T00:14:59.999Z', '2026-03-05T00:00:00Z', 'UTC', '2026-03-06T00:00:00.000Z'],
    ['nothing before a future year', '0 0 0 1 1 ? 2030', '2026-03-06T10:00:00Z', '1970-01-01T00:00:00Z', 'UTC', null],
    ['the last weekday fire over a weekend', '0 0 12 ? * MON-FRI *', '2026-03-08T23:00:00Z', '2026-03-01T00:00:00Z', 'UTC', '2026-03-06T12:00:00.000Z'],
    ['midnight in Shanghai', '0 0 0 * * ? *', '2026-03-06T15:59:59Z', '2026-03-01T00:00:00Z', 'Asia/Shanghai', '2026-03-05T16:00:00.000Z'],
    ['nothing for an invalid expression', 'bad', '2026-03-06T10:00:00Z', '2026-03-01T00:00:00Z', 'UTC', null],
    ['a fire at the end even with milliseconds past it', '0 0/15 * * * ? *', '2026-03-06T00:15:00.999Z', '2026-03-05T00:00:00Z', 'UTC', '2026-03-06T00:15:00.000Z'],
    ['the shifted spring-gap fire (02:30 -> 03:00 CEST)', '0 30 2 * * ? *', '2026-03-29T12:00:00Z', '2026-03-28T12:00:00Z', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    ['the second pass of the repeated hour', '0 0/30 * * * ? *', '2026-10-25T01:10:00Z', '2026-10-24T00:00:00Z', 'Europe/Berlin', '2026-10-25T01:00:00.000Z'],
    ['the first pass only for a fixed time', '0 30 2 * * ? *', '2026-10-25T12:00:00Z', '2026-10-24T12:00:00Z', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
  ])('finds %s', (_what, expr, atIso, notBefore, tz, expected) => {
    expect(iso(lastFireTimeAtOrBefore(expr, at(atIso), at(notBefore), tz))).toBe(expected);
  });
});
