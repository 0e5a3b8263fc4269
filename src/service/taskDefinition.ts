// Task definitions as requests carry them (Import's flowJson.tasks[], Save's tasks[] extension) and as
// Export emits them. Owns the task type aliases; the wire number Get Task Instance shows is in src/api/wire.ts.
import { invalid, outOfRange } from '../domain/errors.js';
import { parseParams } from '../domain/params.js';
import { parseRunMode } from '../domain/runMode.js';
import type { TaskDef, TaskType } from '../domain/types.js';
import type { NewTaskDef } from '../store/store.js';
import { camelKeys, intInRange, isPresent, jsonValue, optionalBool, optionalString, outOfRangeError, show } from './input.js';
import { MAX_INT, MAX_RUN_MODE_DEPTH, TASK_LIMITS } from './limits.js';

/**
 * Accepted spellings of each task type. 3 is SHELL in the reference's enum (ref §4); 8 is our choice for
 * PYTHON (the first number the reference's enum and samples leave unused).
 */
export const TASK_TYPE_ALIASES: Record<string, TaskType> = {
  SHELL: 'SHELL',
  COMMAND: 'SHELL',
  '3': 'SHELL',
  PYTHON: 'PYTHON',
  '8': 'PYTHON',
};

export function parseTaskType(v: unknown, field: string): TaskType {
  const key = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim().toUpperCase() : '';
  const t = TASK_TYPE_ALIASES[key];
  if (!t) throw invalid(field, `Invalid parameter: ${field} must be SHELL (or 3, COMMAND) or PYTHON (or 8), got ${show(v)}`);
  return t;
}

export const TASK_DEFAULTS: Omit<NewTaskDef, 'name' | 'type'> = {
  cmd: '',
  resource: '',
  syncType: 0,
  submitter: '',
  filePackage: '',
  cron: '',
  priorityLevel: 0,
  timeoutSec: 0,
  retryLimit: 0,
  retryIntervalSec: 0,
  successCode: '0',
  asLink: false,
  runMode: '{}',
  parameters: [],
  waitCode: '',
};

function successCode(v: unknown, field: string, fallback: string): string {
  if (!isPresent(v)) return fallback;
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^\s*-?\d{1,3}\s*(,\s*-?\d{1,3}\s*)*$/.test(s)) {
    throw invalid(field, `Invalid parameter: ${field} must be an exit code or a comma-separated list of exit codes, got ${show(v)}`);
  }
  return s.replace(/\s+/g, '');
}

function runMode(v: unknown, field: string, fallback: string): string {
  if (!isPresent(v) || v === '') return fallback;
  const o = jsonValue(v, field);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(field, `Invalid parameter: ${field} must be a RunMode JSON object`);
  exactNumbers(o, field, field, 1);
  // Contract §11: taskMode, cpu, memory, maxParallel, keyType and content are checked; the text is stored
  // as given (unknown fields too).
  const r = parseRunMode(o as Record<string, unknown>, field);
  if (!r.ok) throw invalid(r.field, r.message);
  return JSON.stringify(o);
}

/**
 * runMode is stored as JSON text: a number JSON parsing already rounded (past 2^53 - 1) would be stored
 * changed. It is a small struct: nested past MAX_RUN_MODE_DEPTH levels it is refused (a 10,000-level one
 * overflowed the stack here: 62109).
 */
function exactNumbers(v: unknown, path: string, field: string, depth: number): void {
  if (typeof v === 'number' && Math.abs(v) > MAX_INT) throw outOfRangeError(path, `at most ${MAX_INT} in magnitude (send a larger value as a string)`, v);
  if (typeof v !== 'object' || v === null) return;
  if (depth > MAX_RUN_MODE_DEPTH) throw outOfRange(field, `Invalid parameter: ${field} is nested too deeply: at most ${MAX_RUN_MODE_DEPTH} levels of objects and arrays`);
  for (const [k, x] of Object.entries(v)) exactNumbers(x, `${path}.${k}`, field, depth + 1);
}

/** A task setting from 0 to its limit (TASK_LIMITS: each fits the store's 32-bit column). */
function bounded(v: unknown, field: string, fallback: number, key: keyof typeof TASK_LIMITS): number {
  if (!isPresent(v) || v === '') return fallback;
  return intInRange(v, field, 0, TASK_LIMITS[key].max, TASK_LIMITS[key].why);
}

