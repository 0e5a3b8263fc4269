// Every setting of the service, read once: defaults here, then environment variables (BATCHFLOW_*),
// then command-line flags (they win). The resolved object is passed to every component explicitly;
// nothing else reads process.env. A bad value throws ConfigError naming the variable or the flag as the
// user typed it (the CLI exits 2).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseMasterKey } from './service/auth/secretBox.js';
import { StartupError } from './startup/errors.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://... selects PostgreSQL; empty = embedded SQLite in dataDir. */
  databaseUrl: string;
  /** PostgreSQL connections this process keeps at most (plus one for LISTEN). */
  databasePoolSize: number;
  /** IANA zone for instance ids, date strings, business dates and cron. */
  timezone: string;
  /** Task processes running at once across the engine. */
  workerConcurrency: number;
  /** Run the engine inside the API process. */
  runEngine: boolean;
  /**
   * What this process does: all (API, cron scheduler and worker), api (HTTP only), scheduler (cron fires
   * only) or worker (the engine: starts due instances, runs tasks, recovers gone workers). Several
   * processes of any roles may share one PostgreSQL store; the embedded SQLite store takes `all` only.
   */
  role: Role;
  pythonPath: string;
  /** Grace between SIGTERM and SIGKILL for a task's process group (cancel, timeout). */
  killGraceMs: number;
  /** Who forks the task processes: a small helper process (cheap forks) or the service itself. */
  spawner: 'spawner' | 'direct';
  /** On SIGTERM: how long running tasks may go on before they are stopped (and retried on restart). */
  shutdownGraceMs: number;
  logCapBytes: number;
  logFlushMs: number;
  defaultLogMaxLength: number;
  bodyLimitBytes: number;
  editLockMinutes: number;
  keepWorkDirs: boolean;
  /** SQLite synchronous mode: NORMAL (crash-safe against process death) or FULL (also power loss). */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** SQLite page cache per connection, MiB (measured on a 1.25M-instance store: 128 MiB no faster than 2). */
  sqliteCacheMiB: number;
  /** SQLite memory-mapped reads, MiB (0 = off). */
  sqliteMmapMiB: number;
  logLevel: string;
  hostName: string;
  /** How often an engine renews its lease in the store. */
  engineHeartbeatMs: number;
  /** How long a lease lasts without renewal; after that, any live engine recovers its attempts. */
  engineLeaseMs: number;
  /** The engine's safety-net rescan of the store (events and timers do the real work). */
  engineRescanMs: number;
  /** Signed requests (contract §9). Off (`--no-auth`) only on a loopback host. */
  auth: boolean;
  /** The master key sealing app secrets and tokens (64 hex digits or base64); '' = the key file. */
  masterKey: string;
  /** Where the master key is kept when BATCHFLOW_MASTER_KEY is not set; '' = <dataDir>/master.key. */
  masterKeyFile: string;
  /** Lifetime of an access token. */
  tokenTtlSec: number;
  /** How far `apim-timestamp` (and a token request's timestamp) may be from the service's clock. */
  signatureWindowMs: number;
  /** Signed calls per second each app may make (a token bucket per app and process); 0 = no limit. */
  rateLimitPerSec: number;
  /** The bucket's size: calls an app may make at once after a quiet spell. */
  rateLimitBurst: number;
  /** Largest request head (request line and headers) Node's parser accepts; larger: 431. */
  headerLimitBytes: number;
  /**
   * The OS user tasks run as when the service runs as root (otherwise tasks run as the service's own user
   * and this is ignored). `root` only when named so. See src/engine/taskUsers.ts.
   */
  taskUser: string;
  /** A flow's doAs -> the OS user its tasks run as (when root); a doAs not listed runs as taskUser. */
  taskUsers: Record<string, string>;
  /** Where each attempt's working directory is made; '' = automatic (src/engine/workDirs.ts). */
  workRoot: string;
  /**
   * Retention: finished instances (with their tasks, history and logs) that ended more than this many days
   * ago are purged at start and then every retentionIntervalMs (src/service/retention.ts); null = keep all.
   */
  retentionDays: number | null;
  /** How often the retention purge runs (when retentionDays is set). */
  retentionIntervalMs: number;
  /**
   * Tasks' runMode cpu and memory limits (src/engine/cgroups.ts): `auto` enforces them with control groups
   * where the service can make them and else runs tasks without (one warning at start, /readyz says so);
   * `required` refuses to start instead; `off` never makes groups.
   */
  resourceLimits: 'auto' | 'required' | 'off';
  /** Where the control group hierarchies are mounted. */
  cgroupRoot: string;
  /** The service's address as people reach it (alert links to the console); '' = http://<host>:<port>. */
  publicUrl: string;
  // Alerts (contract §12, docs/alerts.md): a channel left unconfigured ('') is SKIPPED, never retried.
  /** SMTP server for email alerts; '' = no email. */
  smtpHost: string;
  /** 0 = the TLS mode's port: 465 (tls), 587 (starttls), 25 (none). */
  smtpPort: number;
  /** tls: TLS from the start; starttls: STARTTLS required; none: plain text (a local relay). */
  smtpTls: 'tls' | 'starttls' | 'none';
  smtpUser: string;
  smtpPassword: string;
  /** The From of alert mail; '' = batchflow@<hostName>. */
  smtpFrom: string;
  /** SMS alerts are POSTed here as JSON (a gateway adapter sends them); '' = no SMS. */
  smsWebhookUrl: string;
  /** Every alert is also POSTed here as JSON; '' = none. */
  alertWebhookUrl: string;
  /** Alert retries: the first wait, doubling per try up to alertRetryMaxMs, for alertGiveUpMs after the alert. */
  alertRetryBaseMs: number;
  alertRetryMaxMs: number;
  alertGiveUpMs: number;
  /** The alert sender's fallback poll (the engine wakes it at once; other processes' alerts are seen so). */
  alertPollMs: number;
}

