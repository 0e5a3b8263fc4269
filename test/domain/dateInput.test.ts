// The dates `store purge --before` reads: the service zone's yyyy-MM-dd and yyyy-MM-dd HH:mm:ss, ISO 8601
// with an offset, and nothing else (no rollover of impossible dates, no zone-less ISO form).
import { describe, expect, it } from 'vitest';
import { parseDateInput } from '../../src/domain/dateInput.js';

describe('parseDateInput', () => {
  it.each([
    ['2024-05-01', 'UTC', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01', 'Asia/Shanghai', '2024-04-30T16:00:00.000Z'],
    ['2024-05-01 08:30:15', 'Asia/Shanghai', '2024-05-01T00:30:15.000Z'],
    ['2024-02-29 23:59:59', 'UTC', '2024-02-29T23:59:59.000Z'],
    ['2024-05-01T00:00:00Z', 'Asia/Shanghai', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T08:00+08:00', 'UTC', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T00:00:00.5-0130', 'UTC', '2024-05-01T01:30:00.500Z'],
    ['  2024-05-01  ', 'UTC', '2024-05-01T00:00:00.000Z'],
  ])('reads %j in %s as %s', (text, tz, iso) => {
    expect(new Date(parseDateInput(text, tz)!).toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2024-5-1', '2024-02-30', '2023-02-29', '2024-13-01', '2024-05-01 24:00:00', '2024-05-01 10:00', '2024-05-01T00:00:00', '2024-05-01T00:00Z+01:00', '2024-05-01T00:00+15:00', '1714521600000'])(
    'refuses %j',
    (text) => expect(parseDateInput(text, 'UTC')).toBeNull(),
  );
});