/**
 * Overlays the definition fields present in `entry` (export-form names: timeout, retryInterval, ...) on
 * `base`. `path` prefixes field names in messages, e.g. "flowJson.tasks[2]".
 */
export function applyTaskFields(entryIn: Record<string, unknown>, base: NewTaskDef, path: string): NewTaskDef {
  const e = camelKeys(entryIn);
  const f = (k: string) => `${path}.${k}`;
  const name = optionalString(e.taskName ?? e.name, f('name'), base.name).trim();
  if (name === '') throw invalid(f('name'), `Invalid parameter: ${f('name')} must not be empty`);
  const cmd = optionalString(e.cmd, f('cmd'), base.cmd);
  // Contract §3: a task that runs nothing and reports SUCCESS would hide a typo such as `command` for `cmd`.
  if (cmd.trim() === '') throw invalid(f('cmd'), `Missing parameter: ${f('cmd')}: task "${name}" has no command (a SHELL or PYTHON task needs a non-empty cmd)`);
  return {
    name,
    type: isPresent(e.type) ? parseTaskType(e.type, f('type')) : base.type,
    cmd,
    resource: optionalString(e.resource, f('resource'), base.resource),
    syncType: bounded(e.syncType, f('syncType'), base.syncType, 'syncType'),
    submitter: optionalString(e.submitter, f('submitter'), base.submitter),
    filePackage: optionalString(e.filePackage, f('filePackage'), base.filePackage),
    cron: optionalString(e.cron, f('cron'), base.cron),
    priorityLevel: bounded(e.priorityLevel, f('priorityLevel'), base.priorityLevel, 'priorityLevel'),
    timeoutSec: bounded(e.timeout, f('timeout'), base.timeoutSec, 'timeout'),
    retryLimit: bounded(e.retryLimit, f('retryLimit'), base.retryLimit, 'retryLimit'),
    retryIntervalSec: bounded(e.retryInterval, f('retryInterval'), base.retryIntervalSec, 'retryInterval'),
    successCode: successCode(e.successCode, f('successCode'), base.successCode),
    asLink: optionalBool(e.asLink, f('asLink'), base.asLink),
    runMode: runMode(e.runMode, f('runMode'), base.runMode),
    parameters: isPresent(e.parameters) ? parseParams(e.parameters, f('parameters')) : base.parameters,
    waitCode: optionalString(e.waitCode, f('waitCode'), base.waitCode),
  };
}

/** A new task: `name` and `type` are required, the rest defaults. */
export function newTaskDef(entry: Record<string, unknown>, path: string): NewTaskDef {
  const e = camelKeys(entry);
  if (!isPresent(e.taskName ?? e.name)) throw invalid(`${path}.name`, `Missing parameter: ${path}.name`);
  if (!isPresent(e.type)) throw invalid(`${path}.type`, `Missing parameter: ${path}.type (SHELL or PYTHON)`);
  return applyTaskFields(e, { ...TASK_DEFAULTS, name: '', type: 'SHELL' }, path);
}

/** The export-form Task struct (ref §5.7) plus the extensions `parameters`, `x`, `y`. */
export function exportTask(t: TaskDef, pos: { x: number; y: number }): Record<string, unknown> {
  return {
    name: t.name,
    resource: t.resource,
    type: t.type,
    syncType: t.syncType,
    cmd: t.cmd,
    submitter: t.submitter,
    filePackage: t.filePackage,
    cron: t.cron,
    priorityLevel: t.priorityLevel,
    timeout: t.timeoutSec,
    retryLimit: t.retryLimit,
    retryInterval: t.retryIntervalSec,
    successCode: t.successCode,
    asLink: t.asLink,
    runMode: t.runMode,
    waitCode: t.waitCode,
    parameters: JSON.stringify(t.parameters),
    x: pos.x,
    y: pos.y,
  };
}

/** Whether two definitions differ in anything Save may change. */
export function taskChanged(a: NewTaskDef, b: NewTaskDef): boolean {
  return (Object.keys(TASK_DEFAULTS) as Array<keyof NewTaskDef>).concat(['name', 'type']).some((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
