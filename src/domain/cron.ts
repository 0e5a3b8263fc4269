// Quartz cron for periodic flows (`freq`, contract §5): `sec min hour day-of-month month day-of-week [year]`.
// Validation is ours (Quartz's grammar and ranges, messages naming the field); matching is croner's,
// run in Quartz mode (alternativeWeekdays: 1=SUN..7=SAT, the translation from croner's 0/7=SUN) with
// its native year field. Pure: compiled patterns are cached, nothing is scheduled.
//
// DST, as croner 11 does it (tests pin it down): a "fixed-time" expression (one value each in seconds,
// minutes and hours, e.g. `0 30 2 * * ? *`) whose wall time falls in a spring-forward gap fires at the
// first valid time after the gap (America/New_York 2026-03-08 02:30 -> 03:00 EDT; Europe/Berlin
// 2026-03-29 02:30 -> 03:00 CEST), and in a fall-back repeated hour fires once, at the first (summer
// time) occurrence. An "interval" expression (`0 0/30 * * * ? *`) skips gap times and fires in both
// passes of a repeated hour; both fires map to one instance id (contract §4), so the second is refused
// as a duplicate. Quartz itself differs in details here; croner's rules are the documented ones.
import { Cron } from 'croner';

type FieldKind = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek' | 'year';

const FIELDS: ReadonlyArray<{ kind: FieldKind; label: string; min: number; max: number }> = [
  { kind: 'second', label: 'seconds', min: 0, max: 59 },
  { kind: 'minute', label: 'minutes', min: 0, max: 59 },
  { kind: 'hour', label: 'hours', min: 0, max: 23 },
  { kind: 'dayOfMonth', label: 'day-of-month', min: 1, max: 31 },
  { kind: 'month', label: 'month', min: 1, max: 12 },
  { kind: 'dayOfWeek', label: 'day-of-week', min: 1, max: 7 },
  // Quartz's own year range.
  { kind: 'year', label: 'year', min: 1970, max: 2099 },
];

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** A value of the field: digits in range, or a month/day name (Quartz numbering: SUN=1). */
function valueOf(text: string, kind: FieldKind): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  const upper = text.toUpperCase();
  if (kind === 'month' && MONTHS.includes(upper)) return MONTHS.indexOf(upper) + 1;
  if (kind === 'dayOfWeek' && DAYS.includes(upper)) return DAYS.indexOf(upper) + 1;
  return null;
}

/** Checks one comma-separated item of a field; returns a problem or null. */
function checkItem(item: string, f: (typeof FIELDS)[number]): string | null {
  const inRange = (t: string): string | null => {
    const v = valueOf(t, f.kind);
    if (v === null) return `'${t}' is not a ${f.label} value`;
    if (v < f.min || v > f.max) return `${t} is out of range ${f.min}-${f.max}`;
    return null;
  };
  if (f.kind === 'dayOfMonth') {
    if (item === 'L' || item === 'LW') return null;
    if (/^L-\d+$/.test(item)) return `'${item}' (offset from the last day) is not supported`;
    const w = /^(\d+)W$/.exec(item);
    if (w) return inRange(w[1]);
  }
  if (f.kind === 'dayOfWeek') {
    if (item === 'L') return null; // Quartz: 'L' alone in day-of-week is 7 (Saturday); parseQuartz rewrites it
    const last = /^([A-Za-z]+|\d+)L$/.exec(item);
    if (last) return inRange(last[1]);
    const nth = /^([A-Za-z]+|\d+)#(\d+)$/.exec(item);
    if (nth) {
      const nthProblem = inRange(nth[1]);
      if (nthProblem) return nthProblem;
      const n = Number(nth[2]);
      return n >= 1 && n <= 5 ? null : `'${item}': the occurrence after # must be 1-5`;
    }
  }
  const [base, step, extra] = item.split('/');
  if (extra !== undefined) return `'${item}' has more than one '/'`;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) return `'${item}': the step must be a positive number`;
  if (base === '*') return null;
  const bounds = base.split('-');
  if (bounds.length > 2 || bounds.some((b) => b === '')) return `'${item}' is not a valid ${f.label} range`;
  for (const b of bounds) {
    const problem = inRange(b);
    if (problem) return problem;
  }
  if (bounds.length === 2 && valueOf(bounds[0], f.kind)! > valueOf(bounds[1], f.kind)!) {
    return `'${item}': the range start is after its end`;
  }
  return null;
}

