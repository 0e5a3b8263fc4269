import { describe, expect, it } from 'vitest';
import { evalTimeExpression } from '../../src/domain/timeExpr.js';

const NY = 'America/New_York';
const at = (iso: string) => Date.parse(iso);

describe('evalTimeExpression in UTC', () => {
  it.each([
    // plain patterns
    ['2017-05-27T05:50:41Z', 'yyyyMMdd', '20170527'],
    ['2017-05-27T05:50:41Z', 'yyyy-MM-dd', '2017-05-27'],
    ['2017-05-27T05:50:41Z', 'HHmmss', '055041'],
    ['2017-05-27T05:50:41Z', 'yyyyMMddHHmmss', '20170527055041'],
    ['2017-05-27T05:50:41Z', ' yyyy/MM/dd HH:mm ', '2017/05/27 05:50'],
    // day offsets across month ends and leap days
    ['2024-03-01T00:30:00Z', 'yyyyMMdd-1', '20240229'],
    ['2024-02-29T10:00:00Z', 'yyyyMMdd+1', '20240301'],
    ['2024-02-29T10:00:00Z', 'yyyyMMdd-365', '20230301'],
    ['2023-02-10T12:00:00Z', 'yyyyMMdd+18', '20230228'],
    ['2023-02-10T12:00:00Z', 'yyyyMMdd+19', '20230301'],
    ['2026-03-08T12:00:00Z', 'yyyyMMdd-7', '20260301'],
    ['2026-03-08T12:00:00Z', 'yyyyMMdd+7*2', '20260322'],
    ['2017-05-27T05:50:41Z', 'yyyy-MM-dd-1', '2017-05-26'],
    // fractional offsets: hours and minutes
    ['2024-03-01T00:30:00Z', 'yyyyMMddHHmmss-1/24', '20240229233000'],
    ['2024-03-01T00:30:00Z', 'yyyyMMddHHmm-1/24/60*30', '202403010000'],
    ['2024-01-01T23:59:30Z', 'HHmmss+1/24/60', '000030'],
    ['2024-01-01T23:59:30Z', 'yyyyMMddHHmmss+1/24/60', '20240102000030'],
    ['2026-03-08T12:00:00Z', 'HHmmss+1/24', '130000'],
    // add_months clamps to the month end
    ['2024-03-31T08:15:00Z', 'add_months(yyyy-MM-dd,-1)', '2024-02-29'],
    ['2023-03-31T08:15:00Z', 'add_months(yyyy-MM-dd,-1)', '2023-02-28'],
    ['2024-02-29T10:00:00Z', 'add_months(yyyyMMdd,12)', '20250228'],
    ['2024-02-29T10:00:00Z', 'add_months(yyyyMMdd,12*4)', '20280229'],
    ['2024-02-29T10:00:00Z', 'add_months(yyyyMMdd,-12)', '20230228'],
    ['2024-03-31T08:15:00Z', 'add_months(yyyy-MM-dd HH:mm, 1)', '2024-04-30 08:15'],
    // this_day, last_day
    ['2024-03-31T08:15:00Z', 'this_day(yyyy-MM-dd)', '2024-03-31'],
    ['2024-02-10T08:15:00Z', 'last_day(yyyy-MM-dd)', '2024-02-29'],
    ['2023-02-10T12:00:00Z', 'last_day(yyyy-MM-dd)', '2023-02-28'],
    ['2023-12-10T12:00:00Z', 'last_day(yyyyMMdd)', '20231231'],
    // weeks: Monday .. Sunday; 2026-03-08 is a Sunday, 2026-03-02 a Monday
    ['2026-03-08T12:00:00Z', 'week_first_day(yyyy-MM-dd,0)', '2026-03-02'],
    ['2026-03-08T12:00:00Z', 'week_last_day(yyyy-MM-dd,0)', '2026-03-08'],
    ['2026-03-08T12:00:00Z', 'week_first_day(yyyy-MM-dd,1)', '2026-03-09'],
    ['2026-03-08T12:00:00Z', 'week_first_day(yyyyMMdd,-1)', '20260223'],
    ['2026-03-08T12:00:00Z', 'week_last_day(yyyy-MM-dd,-1)', '2026-03-01'],
    ['2026-03-02T00:00:00Z', 'week_first_day(yyyy-MM-dd,0)', '2026-03-02'],
    ['2021-01-01T00:00:00Z', 'week_first_day(yyyy-MM-dd,0)', '2020-12-28'],
    // months
    ['2024-03-31T08:15:00Z', 'month_first_day(yyyy-MM-dd,-1)', '2024-02-01'],
    ['2024-03-31T08:15:00Z', 'month_last_day(yyyy-MM-dd,-1)', '2024-02-29'],
    ['2024-03-31T08:15:00Z', 'month_last_day(yyyy-MM-dd,0)', '2024-03-31'],
    ['2024-12-15T08:15:00Z', 'month_first_day(yyyyMMdd,1)', '20250101'],
    // ISO year-week
    ['2026-03-08T12:00:00Z', 'year_week(yyyy-MM-dd)', '2026-10'],
    ['2026-03-08T12:00:00Z', 'year_week(yyyyMMdd)', '202610'],
    ['2021-01-01T00:00:00Z', 'year_week(yyyy-MM-dd)', '2020-53'],
    ['2024-12-30T05:00:00Z', 'year_week(yyyy-MM-dd)', '2025-01'],
  ])('at %s, $[%s] is %s', (iso, expr, expected) => {
    expect(evalTimeExpression(expr, at(iso), 'UTC')).toBe(expected);
  });
});

