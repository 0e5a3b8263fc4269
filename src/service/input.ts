// Coercion of loosely typed request values (ids as number or numeric string, JSON as value or string)
// into domain values. Each helper names the field at fault; none of them touches the store.
import { invalid, outOfRange } from '../domain/errors.js';
import { MAX_EPOCH_MS, MAX_INT } from './limits.js';

export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** A number, or a string of digits (with an optional minus sign) as its number; NaN otherwise. */
function intLike(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) ? v : NaN;
  return typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
}

const EXACT = '2^53 - 1, the largest integer a number carries exactly';

/** "Invalid parameter: <field> is out of range: <limit>, got <value>": the one wording of a bound. */
export function outOfRangeError(field: string, limit: string, v: unknown) {
  return outOfRange(field, `Invalid parameter: ${field} is out of range: ${limit}, got ${show(v)}`);
}

/** A non-negative integer given as a number or a string of digits, at most `max` (ids: 2^53 - 1). */
export function toInt(v: unknown, field: string, max = MAX_INT, why = EXACT): number {
  const n = typeof v === 'string' && !/^\s*\d+\s*$/.test(v) ? NaN : intLike(v);
  if (!Number.isInteger(n) || n < 0) throw invalid(field, `Invalid parameter: ${field} must be a non-negative integer, got ${show(v)}`);
  if (n > max) throw outOfRangeError(field, `at most ${max} (${why})`, v);
  return n;
}

/** An integer from `min` to `max` (number or numeric string); the message names the range either way. */
export function intInRange(v: unknown, field: string, min: number, max: number, why?: string): number {
  const n = intLike(v);
  const range = `from ${min} to ${max}${why ? ` (${why})` : ''}`;
  if (!Number.isInteger(n)) throw invalid(field, `Invalid parameter: ${field} must be an integer ${range}, got ${show(v)}`);
  if (n < min || n > max) throw outOfRangeError(field, range, v);
  return n;
}

/** A text id (directories) that may come as a number: a number must be exact, or its text would be another id. */
export function idText(v: string | number, field: string): string {
  return typeof v === 'number' ? String(toInt(v, field)) : v;
}

export function toOptionalInt(v: unknown, field: string, fallback: number): number {
  return isPresent(v) && v !== '' ? toInt(v, field) : fallback;
}

/** Epoch milliseconds (number or numeric string), up to the year 9999. */
export function toEpochMs(v: unknown, field: string): number {
  if (!isPresent(v) || v === '') throw invalid(field, `Missing parameter: ${field} (epoch milliseconds)`);
  return toInt(v, field, MAX_EPOCH_MS, '9999-12-31T23:59:59.999Z in epoch milliseconds');
}

export function requiredString(v: unknown, field: string): string {
  if (!isPresent(v)) throw invalid(field, `Missing parameter: ${field}`);
  if (typeof v !== 'string') throw invalid(field, `Invalid parameter: ${field} must be a string, got ${show(v)}`);
  return v;
}

export function optionalString(v: unknown, field: string, fallback: string): string {
  if (!isPresent(v)) return fallback;
  if (typeof v !== 'string') throw invalid(field, `Invalid parameter: ${field} must be a string, got ${show(v)}`);
  return v;
}

export function optionalBool(v: unknown, field: string, fallback: boolean): boolean {
  if (!isPresent(v)) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalid(field, `Invalid parameter: ${field} must be true or false, got ${show(v)}`);
}

/** One of the allowed integers (given as number or numeric string). */
export function oneOf<T extends number>(v: unknown, field: string, allowed: readonly T[], fallback?: T): T {
  if ((!isPresent(v) || v === '') && fallback !== undefined) return fallback;
  if (!isPresent(v)) throw invalid(field, `Missing parameter: ${field}`);
  const n = intLike(v);
  if (!allowed.includes(n as T)) throw invalid(field, `Invalid parameter: ${field} must be one of ${allowed.join(', ')}, got ${show(v)}`);
  return n as T;
}

/** A JSON value given either as the value itself or as a string holding its JSON text. */
export function jsonValue(v: unknown, field: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch (e) {
    throw invalid(field, `Invalid parameter: ${field} is not valid JSON (${(e as Error).message})`);
  }
}

export function jsonObject(v: unknown, field: string): Record<string, unknown> {
  const o = jsonValue(v, field);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(field, `Invalid parameter: ${field} must be a JSON object`);
  return o as Record<string, unknown>;
}

export function jsonArray(v: unknown, field: string): unknown[] {
  if (!isPresent(v)) return [];
  const a = jsonValue(v, field);
  if (!Array.isArray(a)) throw invalid(field, `Invalid parameter: ${field} must be a JSON array`);
  return a;
}

/** snake_case keys become camelCase (a camelCase key given too wins). Shallow: values are kept as they are. */
const SNAKE = /^[a-z]+(_[a-z0-9]+)+$/;
export function camelKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!SNAKE.test(k)) out[k] = v;
  for (const [k, v] of Object.entries(o)) {
    if (!SNAKE.test(k)) continue;
    const camel = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (!(camel in out)) out[camel] = v;
  }
  return out;
}

export function show(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    // Too deep for JSON.stringify's recursion (a 10,000-level array): its outline will do.
    s = Array.isArray(v) ? '[[...]]' : typeof v === 'object' && v !== null ? '{...}' : String(v);
  }
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
