import { describe, expect, it } from 'vitest';
import type { CivilTime } from '../../src/domain/time.js';
import {
  addDays,
  addMonths,
  daysInMonth,
  formatCivil,
  formatInZone,
  fromCivil,
  gmtOffsetLabel,
  isValidTimeZone,
  javaDateString,
  offsetMinutes,
  toCivil,
  weekday,
} from '../../src/domain/time.js';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const at = (iso: string) => Date.parse(iso);
const civil = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): CivilTime => ({
  year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms,
});

describe('isValidTimeZone', () => {
  it.each([
    ['UTC', true],
    ['Asia/Shanghai', true],
    ['America/New_York', true],
    ['Mars/Olympus', false],
    ['', false],
  ])('says %j is valid: %s', (tz, ok) => {
    expect(isValidTimeZone(tz)).toBe(ok);
  });
});

describe('toCivil', () => {
  it.each([
    ['2021-02-02T09:35:00.250Z', 'UTC', civil(2021, 2, 2, 9, 35, 0, 250)],
    ['2021-02-02T09:35:00.250Z', 'Asia/Shanghai', civil(2021, 2, 2, 17, 35, 0, 250)],
    ['2021-02-02T09:35:00Z', 'Asia/Kolkata', civil(2021, 2, 2, 15, 5)],
    ['2021-02-02T09:35:00Z', NY, civil(2021, 2, 2, 4, 35)],
    ['2021-07-02T09:35:00Z', NY, civil(2021, 7, 2, 5, 35)],
    ['2020-07-05T16:00:00Z', 'Asia/Shanghai', civil(2020, 7, 6, 0, 0)],
    ['2026-11-01T05:30:00Z', NY, civil(2026, 11, 1, 1, 30)],
    ['2026-11-01T06:30:00Z', NY, civil(2026, 11, 1, 1, 30)],
  ])('reads %s in %s as the wall clock there', (iso, tz, expected) => {
    expect(toCivil(at(iso), tz)).toEqual(expected);
  });

  it('reads midnight as hour 0, never 24', () => {
    expect(toCivil(at('2026-01-01T05:00:00Z'), NY).hour).toBe(0);
  });
});