export const ROLES = ['all', 'api', 'scheduler', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** Whether a process of `role` serves HTTP, fires cron, runs the engine. */
export const serves = (role: Role) => ({ api: role === 'all' || role === 'api', scheduler: role === 'all' || role === 'scheduler', worker: role === 'all' || role === 'worker' });

export class ConfigError extends StartupError {
  override readonly name: string = 'ConfigError';
}

export const defaults: Config = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  databaseUrl: '',
  databasePoolSize: 10,
  timezone: 'UTC',
  workerConcurrency: 8,
  runEngine: true,
  role: 'all',
  pythonPath: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
  killGraceMs: 5_000,
  spawner: 'spawner',
  shutdownGraceMs: 30_000,
  logCapBytes: 16 * 1024 * 1024,
  logFlushMs: 200,
  defaultLogMaxLength: 1_048_576,
  bodyLimitBytes: 1_048_576,
  editLockMinutes: 30,
  keepWorkDirs: false,
  sqliteSynchronous: 'NORMAL',
  sqliteCacheMiB: 2,
  sqliteMmapMiB: 0,
  logLevel: 'info',
  hostName: hostname(),
  engineHeartbeatMs: 2_000,
  engineLeaseMs: 10_000,
  engineRescanMs: 5_000,
  auth: true,
  masterKey: '',
  masterKeyFile: '',
  tokenTtlSec: 7_200,
  signatureWindowMs: 300_000,
  rateLimitPerSec: 1_000,
  rateLimitBurst: 2_000,
  headerLimitBytes: 16_384,
  taskUser: 'batchflow-task',
  taskUsers: {},
  workRoot: '',
  retentionDays: null,
  retentionIntervalMs: 3_600_000,
  resourceLimits: 'auto',
  cgroupRoot: '/sys/fs/cgroup',
  publicUrl: '',
  smtpHost: '',
  smtpPort: 0,
  smtpTls: 'starttls',
  smtpUser: '',
  smtpPassword: '',
  smtpFrom: '',
  smsWebhookUrl: '',
  alertWebhookUrl: '',
  alertRetryBaseMs: 5_000,
  alertRetryMaxMs: 600_000,
  alertGiveUpMs: 86_400_000,
  alertPollMs: 5_000,
};

