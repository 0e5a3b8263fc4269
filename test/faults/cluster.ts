// The processes of the fault test: `batchflow serve --role ...` children on one PostgreSQL schema (api,
// workers, schedulers), started, killed with SIGKILL or stopped with SIGTERM by the scenario, and the
// PostgreSQL server itself, restarted under them. Each child keeps the tail of its output, so that a
// failure can show what the process said before it died.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export type Role = 'api' | 'scheduler' | 'worker';

/** What each role prints once it is up (src/cli/main.ts's start line). */
const READY: Record<Role, string> = { api: 'serving on', scheduler: 'cron scheduler', worker: 'worker of' };

/** The store URL of a schema: the CLI takes a URL only, so the schema rides in pg's `options`. */
export function schemaUrl(baseUrl: string, schema: string): string {
  const sep = baseUrl.includes('?') ? '&' : '?';
  return `${baseUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

export interface ProcOptions {
  role: Role;
  name: string;
  databaseUrl: string;
  env: Record<string, string>;
  /** api: the port; worker: its slots. */
  port?: number;
  concurrency?: number;
  /** worker: its data dir (work dirs; one process per dir), reused across restarts of the same worker; api: its key file and credentials. */
  dataDir?: string;
}

export class Proc {
  proc: ChildProcess | null = null;
  /** The last ~8 KB of stdout and stderr, for the report of a failure. */
  tail = '';
  startedAt = 0;
  exitedAt = 0;
  /** How the last run ended, and whether the scenario asked for it (kill -9, SIGTERM). */
  exit: { code: number | null; signal: string | null } | null = null;
  expectedExit = false;
  /** Told when the process dies without being asked to (a crash is a finding, not noise). */
  onUnexpectedExit: (p: Proc) => void = () => {};
  readonly dataDir: string | undefined;
  constructor(readonly o: ProcOptions) {
    // Workers keep work dirs there, the api its key file and bootstrap credentials; schedulers nothing.
    this.dataDir = o.role === 'worker' || o.role === 'api' ? (o.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `batchflow-faults-${o.name}-`))) : undefined;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }
  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Spawns the process and resolves once it printed its start line (generous: tsx compiles on a loaded machine). */
  async start(timeoutMs = 90_000): Promise<void> {
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', this.o.role, '--database-url', this.o.databaseUrl];
    if (this.o.port !== undefined) args.push('--port', String(this.o.port));
    if (this.o.concurrency !== undefined) args.push('--concurrency', String(this.o.concurrency));
    if (this.dataDir) args.push('--data', this.dataDir);
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', BATCHFLOW_LOG_LEVEL: 'warn', ...this.o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.exitedAt = 0;
    this.exit = null;
    this.expectedExit = false;
    const keep = (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-8192);
    };
    proc.stderr!.on('data', keep);
    proc.once('exit', (code, signal) => {
      this.exitedAt = Date.now();
      this.exit = { code, signal };
      if (!this.expectedExit && this.startedAt > 0) this.onUnexpectedExit(this);
    });
    this.startedAt = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.o.name} did not start within ${timeoutMs} ms:\n${this.tail}`)), timeoutMs);
      let seen = '';
      proc.stdout!.on('data', (d: Buffer) => {
        keep(d);
        seen += d.toString();
        if (seen.includes(READY[this.o.role])) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.o.name} exited (${code ?? signal}) before it started:\n${this.tail}`));
      });
    });
    this.startedAt = Date.now();
  }

  /** kill -9; resolves with the time the exit was seen (nothing of the process writes after it). */
  kill9(): Promise<number> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM (graceful: a worker finishes or hands back its tasks); SIGKILL after `graceMs`. */
  async term(graceMs = 30_000): Promise<number> {
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), graceMs);
    try {
      return await this.signal('SIGTERM');
    } finally {
      clearTimeout(t);
    }
  }

  private signal(sig: NodeJS.Signals): Promise<number> {
    const proc = this.proc;
    if (!proc || !this.alive) return Promise.resolve(this.exitedAt || Date.now());
    this.expectedExit = true;
    return new Promise((resolve) => {
      proc.once('exit', () => resolve(Date.now()));
      proc.kill(sig);
    });
  }

  removeDataDir(): void {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The local PostgreSQL cluster's version directory (/etc/postgresql/<version>). */
async function clusterVersion(): Promise<string> {
  const { stdout } = await run('ls', ['/etc/postgresql']);
  const v = stdout.split('\n').filter(Boolean)[0];
  if (!v) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return v;
}

/** Restarts the server under every connection of every process; resolves once it accepts queries again. */
export async function restartPostgres(url: string): Promise<{ downAt: number; upAt: number }> {
  const version = await clusterVersion();
  const downAt = Date.now();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { timeout: 120_000 });
  await waitUntil(async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  }, 60_000, 'PostgreSQL to accept connections after its restart');
  return { downAt, upAt: Date.now() };
}

/** Polls `fn` until it returns a truthy value; throws after `timeoutMs` naming `what`. */
export async function waitUntil<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
