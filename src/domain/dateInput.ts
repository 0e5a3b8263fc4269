// Dates a person types (the CLI's `store purge --before`): `yyyy-MM-dd` (its midnight) or
// `yyyy-MM-dd HH:mm:ss` in the service time zone, or ISO 8601 with an offset (`2024-05-01T00:00:00Z`,
// `2024-05-01T08:00+08:00`). Pure: the zone is the caller's. An impossible date (February 30, hour 24, an
// offset past 14 hours) is refused rather than rolled over into another day.
import { daysInMonth, fromCivil } from './time.js';

const ZONED = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch ms of `text` (see the header), or null when it is none of the accepted forms or not a real time. */
export function parseDateInput(text: string, tz: string): number | null {
  const s = text.trim();
  const z = ZONED.exec(s);
  if (z) {
    const c = { year: +z[1], month: +z[2], day: +z[3], hour: +(z[4] ?? 0), minute: +(z[5] ?? 0), second: +(z[6] ?? 0), millisecond: 0 };
    return valid(c) ? fromCivil(c, tz) : null;
  }
  const m = ISO.exec(s);
  if (!m) return null;
  const c = { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], second: +(m[6] ?? 0), millisecond: +(m[7] ?? '0').padEnd(3, '0') };
  if (!valid(c)) return null;
  const offH = m[8] === 'Z' ? 0 : +m[10];
  const offM = m[8] === 'Z' ? 0 : +m[11];
  if (offH > 14 || offM > 59) return null;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second, c.millisecond) - offsetMs;
}

function valid(c: { year: number; month: number; day: number; hour: number; minute: number; second: number }): boolean {
  return c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= daysInMonth(c.year, c.month) && c.hour <= 23 && c.minute <= 59 && c.second <= 59;
}
