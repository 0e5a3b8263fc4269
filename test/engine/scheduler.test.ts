// The cron scheduler on a fake clock (the test moves it and calls tick()), over a real store and the API:
// fire ids and times, effective date, disable/enable, missed fires, the one-minute rule shared with manual
// triggers, one instance at a time with the engine, re-planning on Save, DST in Europe/Berlin; and one
// real-time run of a real server.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { Scheduler, type Fire } from '../../src/engine/scheduler.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { FlowInstance } from '../../src/domain/types.js';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, saveBodyOf, trigger } from '../helpers/flows.js';
import { makeWorld, type World } from '../helpers/world.js';
import { startInProcess, tempDir, waitFor, waitForInstanceEnd, type InProcess } from './harness.js';

const MIN = 60_000;
const EVERY_MINUTE = '0 * * * * ? *';
const at = (iso: string) => Date.parse(iso);

let w: World | null = null;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await w?.close();
  w = null;
});

async function world(timezone = 'UTC', start?: number): Promise<World> {
  w = await makeWorld({ timezone });
  if (start !== undefined) w.clock.set(start);
  return w;
}

/** A scheduler driven by tick() and its log lines (pino JSON at debug). */
function scheduler(wd: World): { s: Scheduler; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const s = new Scheduler({ store: wd.store, config: wd.config, clock: wd.clock, logger, manualTicks: true });
  cleanups.push(() => s.stop());
  return { s, logs };
}

async function periodicFlow(wd: World, freq = EVERY_MINUTE, extra: Record<string, unknown> = {}): Promise<number> {
  return importFlow(wd, flowJson({ type: 1, cron: freq, tasks: ['a', 'b'], edges: [['a', 'b']], ...extra }));
}

async function instancesOf(wd: World, flowId: number): Promise<FlowInstance[]> {
  const { instances } = await wd.store.searchFlowInstances({ orgId: 'o-default', sort: [{ field: 'triggerTime', desc: false }], offset: 0, limit: 1000 });
  return instances.filter((i) => i.flowId === flowId);
}

/** Moves the clock to each next planned fire of the flow and ticks there; the fires made, in order. */
async function walk(wd: World, s: Scheduler, flowId: number, n: number): Promise<Fire[]> {
  const out: Fire[] = [];
  for (let i = 0; i < n; i++) {
    const next = s.nextFireAt(flowId);
    if (next === null) break;
    wd.clock.set(next);
    out.push(...(await s.tick()));
  }
  return out;
}

const brief = (fs: Fire[]) => fs.map((f) => ({ id: f.instanceId.replace(/^\d+-/, ''), at: new Date(f.fireTime).toISOString(), outcome: f.outcome }));

