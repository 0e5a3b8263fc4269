import { describe, expect, it } from 'vitest';
import { dueFire, effectiveDateStart, lowerBound, MISSED_COUNT_CAP } from '../../src/domain/fires.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('effectiveDateStart', () => {
  it.each([
    ['2024-03-04', 'UTC', '2024-03-04T00:00:00.000Z'],
    ['2024-03-04', 'Asia/Shanghai', '2024-03-03T16:00:00.000Z'],
    // Santiago's spring-forward skips midnight: the day starts at 01:00 -03.
    ['2024-09-08', 'America/Santiago', '2024-09-08T04:00:00.000Z'],
  ])('puts %s in %s at its first instant', (date, tz, expected) => {
    expect(iso(effectiveDateStart(date, tz))).toBe(expected);
  });

  it('is no bound for ""', () => {
    expect(effectiveDateStart('', 'UTC')).toBe(-Infinity);
  });
});

describe('lowerBound', () => {
  const s = { freq: '0 * * * * ? *', startDate: '2024-03-02', scheduleFrom: at('2024-03-02T10:20:30Z') };
  it.each([
    ['scheduleFrom when later than the effective date', s, null, '2024-03-02T10:20:30.000Z'],
    ['the effective date when later than scheduleFrom', { ...s, startDate: '2024-03-05' }, null, '2024-03-05T00:00:00.000Z'],
    ['the minute after the latest fire made when later still', s, at('2024-03-02T11:00:00Z'), '2024-03-02T11:01:00.000Z'],
    ['the minute after a fire made mid-minute', s, at('2024-03-02T11:00:42Z'), '2024-03-02T11:01:00.000Z'],
  ])('is %s', (_what, sched, last, expected) => {
    expect(iso(lowerBound(sched, last, 'UTC'))).toBe(expected);
  });
});

describe('dueFire', () => {
  it('is null while the next fire is in the future', () => {
    expect(dueFire('0 * * * * ? *', at('2024-03-02T10:21:00Z'), at('2024-03-02T10:20:59.999Z'), 'UTC')).toBeNull();
  });

  it('makes a fire on time and plans the next one', () => {
    const d = dueFire('0 * * * * ? *', at('2024-03-02T10:21:00Z'), at('2024-03-02T10:21:00.004Z'), 'UTC')!;
    expect({ ...d, fireAt: iso(d.fireAt), nextAt: iso(d.nextAt) }).toEqual({
      fireAt: '2024-03-02T10:21:00.000Z', missed: 0, missedCapped: false, nextAt: '2024-03-02T10:22:00.000Z',
    });
  });

  it('collapses several due fires into the most recent and counts the others', () => {
    const d = dueFire('0 0/10 * * * ? *', at('2024-03-02T10:20:00Z'), at('2024-03-02T11:05:00Z'), 'UTC')!;
    expect([iso(d.fireAt), d.missed, iso(d.nextAt)]).toEqual(['2024-03-02T11:00:00.000Z', 4, '2024-03-02T11:10:00.000Z']);
  });

  it('fires a per-second cron once a minute, at the first second of the minute', () => {
    const onTime = dueFire('* * * * * ? *', at('2024-03-02T10:21:00Z'), at('2024-03-02T10:21:00.010Z'), 'UTC')!;
    expect([iso(onTime.fireAt), onTime.missed, iso(onTime.nextAt)]).toEqual(['2024-03-02T10:21:00.000Z', 0, '2024-03-02T10:22:00.000Z']);
    const late = dueFire('* * * * * ? *', at('2024-03-02T10:21:00Z'), at('2024-03-02T10:23:37.500Z'), 'UTC')!;
    expect([iso(late.fireAt), late.missed, iso(late.nextAt)]).toEqual(['2024-03-02T10:23:00.000Z', 2, '2024-03-02T10:24:00.000Z']);
  });

  it('stops counting dropped fires at the cap', () => {
    const d = dueFire('0 * * * * ? *', at('2024-01-01T00:00:00Z'), at('2024-03-01T00:00:30Z'), 'UTC')!;
    expect([iso(d.fireAt), d.missed, d.missedCapped]).toEqual(['2024-03-01T00:00:00.000Z', MISSED_COUNT_CAP, true]);
  });
});
