// Wall-clock time in IANA zones without a date library: epoch ms <-> civil fields through cached Intl
// formatters, Java-style pattern formatting, GMT offset labels and pure calendar arithmetic.
// Pure: no I/O, no "now" (callers pass instants; the clock lives in clock.ts).
// Every civil field is the proleptic Gregorian calendar; month is 1-12 (not JS's 0-11).

export interface CivilTime {
  year: number;
  month: number /*1-12*/;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const MS_MINUTE = 60_000;
const MS_DAY = 86_400_000;

// Intl.DateTimeFormat construction costs tens of microseconds; toCivil is on the engine's hot path, so
// one formatter per zone (and per purpose) lives for the life of the process.
const civilFormatters = new Map<string, Intl.DateTimeFormat>();
const nameFormatters = new Map<string, Intl.DateTimeFormat>();
const validZones = new Map<string, boolean>();

function isUtc(tz: string): boolean {
  return tz === 'UTC' || tz === 'Etc/UTC';
}

function civilFormatter(tz: string): Intl.DateTimeFormat {
  let f = civilFormatters.get(tz);
  if (!f) {
    // en-US with h23: plain ASCII digits and hours 0-23 (hour12:false alone renders midnight as "24").
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    civilFormatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false;
  let ok = validZones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    validZones.set(tz, ok);
  }
  return ok;
}

/** Epoch ms of a civil time read as if it were UTC (Date.UTC maps years 0-99 to 19xx; this does not). */
function civilAsUtc(c: CivilTime): number {
  const d = new Date(Date.UTC(2000, c.month - 1, c.day, c.hour, c.minute, c.second, c.millisecond));
  d.setUTCFullYear(c.year, c.month - 1, c.day);
  return d.getTime();
}

function utcCivil(ms: number): CivilTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

export function toCivil(epochMs: number, tz: string): CivilTime {
  if (isUtc(tz)) return utcCivil(epochMs);
  const parts = civilFormatter(tz).formatToParts(epochMs);
  let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year': year = +p.value; break;
      case 'month': month = +p.value; break;
      case 'day': day = +p.value; break;
      case 'hour': hour = +p.value; break;
      case 'minute': minute = +p.value; break;
      case 'second': second = +p.value; break;
      case 'era': bc = p.value === 'BC' || p.value === 'B'; break;
    }
  }
  if (bc) year = 1 - year; // Intl counts eras; keep astronomical years so arithmetic stays uniform
  // Zone offsets are whole seconds, so the milliseconds of the instant are those of the wall clock.
  const millisecond = ((epochMs % 1000) + 1000) % 1000;
  return { year, month, day, hour, minute, second, millisecond };
}

/** Offset of tz from UTC at an instant, in ms (wall clock - UTC). */
function offsetMs(epochMs: number, tz: string): number {
  if (isUtc(tz)) return 0;
  return civilAsUtc(toCivil(epochMs, tz)) - epochMs;
}

export function offsetMinutes(epochMs: number, tz: string): number {
  return Math.round(offsetMs(epochMs, tz) / MS_MINUTE);
}

export function fromCivil(c: CivilTime, tz: string): number {
  const local = civilAsUtc(c);
  if (isUtc(tz)) return local;
  // The offsets a day either side bracket any single transition near this wall time; each yields a
  // candidate instant, valid when the zone really shows that offset there.
  const before = offsetMs(local - MS_DAY, tz);
  const after = offsetMs(local + MS_DAY, tz);
  const candidates: number[] = [];
  for (const off of before === after ? [before] : [before, after]) {
    const t = local - off;
    if (offsetMs(t, tz) === off) candidates.push(t);
  }
  // Repeated hour (fall back): both are valid, take the earlier instant.
  if (candidates.length > 0) return Math.min(...candidates);
  // Gap (spring forward): the wall time does not exist; reading it with the pre-transition offset lands
  // after the transition, i.e. the wall time moved forward by the size of the gap (02:30 -> 03:30).
  return local - before;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= width ? s : '0'.repeat(width - s.length) + s);
}

