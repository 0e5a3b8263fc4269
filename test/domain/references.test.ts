import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CycleGap, CycleGapUnit, ReferenceWindow } from '../../src/domain/references.js';
import {
  CYCLE_GAP_UNITS,
  describeWindow,
  formatCycleGap,
  MAX_CYCLE_GAP_OFFSET,
  parseCycleGap,
  referenceWindow,
  windowContains,
} from '../../src/domain/references.js';
import { toCivil, weekday } from '../../src/domain/time.js';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const SHANGHAI = 'Asia/Shanghai';
const KOLKATA = 'Asia/Kolkata';
const KATHMANDU = 'Asia/Kathmandu';
const SANTIAGO = 'America/Santiago';
const LORD_HOWE = 'Australia/Lord_Howe';
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const gap = (text: string): CycleGap => {
  const r = parseCycleGap(text);
  if (!r.ok) throw new Error(r.message);
  return r.gap;
};
const isoWindow = (w: ReferenceWindow) => [iso(w.start), iso(w.end)];
const HOUR = 3_600_000;

describe('parseCycleGap', () => {
  it.each([
    ['', 'D', 0],
    [undefined, 'D', 0],
    [null, 'D', 0],
    ['D0', 'D', 0],
    ['D-1', 'D', -1],
    ['D+1', 'D', 1],
    ['D1', 'D', 1],
    ['D-0', 'D', 0],
    ['D+0', 'D', 0],
    ['D-01', 'D', -1],
    ['H-2', 'H', -2],
    ['M+1', 'M', 1],
    ['M-12', 'M', -12],
    ['W0', 'W', 0],
    ['W-1', 'W', -1],
    ['mi-5', 'mi', -5],
    ['mi30', 'mi', 30],
    ['D-1000', 'D', -1000],
    ['H1000', 'H', 1000],
  ])('reads %j as unit %s offset %d', (text, unit, offset) => {
    const r = parseCycleGap(text);
    expect(r).toEqual({ ok: true, gap: { unit, offset } });
    if (r.ok) expect(Object.is(r.gap.offset, -0)).toBe(false);
  });

  it.each([
    ['d-1', /unknown unit "d".*M \(month\), W \(week\), D \(day\), H \(hour\) or mi \(minute\)/],
    ['h1', /unknown unit "h"/],
    ['w0', /unknown unit "w"/],
    ['m-1', /unknown unit "m"/],
    ['MI-5', /unknown unit "MI"/],
    ['Mi0', /unknown unit "Mi"/],
    ['S0', /unknown unit "S"/],
    ['Y-1', /unknown unit "Y"/],
    ['DAY-1', /unknown unit "DAY"/],
    ['D', /"D" has no offset \(write D0/],
    ['mi', /"mi" has no offset \(write mi0/],
    ['-1', /does not start with a unit/],
    ['0', /does not start with a unit/],
    [' D0', /does not start with a unit/],
    ['D0 ', /offset "0 ", not a signed integer/],
    ['D 1', /offset " 1", not a signed integer/],
    ['D1.5', /offset "1.5", not a signed integer/],
    ['D--1', /offset "--1", not a signed integer/],
    ['D+', /offset "\+", not a signed integer/],
    ['D1e3', /unknown unit "D1e"|not a signed integer/],
    ['D1001', /by 1001 units; at most 1000/],
    ['M-99999999999999999999', /at most 1000/],
  ])('refuses %j, saying %s', (text, message) => {
    const r = parseCycleGap(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('refuses a value that is not a string', () => {
    const r = parseCycleGap(5 as unknown as string);
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/must be a string/) });
  });

  it('lists what it accepts in every refusal about the unit', () => {
    for (const text of ['x1', 'd0', '1']) {
      const r = parseCycleGap(text);
      expect(!r.ok && r.message).toMatch(/M \(month\).*e\.g\. D0, D-1, H-2, M\+1/);
    }
  });
});

describe('formatCycleGap', () => {
  it.each([
    [{ unit: 'D', offset: 0 }, 'D0'],
    [{ unit: 'D', offset: -0 }, 'D0'],
    [{ unit: 'D', offset: -1 }, 'D-1'],
    [{ unit: 'M', offset: 1 }, 'M1'],
    [{ unit: 'mi', offset: -5 }, 'mi-5'],
    [{ unit: 'W', offset: 0 }, 'W0'],
    [{ unit: 'H', offset: -1000 }, 'H-1000'],
  ] as [CycleGap, string][])('writes %j as %s', (g, text) => {
    expect(formatCycleGap(g)).toBe(text);
  });

  it('is read back as the same gap', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CYCLE_GAP_UNITS), fc.integer({ min: -MAX_CYCLE_GAP_OFFSET, max: MAX_CYCLE_GAP_OFFSET }), (unit, offset) => {
        expect(parseCycleGap(formatCycleGap({ unit, offset }))).toEqual({ ok: true, gap: { unit, offset } });
      }),
    );
  });
});

