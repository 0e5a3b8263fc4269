// Trigger throughput on PostgreSQL: Trigger Flow over HTTP through 1 or 2 `--role api` processes on one
// fresh database (bench/pgCluster.ts), autocannon spreading its connections over them as bench/triggers.ts
// drives one server, future trigger times (nothing runs; no worker is started), then the HTTP floor with
// as many trivial servers under the same load. Flows are imported through the first api process.
import os from 'node:os';
import { admin, pgRoundTripMs, startCluster } from './pgCluster.js';
import { round } from './machine.js';
import { benchHttpFloor, drive, post, type HttpFloorResult } from './triggers.js';

export interface PgTriggerResult {
  date: string;
  apis: number;
  flows: number;
  connections: number;
  durationSec: number;
  requests: number;
  triggersPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  nonZeroCodes: number;
  non2xx: number;
  /** CPU time over wall time of the api processes (summed) and of the load generator, % of one core. */
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  /** CPU of the database's backends (PostgreSQL serving these api processes), % of one core. */
  postgresCpuPercent: number;
  /** CPU per trigger, ms: the api processes, PostgreSQL's backends. */
  apiCpuMsPerTrigger: number;
  postgresCpuMsPerTrigger: number;
  /** The same number of trivial fastify servers under the same load, measured right after. */
  floor: HttpFloorResult;
  ratioToFloor: number;
  /** PostgreSQL's round trip (`select 1`) just before the load, median. */
  pgRoundTripMs: number;
  /** os.loadavg()[0] at the start and at the end (other sessions' work on the 2 cores shows here). */
  loadAvg: [number, number];
}

export async function benchPgTriggers(opts: { apis: number; flows: number; connections: number; durationSec: number; warmSec: number; env?: Record<string, string> }): Promise<PgTriggerResult> {
  const { apis, flows, connections, durationSec, warmSec } = opts;
  const load0 = os.loadavg()[0];
  const cluster = await startCluster(Array.from({ length: apis }, () => ({ role: 'api' as const })), { env: opts.env });
  let d;
  let ping = NaN;
  try {
    const base = `http://127.0.0.1:${cluster.procs[0].port}/batch-processing-service/v2.1`;
    const dirs = await cluster.call('GET', 'directories', 'listWorkFlowDirs');
    const ids: number[] = [];
    for (let i = 0; i < flows; i++) {
      const flowJson = { name: `f${i}`, type: 0, tasks: [{ name: 'only', type: 'SHELL', cmd: 'true' }], relations: [], parameters: [] };
      ids.push(Number((await post(base, 'import', { flowName: `bench_${i}`, desc: '', dirId: dirs[0].key, flowJson })).flowId));
    }
    const minute0 = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
    const procs = cluster.procs;
    ping = await pgRoundTripMs();
    d = await drive(
      procs.map((p) => p.port),
      procs.map((p) => p.child.pid!),
      ids,
      minute0,
      connections,
      warmSec,
      durationSec,
      // The database's backends: PostgreSQL's share of the work.
      async () => (await admin((c) => c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [cluster.database]))).rows.map((r) => r.pid),
    );
  } finally {
    await cluster.close();
  }
  const floor = await benchHttpFloor({ connections, warmSec, durationSec, flows, servers: apis });
  return {
    date: new Date().toISOString(),
    apis,
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
    postgresCpuPercent: d.otherCpuPercent ?? NaN,
    apiCpuMsPerTrigger: round((d.serverCpuPercent * 10) / d.perSec, 3),
    postgresCpuMsPerTrigger: round(((d.otherCpuPercent ?? NaN) * 10) / d.perSec, 3),
    floor,
    ratioToFloor: round(d.perSec / floor.requestsPerSec, 2),
    pgRoundTripMs: round(ping),
    loadAvg: [round(load0, 2), round(os.loadavg()[0], 2)],
  };
}