describe('Scheduler', () => {
  it('fires a per-minute cron once a minute, each fire an instance like a trigger at the fire time', async () => {
    const wd = await world('Asia/Shanghai', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd, EVERY_MINUTE, { parameters: [{ key: 'region', value: 'eu' }] });
    const { s } = scheduler(wd);
    expect(await s.start()).toEqual([]);
    for (let m = 1; m <= 5; m++) {
      const t = at('2024-03-02T10:20:00Z') + m * MIN;
      wd.clock.set(t - 1);
      expect(await s.tick()).toEqual([]);
      wd.clock.set(t);
      // 10:2m UTC is 18:2m in Shanghai: ids use the service zone.
      expect(await s.tick()).toEqual([{ flowId, instanceId: `${flowId}-2024030218${20 + m}00`, fireTime: t, outcome: 'created', missed: 0 }]);
      expect(await s.tick()).toEqual([]);
    }
    const made = await instancesOf(wd, flowId);
    expect(made.map((i) => i.triggerTime)).toEqual([1, 2, 3, 4, 5].map((m) => at('2024-03-02T10:20:00Z') + m * MIN));
    const first = made[0];
    expect(first).toMatchObject({ kind: 'schedule', owner: '', status: 'WAIT', dueAt: first.triggerTime, createdAt: first.triggerTime, startTaskId: null, overrides: [] });
    expect(first.parameters).toEqual([{ key: 'region', value: 'eu' }]);
    expect(first.snapshot.tasks.map((t) => t.name)).toEqual(['a', 'b']);
    expect((await wd.store.listTaskInstances(first.id)).map((t) => [t.id.endsWith('-20240302182100'), t.status])).toEqual([[true, 'INIT'], [true, 'INIT']]);
    // The API shows the scheduler's instance as owned by the flow's creator.
    expect(ok(await op(wd, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: first.id } }))).toMatchObject({ owner: 'admin' });
  });

  it('holds fires until the effective date, then fires from its first instant in the service zone', async () => {
    const wd = await world('Asia/Shanghai', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd, '0 0 * * * ? *', { startTime: '2024-03-04' });
    const { s } = scheduler(wd);
    await s.start();
    expect(s.nextFireAt(flowId)).toBe(at('2024-03-03T16:00:00Z')); // 2024-03-04 00:00 in Shanghai
    wd.clock.set(at('2024-03-03T15:59:59.999Z'));
    expect(await s.tick()).toEqual([]);
    expect(brief(await walk(wd, s, flowId, 2))).toEqual([
      { id: '20240304000000', at: '2024-03-03T16:00:00.000Z', outcome: 'created' },
      { id: '20240304010000', at: '2024-03-03T17:00:00.000Z', outcome: 'created' },
    ]);
  });

  it('stops firing on disable and resumes on enable from that moment, without back-filling the pause', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const { s } = scheduler(wd);
    await s.start();
    expect(brief(await walk(wd, s, flowId, 1))).toEqual([{ id: '20240302102100', at: '2024-03-02T10:21:00.000Z', outcome: 'created' }]);
    wd.clock.set(at('2024-03-02T10:21:10Z'));
    await wd.store.setFlowActive('o-default', flowId, 0, 'admin', wd.clock.now(), 'u-admin');
    for (let m = 22; m <= 25; m++) {
      wd.clock.set(at(`2024-03-02T10:${m}:00Z`));
      expect(await s.tick()).toEqual([]);
    }
    expect(s.nextFireAt(flowId)).toBeNull();
    wd.clock.set(at('2024-03-02T10:25:30Z'));
    await wd.store.setFlowActive('o-default', flowId, 1, 'admin', wd.clock.now(), 'u-admin');
    expect((await wd.store.getFlowById(flowId))!.flow.scheduleFrom).toBe(at('2024-03-02T10:25:30Z'));
    expect(await s.tick()).toEqual([]); // 10:22..10:25 are not back-filled
    expect(brief(await walk(wd, s, flowId, 1))).toEqual([{ id: '20240302102600', at: '2024-03-02T10:26:00.000Z', outcome: 'created' }]);
    // Enabling exactly at a fire time: that fire runs.
    wd.clock.set(at('2024-03-02T10:26:20Z'));
    await wd.store.setFlowActive('o-default', flowId, 0, 'admin', wd.clock.now(), 'u-admin');
    wd.clock.set(at('2024-03-02T10:28:00Z'));
    await wd.store.setFlowActive('o-default', flowId, 1, 'admin', wd.clock.now(), 'u-admin');
    expect(brief(await s.tick())).toEqual([{ id: '20240302102800', at: '2024-03-02T10:28:00.000Z', outcome: 'created' }]);
    expect((await instancesOf(wd, flowId)).map((i) => i.id.slice(-6, -2))).toEqual(['1021', '1026', '1028']);
  });

  it('enabling a flow that is already active keeps its schedule (no restart of scheduleFrom)', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    await wd.store.setFlowActive('o-default', flowId, 1, 'admin', at('2024-03-02T10:40:00Z'), 'u-admin');
    expect((await wd.store.getFlowById(flowId))!.flow.scheduleFrom).toBe(at('2024-03-02T10:20:30Z'));
  });

  it('makes only the most recent fire missed while it was stopped, on start, and logs how many were dropped', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const first = scheduler(wd);
    await first.s.start();
    await walk(wd, first.s, flowId, 2); // 10:21, 10:22
    await first.s.stop();
    wd.clock.set(at('2024-03-02T11:05:30Z'));
    const second = scheduler(wd);
    expect(brief(await second.s.start())).toEqual([{ id: '20240302110500', at: '2024-03-02T11:05:00.000Z', outcome: 'created' }]);
    expect((await instancesOf(wd, flowId)).map((i) => i.id.slice(-6, -2))).toEqual(['1021', '1022', '1105']);
    // 10:23 .. 11:04 were dropped: 42 fires, said once at warn.
    expect(second.logs.filter((l) => l.level === 40 && l.flowId === flowId)).toMatchObject([{ missed: 42, fireTime: at('2024-03-02T11:05:00Z') }]);
    expect(brief(await walk(wd, second.s, flowId, 1))).toEqual([{ id: '20240302110600', at: '2024-03-02T11:06:00.000Z', outcome: 'created' }]);
  });

  it('makes the most recent fire of a flow created while no scheduler ran, never one before its creation', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd, '0 0/2 * * * ? *');
    wd.clock.set(at('2024-03-02T10:29:10Z'));
    const { s } = scheduler(wd);
    const fired = await s.start();
    expect(fired).toEqual([{ flowId, instanceId: `${flowId}-20240302102800`, fireTime: at('2024-03-02T10:28:00Z'), outcome: 'created', missed: 3 }]);
  });

  it('takes a manual trigger in the fire minute as that minute instance: one instance, no error', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const { s, logs } = scheduler(wd);
    await s.start();
    const manual = await trigger(wd, flowId, at('2024-03-02T10:21:40Z')); // a future trigger in the next fire minute
    wd.clock.set(at('2024-03-02T10:21:00Z'));
    expect(await s.tick()).toEqual([{ flowId, instanceId: manual, fireTime: at('2024-03-02T10:21:00Z'), outcome: 'duplicate', missed: 0 }]);
    expect(logs.filter((l) => l.instanceId === manual).map((l) => l.level)).toEqual([20]); // debug, not an error
    expect((await instancesOf(wd, flowId)).map((i) => [i.id, i.kind])).toEqual([[manual, 'trigger']]);
    // The other way round: the fire came first, the manual trigger of that minute gets 62102.
    expect(brief(await walk(wd, s, flowId, 1))).toEqual([{ id: '20240302102200', at: '2024-03-02T10:22:00.000Z', outcome: 'created' }]);
    fails(await op(wd, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: at('2024-03-02T10:22:30Z') } }), 62102, 'do not trigger the same workflow repeatedly');
  });

  it('re-plans when a Save changes freq, and keeps the plan when a Save changes something else', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const { s } = scheduler(wd);
    await s.start();
    await walk(wd, s, flowId, 1); // 10:21
    wd.clock.set(at('2024-03-02T10:21:20Z'));
    ok(await op(wd, 'admin', 'POST', 'flows', 'save', { body: { ...(await saveBodyOf(wd, flowId)), freq: '0 0/5 * * * ? *' } }));
    expect((await wd.store.getFlowById(flowId))!.flow.scheduleFrom).toBe(at('2024-03-02T10:21:20Z'));
    for (let m = 22; m <= 24; m++) {
      wd.clock.set(at(`2024-03-02T10:${m}:00Z`));
      expect(await s.tick()).toEqual([]);
    }
    expect(brief(await walk(wd, s, flowId, 1))).toEqual([{ id: '20240302102500', at: '2024-03-02T10:25:00.000Z', outcome: 'created' }]);
    wd.clock.set(at('2024-03-02T10:26:00Z'));
    ok(await op(wd, 'admin', 'POST', 'flows', 'save', { body: { ...(await saveBodyOf(wd, flowId)), desc: 'only the text' } }));
    expect((await wd.store.getFlowById(flowId))!.flow.scheduleFrom).toBe(at('2024-03-02T10:21:20Z'));
    expect(s.nextFireAt(flowId)).toBe(at('2024-03-02T10:30:00Z'));
  });

  it('picks up a change made through another store connection (another process) on its rescan', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const { s } = scheduler(wd);
    await s.start();
    // A second connection to the same file publishes its events to its own listeners only.
    const elsewhere = await createSqliteStore({ filename: path.join(wd.config.dataDir, 'batchflow.db') });
    cleanups.push(() => elsewhere.close());
    await elsewhere.setFlowActive('o-default', flowId, 0, 'admin', wd.clock.now(), 'u-admin');
    expect(s.nextFireAt(flowId)).toBe(at('2024-03-02T10:21:00Z')); // not heard of yet
    wd.clock.set(at('2024-03-02T10:21:00Z'));
    expect(await s.rescan()).toEqual([]);
    expect(s.nextFireAt(flowId)).toBeNull();
  });

  it('lets two schedulers on one store (two server processes) make each fire once', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const flowId = await periodicFlow(wd);
    const elsewhere = await createSqliteStore({ filename: path.join(wd.config.dataDir, 'batchflow.db') });
    cleanups.push(() => elsewhere.close());
    const one = scheduler(wd);
    const two = scheduler({ ...wd, store: elsewhere });
    await one.s.start();
    await two.s.start();
    // One after the other: two better-sqlite3 connections in one process block each other's event loop
    // (across processes the unique key decides, see the store's cross-process test).
    for (let m = 21; m <= 23; m++) {
      wd.clock.set(at(`2024-03-02T10:${m}:00Z`));
      const [a, b] = m % 2 ? [one, two] : [two, one];
      const fires = [...(await a.s.tick()), ...(await b.s.tick())];
      expect(fires.map((f) => f.outcome)).toEqual(['created', 'duplicate']);
    }
    expect((await instancesOf(wd, flowId)).map((i) => i.id.slice(-6, -2))).toEqual(['1021', '1022', '1023']);
  });

  describe('daylight saving in Europe/Berlin', () => {
    it('moves a daily 02:30 in the spring gap to 03:00 CEST, once, with the id of 03:00', async () => {
      const wd = await world('Europe/Berlin', at('2026-03-28T12:00:00Z'));
      const flowId = await periodicFlow(wd, '0 30 2 * * ? *');
      const { s } = scheduler(wd);
      await s.start();
      expect(brief(await walk(wd, s, flowId, 2))).toEqual([
        { id: '20260329030000', at: '2026-03-29T01:00:00.000Z', outcome: 'created' },
        { id: '20260330023000', at: '2026-03-30T00:30:00.000Z', outcome: 'created' },
      ]);
    });

    it('skips the spring-gap times of an interval cron: nothing fires at wall times that do not exist', async () => {
      const wd = await world('Europe/Berlin', at('2026-03-28T23:50:00Z'));
      const flowId = await periodicFlow(wd, '0 0/30 * * * ? *');
      const { s } = scheduler(wd);
      await s.start();
      expect(brief(await walk(wd, s, flowId, 4))).toEqual([
        { id: '20260329010000', at: '2026-03-29T00:00:00.000Z', outcome: 'created' },
        { id: '20260329013000', at: '2026-03-29T00:30:00.000Z', outcome: 'created' },
        { id: '20260329030000', at: '2026-03-29T01:00:00.000Z', outcome: 'created' },
        { id: '20260329033000', at: '2026-03-29T01:30:00.000Z', outcome: 'created' },
      ]);
    });

    it('fires each wall time of the repeated autumn hour once: the second pass meets the taken id', async () => {
      const wd = await world('Europe/Berlin', at('2026-10-24T23:50:00Z'));
      const flowId = await periodicFlow(wd, '0 0/30 * * * ? *');
      const { s } = scheduler(wd);
      await s.start();
      expect(brief(await walk(wd, s, flowId, 5))).toEqual([
        { id: '20261025020000', at: '2026-10-25T00:00:00.000Z', outcome: 'created' }, // 02:00 CEST
        { id: '20261025023000', at: '2026-10-25T00:30:00.000Z', outcome: 'created' },
        { id: '20261025020000', at: '2026-10-25T01:00:00.000Z', outcome: 'duplicate' }, // 02:00 CET
        { id: '20261025023000', at: '2026-10-25T01:30:00.000Z', outcome: 'duplicate' },
        { id: '20261025030000', at: '2026-10-25T02:00:00.000Z', outcome: 'created' },
      ]);
      expect((await instancesOf(wd, flowId)).map((i) => i.triggerTime)).toEqual([at('2026-10-25T00:00:00Z'), at('2026-10-25T00:30:00Z'), at('2026-10-25T02:00:00Z')]);
    });

    it('fires a daily 02:30 once on the autumn day, at its first (summer time) occurrence', async () => {
      const wd = await world('Europe/Berlin', at('2026-10-24T12:00:00Z'));
      const flowId = await periodicFlow(wd, '0 30 2 * * ? *');
      const { s } = scheduler(wd);
      await s.start();
      expect(brief(await walk(wd, s, flowId, 2))).toEqual([
        { id: '20261025023000', at: '2026-10-25T00:30:00.000Z', outcome: 'created' },
        { id: '20261026023000', at: '2026-10-26T01:30:00.000Z', outcome: 'created' },
      ]);
    });
  });

  it('queues a fire behind a running manual instance of the same flow and runs it once that one ended', async () => {
    const wd = await world('UTC', at('2024-03-02T10:20:30Z'));
    const scratch = tempDir();
    cleanups.push(async () => rmSync(scratch, { recursive: true, force: true }));
    const gate = path.join(scratch, 'gate');
    const wait = `while [ ! -f ${gate} ]; do sleep 0.05; done`;
    const flowId = await importFlow(wd, flowJson({ type: 1, cron: EVERY_MINUTE, tasks: [{ name: 'a', type: 'SHELL', cmd: wait }] }));
    const engine = new Engine({ store: wd.store, config: wd.config, clock: wd.clock, logger: pino({ level: 'silent' }) });
    const order: string[] = [];
    engine.events.on('instanceStarted', (e) => order.push(`start ${e.instanceId}`));
    engine.events.on('instanceEnded', (e) => order.push(`end ${e.instanceId} ${e.status}`));
    await engine.start();
    cleanups.push(async () => {
      if (!existsSync(gate)) writeFileSync(gate, '');
      await engine.stop(5_000);
    });
    const { s } = scheduler(wd);
    await s.start();
    const manual = await trigger(wd, flowId, wd.clock.now());
    await waitFor(async () => (await wd.store.getFlowInstanceById(manual))?.status === 'RUNNING', 20_000, 'the manual instance to run');
    wd.clock.set(at('2024-03-02T10:21:00Z'));
    const [fire] = await s.tick();
    expect(fire.outcome).toBe('created');
    await new Promise((r) => setTimeout(r, 300));
    expect((await wd.store.getFlowInstanceById(fire.instanceId))!.status).toBe('WAIT');
    writeFileSync(gate, '');
    await waitFor(async () => (await wd.store.getFlowInstanceById(fire.instanceId))?.status === 'SUCCESS', 20_000, 'the scheduled instance to succeed');
    expect(order).toEqual([`start ${manual}`, `end ${manual} SUCCESS`, `start ${fire.instanceId}`, `end ${fire.instanceId} SUCCESS`]);
  });
});

