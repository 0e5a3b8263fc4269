// Test harness for engine behaviour through the real API: a server in this process (port 0, temp data
// dir, optional clock) or in a child process (for kill -9 and SIGTERM), a tiny V2.1 client, and builders
// for flows of shell tasks.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { SignedClient, type Credentials } from '../../src/client/signer.js';
import { SHARED_WORK_BASE } from '../../src/engine/workDirs.js';
import { openStore, startServer, type RunningServer } from '../../src/server.js';
import { BOOTSTRAP_CREDENTIALS_FILE } from '../../src/startup/bootstrapApp.js';
import type { Store } from '../../src/store/store.js';

export const ID = 'userId=u-admin&orgId=o-default';
const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Envelope<T = any> {
  code: number;
  msg: string;
  data: T;
}

/**
 * A V2.1 client. Given the server's data directory, it signs its calls (contract §9) with the bootstrap
 * credentials the server wrote there, once they exist; a server without authentication is called unsigned.
 */
export class Client {
  private signer: SignedClient | null = null;
  constructor(
    readonly url: string,
    private readonly dataDir?: string,
  ) {}
  private signed(): SignedClient | null {
    if (this.signer || !this.dataDir) return this.signer;
    const file = path.join(this.dataDir, BOOTSTRAP_CREDENTIALS_FILE);
    if (existsSync(file)) this.signer = new SignedClient(this.url, JSON.parse(readFileSync(file, 'utf8')) as Credentials);
    return this.signer;
  }
  async raw<T = any>(method: 'GET' | 'POST', resource: string, action: string, body?: unknown, query = ''): Promise<Envelope<T>> {
    const target = `/batch-processing-service/v2.1/${resource}?action=${action}&${ID}${query}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signer = this.signed();
    if (signer) return JSON.parse((await signer.request(method, target, text)).text) as Envelope<T>;
    const res = await fetch(`${this.url}${target}`, { method, headers: text === undefined ? {} : { 'content-type': 'application/json' }, body: text });
    return (await res.json()) as Envelope<T>;
  }
  async ok<T = any>(method: 'GET' | 'POST', resource: string, action: string, body?: unknown, query = ''): Promise<T> {
    const r = await this.raw<T>(method, resource, action, body, query);
    if (r.code !== 0) throw new Error(`${resource}?action=${action}: ${r.code} ${r.msg}`);
    return r.data;
  }
  instance(id: string) {
    return this.ok('GET', 'flowInstances', 'get', undefined, `&flowInstId=${id}`);
  }
  taskInstance(id: string) {
    return this.ok('GET', 'taskInstances', 'get', undefined, `&taskInstId=${id}`);
  }
  async log(taskInstId: string): Promise<string> {
    return (await this.ok('GET', 'taskInstances', 'getLog', undefined, `&taskInstId=${taskInstId}`)).log;
  }
  trigger(flowId: number, triggerTime = Date.now()): Promise<string> {
    return this.ok('POST', 'flows', 'trigger', { flowId, triggerTime }).then((d) => d.flowInstanceId);
  }
  cancel(flowInstId: string) {
    return this.ok('POST', 'flowInstances', 'cancel', { flowInstId });
  }
}

export interface TaskSpec {
  name: string;
  cmd: string;
  timeout?: number;
  retryLimit?: number;
  retryInterval?: number;
  successCode?: string;
  parameters?: Array<{ key: string; value: string }>;
  type?: 'SHELL' | 'PYTHON';
}

/** Imports a flow; relations as [source, target] task names (rerun true) or full relation objects. */
export async function importFlow(
  c: Client,
  name: string,
  tasks: TaskSpec[],
  relations: Array<[string, string] | { sourceTaskName: string; targetTaskName: string; rerun: boolean }> = [],
  parameters: Array<{ key: string; value: string }> = [],
): Promise<number> {
  const dirs = await c.ok('GET', 'directories', 'listWorkFlowDirs');
  const flowJson = {
    name,
    type: 0,
    parameters,
    tasks: tasks.map((t) => ({ type: 'SHELL', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', ...t })),
    relations: relations.map((r) => (Array.isArray(r) ? { sourceTaskName: r[0], targetTaskName: r[1], rerun: true } : r)),
  };
  const d = await c.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId: dirs[0].key, flowJson });
  return Number(d.flowId);
}

export interface InProcess {
  server: RunningServer;
  client: Client;
  config: Config;
  dataDir: string;
  close(): Promise<void>;
}

export async function startInProcess(
  overrides: Partial<Config> = {},
  clock?: Clock,
  opts: { wrapStore?: (s: Store) => Store; dataDir?: string } = {},
): Promise<InProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'batchflow-test-'));
  // Unsigned unless a test asks for authentication (child servers, ChildServer below, run with it on).
  const config = loadConfig({ dataDir, port: 0, logLevel: 'silent', killGraceMs: 500, auth: false, ...overrides } as Record<string, unknown>, {});
  // A wrapped store (failures on purpose): opened here, as the server would open it.
  const store = opts.wrapStore ? opts.wrapStore(await openStore(config)) : undefined;
  const server = await startServer(config, { logger: pino({ level: config.logLevel }), clock, store });
  return {
    server,
    client: new Client(server.url, dataDir),
    config,
    dataDir,
    async close() {
      const workRoot = server.engine?.workRoot ?? '';
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      // Tasks of another user (tests run as root) work outside the data dir: what the engine kept goes too.
      if (workRoot.startsWith(`${SHARED_WORK_BASE}/`)) rmSync(workRoot, { recursive: true, force: true });
    },
  };
}

/** `batchflow serve` as a child process on a data dir (survives across restarts of the child). */
export class ChildServer {
  proc: ChildProcess | null = null;
  /** What the child wrote to stdout and stderr since its last start. */
  output = '';
  readonly client: Client;
  constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly env: Record<string, string> = {},
    /** Start it with an inherited open fd 100, as a wrapper script (`exec 100>log`) or a supervisor might. */
    readonly inheritFd = false,
  ) {
    this.client = new Client(`http://127.0.0.1:${port}`, dataDir);
  }
  async start(): Promise<void> {
    const argv = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(this.port), '--data', this.dataDir];
    // Node marks the extra stdio fds it hands a child close-on-exec; a shell's redirection does not (the same pid: exec; dash takes one-digit fds only).
    const [file, ...args] = this.inheritFd ? ['/bin/bash', '-c', 'exec "$@" 100</dev/null', 'bash', ...argv] : argv;
    const proc = spawn(file, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', BATCHFLOW_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.output = '';
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        this.output += d.toString();
        if (this.output.includes('serving on')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`server exited with ${code}: ${this.output}`)));
    });
  }
  /** Resolves with the exit code once the child has exited. */
  stop(signal: NodeJS.Signals): Promise<number | null> {
    const proc = this.proc!;
    return new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
      proc.once('exit', (code) => resolve(code));
      proc.kill(signal);
    });
  }
}