describe('evalTimeExpression across DST changes in America/New_York', () => {
  it.each([
    ['keeps the wall clock for -1 day across spring-forward', '2026-03-08T16:00:00Z', 'yyyy-MM-dd HH:mm:ss-1', '2026-03-07 12:00:00'],
    ['keeps the wall clock for +1 day across spring-forward', '2026-03-08T16:00:00Z', 'yyyy-MM-dd HH:mm:ss+1', '2026-03-09 12:00:00'],
    ['treats 24/24 as a whole day', '2026-03-08T16:00:00Z', 'yyyy-MM-dd HH:mm:ss-24/24', '2026-03-07 12:00:00'],
    ['keeps the wall clock for -1 day across fall-back', '2026-11-01T17:00:00Z', 'yyyy-MM-dd HH:mm:ss-1', '2026-10-31 12:00:00'],
    ['keeps the wall clock for +1 day into fall-back day', '2026-10-31T16:00:00Z', 'yyyy-MM-dd HH:mm:ss+1', '2026-11-01 12:00:00'],
    ['moves a day step landing in the gap forward by the gap', '2026-03-09T06:30:00Z', 'yyyy-MM-dd HH:mm-1', '2026-03-08 03:30'],
    ['steps one real hour back over the gap (03:30 EDT -> 01:30 EST)', '2026-03-08T07:30:00Z', 'yyyy-MM-dd HH:mm:ss-1/24', '2026-03-08 01:30:00'],
    ['steps one real hour back into the repeated hour (01:30 EST -> 01:30 EDT)', '2026-11-01T06:30:00Z', 'yyyy-MM-dd HH:mm:ss-1/24', '2026-11-01 01:30:00'],
    ['steps one real hour forward out of EDT (01:30 EDT -> 01:30 EST)', '2026-11-01T05:30:00Z', 'yyyyMMddHHmm+1/24', '202611010130'],
    ['renders the trigger time in the zone', '2026-11-01T05:30:00Z', 'yyyyMMdd', '20261101'],
  ])('%s', (_what, iso, expr, expected) => {
    expect(evalTimeExpression(expr, at(iso), NY)).toBe(expected);
  });
});

describe('evalTimeExpression with unparseable input', () => {
  it.each([
    '', '   ', 'foo', '1+2', 'yyyyMMdd-abc', 'yyyyMMdd-1/0', 'yyyyMMdd+1)', 'add_months(yyyyMMdd)',
    'add_months(yyyyMMdd,1.5)', 'add_months(foo,1)', 'nope(yyyyMMdd)', 'this_day(yyyyMMdd,1)',
    'week_first_day(yyyy-MM-dd)', 'month_last_day(yyyy-MM-dd,x)', "yyyyMMdd'T'HH",
  ])('gives undefined for %j', (expr) => {
    expect(evalTimeExpression(expr, at('2024-03-01T00:00:00Z'), 'UTC')).toBeUndefined();
  });
});
