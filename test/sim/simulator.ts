// The engine simulator (FoundationDB-style deterministic simulation): the real engine and the real store
// (SQLite in memory) on virtual time, a fake host whose processes follow a seeded script, and store
// handles that fail on purpose. A seed fixes everything: the flows, the timeline of triggers, cancels,
// crashes and disk-full windows, every process's behaviour and every injected fault, so a failing seed
// replays exactly. After the action phase the faults stop and the run must quiesce; then the invariants
// (invariants.ts) are checked on the store's rows, its history and the host's processes.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { testConfig } from '../../src/config.js';
import { DomainError } from '../../src/domain/errors.js';
import { flowInstanceId } from '../../src/domain/ids.js';
import { Engine } from '../../src/engine/engine.js';
import { cancelInstance } from '../../src/service/instances.js';
import { rerunInstance } from '../../src/service/rerun.js';
import { triggerFlow } from '../../src/service/triggers.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { FakeHost, HOST } from './fakeHost.js';
import { FaultPlan, faultyStore } from './faultyStore.js';
import { checkInvariants } from './invariants.js';
import { Random } from './random.js';
import { newFlow, scenario, type Scenario, type TaskSpec } from './scenario.js';
import { VirtualTime, type TimerDomain } from './virtualTime.js';

export interface SimResult {
  seed: number;
  violations: string[];
  /** A digest of everything that happened: the same seed must give the same digest. */
  digest: string;
  stats: { instances: number; attempts: number; faults: number; crashes: number; reruns: number; virtualMs: number; events: number };
}

const T0 = Date.UTC(2026, 0, 5, 8, 0, 30);
/** After the action phase, how much virtual time the run gets to quiesce. */
const QUIESCE_LIMIT_MS = 2 * 3_600_000;

interface Incarnation {
  n: number;
  engine: Engine;
  /** Every id it registered under. */
  ids: string[];
  timers: TimerDomain;
  sever(): void;
  alive: boolean;
}