type Parser<T> = (raw: string, name: string) => T;
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw, name) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
const str: Parser<string> = (raw) => raw;
const bool: Parser<boolean> = (raw, name) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
};
const zone: Parser<string> = (raw, name) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError(`${name} must be an IANA time zone such as UTC or Asia/Shanghai, got "${raw}"`);
  }
  return raw;
};
const dbUrl: Parser<string> = (raw, name) => {
  if (raw !== '' && !/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(`${name} must be a postgres:// URL, got "${raw.replace(/\/\/[^@]*@/, '//***@')}"`);
  return raw;
};
const role: Parser<Role> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (!(ROLES as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${ROLES.join(', ')}, got "${raw}"`);
  return v as Role;
};
const spawnerMode: Parser<'spawner' | 'direct'> = (raw, name) => {
  const v = raw.toLowerCase();
  if (v !== 'spawner' && v !== 'direct') throw new ConfigError(`${name} must be spawner or direct, got "${raw}"`);
  return v;
};
const limitsMode: Parser<'auto' | 'required' | 'off'> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'auto' && v !== 'required' && v !== 'off') throw new ConfigError(`${name} must be auto, required or off, got "${raw}"`);
  return v;
};
/** pino's levels (its `levels.values`) and `silent`; a typo would otherwise make pino throw a stack trace. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logLevel: Parser<string> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return v;
};
const sync: Parser<'NORMAL' | 'FULL'> = (raw, name) => {
  const v = raw.toUpperCase();
  if (v !== 'NORMAL' && v !== 'FULL') throw new ConfigError(`${name} must be NORMAL or FULL, got "${raw}"`);
  return v;
};

const masterKey: Parser<string> = (raw, name) => {
  if (!parseMasterKey(raw)) throw new ConfigError(`${name} must be 64 hex digits or 32 bytes in base64 (its value is not shown)`);
  return raw.trim();
};
/** What useradd accepts, less names starting with a digit (getent would read those as uids). */
const OS_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const osUser: Parser<string> = (raw, name) => {
  const v = raw.trim();
  if (!OS_USER.test(v)) throw new ConfigError(`${name} must be an OS user name (letters, digits, _ . -; not starting with a digit), got "${raw}"`);
  return v;
};
/** `doAs=user,doAs=user`: every entry one `=`, both sides non-empty, each doAs once. */
const userMap: Parser<Record<string, string>> = (raw, name) => {
  const out: Record<string, string> = Object.create(null);
  raw.split(',').forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const doAs = entry.slice(0, eq).trim();
    const user = entry.slice(eq + 1).trim();
    if (eq < 0 || entry.indexOf('=', eq + 1) >= 0 || doAs === '' || user === '') {
      throw new ConfigError(`${name} must be doAs=user entries separated by commas (e.g. etl=etluser,report=nobody); entry ${i + 1} is "${entry.trim()}"`);
    }
    if (Object.hasOwn(out, doAs)) throw new ConfigError(`${name} maps the doAs "${doAs}" twice`);
    out[doAs] = osUser(user, `${name} (entry ${i + 1}, doAs "${doAs}")`);
  });
  return out;
};

/** A whole number of days, at least 1 (100 years at most); keeping everything is the variable unset. */
const days: Parser<number | null> = (raw, name) => {
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 36_500) {
    throw new ConfigError(`${name} must be a whole number of days from 1 to 36500 (unset it to keep every instance), got "${raw}"`);
  }
  return Number(v);
};

/** An http(s) URL, or '' (unset). Credentials in it are allowed (webhooks send them as Basic auth). */
const httpUrl: Parser<string> = (raw, name) => {
  const v = raw.trim();
  if (v === '') return '';
  let u: URL | null = null;
  try {
    u = new URL(v);
  } catch {
    // named below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new ConfigError(`${name} must be an http:// or https:// URL, got "${v.replace(/\/\/[^@/]*@/, '//***@')}"`);
  return v.replace(/\/+$/, '');
};
const smtpTls: Parser<'tls' | 'starttls' | 'none'> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'tls' && v !== 'starttls' && v !== 'none') throw new ConfigError(`${name} must be tls, starttls or none, got "${raw}"`);
  return v;
};
const mailFrom: Parser<string> = (raw, name) => {
  const v = raw.trim();
  if (v !== '' && !/^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(v)) throw new ConfigError(`${name} must be an address (ops@example.com) or "Name <ops@example.com>", got "${raw}"`);
  return v;
};