/**
 * A scratch directory that tasks can write to: run as root, the service runs them as another user
 * (batchflow-task), so it is made world-writable (as /tmp itself). Used as a data dir, the service makes it
 * private (0700) at its start.
 */
export function tempDir(prefix = 'batchflow-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TERMINAL = new Set(['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR']);
export function waitForInstanceEnd(c: Client, id: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(async () => {
    const i = await c.instance(id);
    return TERMINAL.has(i.statusDesc) ? i : null;
  }, timeoutMs, `instance ${id} to end`);
}

/** Task instance ids of an instance, by task name (from its instance graph). */
export function taskInstIds(inst: any): Record<string, string> {
  const graph = JSON.parse(inst.graph);
  return Object.fromEntries(graph.tasks.map((t: any) => [t.taskName, t.taskInstId]));
}
export function taskStatuses(inst: any): Record<string, string> {
  const graph = JSON.parse(inst.graph);
  return Object.fromEntries(graph.tasks.map((t: any) => [t.taskName, t.status]));
}

export function freePort(): number {
  // Below Linux's ephemeral range (32768-60999): a port the kernel hands to some outgoing connection (the
  // PostgreSQL tests open many) cannot take a restarted child server's port meanwhile.
  return 20_000 + Math.floor(Math.random() * 12_000);
}
