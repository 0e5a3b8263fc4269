// DolphinScheduler-style custom time expressions, the text inside `$[...]` (contract §6 extension):
// `yyyyMMdd`, `yyyyMMdd-1`, `yyyyMMddHHmmss-1/24`, add_months, this_day, last_day, week_first_day,
// week_last_day, month_first_day, month_last_day, year_week. Pure; anything unparseable is undefined
// so the caller leaves the text as written.
import type { CivilTime } from './time.js';
import { addDays, addMonths, daysInMonth, formatInZone, fromCivil, isDatePattern, toCivil, weekday } from './time.js';

const MS_DAY = 86_400_000;
/** Whole-day offsets below this distance from an integer are days, not hours (1/24*24 is not exactly 1). */
const EPSILON = 1e-9;

/**
 * A small arithmetic expression of numbers with + - * / and parentheses, left to right with the usual
 * precedence (DolphinScheduler offsets: `7*2`, `1/24`, `1/24/60`, `-12*1`). Null when malformed.
 */
function evalNumber(text: string): number | null {
  const tokens = text.replace(/\s+/g, '').match(/\d+(?:\.\d+)?|[-+*/()]|./g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const factor = (): number | null => {
    const t = tokens[pos++];
    if (t === '-' || t === '+') {
      const v = factor();
      return v === null ? null : t === '-' ? -v : v;
    }
    if (t === '(') {
      const v = sum();
      return tokens[pos++] === ')' ? v : null;
    }
    return t !== undefined && /^\d/.test(t) ? Number(t) : null;
  };
  const product = (): number | null => {
    let v = factor();
    while (v !== null && (peek() === '*' || peek() === '/')) {
      const op = tokens[pos++];
      const r = factor();
      if (r === null || (op === '/' && r === 0)) return null;
      v = op === '*' ? v * r : v / r;
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (peek() === '+' || peek() === '-')) {
      const op = tokens[pos++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  if (tokens.length === 0) return null;
  const v = sum();
  return v !== null && pos === tokens.length && Number.isFinite(v) ? v : null;
}

function evalInteger(text: string | undefined): number | null {
  if (text === undefined) return null;
  const v = evalNumber(text);
  if (v === null || Math.abs(v - Math.round(v)) > EPSILON) return null;
  return Math.round(v);
}

/**
 * Renders a wall-clock time: through fromCivil so a time that calendar arithmetic landed in a DST gap
 * is shown as the real instant (moved forward by the gap), as Java's lenient Calendar does.
 */
function render(c: CivilTime, tz: string, pattern: string): string {
  return formatInZone(fromCivil(c, tz), tz, pattern);
}

function mondayOf(c: CivilTime): CivilTime {
  return addDays(c, -((weekday(c) + 6) % 7));
}

/** ISO-8601 week (weeks start on Monday; week 1 holds the year's first Thursday) as "yyyy-ww" or "yyyyww". */
function yearWeek(c: CivilTime, pattern: string): string {
  const thursday = addDays(mondayOf(c), 3);
  const jan1 = { ...thursday, month: 1, day: 1 };
  const dayOfYear = Math.round((Date.UTC(thursday.year, thursday.month - 1, thursday.day) - Date.UTC(jan1.year, 0, 1)) / MS_DAY);
  const week = Math.floor(dayOfYear / 7) + 1;
  const sep = pattern.includes('-') ? '-' : '';
  return `${thursday.year}${sep}${String(week).padStart(2, '0')}`;
}

function evalFunction(name: string, args: string[], triggerTime: number, tz: string): string | undefined {
  const pattern = args[0]?.trim() ?? '';
  if (!isDatePattern(pattern)) return undefined;
  const t = toCivil(triggerTime, tz);
  const n = args.length === 2 ? evalInteger(args[1]) : null;
  // Functions taking N require it; the others take the pattern only.
  const needsN = ['add_months', 'week_first_day', 'week_last_day', 'month_first_day', 'month_last_day'].includes(name);
  if (needsN ? n === null : args.length !== 1) return undefined;
  const k = n ?? 0;
  switch (name) {
    case 'add_months':
      return render(addMonths(t, k), tz, pattern); // day clamped: Mar 31 - 1 month = Feb 28/29
    case 'this_day':
      return render(t, tz, pattern);
    case 'last_day':
      return render({ ...t, day: daysInMonth(t.year, t.month) }, tz, pattern);
    case 'week_first_day':
      return render(mondayOf(addDays(t, 7 * k)), tz, pattern);
    case 'week_last_day':
      return render(addDays(mondayOf(addDays(t, 7 * k)), 6), tz, pattern);
    case 'month_first_day':
      return render({ ...addMonths({ ...t, day: 1 }, k), day: 1 }, tz, pattern);
    case 'month_last_day': {
      const m = addMonths({ ...t, day: 1 }, k);
      return render({ ...m, day: daysInMonth(m.year, m.month) }, tz, pattern);
    }
    case 'year_week':
      return yearWeek(t, pattern);
    default:
      return undefined;
  }
}

export function evalTimeExpression(expr: string, triggerTime: number, tz: string): string | undefined {
  if (typeof expr !== 'string' || !Number.isFinite(triggerTime)) return undefined;
  const text = expr.trim();
  const call = /^([a-z_]+)\s*\((.*)\)$/.exec(text);
  if (call) return evalFunction(call[1], call[2].split(','), triggerTime, tz);

  // `pattern+N` / `pattern-N`: the shortest pattern whose remainder is an arithmetic offset in days,
  // so `yyyy-MM-dd-1` splits after `dd`. Tried before the plain form, where "-1" would be literal text.
  const offset = /^(.+?)([+-])([\d.*/()\s+-]+)$/.exec(text);
  if (!offset || !isDatePattern(offset[1])) return isDatePattern(text) ? formatInZone(triggerTime, tz, text) : undefined;
  const magnitude = evalNumber(offset[3]);
  if (magnitude === null) return undefined;
  const days = offset[2] === '-' ? -magnitude : magnitude;
  const pattern = offset[1];
  if (Math.abs(days - Math.round(days)) < EPSILON) {
    // Whole days: calendar arithmetic on the wall clock, so -1 day across a DST change keeps the time.
    return render(addDays(toCivil(triggerTime, tz), Math.round(days)), tz, pattern);
  }
  // Hours and minutes: absolute time, then shown in tz (1/24 is one real hour, across DST too).
  return formatInZone(triggerTime + Math.round(days * MS_DAY), tz, pattern);
}
