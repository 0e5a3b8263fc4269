// Benchmark (b): trigger throughput and latency over HTTP. The server runs in a child process (as
// `batchflow serve`, engine on); autocannon drives Trigger Flow round-robin across many flows, each
// request a distinct (flow, minute) so that every trigger creates an instance. Trigger times lie in the
// future, so the instances wait (WAIT) and the machine's cores serve the API rather than run tasks.
// Also records the CPU each side used during the measured run (the load generator shares the 2 cores).
// Then the HTTP floor under the same load generator settings (connections, warm-up, duration, pipelining
// 1, the same bodies): a trivial fastify server in its own process (bench/httpFloorServer.ts) answering
// with an envelope of the same shape; batchflow's throughput is reported as a ratio of the floor's.
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
  /** Size of the first answer's body. */
  responseBytes: number;
  /** The trivial fastify server under the same load, measured right after. */
  floor: HttpFloorResult;
  /** triggersPerSec / floor.requestsPerSec. */
  ratioToFloor: number;
}

export interface HttpFloorResult {
  requests: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  responseBytes: number;
}

export interface Drive {
  requests: number;
  perSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  nonZero: number;
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  /** With `others`: their CPU, % of one core. */
  otherCpuPercent?: number;
  responseBytes: number;
}

/** utime + stime of a process in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function startChild(args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  // BENCH_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it).
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', ...args], {
    cwd: path.resolve(import.meta.dirname, '..'),
    // Unsigned (the original's trusted-gateway mode), as the previous figures were measured.
    env: { ...process.env, BATCHFLOW_LOG_LEVEL: 'warn', BATCHFLOW_AUTH: 'false', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('serving on') && resolve());
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * autocannon against the ports (connections spread round-robin over them): POST Trigger Flow's path,
 * round-robin over the flow ids, every request a distinct (flow, minute) from minute0 on; `warmSec` of
 * warm-up, then `durationSec` measured, with the CPU used by the servers (pids, summed) and by this
 * process during the measured part.
 */
export async function drive(
  ports: number[],
  pids: number[],
  ids: number[],
  minute0: number,
  connections: number,
  warmSec: number,
  durationSec: number,
  /** More processes whose CPU is reported apart (`otherCpuPercent`), listed after the warm-up (e.g. the database's backends). */
  others?: () => Promise<number[]>,
): Promise<Drive> {
  let n = 0;
  let nonZero = 0;
  let responseBytes = 0;
  const run = (duration: number) =>
    autocannon({
      // autocannon takes several URLs (its README; the types say one) and gives connection i URL i % n.
      url: ports.map((port) => `http://127.0.0.1:${port}`) as unknown as string,
      connections,
      pipelining: 1,
      duration,
      requests: [
        {
          method: 'POST',
          path: `/batch-processing-service/v2.1/flows?action=trigger&${ID}`,
          headers: { 'content-type': 'application/json' },
          setupRequest: (req: any) => {
            const k = n++;
            req.body = JSON.stringify({ flowId: ids[k % ids.length], triggerTime: minute0 + Math.floor(k / ids.length) * 60_000 });
            return req;
          },
          onResponse: (_status: number, body: string) => {
            if (!responseBytes) responseBytes = Buffer.byteLength(body);
            if (!body.startsWith('{"code":0')) nonZero++;
          },
        },
      ],
    });
  await run(warmSec);
  nonZero = 0;
  const otherPids = others ? await others() : [];
  // A process gone meanwhile (a backend that closed) counts what it had used until its last sample.
  const last = new Map<number, number>();
  const cpuOf = (list: number[]) =>
    list.reduce((sum, pid) => {
      try {
        last.set(pid, processCpuMs(pid));
      } catch {
        // gone: keep its last figure
      }
      return sum + (last.get(pid) ?? 0);
    }, 0);
  const serversMs = () => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const [cpu0, server0, other0, wall0] = [process.cpuUsage(), serversMs(), cpuOf(otherPids), Date.now()];
  const r = await run(durationSec);
  const [cpu, serverMs, otherMs, wallMs] = [process.cpuUsage(cpu0), serversMs() - server0, cpuOf(otherPids) - other0, Date.now() - wall0];
  return {
    requests: r.requests.total,
    perSec: round(r.requests.average, 0),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    nonZero,
    serverCpuPercent: Math.round((serverMs / wallMs) * 100),
    loadGeneratorCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    otherCpuPercent: others ? Math.round((otherMs / wallMs) * 100) : undefined,
    responseBytes,
  };
}

/** The trivial fastify server (`servers` of them, default 1, the load spread over them) under the same load as the trigger benchmark. */
export async function benchHttpFloor(opts: { connections: number; warmSec: number; durationSec: number; flows: number; port?: number; servers?: number }): Promise<HttpFloorResult> {
  const port = opts.port ?? 19080 + Math.floor(Math.random() * 1000);
  const ports = Array.from({ length: opts.servers ?? 1 }, (_, i) => port + i);
  const children = await Promise.all(ports.map((p) => startChild(['bench/httpFloorServer.ts', String(p)])));
  try {
    const ids = Array.from({ length: opts.flows }, (_, i) => i + 1);
    const minute0 = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
    const d = await drive(ports, children.map((c) => c.pid!), ids, minute0, opts.connections, opts.warmSec, opts.durationSec);
    if (d.nonZero) throw new Error(`http floor: ${d.nonZero} unexpected answers`);
    return {
      requests: d.requests,
      requestsPerSec: d.perSec,
      latencyP50Ms: d.p50,
      latencyP99Ms: d.p99,
      non2xx: d.non2xx,
      serverCpuPercent: d.serverCpuPercent,
      loadGeneratorCpuPercent: d.loadGeneratorCpuPercent,
      responseBytes: d.responseBytes,
    };
  } finally {
    await Promise.all(children.map(stopChild));
  }
}

export async function post(base: string, action: string, body: unknown): Promise<any> {
  const res = await fetch(`${base}/flows?action=${action}&${ID}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { code: number; msg: string; data: any };
  if (json.code !== 0) throw new Error(`${action}: ${json.msg}`);
  return json.data;
}

export async function benchTriggers(opts: { flows?: number; connections?: number; durationSec?: number; warmSec?: number; port?: number } = {}): Promise<TriggerResult> {
  const flows = opts.flows ?? 1000;
  const connections = opts.connections ?? 64;
  const durationSec = opts.durationSec ?? 10;
  const warmSec = opts.warmSec ?? 2;
  const port = opts.port ?? 18080 + Math.floor(Math.random() * 1000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-triggers-'));
  let d: Drive;
  try {
    const child = await startChild(['src/cli/main.ts', 'serve', '--port', String(port), '--data', dataDir]);
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
      d = await drive([port], [child.pid!], ids, minute0, connections, warmSec, durationSec);
    } finally {
      await stopChild(child);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  // The floor right after, with batchflow's server gone: the same connections, warm-up, duration, bodies.
  const floor = await benchHttpFloor({ connections, warmSec, durationSec, flows });
  return {
    flows,
    connections,
    durationSec,
    requests: d.requests,
    triggersPerSec: d.perSec,
    latencyP50Ms: d.p50,
    latencyP99Ms: d.p99,
    nonZeroCodes: d.nonZero,
    non2xx: d.non2xx,
    serverCpuPercent: d.serverCpuPercent,
    loadGeneratorCpuPercent: d.loadGeneratorCpuPercent,
    responseBytes: d.responseBytes,
    floor,
    ratioToFloor: round(d.perSec / floor.requestsPerSec, 2),
  };
}
