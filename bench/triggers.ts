// Benchmark (b): trigger throughput and latency over HTTP. The server runs in a child process (as
// `batchflow serve`, engine on); autocannon drives Trigger Flow round-robin across many flows, each
// request a distinct (flow, minute) so that every trigger creates an instance. Trigger times lie in the
// future, so the instances wait (WAIT) and the machine's cores serve the API rather than run tasks.
// Also records the CPU each side used during the measured run (the load generator shares the 2 cores).
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ID } from './harness.js';
import { round } from './machine.js';

export interface TriggerResult {
  flows: number;
  connections: number;
  durationSec: number;
  requests: number;
  triggersPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  nonZeroCodes: number;
  non2xx: number;
  /** CPU time over wall time during the measured run, in % of one core (server: all its threads). */
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
}

/** utime + stime of a process in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function startChild(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--data', dataDir], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, BATCHFLOW_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('serving on') && resolve());
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return child;
}

async function post(base: string, action: string, body: unknown): Promise<any> {
  const res = await fetch(`${base}/flows?action=${action}&${ID}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { code: number; msg: string; data: any };
  if (json.code !== 0) throw new Error(`${action}: ${json.msg}`);
  return json.data;
}

export async function benchTriggers(opts: { flows?: number; connections?: number; durationSec?: number; port?: number } = {}): Promise<TriggerResult> {
  const flows = opts.flows ?? 1000;
  const connections = opts.connections ?? 64;
  const durationSec = opts.durationSec ?? 10;
  const port = opts.port ?? 18080 + Math.floor(Math.random() * 1000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-triggers-'));
  const child = await startChild(dataDir, port);
  const base = `http://127.0.0.1:${port}/batch-processing-service/v2.1`;
  try {
    const dirs = await (await fetch(`${base}/directories?action=listWorkFlowDirs&${ID}`)).json();
    const dirId = (dirs as any).data[0].key;
    const ids: number[] = [];
    for (let i = 0; i < flows; i++) {
      const flowJson = { name: `f${i}`, type: 0, tasks: [{ name: 'only', type: 'SHELL', cmd: 'true' }], relations: [], parameters: [] };
      ids.push(Number((await post(base, 'import', { flowName: `bench_${i}`, desc: '', dirId, flowJson })).flowId));
    }
    const minute0 = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
    let n = 0;
    let nonZero = 0;
    const run = (duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            path: `/batch-processing-service/v2.1/flows?action=trigger&${ID}`,
            headers: { 'content-type': 'application/json' },
            setupRequest: (req: any) => {
              const k = n++;
              req.body = JSON.stringify({ flowId: ids[k % flows], triggerTime: minute0 + Math.floor(k / flows) * 60_000 });
              return req;
            },
            onResponse: (_status: number, body: string) => {
              if (!body.startsWith('{"code":0')) nonZero++;
            },
          },
        ],
      });
    await run(2); // warm-up
    nonZero = 0;
    const [cpu0, server0, wall0] = [process.cpuUsage(), processCpuMs(child.pid!), Date.now()];
    const r = await run(durationSec);
    const [cpu, serverMs, wallMs] = [process.cpuUsage(cpu0), processCpuMs(child.pid!) - server0, Date.now() - wall0];
    return {
      flows,
      connections,
      durationSec,
      requests: r.requests.total,
      triggersPerSec: round(r.requests.average, 0),
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      nonZeroCodes: nonZero,
      non2xx: r.non2xx,
      serverCpuPercent: Math.round((serverMs / wallMs) * 100),
      loadGeneratorCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
