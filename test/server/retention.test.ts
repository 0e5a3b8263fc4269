// Retention as configured: BATCHFLOW_RETENTION_DAYS is a whole number of days (else a ConfigError naming
// it), unset keeps everything; a server with it purges the instances that ended before now - N days at
// start, logs the counts, and a failed purge is logged and retried at the next tick without stopping it.
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, testConfig, type Config } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../engine/harness.js';
import { driver } from '../helpers/drive.js';
import { tempStore, type TempStore } from '../helpers/store.js';
import { flowOf, instanceOf, T0 } from '../store/store.contract.js';

const DAY = 86_400_000;

describe('BATCHFLOW_RETENTION_DAYS', () => {
  it('is unset by default (keep everything) and takes a whole number of days', () => {
    expect(loadConfig({}, {}).retentionDays).toBeNull();
    expect(loadConfig({}, { BATCHFLOW_RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    expect(loadConfig({}, { BATCHFLOW_RETENTION_DAYS: '30' }).retentionIntervalMs).toBe(3_600_000);
  });

  it.each(['0', '-3', '1.5', 'ten', '36501'])('refuses %j with a ConfigError naming the variable', (raw) => {
    const err = (() => {
      try {
        loadConfig({}, { BATCHFLOW_RETENTION_DAYS: raw });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`BATCHFLOW_RETENTION_DAYS must be a whole number of days from 1 to 36500 (unset it to keep every instance), got "${raw}"`);
  });
});

describe('a server with retention', () => {
  let cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  /** A store with an instance that ended at T0 (old), one that ended 10 days later (recent) and a WAIT one. */
  async function seeded(): Promise<TempStore & { old: string; recent: string; waiting: string }> {
    const t = await tempStore();
    cleanups.push(() => rmSync(t.dir, { recursive: true, force: true })); // the server closes the store
    const { store } = t;
    await store.createOrg({ id: 'o1', name: 'Org 1', createdAt: T0 });
    await store.createUser({ id: 'u1', name: 'alice', orgId: 'o1', locked: false, createdAt: T0 });
    const dirId = (await store.getRootDirectory('o1'))!.id;
    const ids: string[] = [];
    for (const at of [T0, T0 + 10 * DAY]) {
      const inst = await store.createFlowInstance(instanceOf(await store.createFlow(flowOf('o1', dirId, 1, { name: `f${at}` })), at + 365 * DAY, { createdAt: at }));
      await store.cancelInstance('o1', inst.id, at, 'done with', 'u1');
      ids.push(inst.id);
    }
    const f = await store.createFlow(flowOf('o1', dirId, 1, { name: 'waiting' }));
    const waiting = (await store.createFlowInstance(instanceOf(f, T0 + 400 * DAY, { createdAt: T0 }))).id;
    expect(await driver(store).startInstance(f.flow.id, T0)).toBeNull(); // not due: it stays WAIT
    return { ...t, old: ids[0], recent: ids[1], waiting };
  }

  function logged() {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    return { lines, logger };
  }

  async function serve(store: Store, over: Partial<Config>, logger: ReturnType<typeof logged>['logger']) {
    const dataDir = tempDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // "Now" is 7 days after the recent instance ended, 17 after the old one: 10 days of retention keep the recent one.
    const server = await startServer(testConfig({ dataDir, port: 0, runEngine: false, retentionDays: 10, ...over }), { store, logger, clock: { now: () => T0 + 17 * DAY } });
    cleanups.push(() => server.close());
    return server;
  }

  it('purges at start what ended more than N days ago and logs the counts; recent and unfinished instances stay', async () => {
    const s = await seeded();
    const { lines, logger } = logged();
    await serve(s.store, {}, logger);
    await vi.waitFor(() => expect(lines.find((l) => l.component === 'retention')).toBeDefined(), { timeout: 10_000 });
    expect(await s.store.getFlowInstanceById(s.old)).toBeNull();
    expect((await s.store.getFlowInstanceById(s.recent))?.status).toBe('CANCEL');
    expect((await s.store.getFlowInstanceById(s.waiting))?.status).toBe('WAIT');
    const line = lines.find((l) => l.component === 'retention')!;
    expect(line).toMatchObject({
      level: 30,
      msg: 'retention: purged 1 instances that ended more than 10 days ago',
      before: new Date(T0 + 7 * DAY).toISOString(),
      tables: { flow_instances: 1, task_instances: 1, attempts: 0, status_events: 2 },
      space: { mode: 'incremental' },
    });
  });

  it('logs a failed purge and retries it at the next tick; the server keeps serving', async () => {
    const s = await seeded();
    let calls = 0;
    const flaky: Store = {
      ...s.store,
      purgeInstances: (req) => (++calls === 1 ? Promise.reject(new Error('disk I/O error')) : s.store.purgeInstances(req)),
    };
    const { lines, logger } = logged();
    const server = await serve(flaky, { retentionIntervalMs: 20 }, logger);
    await vi.waitFor(async () => expect(await s.store.getFlowInstanceById(s.old)).toBeNull(), { timeout: 10_000 });
    const failure = lines.find((l) => l.component === 'retention' && l.level === 50);
    expect(failure).toMatchObject({ msg: 'retention: the purge failed; it runs again in 0 s', err: { message: 'disk I/O error' } });
    expect(calls).toBeGreaterThanOrEqual(2);
    const res = await server.app!.inject({ method: 'GET', url: '/batch-processing-service/v2.1/time?action=getCurrentTime' });
    expect(res.json().code).toBe(0);
  });

  it('without BATCHFLOW_RETENTION_DAYS nothing is purged', async () => {
    const s = await seeded();
    let calls = 0;
    const counting: Store = { ...s.store, purgeInstances: (req) => (calls++, s.store.purgeInstances(req)) };
    const { logger } = logged();
    await serve(counting, { retentionDays: null }, logger);
    // With retention, the first purge starts within startServer (see the first test).
    expect(calls).toBe(0);
    expect(await s.store.getFlowInstanceById(s.old)).not.toBeNull();
  });
});