describe('Scheduler in a real server, in real time', () => {
  let h: InProcess | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('creates an instance of an every-minute flow within 65 s and runs it to SUCCESS', { timeout: 100_000 }, async () => {
    h = await startInProcess();
    const dirs = await h.client.ok('GET', 'directories', 'listWorkFlowDirs');
    const flowJsonBody = { name: 'every minute', type: 1, cron: EVERY_MINUTE, tasks: [{ name: 'hello', type: 'SHELL', cmd: 'echo scheduled', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' }], relations: [] };
    const { flowId } = await h.client.ok('POST', 'flows', 'import', { flowName: 'every minute', desc: '', dirId: dirs[0].key, flowJson: flowJsonBody });
    const store = h.server.store;
    const fired = await waitFor(() => store.lastScheduledFireTime(Number(flowId)), 65_000, 'a scheduled fire');
    expect(fired % MIN).toBe(0);
    const [inst] = (await store.searchFlowInstances({ orgId: 'o-default', sort: [{ field: 'triggerTime', desc: false }], offset: 0, limit: 10 })).instances.filter((i) => i.flowId === Number(flowId));
    expect(inst).toMatchObject({ kind: 'schedule', triggerTime: fired });
    const done = await waitForInstanceEnd(h.client, inst.id, 20_000);
    expect(done.statusDesc).toBe('SUCCESS');
  });
});