const TOKENS = ['yyyy', 'SSS', 'MM', 'dd', 'HH', 'mm', 'ss', 'S'] as const;
type Token = (typeof TOKENS)[number];

function renderToken(t: Token, c: CivilTime): string {
  switch (t) {
    case 'yyyy': return pad(c.year, 4);
    case 'MM': return pad(c.month, 2);
    case 'dd': return pad(c.day, 2);
    case 'HH': return pad(c.hour, 2);
    case 'mm': return pad(c.minute, 2);
    case 'ss': return pad(c.second, 2);
    case 'SSS': return pad(c.millisecond, 3);
    // One digit of tenths, as java.sql.Timestamp prints "...:05.0" (not SimpleDateFormat's ms count).
    case 'S': return String(Math.floor(c.millisecond / 100));
  }
}

/** Tokens yyyy MM dd HH mm ss SSS S (longest first); every other character is literal. */
export function formatCivil(c: CivilTime, pattern: string): string {
  let out = '';
  let i = 0;
  outer: while (i < pattern.length) {
    for (const t of TOKENS) {
      if (pattern.startsWith(t, i)) {
        out += renderToken(t, c);
        i += t.length;
        continue outer;
      }
    }
    out += pattern[i];
    i++;
  }
  return out;
}

/** True when the pattern has at least one token and no letters outside tokens (so "foo" is no pattern). */
export function isDatePattern(pattern: string): boolean {
  let i = 0;
  let tokens = 0;
  outer: while (i < pattern.length) {
    for (const t of TOKENS) {
      if (pattern.startsWith(t, i)) {
        tokens++;
        i += t.length;
        continue outer;
      }
    }
    if (/[A-Za-z]/.test(pattern[i])) return false;
    i++;
  }
  return tokens > 0;
}

export function formatInZone(epochMs: number, tz: string, pattern: string): string {
  return formatCivil(toCivil(epochMs, tz), pattern);
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function zoneAbbreviation(epochMs: number, tz: string): string {
  let f = nameFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' });
    nameFormatters.set(tz, f);
  }
  return f.formatToParts(epochMs).find((p) => p.type === 'timeZoneName')?.value ?? gmtOffsetLabel(epochMs, tz);
}

/** Java's Date.toString(), e.g. "Tue Feb 02 17:35:00 CST 2021" (the log banner's "current time"). */
export function javaDateString(epochMs: number, tz: string): string {
  const c = toCivil(epochMs, tz);
  const time = `${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}`;
  return `${DAY_NAMES[weekday(c)]} ${MONTH_NAMES[c.month - 1]} ${pad(c.day, 2)} ${time} ${zoneAbbreviation(epochMs, tz)} ${c.year}`;
}

/** "GMT+8", "GMT-5", "GMT+5:30", "GMT+0" (what Get Timezone answers, contract §6). */
export function gmtOffsetLabel(epochMs: number, tz: string): string {
  const off = offsetMinutes(epochMs, tz);
  const sign = off < 0 ? '-' : '+';
  const h = Math.floor(Math.abs(off) / 60);
  const m = Math.abs(off) % 60;
  return `GMT${sign}${h}${m === 0 ? '' : ':' + pad(m, 2)}`;
}

export function addDays(c: CivilTime, n: number): CivilTime {
  const moved = utcCivil(civilAsUtc({ ...c, hour: 12, minute: 0, second: 0, millisecond: 0 }) + n * MS_DAY);
  return { ...c, year: moved.year, month: moved.month, day: moved.day };
}

export function addMonths(c: CivilTime, n: number): CivilTime {
  const index = c.year * 12 + (c.month - 1) + n;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return { ...c, year, month, day: Math.min(c.day, daysInMonth(year, month)) };
}

export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

export function weekday(c: CivilTime): number {
  return new Date(civilAsUtc({ ...c, hour: 12, minute: 0, second: 0, millisecond: 0 })).getUTCDay();
}