describe('fromCivil', () => {
  it.each([
    ['an ordinary time in UTC', civil(2021, 2, 2, 9, 35), 'UTC', '2021-02-02T09:35:00.000Z'],
    ['an ordinary time in Asia/Shanghai', civil(2021, 2, 2, 17, 35, 1, 5), 'Asia/Shanghai', '2021-02-02T09:35:01.005Z'],
    ['a half-hour zone', civil(2021, 2, 2, 15, 5), 'Asia/Kolkata', '2021-02-02T09:35:00.000Z'],
    ['a time in the New York gap, moved forward by the gap (02:30 -> 03:30 EDT)', civil(2026, 3, 8, 2, 30), NY, '2026-03-08T07:30:00.000Z'],
    ['the repeated New York hour, taking the earlier (EDT) instant', civil(2026, 11, 1, 1, 30), NY, '2026-11-01T05:30:00.000Z'],
    ['a time in the Berlin gap (02:30 -> 03:30 CEST)', civil(2026, 3, 29, 2, 30), BERLIN, '2026-03-29T01:30:00.000Z'],
    ['the repeated Berlin hour, taking the earlier (CEST) instant', civil(2026, 10, 25, 2, 30), BERLIN, '2026-10-25T00:30:00.000Z'],
    ['the hour after the New York fall-back', civil(2026, 11, 1, 2, 30), NY, '2026-11-01T07:30:00.000Z'],
  ])('turns %s into the right instant', (_what, c, tz, iso) => {
    expect(new Date(fromCivil(c, tz)).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-03-08T06:59:59.999Z', NY],
    ['2026-03-08T07:00:00Z', NY],
    ['2026-11-01T05:59:00Z', NY],
    ['1970-01-01T00:00:00Z', 'Asia/Kolkata'],
    ['2024-02-29T23:59:59.999Z', 'Asia/Shanghai'],
  ])('round-trips %s in %s', (iso, tz) => {
    expect(fromCivil(toCivil(at(iso), tz), tz)).toBe(at(iso));
  });
});

describe('formatInZone and formatCivil', () => {
  it.each([
    ['2021-02-02T09:35:05.000Z', 'Asia/Shanghai', 'yyyy-MM-dd HH:mm:ss.S', '2021-02-02 17:35:05.0'],
    ['2021-02-02T09:35:05.987Z', 'Asia/Shanghai', 'yyyy-MM-dd HH:mm:ss.S', '2021-02-02 17:35:05.9'],
    ['2021-02-02T09:35:05.007Z', 'UTC', 'HH:mm:ss.SSS', '09:35:05.007'],
    ['2021-02-02T09:35:05Z', 'UTC', 'yyyyMMddHHmmss', '20210202093505'],
    ['2021-02-02T09:35:05Z', 'UTC', 'dd/MM/yyyy [x] T', '02/02/2021 [x] T'],
    ['0099-03-04T05:06:07Z', 'UTC', 'yyyy-MM-dd', '0099-03-04'],
  ])('renders %s in %s with %j as %j', (iso, tz, pattern, expected) => {
    expect(formatInZone(at(iso), tz, pattern)).toBe(expected);
  });

  it('formats civil fields without a zone', () => {
    expect(formatCivil(civil(2017, 5, 7, 3, 4, 5, 600), 'yyyyMMdd HH:mm:ss.S')).toBe('20170507 03:04:05.6');
  });
});

describe('javaDateString', () => {
  it.each([
    ['2021-02-02T09:35:00Z', 'UTC', 'Tue Feb 02 09:35:00 UTC 2021'],
    ['2021-02-02T09:35:00Z', 'Asia/Shanghai', 'Tue Feb 02 17:35:00 GMT+8 2021'],
    ['2021-02-02T09:35:00Z', NY, 'Tue Feb 02 04:35:00 EST 2021'],
    ['2019-08-08T03:22:38Z', NY, 'Wed Aug 07 23:22:38 EDT 2019'],
    ['2019-08-08T03:22:38Z', 'UTC', 'Thu Aug 08 03:22:38 UTC 2019'],
  ])('renders %s in %s like Java Date.toString()', (iso, tz, expected) => {
    expect(javaDateString(at(iso), tz)).toBe(expected);
  });
});

describe('gmtOffsetLabel and offsetMinutes', () => {
  it.each([
    ['UTC', '2026-01-15T00:00:00Z', 'GMT+0', 0],
    ['Asia/Shanghai', '2026-01-15T00:00:00Z', 'GMT+8', 480],
    ['Asia/Kolkata', '2026-01-15T00:00:00Z', 'GMT+5:30', 330],
    [NY, '2026-01-15T00:00:00Z', 'GMT-5', -300],
    [NY, '2026-07-15T00:00:00Z', 'GMT-4', -240],
    ['Asia/Kathmandu', '2026-01-15T00:00:00Z', 'GMT+5:45', 345],
    ['America/St_Johns', '2026-01-15T00:00:00Z', 'GMT-3:30', -210],
  ])('labels %s at %s as %s', (tz, iso, label, minutes) => {
    expect(gmtOffsetLabel(at(iso), tz)).toBe(label);
    expect(offsetMinutes(at(iso), tz)).toBe(minutes);
  });
});

describe('calendar arithmetic', () => {
  it.each([
    [civil(2024, 2, 28, 13, 5), 1, civil(2024, 2, 29, 13, 5)],
    [civil(2024, 2, 28), 2, civil(2024, 3, 1)],
    [civil(2023, 2, 28), 1, civil(2023, 3, 1)],
    [civil(2023, 12, 31, 23, 59, 59, 999), 1, civil(2024, 1, 1, 23, 59, 59, 999)],
    [civil(2024, 3, 1), -1, civil(2024, 2, 29)],
    [civil(2017, 5, 26), -30, civil(2017, 4, 26)],
    [civil(2026, 3, 7, 2, 30), 1, civil(2026, 3, 8, 2, 30)],
  ])('addDays(%j, %i) keeps the time of day', (c, n, expected) => {
    expect(addDays(c, n)).toEqual(expected);
  });

  it.each([
    [civil(2024, 1, 31, 8), 1, civil(2024, 2, 29, 8)],
    [civil(2023, 1, 31), 1, civil(2023, 2, 28)],
    [civil(2024, 3, 31), -1, civil(2024, 2, 29)],
    [civil(2024, 2, 29), 12, civil(2025, 2, 28)],
    [civil(2024, 12, 15), 1, civil(2025, 1, 15)],
    [civil(2024, 1, 15), -13, civil(2022, 12, 15)],
    [civil(2024, 5, 31), 1, civil(2024, 6, 30)],
  ])('addMonths(%j, %i) clamps the day to the month end', (c, n, expected) => {
    expect(addMonths(c, n)).toEqual(expected);
  });

  it.each([
    [2024, 2, 29], [2023, 2, 28], [1900, 2, 28], [2000, 2, 29], [2026, 4, 30], [2026, 12, 31], [2026, 1, 31],
  ])('daysInMonth(%i, %i) is %i', (y, m, n) => {
    expect(daysInMonth(y, m)).toBe(n);
  });

  it.each([
    [civil(2017, 5, 26), 5],
    [civil(2026, 3, 8), 0],
    [civil(2000, 1, 1), 6],
    [civil(2024, 2, 29), 4],
    [civil(2026, 3, 2), 1],
  ])('weekday(%j) is %i (0 = Sunday)', (c, w) => {
    expect(weekday(c)).toBe(w);
  });
});
