// Parameters (contract §6, ref §7.3): parsing every accepted input form into Param[], the EnOS system
// variables computed from the trigger time, and `${name}` / `$[expr]` substitution into commands with
// the precedence system < flow < task < overrides. Pure: no environment, no clock.
import type { Param } from './types.js';
import type { CivilTime } from './time.js';
import { addDays, addMonths, daysInMonth, formatCivil, fromCivil, toCivil, weekday } from './time.js';
import { invalid, outOfRange } from './errors.js';
import { evalTimeExpression } from './timeExpr.js';

export const PARAM_KEY: RegExp = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Parameters become environment variables of the task's process. Names that change how a process, its
 * shell or its interpreter loads (a preloaded library, a startup file, module paths, interpreter options)
 * would let a workflow's parameters turn any command into another one: refused as parameter keys.
 */
const LOADER_NAMES = new Set([
  // shells: startup files and what they run or parse before the command
  'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'IFS', 'CDPATH', 'GLOBIGNORE', 'ZDOTDIR',
  // interpreters and runtimes: options, preloaded modules, module paths, startup scripts
  'NODE_OPTIONS', 'NODE_PATH', 'PERL5LIB', 'PERL5OPT', 'PERLLIB', 'PERL5DB', 'RUBYLIB', 'RUBYOPT',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH',
  'R_PROFILE', 'R_PROFILE_USER', 'R_ENVIRON', 'R_ENVIRON_USER',
  // the C library: character set converters, locales, resolver files, OpenSSL's config (it loads engines)
  'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'HOSTALIASES', 'RESOLV_HOST_CONF', 'OPENSSL_CONF', 'OPENSSL_MODULES',
]);
/** BASH_ covers BASH_ENV, BASH_FUNC_* (exported functions), BASH_XTRACEFD, BASH_LOADABLES_PATH...; LUA_ covers LUA_INIT. */
const LOADER_PREFIXES = ['LD_', 'DYLD_', 'PYTHON', 'MALLOC_', 'GLIBC_', 'BASH_', 'LUA_'];

/** Why `key` may not be a parameter key (it would change how task processes load), or null. */
export function loaderKeyProblem(key: string): string | null {
  if (!LOADER_NAMES.has(key) && !LOADER_PREFIXES.some((p) => key.startsWith(p))) return null;
  return `parameter key "${key}" is refused: as an environment variable it would change how the task's process loads`;
}

/** A JSON number past 2^53 - 1 was rounded by parsing: storing its text would change the value. */
function exactOrThrow(v: unknown, where: string, field: string): void {
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    throw outOfRange(field, `Invalid parameter: ${where} is out of range: at most ${Number.MAX_SAFE_INTEGER} as a number (send larger values as strings), got ${v}`);
  }
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}

