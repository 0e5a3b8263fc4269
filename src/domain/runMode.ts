// A task's run mode (contract §11, ref §5.7 RunMode): run once or once per key, how many keys at a time,
// and the cpu and memory limits of each run. Pure: parses the stored RunMode JSON text into what the
// engine needs, and says which field is at fault when a value is out of its range.

export const CPU_RANGE = { min: 0.1, max: 2 } as const; // cores
export const MEMORY_RANGE_GB = { min: 0.3, max: 4 } as const; // GB (2^30 bytes)
export const MAX_KEYS = 10_000;

export interface RunMode {
  /** 1: the task runs once; 2: once per key. */
  taskMode: 1 | 2;
  /** Keys run at the same time at most (taskMode 2), >= 1. */
  maxParallel: number;
  /** taskMode 2: the keys, in the order given (1 to MAX_KEYS of them); [] for taskMode 1. */
  keys: string[];
  /** Cores per run (each key's run in taskMode 2), null: no limit. */
  cpu: number | null;
  /** Bytes per run, null: no limit. */
  memoryBytes: number | null;
}

export type RunModeResult = { ok: true; mode: RunMode } | { ok: false; field: string; message: string };

/** The run mode of a task that says nothing: run once, no limits. */
export const SINGLE_RUN: RunMode = { taskMode: 1, maxParallel: 1, keys: [], cpu: null, memoryBytes: null };

/** Keys of `content` (keyType 2): separated by newlines or commas, trimmed, empty ones dropped. */
export function splitKeys(content: string): string[] {
  return content
    .split(/[\n,]/)
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

const absent = (v: unknown) => v === undefined || v === null || v === '';

function number(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * Parses a RunMode object (already JSON-decoded). `field` names it in messages (e.g.
 * `flowJson.tasks[0].runMode`). Unknown fields are kept by the caller and ignored here; `datasourceId`
 * and `path` matter only with keyType 1, which is refused.
 */
export function parseRunMode(o: Record<string, unknown>, field: string): RunModeResult {
  const bad = (name: string, message: string): RunModeResult => ({ ok: false, field: `${field}.${name}`, message: `Invalid parameter: ${field}.${name} ${message}` });
  let taskMode: 1 | 2 = 1;
  if (!absent(o.taskMode)) {
    const t = number(o.taskMode);
    if (t !== 1 && t !== 2) return bad('taskMode', `must be 1 (single task) or 2 (one run per key), got ${JSON.stringify(o.taskMode)}`);
    taskMode = t;
  }
  let cpu: number | null = null;
  if (!absent(o.cpu)) {
    const c = number(o.cpu);
    // 0 reads as "not set" in the original's samples.
    if (c === null) return bad('cpu', `must be a number of cores from ${CPU_RANGE.min} to ${CPU_RANGE.max}, got ${JSON.stringify(o.cpu)}`);
    if (c !== 0 && (c < CPU_RANGE.min || c > CPU_RANGE.max)) return bad('cpu', `is out of range: from ${CPU_RANGE.min} to ${CPU_RANGE.max} cores, got ${c}`);
    cpu = c === 0 ? null : c;
  }
  let memoryBytes: number | null = null;
  if (!absent(o.memory)) {
    const m = number(o.memory);
    if (m === null) return bad('memory', `must be a number of GB from ${MEMORY_RANGE_GB.min} to ${MEMORY_RANGE_GB.max}, got ${JSON.stringify(o.memory)}`);
    if (m !== 0 && (m < MEMORY_RANGE_GB.min || m > MEMORY_RANGE_GB.max)) return bad('memory', `is out of range: from ${MEMORY_RANGE_GB.min} to ${MEMORY_RANGE_GB.max} GB, got ${m}`);
    memoryBytes = m === 0 ? null : Math.round(m * 2 ** 30);
  }
  let maxParallel = 1;
  if (!absent(o.maxParallel)) {
    const p = number(o.maxParallel);
    if (p === null || !Number.isInteger(p) || p < 1) return bad('maxParallel', `must be a whole number of at least 1, got ${JSON.stringify(o.maxParallel)}`);
    maxParallel = p;
  }
  if (taskMode === 1) return { ok: true, mode: { taskMode, maxParallel, keys: [], cpu, memoryBytes } };
  const keyType = absent(o.keyType) ? 2 : number(o.keyType);
  if (keyType === 1) return bad('keyType', 'is 1 (keys from a registered data source file): data sources are not supported; give the keys in content with keyType 2');
  if (keyType !== 2) return bad('keyType', `must be 2 (keys given in content) with taskMode 2, got ${JSON.stringify(o.keyType)}`);
  if (typeof o.content !== 'string') return bad('content', 'must be a string of keys separated by newlines or commas with taskMode 2');
  const keys = splitKeys(o.content);
  if (keys.length === 0) return bad('content', 'has no keys: give 1 to 10000 keys separated by newlines or commas');
  if (keys.length > MAX_KEYS) return bad('content', `has ${keys.length} keys: at most ${MAX_KEYS}`);
  return { ok: true, mode: { taskMode, maxParallel, keys, cpu, memoryBytes } };
}

/** The run mode of a stored task (its runMode text, validated when it was written). */
export function runModeOf(text: string): RunMode {
  if (text === '' || text === '{}') return SINGLE_RUN;
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return SINGLE_RUN;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return SINGLE_RUN;
  const r = parseRunMode(o as Record<string, unknown>, 'runMode');
  // Stored before validation existed (or by an older build): run once, without limits, rather than fail.
  return r.ok ? r.mode : SINGLE_RUN;
}
