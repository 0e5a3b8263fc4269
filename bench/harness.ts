// A batchflow server in this process on a temporary data dir, plus a tiny V2.1 client for benchmarks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

export const ID = 'userId=u-admin&orgId=o-default';

/** A V2.1 call as u-admin against `base` (.../batch-processing-service/v2.1): its data, or it throws the code. */
export function apiCaller(base: string): Harness['call'] {
  return async (method, resource, action, body, query = '') => {
    const res = await fetch(`${base}/${resource}?action=${action}&${ID}${query}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { code: number; msg: string; data: any };
    if (json.code !== 0) throw new Error(`${resource}/${action}: ${json.code} ${json.msg}`);
    return json.data;
  };
}

export interface Harness {
  server: RunningServer;
  config: Config;
  call<T = any>(method: 'GET' | 'POST', resource: string, action: string, body?: unknown, query?: string): Promise<T>;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<Config> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-'));
  // Unsigned (the original's trusted-gateway mode): these runs measure the engine, not the signature check.
  // BENCH_RESOURCE_LIMITS=off measures the engine without a control group per run (its cost, ~0.3 ms a spawn).
  const limits = process.env.BENCH_RESOURCE_LIMITS ? { BATCHFLOW_RESOURCE_LIMITS: process.env.BENCH_RESOURCE_LIMITS } : {};
  const config = loadConfig({ dataDir, port: 0, logLevel: 'warn', auth: false, ...overrides } as Record<string, unknown>, limits);
  const server = await startServer(config, { logger: pino({ level: 'warn' }) });
  const base = `${server.url}/batch-processing-service/v2.1`;
  return {
    server,
    config,
    call: apiCaller(base),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Imports a flow of SHELL tasks named t0..t(n-1) with the given edges (by index). */
export async function importFlow(h: Harness, name: string, cmds: string[], edges: Array<[number, number]>): Promise<number> {
  const dirs = await h.call('GET', 'directories', 'listWorkFlowDirs');
  const flowJson = {
    name,
    type: 0,
    tasks: cmds.map((cmd, i) => ({ name: `t${i}`, type: 'SHELL', cmd, timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' })),
    relations: edges.map(([a, b]) => ({ sourceTaskName: `t${a}`, targetTaskName: `t${b}`, rerun: true })),
    parameters: [],
  };
  const data = await h.call('POST', 'flows', 'import', { flowName: name, desc: '', dirId: dirs[0].key, flowJson });
  return Number(data.flowId);
}

/** One task attempt's stamps from the engine's events (performance.now() timeline). */
export interface TaskStamps {
  spawnHr: number;
  spawnedHr: number;
  exitSeenHr?: number;
  exitedHr?: number;
  /** taskEnded's own stamp: the end is committed. */
  endedHr?: number;
}

export interface InstanceRun {
  /** Task instances in the order their taskStarted came (for a chain: the chain's order). */
  tasks: TaskStamps[];
  /** performance.now() just before the Trigger Flow request was sent. */
  triggerHr: number;
  /** instanceEnded's stamp. */
  instanceEndedHr: number;
  status: string;
}

/**
 * Triggers the flow once and collects every task's stamps from the engine's public events (taskStarted,
 * taskEnded, instanceEnded) until the instance ends. Assumes nothing else runs on the engine meanwhile.
 */
export async function runInstance(h: Harness, flowId: number, triggerTime: number): Promise<InstanceRun> {
  const engine = h.server.engine!;
  const byId = new Map<string, TaskStamps>();
  const onStarted = (e: { taskInstanceId: string; spawnHr: number; spawnedHr: number }) => byId.set(e.taskInstanceId, { spawnHr: e.spawnHr, spawnedHr: e.spawnedHr });
  const onEnded = (e: { taskInstanceId: string; exitSeenHr: number; exitedHr: number; hr: number }) => {
    const t = byId.get(e.taskInstanceId);
    if (t) Object.assign(t, { exitSeenHr: e.exitSeenHr, exitedHr: e.exitedHr, endedHr: e.hr });
  };
  engine.events.on('taskStarted', onStarted);
  engine.events.on('taskEnded', onEnded);
  // taskEnded of the last task comes before instanceEnded (both after the commit that records them).
  const done = new Promise<{ status: string; hr: number }>((resolve) => engine.events.once('instanceEnded', (e) => resolve({ status: e.status, hr: e.hr })));
  try {
    const triggerHr = performance.now();
    await h.call('POST', 'flows', 'trigger', { flowId, triggerTime });
    const end = await done;
    const tasks = [...byId.values()];
    if (tasks.some((t) => t.exitedHr === undefined)) throw new Error('not every task reported its end');
    return { tasks, triggerHr, instanceEndedHr: end.hr, status: end.status };
  } finally {
    engine.events.off('taskStarted', onStarted);
    engine.events.off('taskEnded', onEnded);
  }
}