describe('referenceWindow', () => {
  // [what, trigger time, cycleGap, zone, window start, window end]
  it.each([
    // Days
    ['D0: T\'s day in Shanghai', '2026-03-15T04:00:00Z', 'D0', SHANGHAI, '2026-03-14T16:00:00.000Z', '2026-03-15T16:00:00.000Z'],
    ['D-1: the day before', '2026-03-15T04:00:00Z', 'D-1', SHANGHAI, '2026-03-13T16:00:00.000Z', '2026-03-14T16:00:00.000Z'],
    ['D+1: the day after', '2026-03-15T04:00:00Z', 'D+1', SHANGHAI, '2026-03-15T16:00:00.000Z', '2026-03-16T16:00:00.000Z'],
    ['D0 at the very first instant of a day', '2026-03-14T16:00:00Z', 'D0', SHANGHAI, '2026-03-14T16:00:00.000Z', '2026-03-15T16:00:00.000Z'],
    ['D0 at the last millisecond of a day', '2026-03-14T15:59:59.999Z', 'D0', SHANGHAI, '2026-03-13T16:00:00.000Z', '2026-03-14T16:00:00.000Z'],
    ['D-1 by the zone\'s date, not UTC\'s (Dec 1 01:00 in Shanghai)', '2026-11-30T17:00:00Z', 'D-1', SHANGHAI, '2026-11-29T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['D-1 on March 1 of a common year: February 28', '2026-03-01T02:00:00Z', 'D-1', SHANGHAI, '2026-02-27T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
    ['D-1 on March 1 of a leap year: February 29', '2024-03-01T10:00:00Z', 'D-1', 'UTC', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['D-1 on March 31', '2026-03-31T10:00:00Z', 'D-1', 'UTC', '2026-03-30T00:00:00.000Z', '2026-03-31T00:00:00.000Z'],
    ['D-1 on January 1: December 31 of the year before', '2026-01-01T10:00:00Z', 'D-1', 'UTC', '2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['D+1 on December 31: January 1', '2025-12-31T10:00:00Z', 'D+1', 'UTC', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
    ['D-1000', '2026-03-15T12:00:00Z', 'D-1000', 'UTC', '2023-06-19T00:00:00.000Z', '2023-06-20T00:00:00.000Z'],
    ['D0 on Berlin\'s 23-hour spring day', '2026-03-29T10:00:00Z', 'D0', BERLIN, '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    ['D0 on Berlin\'s 25-hour autumn day', '2026-10-25T10:00:00Z', 'D0', BERLIN, '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
    ['D-1 the morning after Berlin\'s spring day', '2026-03-30T06:00:00Z', 'D-1', BERLIN, '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    ['D+1 the day before Berlin\'s autumn day', '2026-10-24T10:00:00Z', 'D+1', BERLIN, '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
    ['D0 on New York\'s 23-hour spring day', '2026-03-08T12:00:00Z', 'D0', NY, '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
    ['D0 in New York\'s repeated hour (01:30 EST)', '2026-11-01T06:30:00Z', 'D0', NY, '2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    ['D-1 on the evening of New York\'s autumn day', '2026-11-02T03:00:00Z', 'D-1', NY, '2026-10-31T04:00:00.000Z', '2026-11-01T04:00:00.000Z'],
    ['D0 on a Santiago day whose midnight is skipped: from 01:00', '2024-09-08T12:00:00Z', 'D0', SANTIAGO, '2024-09-08T04:00:00.000Z', '2024-09-09T03:00:00.000Z'],
    // ISO weeks (Monday 00:00 to Monday 00:00)
    ['W0: 2026-01-01 is a Thursday of the week from Monday 2025-12-29', '2026-01-01T12:00:00Z', 'W0', 'UTC', '2025-12-29T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
    ['W-1 over the year end', '2026-01-01T12:00:00Z', 'W-1', 'UTC', '2025-12-22T00:00:00.000Z', '2025-12-29T00:00:00.000Z'],
    ['W+1', '2026-01-01T12:00:00Z', 'W+1', 'UTC', '2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z'],
    ['W0 on Sunday 2021-01-03, in ISO week 53 of 2020', '2021-01-03T12:00:00Z', 'W0', 'UTC', '2020-12-28T00:00:00.000Z', '2021-01-04T00:00:00.000Z'],
    ['W0 at Monday 00:00 exactly', '2026-03-02T00:00:00Z', 'W0', 'UTC', '2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z'],
    ['W0 on Sunday 23:59 in Shanghai (Monday in UTC is not yet)', '2026-03-01T15:59:00Z', 'W0', SHANGHAI, '2026-02-22T16:00:00.000Z', '2026-03-01T16:00:00.000Z'],
    ['W0 across a month end', '2026-04-02T12:00:00Z', 'W0', 'UTC', '2026-03-30T00:00:00.000Z', '2026-04-06T00:00:00.000Z'],
    ['W0 holding Berlin\'s spring Sunday: 7 days less an hour', '2026-03-29T12:00:00Z', 'W0', BERLIN, '2026-03-22T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    ['W-1 holding New York\'s autumn Sunday: 7 days and an hour', '2026-11-04T12:00:00Z', 'W-1', NY, '2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    // Months
    ['M0: February of a common year in Shanghai', '2026-02-10T00:00:00Z', 'M0', SHANGHAI, '2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
    ['M-1 on January 31: all of December', '2026-01-31T12:00:00Z', 'M-1', 'UTC', '2025-12-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['M-1 on March 31 of a leap year: all 29 days of February', '2024-03-31T12:00:00Z', 'M-1', 'UTC', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['M+1 on January 31: February, not March', '2024-01-31T12:00:00Z', 'M+1', 'UTC', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['M+1 in December: January of the next year', '2026-12-15T12:00:00Z', 'M+1', 'UTC', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['M-12: the same month a year before', '2026-06-15T12:00:00Z', 'M-12', 'UTC', '2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
    ['M0 holding Berlin\'s spring change', '2026-03-15T12:00:00Z', 'M0', BERLIN, '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'],
    ['M-1 by New York\'s date (Nov 30 22:00 EST): October', '2026-12-01T03:00:00Z', 'M-1', NY, '2026-10-01T04:00:00.000Z', '2026-11-01T04:00:00.000Z'],
    // Hours
    ['H0', '2026-03-15T10:42:13.500Z', 'H0', 'UTC', '2026-03-15T10:00:00.000Z', '2026-03-15T11:00:00.000Z'],
    ['H-2', '2026-03-15T10:42:13.500Z', 'H-2', 'UTC', '2026-03-15T08:00:00.000Z', '2026-03-15T09:00:00.000Z'],
    ['H+1', '2026-03-15T10:42:13.500Z', 'H+1', 'UTC', '2026-03-15T11:00:00.000Z', '2026-03-15T12:00:00.000Z'],
    ['H-1 over a year end', '2026-01-01T00:10:00Z', 'H-1', 'UTC', '2025-12-31T23:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['H0 in Kolkata (16:12 IST): hours start at :30 UTC', '2026-03-15T10:42:00Z', 'H0', KOLKATA, '2026-03-15T10:30:00.000Z', '2026-03-15T11:30:00.000Z'],
    ['H-1 in Kolkata', '2026-03-15T10:42:00Z', 'H-1', KOLKATA, '2026-03-15T09:30:00.000Z', '2026-03-15T10:30:00.000Z'],
    ['H0 in Kathmandu (16:27 NPT): hours start at :15 UTC', '2026-03-15T10:42:00Z', 'H0', KATHMANDU, '2026-03-15T10:15:00.000Z', '2026-03-15T11:15:00.000Z'],
    ['H0 in Kathmandu just before its hour (15:55 NPT)', '2026-03-15T10:10:00Z', 'H0', KATHMANDU, '2026-03-15T09:15:00.000Z', '2026-03-15T10:15:00.000Z'],
    ['H0 in Berlin\'s last winter hour (01:30 CET)', '2026-03-29T00:30:00Z', 'H0', BERLIN, '2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z'],
    ['H0 in Berlin\'s first summer hour (03:30 CEST)', '2026-03-29T01:30:00Z', 'H0', BERLIN, '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ['H-1 over Berlin\'s skipped hour: the real hour before (01:00 CET)', '2026-03-29T01:30:00Z', 'H-1', BERLIN, '2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z'],
    ['H0 in Berlin\'s first 02:00 hour (CEST)', '2026-10-25T00:30:00Z', 'H0', BERLIN, '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'],
    ['H0 in Berlin\'s repeated 02:00 hour (CET)', '2026-10-25T01:30:00Z', 'H0', BERLIN, '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    ['H-1 of the repeated hour: the first 02:00 hour', '2026-10-25T01:30:00Z', 'H-1', BERLIN, '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'],
    ['H+1 of the first 02:00 hour: the repeated one', '2026-10-25T00:30:00Z', 'H+1', BERLIN, '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    ['H-1 over New York\'s skipped hour (01:00 EST)', '2026-03-08T07:15:00Z', 'H-1', NY, '2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ['H0 in New York\'s first 01:00 hour (EDT)', '2026-11-01T05:30:00Z', 'H0', NY, '2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z'],
    ['H0 in New York\'s repeated 01:00 hour (EST)', '2026-11-01T06:30:00Z', 'H0', NY, '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ['H+1 of New York\'s first 01:00 hour', '2026-11-01T05:30:00Z', 'H+1', NY, '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ['H0 after Lord Howe\'s half-hour fall-back (01:40 +10:30): cut at the change', '2026-04-04T15:10:00Z', 'H0', LORD_HOWE, '2026-04-04T15:00:00.000Z', '2026-04-04T15:30:00.000Z'],
    ['H0 after Lord Howe\'s half-hour spring-forward (02:40 +11): cut at the change', '2026-10-03T15:40:00Z', 'H0', LORD_HOWE, '2026-10-03T15:30:00.000Z', '2026-10-03T16:00:00.000Z'],
    // Minutes
    ['mi0', '2026-03-15T10:42:13.500Z', 'mi0', 'UTC', '2026-03-15T10:42:00.000Z', '2026-03-15T10:43:00.000Z'],
    ['mi-5', '2026-03-15T10:42:13.500Z', 'mi-5', 'UTC', '2026-03-15T10:37:00.000Z', '2026-03-15T10:38:00.000Z'],
    ['mi+1', '2026-03-15T10:42:13.500Z', 'mi+1', 'UTC', '2026-03-15T10:43:00.000Z', '2026-03-15T10:44:00.000Z'],
    ['mi-1 over a year end', '2026-01-01T00:00:30Z', 'mi-1', 'UTC', '2025-12-31T23:59:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['mi0 in Kathmandu', '2026-03-15T10:42:13Z', 'mi0', KATHMANDU, '2026-03-15T10:42:00.000Z', '2026-03-15T10:43:00.000Z'],
    ['mi-1 at the start of Berlin\'s repeated hour: 02:59 CEST', '2026-10-25T01:00:30Z', 'mi-1', BERLIN, '2026-10-25T00:59:00.000Z', '2026-10-25T01:00:00.000Z'],
    ['mi-30 over New York\'s skipped hour (01:40 EST)', '2026-03-08T07:10:00Z', 'mi-30', NY, '2026-03-08T06:40:00.000Z', '2026-03-08T06:41:00.000Z'],
  ])('%s', (_what, t, text, tz, start, end) => {
    expect(isoWindow(referenceWindow(at(t), gap(text), tz))).toEqual([start, end]);
  });

  it.each([
    ['a non-finite trigger time', NaN, { unit: 'D', offset: 0 }],
    ['a fractional offset', 0, { unit: 'D', offset: 0.5 }],
    ['an unknown unit', 0, { unit: 'Y', offset: 0 }],
  ] as [string, number, CycleGap][])('throws a RangeError for %s', (_what, t, g) => {
    expect(() => referenceWindow(t, g, 'UTC')).toThrow(RangeError);
  });
});

describe('windowContains', () => {
  const w = { start: 1000, end: 2000 };
  it.each([
    [999, false],
    [1000, true],
    [1999, true],
    [2000, false],
  ])('at %d is %s (half-open)', (t, inside) => {
    expect(windowContains(w, t)).toBe(inside);
  });
});

describe('describeWindow', () => {
  it.each([
    ['a Shanghai day', '2026-11-30T04:00:00Z', 'D0', SHANGHAI, '2026-11-30 00:00 to 2026-12-01 00:00 Asia/Shanghai'],
    ['a Shanghai month over a year end', '2026-12-15T04:00:00Z', 'M0', SHANGHAI, '2026-12-01 00:00 to 2027-01-01 00:00 Asia/Shanghai'],
    ['Berlin\'s 25-hour day, without offsets', '2026-10-25T10:00:00Z', 'D0', BERLIN, '2026-10-25 00:00 to 2026-10-26 00:00 Europe/Berlin'],
    ['Berlin\'s spring hour, without offsets', '2026-03-29T00:30:00Z', 'H0', BERLIN, '2026-03-29 01:00 to 2026-03-29 03:00 Europe/Berlin'],
    ['Berlin\'s first 02:00 hour, with offsets', '2026-10-25T00:30:00Z', 'H0', BERLIN, '2026-10-25 02:00 GMT+2 to 2026-10-25 02:00 GMT+1 Europe/Berlin'],
    ['Berlin\'s repeated 02:00 hour, with offsets', '2026-10-25T01:30:00Z', 'H0', BERLIN, '2026-10-25 02:00 GMT+1 to 2026-10-25 03:00 GMT+1 Europe/Berlin'],
    ['a Kolkata hour', '2026-03-15T10:42:00Z', 'H0', KOLKATA, '2026-03-15 16:00 to 2026-03-15 17:00 Asia/Kolkata'],
    ['a UTC minute', '2026-03-15T10:42:13Z', 'mi-5', 'UTC', '2026-03-15 10:37 to 2026-03-15 10:38 UTC'],
  ])('writes %s', (_what, t, text, tz, expected) => {
    expect(describeWindow(referenceWindow(at(t), gap(text), tz), tz)).toBe(expected);
  });

  it('shows seconds when an end is off the minute', () => {
    expect(describeWindow({ start: at('2026-03-15T10:42:13.500Z'), end: at('2026-03-15T10:43:00Z') }, 'UTC')).toBe(
      '2026-03-15 10:42:13.500 to 2026-03-15 10:43:00.000 UTC',
    );
  });
});

describe('referenceWindow properties', () => {
  const ALL_ZONES = ['UTC', SHANGHAI, BERLIN, NY, KOLKATA, KATHMANDU, SANTIAGO, LORD_HOWE, 'Australia/Sydney'];
  // Zones whose every offset change is a whole number of hours at a wall-clock hour boundary.
  const WHOLE_HOUR_ZONES = ['UTC', SHANGHAI, BERLIN, NY, KOLKATA, KATHMANDU, 'Australia/Sydney'];
  // Uniform instants rarely land on a DST change, so half of them are drawn within 6 hours of one.
  const TRANSITIONS = [
    '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', // Berlin
    '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', // New York
    '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', // Lord Howe (30 minutes)
    '2026-04-04T16:00:00Z', '2026-10-03T16:00:00Z', // Sydney
    '2024-09-08T04:00:00Z', '2024-04-07T03:00:00Z', // Santiago (at midnight)
  ].map(at);
  const instant = fc.oneof(
    fc.integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2045, 0, 1) }),
    fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -6 * HOUR, max: 6 * HOUR })).map(([t, d]) => t + d),
  );
  const unit = fc.constantFrom<CycleGapUnit>(...CYCLE_GAP_UNITS);
  const offset = fc.integer({ min: -MAX_CYCLE_GAP_OFFSET, max: MAX_CYCLE_GAP_OFFSET });
  const UNIT_MS: Partial<Record<CycleGapUnit, number>> = { H: HOUR, mi: 60_000 };

  it('gives a non-empty window, and with offset 0 the one holding T', () => {
    fc.assert(
      fc.property(instant, unit, offset, fc.constantFrom(...ALL_ZONES), (t, u, k, tz) => {
        const w = referenceWindow(t, { unit: u, offset: k }, tz);
        expect(w.start).toBeLessThan(w.end);
        const w0 = referenceWindow(t, { unit: u, offset: 0 }, tz);
        expect(w0.start).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(w0.end);
      }),
      { numRuns: 400 },
    );
  });

  it('partitions time: every instant of a window has that window', () => {
    fc.assert(
      fc.property(instant, unit, offset, fc.constantFrom(...ALL_ZONES), (t, u, k, tz) => {
        const w = referenceWindow(t, { unit: u, offset: k }, tz);
        expect(referenceWindow(w.start, { unit: u, offset: 0 }, tz)).toEqual(w);
        expect(referenceWindow(w.end - 1, { unit: u, offset: 0 }, tz)).toEqual(w);
        expect(referenceWindow(w.end, { unit: u, offset: 0 }, tz).start).toBe(w.end);
      }),
      { numRuns: 300 },
    );
  });

  it('moves by whole units: the window of offset k+1 starts where that of k ends', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom<CycleGapUnit>('M', 'W', 'D'), offset, fc.constantFrom(...ALL_ZONES), (t, u, k, tz) => {
        const k1 = Math.min(k, MAX_CYCLE_GAP_OFFSET - 1);
        expect(referenceWindow(t, { unit: u, offset: k1 + 1 }, tz).start).toBe(referenceWindow(t, { unit: u, offset: k1 }, tz).end);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(instant, fc.constantFrom<CycleGapUnit>('H', 'mi'), offset, fc.constantFrom(...WHOLE_HOUR_ZONES), (t, u, k, tz) => {
        const k1 = Math.min(k, MAX_CYCLE_GAP_OFFSET - 1);
        expect(referenceWindow(t, { unit: u, offset: k1 + 1 }, tz).start).toBe(referenceWindow(t, { unit: u, offset: k1 }, tz).end);
      }),
      { numRuns: 300 },
    );
  });

  it('for H and mi is the offset-0 window shifted by k real units, and that of T shifted by k units', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom<CycleGapUnit>('H', 'mi'), offset, fc.constantFrom(...WHOLE_HOUR_ZONES), (t, u, k, tz) => {
        const ms = UNIT_MS[u]!;
        const w0 = referenceWindow(t, { unit: u, offset: 0 }, tz);
        const wk = referenceWindow(t, { unit: u, offset: k }, tz);
        expect(wk).toEqual({ start: w0.start + k * ms, end: w0.end + k * ms });
        expect(referenceWindow(t + k * ms, { unit: u, offset: 0 }, tz)).toEqual(wk);
        expect(wk.end - wk.start).toBe(ms);
      }),
      { numRuns: 300 },
    );
  });

  it('for D, W and M runs from a civil midnight (a Monday for W, a 1st for M) and has a plausible length', () => {
    const LENGTH_DAYS: Record<string, [number, number]> = { D: [1, 1], W: [7, 7], M: [28, 31] };
    fc.assert(
      fc.property(instant, fc.constantFrom<CycleGapUnit>('M', 'W', 'D'), offset, fc.constantFrom(...WHOLE_HOUR_ZONES), (t, u, k, tz) => {
        const w = referenceWindow(t, { unit: u, offset: k }, tz);
        const c = toCivil(w.start, tz);
        expect([c.hour, c.minute, c.second, c.millisecond]).toEqual([0, 0, 0, 0]);
        if (u === 'W') expect(weekday(c)).toBe(1);
        if (u === 'M') expect(c.day).toBe(1);
        const [lo, hi] = LENGTH_DAYS[u];
        expect(w.end - w.start).toBeGreaterThanOrEqual(lo * 86_400_000 - HOUR);
        expect(w.end - w.start).toBeLessThanOrEqual(hi * 86_400_000 + HOUR);
      }),
      { numRuns: 300 },
    );
  });

  it('for D is the same as the day of T moved by k days on the calendar (not by k * 24 hours)', () => {
    fc.assert(
      fc.property(instant, offset, fc.constantFrom(...ALL_ZONES), (t, k, tz) => {
        // Stepping one day at a time from the offset-0 window lands on the same window as jumping k days.
        let w = referenceWindow(t, { unit: 'D', offset: 0 }, tz);
        const steps = Math.min(Math.abs(k), 40);
        for (let i = 0; i < steps; i++) w = referenceWindow(k < 0 ? w.start - 1 : w.end, { unit: 'D', offset: 0 }, tz);
        expect(w).toEqual(referenceWindow(t, { unit: 'D', offset: Math.sign(k) * steps }, tz));
      }),
      { numRuns: 100 },
    );
  });
});