/** Setting -> [environment variable, parser]. */
const settings: { [K in keyof Config]: [string, Parser<Config[K]>] } = {
  host: ['BATCHFLOW_HOST', str],
  port: ['BATCHFLOW_PORT', int(0, 65535)],
  dataDir: ['BATCHFLOW_DATA_DIR', str],
  databaseUrl: ['BATCHFLOW_DATABASE_URL', dbUrl],
  databasePoolSize: ['BATCHFLOW_DATABASE_POOL_SIZE', int(1, 1000)],
  timezone: ['BATCHFLOW_TIMEZONE', zone],
  workerConcurrency: ['BATCHFLOW_WORKER_CONCURRENCY', int(1, 4096)],
  runEngine: ['BATCHFLOW_RUN_ENGINE', bool],
  role: ['BATCHFLOW_ROLE', role],
  pythonPath: ['BATCHFLOW_PYTHON', str],
  killGraceMs: ['BATCHFLOW_KILL_GRACE_MS', int(0)],
  spawner: ['BATCHFLOW_SPAWNER', spawnerMode],
  shutdownGraceMs: ['BATCHFLOW_SHUTDOWN_GRACE_MS', int(0)],
  logCapBytes: ['BATCHFLOW_LOG_CAP_BYTES', int(1024)],
  logFlushMs: ['BATCHFLOW_LOG_FLUSH_MS', int(1, 60_000)],
  defaultLogMaxLength: ['BATCHFLOW_LOG_MAX_LENGTH', int(1)],
  bodyLimitBytes: ['BATCHFLOW_BODY_LIMIT_BYTES', int(1024)],
  editLockMinutes: ['BATCHFLOW_EDIT_LOCK_MINUTES', int(1)],
  keepWorkDirs: ['BATCHFLOW_KEEP_WORK_DIRS', bool],
  sqliteSynchronous: ['BATCHFLOW_SQLITE_SYNCHRONOUS', sync],
  sqliteCacheMiB: ['BATCHFLOW_SQLITE_CACHE_MIB', int(1, 65_536)],
  sqliteMmapMiB: ['BATCHFLOW_SQLITE_MMAP_MIB', int(0, 1_048_576)],
  logLevel: ['BATCHFLOW_LOG_LEVEL', logLevel],
  hostName: ['BATCHFLOW_HOST_NAME', str],
  engineHeartbeatMs: ['BATCHFLOW_ENGINE_HEARTBEAT_MS', int(10, 3_600_000)],
  engineLeaseMs: ['BATCHFLOW_ENGINE_LEASE_MS', int(100, 86_400_000)],
  engineRescanMs: ['BATCHFLOW_ENGINE_RESCAN_MS', int(10, 3_600_000)],
  auth: ['BATCHFLOW_AUTH', bool],
  masterKey: ['BATCHFLOW_MASTER_KEY', masterKey],
  masterKeyFile: ['BATCHFLOW_MASTER_KEY_FILE', str],
  tokenTtlSec: ['BATCHFLOW_TOKEN_TTL_SECONDS', int(60, 30 * 86_400)],
  signatureWindowMs: ['BATCHFLOW_SIGNATURE_WINDOW_MS', int(1_000, 3_600_000)],
  rateLimitPerSec: ['BATCHFLOW_RATE_LIMIT_PER_SECOND', int(0, 1_000_000)],
  rateLimitBurst: ['BATCHFLOW_RATE_LIMIT_BURST', int(1, 10_000_000)],
  headerLimitBytes: ['BATCHFLOW_HEADER_LIMIT_BYTES', int(1_024, 1_048_576)],
  taskUser: ['BATCHFLOW_TASK_USER', osUser],
  taskUsers: ['BATCHFLOW_TASK_USERS', userMap],
  workRoot: ['BATCHFLOW_WORK_ROOT', str],
  retentionDays: ['BATCHFLOW_RETENTION_DAYS', days],
  retentionIntervalMs: ['BATCHFLOW_RETENTION_INTERVAL_MS', int(60_000, 7 * 86_400_000)],
  resourceLimits: ['BATCHFLOW_RESOURCE_LIMITS', limitsMode],
  cgroupRoot: ['BATCHFLOW_CGROUP_ROOT', str],
  publicUrl: ['BATCHFLOW_PUBLIC_URL', httpUrl],
  smtpHost: ['BATCHFLOW_SMTP_HOST', (raw) => raw.trim()],
  smtpPort: ['BATCHFLOW_SMTP_PORT', int(0, 65535)],
  smtpTls: ['BATCHFLOW_SMTP_TLS', smtpTls],
  smtpUser: ['BATCHFLOW_SMTP_USER', str],
  smtpPassword: ['BATCHFLOW_SMTP_PASSWORD', str],
  smtpFrom: ['BATCHFLOW_SMTP_FROM', mailFrom],
  smsWebhookUrl: ['BATCHFLOW_SMS_WEBHOOK_URL', httpUrl],
  alertWebhookUrl: ['BATCHFLOW_ALERT_WEBHOOK_URL', httpUrl],
  alertRetryBaseMs: ['BATCHFLOW_ALERT_RETRY_BASE_MS', int(10, 3_600_000)],
  alertRetryMaxMs: ['BATCHFLOW_ALERT_RETRY_MAX_MS', int(10, 86_400_000)],
  alertGiveUpMs: ['BATCHFLOW_ALERT_GIVE_UP_MS', int(1_000, 30 * 86_400_000)],
  alertPollMs: ['BATCHFLOW_ALERT_POLL_MS', int(10, 3_600_000)],
};

