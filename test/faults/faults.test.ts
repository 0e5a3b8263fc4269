// The fault test (issue 7 item 6; `npm run test:faults`, not part of `npm test`): 1 api, 3 worker and 2
// scheduler processes on one fresh PostgreSQL schema run 300 manual instances of 30 flows plus a periodic
// flow's fires, while the scenario cancels instances, kills workers with -9 (twice), kills a scheduler,
// and restarts PostgreSQL. Afterwards the store is read with pg and checked (checks.ts); the summary is
// printed either way, so that a failure can be diagnosed from the output alone.
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client } from '../engine/harness.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { Random } from '../sim/random.js';
import { checkAll } from './checks.js';
import { Proc, restartPostgres, schemaUrl, waitUntil, type ProcOptions } from './cluster.js';
import { readStore, summarize, type ScenarioLog } from './observed.js';
import { cancel, flowDefs, importFlows, pastBase, planTriggers, trigger, type PlannedTrigger } from './workload.js';

const WAVES = 10;
/** Pacing of the waves (the shape of the load, not a wait for any result). */
const WAVE_MS = 11_000;
const SEED = Number(process.env.BATCHFLOW_FAULTS_SEED ?? Date.now() % 1_000_000);

const schema = newSchema('bf_faults');
const url = schemaUrl(TEST_DATABASE_URL, schema);
const procs: Proc[] = [];
const t0 = Date.now();
const say = (msg: string) => console.log(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/** One query on a fresh connection: the scenario's own connections must not depend on surviving the restart. */
async function query<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end().catch(() => {});
  }
}

