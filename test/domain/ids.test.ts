import { describe, expect, it } from 'vitest';
import { flowInstanceId, instanceSuffix, parseInstanceId, taskInstanceId } from '../../src/domain/ids.js';

const at = (iso: string) => Date.parse(iso);

describe('flowInstanceId', () => {
  it.each([
    // The reference's Trigger Flow From Task sample: triggerTime 1594016819108 -> 3377-20200706062600 (UTC).
    ['matches the reference sample in UTC', 3377, 1594016819108, 'UTC', '3377-20200706062600'],
    ['renders the same instant in Asia/Shanghai', 3377, 1594016819108, 'Asia/Shanghai', '3377-20200706142600'],
    ['renders the same instant in Asia/Kolkata (half-hour offset)', 3377, 1594016819108, 'Asia/Kolkata', '3377-20200706115600'],
    ['cuts the last millisecond of a minute to that minute', 1, at('2020-07-06T06:26:59.999Z'), 'UTC', '1-20200706062600'],
    ['starts the next minute at :00.000', 1, at('2020-07-06T06:27:00.000Z'), 'UTC', '1-20200706062700'],
    ['rolls Kolkata over to 12:00 at 06:30 UTC', 1, at('2020-07-06T06:30:00Z'), 'Asia/Kolkata', '1-20200706120000'],
    ['keeps 11:59 in Kolkata just before', 1, at('2020-07-06T06:29:59.999Z'), 'Asia/Kolkata', '1-20200706115900'],
    ['puts 16:00 UTC on the next day in Shanghai', 1, at('2020-07-05T16:00:00Z'), 'Asia/Shanghai', '1-20200706000000'],
    ['keeps 15:59 UTC on the same day in Shanghai', 1, at('2020-07-05T15:59:59Z'), 'Asia/Shanghai', '1-20200705235900'],
    ['builds 1970 ids from a past trigger time', 2791, 0, 'UTC', '2791-19700101000000'],
  ])('%s', (_what, flowId, time, tz, expected) => {
    expect(flowInstanceId(flowId, time, tz)).toBe(expected);
  });

  it('gives two real minutes of the repeated autumn hour the same suffix (01:30 EDT and 01:30 EST)', () => {
    const edt = instanceSuffix(at('2026-11-01T05:30:00Z'), 'America/New_York');
    const est = instanceSuffix(at('2026-11-01T06:30:00Z'), 'America/New_York');
    expect(edt).toBe('20261101013000');
    expect(est).toBe(edt);
  });

  it('always ends the suffix in 00 and has 14 digits', () => {
    expect(instanceSuffix(at('2021-02-02T11:35:47.123Z'), 'UTC')).toBe('20210202113500');
  });
});

describe('taskInstanceId', () => {
  it('joins the task id and the flow instance suffix', () => {
    expect(taskInstanceId(118979, '20210202113500')).toBe('118979-20210202113500');
  });
});

describe('parseInstanceId', () => {
  it.each([
    ['3377-20200706062600', { head: 3377, suffix: '20200706062600' }],
    ['0-19700101000000', { head: 0, suffix: '19700101000000' }],
  ])('reads %s', (id, expected) => {
    expect(parseInstanceId(id)).toEqual(expected);
  });

  it.each([
    ['a 12-digit suffix', '2438-201907261239'],
    ['a 10-digit suffix', '8435-2021020211'],
    ['a 15-digit suffix', '1-202007060626000'],
    ['a negative head', '-1-20200706062600'],
    ['trailing text', '3377-20200706062600x'],
    ['leading space', ' 3377-20200706062600'],
    ['an underscore', '3377_20200706062600'],
    ['no head', '-20200706062600'],
    ['an empty string', ''],
    ['letters', 'abc-defghijklmnopq'],
  ])('refuses %s', (_what, id) => {
    expect(parseInstanceId(id)).toBeNull();
  });
});