/** Accepts undefined/null/"", [{key,value}], {k: v}, either as a JSON string, or `key=value` lines. */
export function parseParams(input: unknown, field: string): Param[] {
  if (input === undefined || input === null || input === '') return [];
  let value: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw invalid(field, `${field} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      return checked(parseLines(input, field), field);
    }
  }
  if (Array.isArray(value)) {
    return checked(
      value.map((item, i) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          throw invalid(field, `${field}[${i}] must be an object {key, value}`);
        }
        const { key, value: v } = item as { key?: unknown; value?: unknown };
        if (typeof key !== 'string') throw invalid(field, `${field}[${i}].key must be a string`);
        exactOrThrow(v, `${field}[${i}].value (key "${key}")`, field);
        const s = scalar(v);
        if (s === null) throw invalid(field, `${field}[${i}].value (key "${key}") must be a string, number or boolean`);
        return { key, value: s };
      }),
      field,
    );
  }
  if (typeof value === 'object' && value !== null) {
    return checked(
      Object.entries(value).map(([key, v]) => {
        exactOrThrow(v, `${field}.${key}`, field);
        const s = scalar(v);
        if (s === null) throw invalid(field, `${field}.${key} must be a string, number or boolean`);
        return { key, value: s };
      }),
      field,
    );
  }
  throw invalid(field, `${field} must be a list of {key, value}, an object, or key=value lines`);
}

/** `key=value` per line; blank lines ignored; key and value trimmed (values keep inner quotes). */
function parseLines(text: string, field: string): Param[] {
  const out: Param[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const eq = line.indexOf('=');
    if (eq < 0) throw invalid(field, `${field} line ${i + 1} is not key=value: "${line.trim()}"`);
    out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  });
  return out;
}

function checked(params: Param[], field: string): Param[] {
  const seen = new Set<string>();
  for (const p of params) {
    if (!PARAM_KEY.test(p.key)) throw invalid(field, `${field}: invalid parameter key "${p.key}" (allowed: [A-Za-z_][A-Za-z0-9_.]*)`);
    const loader = loaderKeyProblem(p.key);
    if (loader) throw invalid(field, `${field}: ${loader}`);
    if (seen.has(p.key)) throw invalid(field, `${field}: duplicate parameter key "${p.key}"`);
    seen.add(p.key);
  }
  return params;
}

export interface ParamContext {
  triggerTime: number;
  tz: string;
  taskId: number;
  instanceId: string;
  flowParams: Param[];
  taskParams: Param[];
  overrides: Param[];
}

const D10 = 'yyyy-MM-dd';
const D8 = 'yyyyMMdd';
const MS_HOUR = 3_600_000;
const CAL_DT_MINUS = /^cal_dt(8?)-(\d{1,6})$/;

/** A date variable with a 10-char (yyyy-MM-dd) and an 8-char (yyyyMMdd) form. */
const DATE_VARIABLES: Record<string, (calDt: CivilTime) => CivilTime> = {
  // Business date calDt = trigger date - 1 day (batches process the previous day).
  cal_dt: (d) => d,
  ncal_dt: (d) => addDays(d, 1),
  last_week: (d) => addDays(d, -6),
  first_day_this_month: (d) => ({ ...d, day: 1 }),
  end_day_this_month: (d) => ({ ...d, day: daysInMonth(d.year, d.month) }),
  first_day_last_month: (d) => ({ ...addMonths({ ...d, day: 1 }, -1), day: 1 }),
  last_day_last_month: (d) => addDays({ ...d, day: 1 }, -1),
  // The Monday strictly after the business date (a Monday business date gives the next week's Monday).
  monday_next_week: (d) => addDays(d, 7 - ((weekday(d) + 6) % 7)),
};
// Names as ref §7.3 spells them: cal_dt/cal_dt8 and ncal_dt/ncal_dt8, the others with 10/8.
const SHORT_NAMES: Record<string, string> = { cal_dt: 'cal_dt', cal_dt8: 'cal_dt', ncal_dt: 'ncal_dt', ncal_dt8: 'ncal_dt' };

/**
 * One ref §7.3 system variable for a trigger time in zone tz, or undefined (unknown names and env.*).
 *
 * hcal_dt8 / cal_hr: the table defines them as the date and hour of "business date-time - 1 hour", with
 * the example "business time 2017-05-26 00:30 -> 20170525, 23". Two readings were checked:
 * (a) business time = trigger time - 1 day (the table's own definition of the business date), so
 *     hcal = trigger - 1 day - 1 hour: a trigger at 2017-05-27 00:30 gives 20170525 / 23, reproducing
 *     the example, and for the main example (trigger 2017-05-27 13:50) gives 20170526 / 12;
 * (b) business time = trigger time - 1 hour (the reference's inference for H cycles), so
 *     hcal = trigger - 2 hours: the example then needs a trigger at 2017-05-26 01:30, i.e. a business
 *     time that is not "trigger - 1 day", contradicting the table's definition for its daily example.
 * We implement (a): it uses the table's own definition and reproduces its example; cycle-dependent
 * business times cannot be honoured anyway, since variables see only the trigger time.
 * The day step is calendar arithmetic on the wall clock, the hour step is a real hour.
 */
export function systemVariable(
  name: string,
  triggerTime: number,
  tz: string,
  ctx: { taskId: number; instanceId: string },
): string | undefined {
  switch (name) {
    case 'task_id':
      return String(ctx.taskId);
    case 'instance_id':
      return ctx.instanceId;
    case 'unix_timestamp':
      return String(Math.floor(triggerTime / 1000));
  }
  const trigger = toCivil(triggerTime, tz);
  const calDt = addDays(trigger, -1);
  switch (name) {
    case 'this_hour':
      return formatCivil({ ...trigger, minute: 0, second: 0, millisecond: 0 }, 'yyyy-MM-dd HH:00:00');
    case '30days_cal_dt':
      return formatCivil(addDays(calDt, -30), D10);
    case 'hcal_dt8':
    case 'cal_hr': {
      const hcal = toCivil(fromCivil(calDt, tz) - MS_HOUR, tz);
      return name === 'hcal_dt8' ? formatCivil(hcal, D8) : formatCivil(hcal, 'HH');
    }
  }
  const minus = CAL_DT_MINUS.exec(name);
  if (minus) return formatCivil(addDays(calDt, -Number(minus[2])), minus[1] ? D8 : D10);

  const short = SHORT_NAMES[name];
  if (short) return formatCivil(DATE_VARIABLES[short](calDt), name.endsWith('8') ? D8 : D10);
  const m = /^([a-z_]+?)(10|8)$/.exec(name);
  if (m && !(m[1] in SHORT_NAMES) && Object.hasOwn(DATE_VARIABLES, m[1])) {
    return formatCivil(DATE_VARIABLES[m[1]](calDt), m[2] === '8' ? D8 : D10);
  }
  return undefined;
}

const PLACEHOLDER = /\$\{([^{}]*)\}|\$\[([^\[\]]*)\]/g;

/**
 * One pass over text: `${name}` through lookup, `$[expr]` through evalTimeExpression. What cannot be
 * resolved stays exactly as written (the shell may expand `${HOME}`); substituted values are not
 * scanned again, so a value containing `${x}` reaches the command literally.
 */
export function substitute(
  text: string,
  lookup: (name: string) => string | undefined,
  triggerTime: number,
  tz: string,
): string {
  return text.replace(PLACEHOLDER, (whole, name: string | undefined, expr: string | undefined) => {
    const v = name !== undefined ? lookup(name) : evalTimeExpression(expr!, triggerTime, tz);
    return v ?? whole;
  });
}

/**
 * The user parameters of a run (flow < task < overrides, later wins) with system variables and `$[...]`
 * substituted into their values, and the lookup used for the command: user values first, then system
 * variables. A value naming another user parameter is not expanded (no ordering puzzles, no loops).
 */
export function resolveParameters(ctx: ParamContext): {
  values: Map<string, string>;
  lookup: (name: string) => string | undefined;
} {
  const system = (name: string) => systemVariable(name, ctx.triggerTime, ctx.tz, ctx);
  const values = new Map<string, string>();
  for (const list of [ctx.flowParams, ctx.taskParams, ctx.overrides]) {
    for (const p of list ?? []) values.set(p.key, substitute(p.value, system, ctx.triggerTime, ctx.tz));
  }
  return { values, lookup: (name) => values.get(name) ?? system(name) };
}

export function renderCommand(cmd: string, ctx: ParamContext): string {
  return substitute(cmd, resolveParameters(ctx).lookup, ctx.triggerTime, ctx.tz);
}