/**
 * Resolves the configuration: defaults < env < overrides (flags, already typed or raw strings).
 * `env` defaults to process.env; tests pass their own. `flagNames` says which flag set each override
 * (`workerConcurrency` -> `--concurrency`), so that an error names what the user typed; an override
 * without one is named by its setting.
 */
export function loadConfig(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
  flagNames: Partial<Record<keyof Config, string>> = {},
): Config {
  const out = { ...defaults } as Record<keyof Config, unknown>;
  for (const key of Object.keys(settings) as Array<keyof Config>) {
    const [envName, parse] = settings[key];
    const raw = env[envName];
    if (raw !== undefined && raw !== '') out[key] = (parse as Parser<unknown>)(raw, envName);
    const o = overrides[key];
    if (o !== undefined) out[key] = typeof o === 'string' ? (parse as Parser<unknown>)(o, flagNames[key] ?? key) : o;
  }
  const cfg = out as unknown as Config;
  cfg.dataDir = path.resolve(cfg.dataDir);
  if (cfg.masterKeyFile) cfg.masterKeyFile = path.resolve(cfg.masterKeyFile);
  if (cfg.workRoot !== '') cfg.workRoot = path.resolve(cfg.workRoot);
  cfg.cgroupRoot = path.resolve(cfg.cgroupRoot);
  if (cfg.engineLeaseMs <= cfg.engineHeartbeatMs) {
    throw new ConfigError(`BATCHFLOW_ENGINE_LEASE_MS (${cfg.engineLeaseMs}) must be longer than BATCHFLOW_ENGINE_HEARTBEAT_MS (${cfg.engineHeartbeatMs})`);
  }
  // Several processes share a PostgreSQL store: what another process wrote is normally heard of by
  // LISTEN/NOTIFY, and the rescan (1 s unless set) is the fallback when a notification was missed.
  if (cfg.databaseUrl && !env.BATCHFLOW_ENGINE_RESCAN_MS && overrides.engineRescanMs === undefined) cfg.engineRescanMs = 1_000;
  if (cfg.role !== 'all' && !cfg.databaseUrl) {
    throw new ConfigError(`the role ${cfg.role} (--role, BATCHFLOW_ROLE) needs a shared PostgreSQL store (--database-url); the embedded SQLite store serves one process with the role all`);
  }
  return cfg;
}

/**
 * A config for tests: defaults with a given data dir and overrides, never the process environment.
 * Unsigned (auth off) unless a test turns it on: the tests of authentication do (test/api/auth*.ts);
 * every other in-process test calls as the original service's trusted gateway would forward.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig({ auth: false, ...overrides } as Partial<Record<keyof Config, unknown>>, {});
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