describe.runIf(postgresAvailable)('fault test: api, workers and schedulers on PostgreSQL under kills and a restart', () => {
  afterAll(async () => {
    for (const p of procs) if (p.alive) await p.kill9();
    for (const p of procs) p.removeDataDir();
    if (process.env.BATCHFLOW_FAULTS_KEEP === '1') console.log(`[faults] kept schema ${schema}: ${url}`);
    else await dropSchemas();
  });

  it('keeps every invariant', async () => {
    const env = {
      // Short leases make recovery quick; the margins still allow for a loaded machine's stalls.
      BATCHFLOW_ENGINE_HEARTBEAT_MS: '300',
      BATCHFLOW_ENGINE_LEASE_MS: '2000',
      BATCHFLOW_SHUTDOWN_GRACE_MS: '3000',
      BATCHFLOW_KILL_GRACE_MS: '500',
      // Signed calls, as in production: every API process of the deployment holds the same master key.
      BATCHFLOW_MASTER_KEY: randomBytes(32).toString('hex'),
    };
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const make = (o: Omit<ProcOptions, 'databaseUrl' | 'env'>) => {
      const p = new Proc({ ...o, databaseUrl: url, env });
      p.onUnexpectedExit = (x) => {
        const what = `${x.o.name} (pid ${x.pid}) died unasked at ${new Date(x.exitedAt).toISOString()} (${x.exit?.code ?? x.exit?.signal}): ${x.tail.slice(-600)}`;
        log.processFaults.push(what);
        say(what);
      };
      procs.push(p);
      return p;
    };
    const log: ScenarioLog = {
      flows: new Map(),
      periodicFlowId: 0,
      acked: new Set(),
      longNap: new Set(),
      cancels: new Map(),
      cancelRefusals: 0,
      workerKills: [],
      schedulerKills: [],
      postgresRestarts: [],
      periodicSince: 0,
      periodicUntil: 0,
      schedulersStoppedAt: 0,
      processFaults: [],
      processes: [],
    };
    const started = async (p: Proc) => {
      await p.start();
      log.processes.push({ name: p.o.name, role: p.o.role, pid: p.pid, startedAt: p.startedAt });
      say(`${p.o.name} (${p.o.role}) up, pid ${p.pid}`);
    };

    // The api first: it migrates and bootstraps the empty schema; then the others together.
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const api = make({ role: 'api', name: 'api', port });
    await started(api);
    const workers = [1, 2, 3].map((n) => make({ role: 'worker', name: `w${n}`, concurrency: 4 }));
    const schedulers = [1, 2].map((n) => make({ role: 'scheduler', name: `s${n}` }));
    await Promise.all([...workers, ...schedulers].map(started));
    // Signed with the app the api made on the empty store (its bootstrap credentials, in its data dir).
    const c = new Client(`http://127.0.0.1:${port}`, api.dataDir);

    const flows = await importFlows(c, flowDefs());
    for (const f of flows) log.flows.set(f.flowId, { name: f.name, shape: f.shape, taskCount: f.tasks.length });
    const periodic = flows.find((f) => f.shape === 'periodic')!;
    log.periodicFlowId = periodic.flowId;
    log.periodicSince = periodic.importedAt;
    say(`imported ${flows.length} flows (periodic flow ${periodic.flowId}); seed ${SEED}`);

    const rnd = new Random(SEED);
    const plan = planTriggers(flows, rnd);
    const base = pastBase(Date.now());
    const future: string[] = [];

    /** Kills a worker once it runs something (mid-run by construction), then starts `next` in its place. */
    const killWorker = async (w: Proc, next: Proc) => {
      await waitUntil(async () => {
        const r = await query<{ n: string }>(`select count(*) as n from attempts a join engines e on e.id = a.engine_id where a.status = 'RUNNING' and e.pid = $1`, [w.pid]);
        return Number(r[0]!.n) >= 2;
      }, 60_000, `${w.o.name} to run tasks`, 100).catch(() => say(`${w.o.name} ran fewer than 2 tasks within 60 s; killing it anyway`));
      const exitAt = await w.kill9();
      log.workerKills.push({ name: w.o.name, pid: w.pid, exitAt });
      say(`kill -9 ${w.o.name} (pid ${w.pid}); starting ${next.o.name}`);
      await started(next);
    };
    const faults: Record<number, () => Promise<void>> = {
      // The same worker again, on its own data dir: it recovers its previous life's attempts at once.
      2: () => killWorker(workers[0]!, make({ role: 'worker', name: 'w1b', concurrency: 4, dataDir: workers[0]!.dataDir })),
      3: async () => {
        const s = schedulers[0]!;
        const exitAt = await s.kill9();
        log.schedulerKills.push({ name: s.o.name, pid: s.pid, exitAt });
        say(`kill -9 ${s.o.name} (pid ${s.pid})`);
      },
      5: async () => {
        say('restarting PostgreSQL');
        const r = await restartPostgres(TEST_DATABASE_URL);
        log.postgresRestarts.push(r);
        say(`PostgreSQL back after ${r.upAt - r.downAt} ms`);
        await waitUntil(async () => (await c.raw('GET', 'directories', 'listWorkFlowDirs')).code === 0, 60_000, 'the api to answer after the restart');
      },
      // A replacement on a fresh data dir: the others recover the dead one's attempts when its lease ends.
      7: () => killWorker(workers[1]!, make({ role: 'worker', name: 'w4', concurrency: 4 })),
      8: async () => {
        const s = make({ role: 'scheduler', name: 's1b' });
        schedulers.push(s);
        await started(s);
      },
    };

    const waveSize = Math.ceil(plan.length / WAVES);
    for (let k = 0; k < WAVES; k++) {
      const waveStart = Date.now();
      const wave: PlannedTrigger[] = plan.slice(k * waveSize, (k + 1) * waveSize);
      const ids: string[] = [];
      for (const p of wave) {
        const a = await trigger(c, p, base);
        log.acked.add(a.id);
        if (p.longNap) log.longNap.add(a.id);
        if (p.futureInSec !== null) future.push(a.id);
        ids.push(a.id);
      }
      // One just triggered (most likely WAIT behind its flow) and one RUNNING now.
      const running = await query<{ id: string }>(`select id from flow_instances where status = 'RUNNING' and flow_id <> $1 order by random() limit 1`, [periodic.flowId]);
      for (const id of [rnd.pick(ids), ...running.map((r) => r.id)]) {
        const r = await cancel(c, id);
        if (r.ackAt !== null) log.cancels.set(id, r.ackAt);
        else log.cancelRefusals++;
      }
      say(`wave ${k}: ${wave.length} triggered (${log.acked.size} in all), ${log.cancels.size} cancels acknowledged`);
      await faults[k]?.();
      const rest = WAVE_MS - (Date.now() - waveStart);
      if (rest > 0 && k < WAVES - 1) await new Promise((r) => setTimeout(r, rest));
    }
    // A few of the future triggers, still waiting: cancelled before they are due.
    for (const id of future.slice(0, 3)) {
      const r = await cancel(c, id);
      if (r.ackAt !== null) log.cancels.set(id, r.ackAt);
      else log.cancelRefusals++;
    }

    const open = async () => Number((await query<{ n: string }>(`select count(*) as n from flow_instances where status in ('WAIT', 'RUNNING')`))[0]!.n);
    const openManual = async () => Number((await query<{ n: string }>(`select count(*) as n from flow_instances where status in ('WAIT', 'RUNNING') and kind <> 'schedule'`))[0]!.n);
    await waitUntil(async () => (await openManual()) === 0, 180_000, 'every manual instance to end', 500).catch((e: Error) => say(e.message));
    // Fires in at least three minutes; then stop the schedulers right after the current minute's fire.
    await waitUntil(async () => Math.floor(Date.now() / 60_000) >= Math.floor(log.periodicSince / 60_000) + 3, 210_000, 'three minutes of periodic fires', 500);
    const minute = Math.floor(Date.now() / 60_000);
    await waitUntil(
      async () => (await query(`select 1 from flow_instances where flow_id = $1 and trigger_time >= $2`, [periodic.flowId, minute * 60_000])).length > 0,
      40_000,
      `the periodic fire of minute ${new Date(minute * 60_000).toISOString()}`,
      200,
    ).catch((e: Error) => say(e.message));
    log.periodicUntil = minute * 60_000;
    for (const s of schedulers) {
      if (!s.alive) continue;
      await s.term();
      if (s.exit?.code !== 0) log.processFaults.push(`${s.o.name} (pid ${s.pid}) ended ${s.exit?.code ?? s.exit?.signal} on SIGTERM: ${s.tail.slice(-600)}`);
    }
    log.schedulersStoppedAt = Date.now();
    say('schedulers stopped');
    await waitUntil(async () => (await open()) === 0, 60_000, 'every instance to end', 500).catch((e: Error) => say(e.message));
    for (const p of procs) {
      if (!p.alive) continue;
      await p.term();
      if (p.exit?.code !== 0) log.processFaults.push(`${p.o.name} (pid ${p.pid}) ended ${p.exit?.code ?? p.exit?.signal} on SIGTERM: ${p.tail.slice(-600)}`);
    }
    say('all processes stopped');

    const rows = await readStore(url);
    console.log(summarize(rows, log, Date.now() - t0));
    const verdicts = checkAll(rows, log);
    const failed = verdicts.filter((v) => v.violations.length > 0);
    for (const v of verdicts) {
      console.log(`${v.violations.length === 0 ? 'ok  ' : 'FAIL'} ${v.name}${v.violations.length ? ` (${v.violations.length})` : ''}`);
      for (const line of v.violations.slice(0, 25)) console.log(`       ${line}`);
      if (v.violations.length > 25) console.log(`       ... and ${v.violations.length - 25} more`);
    }
    if (failed.length > 0) for (const p of procs) if (p.tail.trim()) console.log(`--- ${p.o.name} (pid ${p.pid}) output tail ---\n${p.tail.slice(-2000)}`);
    expect(failed.map((v) => `${v.name}: ${v.violations.length}`)).toEqual([]);
  }, 9 * 60_000);
});