export async function runSeed(seed: number): Promise<SimResult> {
  const sc: Scenario = scenario(seed);
  const vt = new VirtualTime(T0);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bf-sim-'));
  const inner = await createSqliteStore({ filename: ':memory:' });
  const faults = new FaultPlan(new Random(seed * 2 + 3), () => vt.now());
  const trace: string[] = [];
  /** Set when the run is over: nothing of it may go on in the background of the next seed. */
  let over = false;
  const note = (s: string) => trace.push(`${vt.now() - T0} ${s}`);
  try {
    const config = testConfig({
      dataDir,
      workerConcurrency: sc.concurrency,
      killGraceMs: 1_000,
      engineHeartbeatMs: 2_000,
      engineLeaseMs: 10_000,
      engineRescanMs: 5_000,
      logFlushMs: 200,
      hostName: HOST,
      timezone: 'UTC',
      // No real process runs (the executor is simulated): work dirs stay in this run's data dir, which is
      // removed with it, instead of a work root for other users in /var/tmp.
      taskUser: 'root',
      // Nor a real control group: the simulated executor places no process in one.
      resourceLimits: 'off',
    });
    const taskByName = new Map<string, TaskSpec>();
    for (const f of sc.flows) for (const t of f.tasks) taskByName.set(t.name, t);
    const taskSpecOf = new Map<number, TaskSpec>(); // task id -> spec, filled once the flows exist
    const host = new FakeHost(vt, new Random(seed * 2 + 4), (tiid, run) => sc.script(tiid, run, taskSpecOf.get(Number(tiid.split('-')[0]))), config.killGraceMs);

    await inner.createOrg({ id: 'o-sim', name: 'sim', createdAt: T0 });
    await inner.createUser({ id: 'u-sim', name: 'sim', orgId: 'o-sim', locked: false, createdAt: T0 });
    const user = (await inner.getUser('u-sim'))!;
    const dirId = (await inner.getRootDirectory('o-sim'))!.id;
    const flowIds: number[] = [];
    for (const f of sc.flows) {
      const created = await inner.createFlow(newFlow(f, 'o-sim', dirId, T0, sc.flows));
      flowIds.push(created.flow.id);
      for (const t of created.tasks) taskSpecOf.set(t.id, taskByName.get(t.name)!);
    }

    const api = faultyStore(inner, faults, { faults: true });
    const apiDeps = { store: api.store, config, clock: vt };
    const acked = new Set<string>();
    const maybe = new Set<string>();
    const crashed = new Set<string>();
    const incarnations: Incarnation[] = [];
    const logger = pino({ level: 'silent' });

    const startEngine = async (): Promise<void> => {
      const n = incarnations.length + 1;
      const handle = faultyStore(inner, faults, { faults: true });
      const timers = vt.domain(`engine${n}`);
      host.engineStarted(n);
      let ids = 0;
      const engine = new Engine({
        store: handle.store,
        config,
        clock: vt,
        timers,
        logger,
        executor: host.executorFor(n),
        host: host.hostFor(n),
        newId: () => `e${n}.${++ids}`,
      });
      const inc: Incarnation = { n, engine, ids: [], timers, sever: handle.sever, alive: true };
      engine.events.on('registered', ({ engineId }) => inc.ids.push(engineId));
      incarnations.push(inc);
      // A process whose start fails (the store is failing) exits and is started again by its supervisor.
      while (!over) {
        try {
          await engine.start();
          break;
        } catch (e) {
          note(`engine ${n} start failed: ${(e as Error).message}`);
          await pauseVirtual(vt, 1_000, settle);
        }
      }
      note(`engine ${n} started as ${engine.id}`);
    };

    const crash = (inc: Incarnation): void => {
      inc.alive = false;
      inc.sever();
      inc.timers.kill();
      host.engineDied(inc.n);
      for (const id of inc.ids) crashed.add(id);
      note(`engine ${inc.n} crashed`);
    };

    const settle = async (): Promise<void> => {
      let quiet = 0;
      for (let i = 0; i < 50_000; i++) {
        await new Promise((r) => setImmediate(r));
        const busy = faults.inFlight > 0 || incarnations.some((x) => x.alive && x.engine.busy());
        if (busy) quiet = 0;
        else if (++quiet >= 3) return;
      }
      const state = incarnations.filter((x) => x.alive).map((x) => `engine ${x.n}: ${x.engine.describeWork()}`);
      throw new Error(`the run did not settle at +${vt.now() - T0} ms (in flight: ${faults.inFlight}; ${state.join('; ')})`);
    };

    const scenarioTimers = vt.domain('scenario');
    for (const a of sc.actions) {
      scenarioTimers.setTimeout(() => {
        switch (a.kind) {
          case 'trigger': {
            const triggerTime = vt.now() + a.offsetMs;
            void triggerFlow(apiDeps, { user }, { flowId: flowIds[a.flow]!, triggerTime }).then(
              (r) => {
                acked.add(r.flowInstanceId);
                note(`trigger ${r.flowInstanceId}`);
              },
              (e: unknown) => {
                const dup = e instanceof DomainError && e.kind === 'duplicateInstance';
                if (!dup) maybe.add(flowInstanceId(flowIds[a.flow]!, triggerTime, 'UTC'));
                note(`trigger failed: ${(e as Error).message.slice(0, 60)}`);
              },
            );
            return;
          }
          case 'cancel': {
            const ids = [...acked].sort();
            if (ids.length === 0) return;
            const id = ids[a.pick % ids.length]!;
            void cancelInstance(apiDeps, { user }, id).then(
              () => note(`cancel ${id}`),
              (e: unknown) => note(`cancel ${id} refused: ${(e as Error).message.slice(0, 60)}`),
            );
            return;
          }
          case 'rerun': {
            const ids = [...acked].sort();
            if (ids.length === 0) return;
            const id = ids[a.pick % ids.length]!;
            void rerunInstance(apiDeps, { user }, id, a.mode).then(
              (r) => note(`rerun (${a.mode}) ${id}: ${r.resetTaskInstIds.length} reset`),
              (e: unknown) => note(`rerun ${id} refused: ${(e as Error).message.slice(0, 60)}`),
            );
            return;
          }
          case 'crash': {
            const live = incarnations.find((x) => x.alive);
            if (!live) return;
            crash(live);
            scenarioTimers.setTimeout(() => void startEngine(), a.restartAfterMs);
            return;
          }
          case 'diskFull':
            faults.fullUntil = vt.now() + a.forMs;
            note(`disk full for ${a.forMs} ms`);
            return;
        }
      }, a.at);
    }
    faults.rate = sc.faultRate;
    await startEngine();

    const phaseEnd = T0 + sc.phaseMs;
    let events = 0;
    const violations: string[] = [];
    for (;;) {
      await settle();
      if (vt.now() >= phaseEnd) {
        faults.rate = 0;
        faults.fullUntil = 0;
        if (incarnations.some((x) => x.alive) && (await quiescent(inner, host))) break;
      }
      if (vt.now() > phaseEnd + QUIESCE_LIMIT_MS) {
        violations.push(`no quiescence ${QUIESCE_LIMIT_MS / 60_000} min after the action phase`);
        break;
      }
      const next = vt.nextAt();
      if (next === null) {
        violations.push('nothing left to run, yet the run is not quiescent');
        break;
      }
      // Past the action phase, jump to the phase's end at once (faults off) rather than wait for a timer.
      if (vt.now() < phaseEnd && next > phaseEnd) vt.advanceTo(phaseEnd);
      else vt.runNext();
      events++;
    }

    const observed = await observe(inner);
    violations.push(
      ...checkInvariants({
        ...observed,
        processes: host.processes,
        aliveProcesses: host.aliveProcesses(),
        acked,
        maybe,
        crashedEngines: crashed,
        hostViolations: host.violations,
      }),
    );
    for (const h of observed.history) trace.push(`${h.seq} ${h.kind} ${h.entityId} ${h.from}>${h.to} @${h.at - T0} ${h.engineId ?? '-'}`);
    for (const p of host.processes) trace.push(`proc ${p.pid} ${p.taskInstanceId}#${p.runNum} ${p.startedAt - T0}-${(p.endedAt ?? 0) - T0} ${JSON.stringify(p.outcome)} ${p.delivered}`);
    const attempts = [...observed.attempts.values()].reduce((n, a) => n + a.length, 0);
    // The run is over: drop the engines as a crash would (their timers are virtual; nothing waits on them).
    for (const inc of incarnations) if (inc.alive) crash(inc);
    return {
      seed,
      violations,
      digest: createHash('sha256').update(trace.join('\n')).digest('hex').slice(0, 16),
      stats: { instances: observed.instances.length, attempts, faults: faults.injected, crashes: crashed.size > 0 ? incarnations.length - 1 : 0, reruns: observed.history.filter((h) => h.kind === 'instance' && h.to === 'WAIT' && h.reason?.startsWith('rerun')).length, virtualMs: vt.now() - T0, events },
    };
  } finally {
    over = true;
    vt.stop();
    await inner.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function pauseVirtual(vt: VirtualTime, ms: number, settle: () => Promise<void>): Promise<void> {
  const until = vt.now() + ms;
  while (vt.now() < until) {
    const next = vt.nextAt();
    if (next === null || next > until) {
      vt.advanceTo(until);
      break;
    }
    vt.runNext();
    await settle();
  }
}

async function quiescent(store: Store, host: FakeHost): Promise<boolean> {
  if (host.aliveProcesses().length > 0) return false;
  const open = await store.searchFlowInstances({ orgId: 'o-sim', statuses: ['WAIT', 'RUNNING'], sort: [], offset: 0, limit: 1 });
  if (open.total > 0) return false;
  for (const e of await store.listEngines()) if ((await store.listOpenAttemptsOf(e.id)).length > 0) return false;
  return true;
}

async function observe(store: Store) {
  const { instances } = await store.searchFlowInstances({ orgId: 'o-sim', sort: [{ field: 'createTime', desc: false }], offset: 0, limit: 10_000 });
  const tasks = new Map<string, Awaited<ReturnType<Store['listTaskInstances']>>>();
  const attempts = new Map<string, Awaited<ReturnType<Store['listAttempts']>>>();
  const history = [];
  const waits = new Map<string, Awaited<ReturnType<Store['listReferenceWaits']>>>();
  for (const i of instances) {
    const ts = await store.listTaskInstances(i.id);
    tasks.set(i.id, ts);
    for (const t of ts) attempts.set(t.id, await store.listAttempts(t.id));
    history.push(...(await store.listHistory(i.id)));
    waits.set(i.id, await store.listReferenceWaits(i.id));
  }
  history.sort((a, b) => a.seq - b.seq);
  return { instances, tasks, attempts, history, waits };
}