/** The expression's fields, with '?' validated and made '*' (croner's reading of '?'), and a lone 'L' in
 * day-of-week made 7 (Quartz's Saturday; croner reads 'L' only after a weekday). */
function parseQuartz(expr: string): { fields: string[] } | { error: string } {
  if (typeof expr !== 'string' || expr.trim() === '') return { error: 'the cron expression is empty' };
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 6 && fields.length !== 7) {
    return { error: `a Quartz cron has 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), got ${fields.length}` };
  }
  for (let i = 0; i < fields.length; i++) {
    const f = FIELDS[i];
    const text = fields[i];
    if (text === '?') {
      if (f.kind !== 'dayOfMonth' && f.kind !== 'dayOfWeek') return { error: `'?' is allowed only in day-of-month or day-of-week, not in ${f.label}` };
      continue;
    }
    for (const item of text.split(',')) {
      const problem = checkItem(item, f);
      if (problem) return { error: `${f.label}: ${problem}` };
    }
  }
  const [dom, dow] = [fields[3], fields[5]];
  if (dom === '?' && dow === '?') return { error: "'?' may be used in only one of day-of-month and day-of-week" };
  // Quartz requires '?' in exactly one of them; '*' in both is accepted leniently (same meaning).
  if (dom !== '?' && dow !== '?' && !(dom === '*' && dow === '*')) {
    return { error: "one of day-of-month and day-of-week must be '?' (e.g. '0 0 12 ? * MON-FRI *')" };
  }
  return { fields: fields.map((t, i) => (t === '?' ? '*' : FIELDS[i].kind === 'dayOfWeek' && t === 'L' ? '7' : t)) };
}

const compiled = new Map<string, Cron | string>();
const MAX_COMPILED = 1000;

/** A paused croner job for (expr, tz), or a problem. Cached: parsing is the costly part. */
function compile(expr: string, tz: string): Cron | string {
  const key = `${tz}\u0000${expr}`;
  let c = compiled.get(key);
  if (c === undefined) {
    const parsed = parseQuartz(expr);
    if ('error' in parsed) {
      c = parsed.error;
    } else {
      try {
        c = new Cron(parsed.fields.join(' '), {
          timezone: tz,
          paused: true,
          mode: '6-or-7-parts',
          alternativeWeekdays: true, // Quartz day-of-week numbering, SUN=1 .. SAT=7
          sloppyRanges: true, // Quartz's `1/1`, `0/15`: a start value with a step
          domAndDow: false,
        });
      } catch (e) {
        c = e instanceof Error ? e.message : String(e);
      }
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

export function validateQuartzCron(expr: string): string | null {
  const c = compile(expr, 'UTC');
  return typeof c === 'string' ? c : null;
}

/** First fire strictly after afterMs; null when the expression is invalid or never fires again. */
export function nextFireTime(expr: string, afterMs: number, tz: string): number | null {
  const c = compile(expr, tz);
  if (typeof c === 'string') return null;
  let from = afterMs;
  // croner strips milliseconds from the reference; guard so the answer is always strictly later.
  for (let i = 0; i < 3; i++) {
    const next = c.nextRun(new Date(from));
    if (!next) return null;
    if (next.getTime() > afterMs) return next.getTime();
    from = next.getTime();
  }
  return null;
}

/** The most recent fire in [notBeforeMs, atMs] (for fires missed while the service was down), or null. */
export function lastFireTimeAtOrBefore(expr: string, atMs: number, notBeforeMs: number, tz: string): number | null {
  if (notBeforeMs > atMs) return null;
  const c = compile(expr, tz);
  if (typeof c === 'string') return null;
  // previousRuns looks strictly before its reference; +1 ms makes atMs itself count.
  const prev = c.previousRuns(1, new Date(atMs + 1))[0];
  if (!prev) return null;
  const t = prev.getTime();
  return t >= notBeforeMs && t <= atMs ? t : null;
}
