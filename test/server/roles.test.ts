// Process roles on one PostgreSQL schema, each "process" a server of its own in this test process (its own
// pool, LISTEN connection and data directory): an api process and workers share the work through the
// store alone. What crosses processes: new instances, ready tasks and cancels (LISTEN/NOTIFY), a worker's
// graceful hand-back on SIGTERM, and the refusal of roles on the embedded store.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SignedClient } from '../../src/client/signer.js';
import { signHeaders } from '../helpers/auth.js';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { dropSchemas, newSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { failingStore } from '../helpers/failingStore.js';
import { migrations } from '../../src/store/migrations/index.js';
import { importFlow, startInProcess, taskInstIds, waitFor, waitForInstanceEnd, type InProcess } from '../engine/harness.js';

afterAll(() => dropSchemas());

it('refuses a role other than all on the embedded store, naming the setting', () => {
  expect(() => loadConfig({ role: 'worker' }, {})).toThrow(ConfigError);
  expect(() => loadConfig({ role: 'worker' }, {})).toThrow(/role worker .*needs a shared PostgreSQL store/);
  expect(() => loadConfig({ role: 'boss' }, {}, { role: '--role' })).toThrow('--role must be one of all, api, scheduler, worker, got "boss"');
});

describe.runIf(postgresAvailable)('roles on one PostgreSQL store', () => {
  const url = () => `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`;
  let schema = '';
  const started: InProcess[] = [];
  const start = async (role: Config['role'], over: Partial<Config> = {}) => {
    const p = await startInProcess({ role, databaseUrl: url(), engineHeartbeatMs: 200, engineLeaseMs: 1_500, shutdownGraceMs: 0, ...over });
    started.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of started.reverse()) await p.close().catch(() => {});
  });

  it('an api process and two workers: the api serves no tasks, the workers serve no HTTP, a diamond runs across them', async () => {
    schema = newSchema();
    const api = await start('api');
    const [w1, w2] = [await start('worker', { workerConcurrency: 1 }), await start('worker', { workerConcurrency: 1 })];
    expect(api.server.engine).toBeNull();
    expect(api.server.scheduler).toBeNull();
    expect([w1.server.app, w1.server.url, w1.server.scheduler]).toEqual([null, '', null]);
    const flowId = await importFlow(
      api.client,
      'diamond',
      ['a', 'b', 'c', 'd'].map((name) => ({ name, cmd: name === 'a' || name === 'd' ? 'true' : 'sleep 0.3' })),
      [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']],
    );
    const id = await api.client.trigger(flowId);
    const done = await waitForInstanceEnd(api.client, id, 30_000);
    expect(done.statusDesc).toBe('SUCCESS');
    // b and c ran at the same time, one on each worker (each has one slot).
    const ids = taskInstIds(done);
    const [b] = await w1.server.store.listAttempts(ids.b);
    const [c] = await w1.server.store.listAttempts(ids.c);
    expect([b.status, c.status]).toEqual(['SUCCESS', 'SUCCESS']);
    expect(new Set([b.engineId, c.engineId])).toEqual(new Set([w1.server.engine!.id, w2.server.engine!.id]));
    expect(b.startedAt < c.endedAt! && c.startedAt < b.endedAt!).toBe(true);
    const live = (await w1.server.store.listEngines()).filter((e) => e.state === 'live').map((e) => e.id);
    expect(live.sort()).toEqual([w1.server.engine!.id, w2.server.engine!.id].sort());
  });

  it('a cancel written by the api process stops the task on the worker that runs it', async () => {
    const api = started[0];
    const flowId = await importFlow(api.client, 'long', [{ name: 'long', cmd: 'sleep 60' }]);
    const id = await api.client.trigger(flowId);
    const tiid = taskInstIds(await api.client.instance(id)).long;
    const worker = await waitFor(async () => {
      const open = (await api.server.store.listAttempts(tiid)).find((a) => a.status === 'RUNNING');
      return open ? started.find((p) => p.server.engine?.id === open.engineId) : null;
    }, 20_000, 'the task to run on a worker');
    const ended = new Promise<number>((resolve) => worker.server.engine!.events.on('taskEnded', (e) => e.taskInstanceId === tiid && resolve(performance.now())));
    await api.client.cancel(id);
    const acknowledged = performance.now();
    const stoppedAfter = (await ended) - acknowledged;
    // Behaviour, not speed: the worker heard of the cancel and stopped the process (NOTIFY, not the
    // 1 s rescan, normally; a loaded machine may take longer, so the deadline is generous).
    expect(stoppedAfter).toBeLessThan(10_000);
    const inst = await waitForInstanceEnd(api.client, id, 20_000);
    expect(inst.statusDesc).toBe('CANCEL');
    const [attempt] = await api.server.store.listAttempts(tiid);
    expect(attempt.status).not.toBe('RUNNING');
  });

  it('a worker stopping gracefully hands its running task back, and another worker runs it again', async () => {
    const api = started[0];
    const flowId = await importFlow(api.client, 'handback', [{ name: 'job', cmd: 'if [ "$BATCHFLOW_RUN_NUM" = 1 ]; then sleep 60; fi; true' }]);
    const id = await api.client.trigger(flowId);
    const tiid = taskInstIds(await api.client.instance(id)).job;
    const holder = await waitFor(async () => {
      const open = (await api.server.store.listAttempts(tiid)).find((a) => a.status === 'RUNNING');
      return open ? started.find((p) => p.server.engine?.id === open.engineId) : null;
    }, 20_000, 'the task to run on a worker');
    await holder.server.engine!.stop(0);
    const inst = await waitForInstanceEnd(api.client, id, 30_000);
    expect(inst.statusDesc).toBe('SUCCESS');
    const attempts = await api.server.store.listAttempts(tiid);
    expect(attempts.map((a) => a.status)).toEqual(['INTERRUPTED', 'SUCCESS']);
    expect(attempts[1].engineId).not.toBe(attempts[0].engineId);
  });

  it('two api processes with one master key share tokens and replay records: a token of one works on the other, a replay to the other is refused', async () => {
    schema = newSchema();
    const key = randomBytes(32).toString('hex');
    const a = await start('api', { auth: true, masterKey: key });
    const b = await start('api', { auth: true, masterKey: key });
    const creds = a.server.bootstrapCredentials ?? b.server.bootstrapCredentials;
    expect(creds).not.toBeNull();
    const token = await new SignedClient(a.server.url, creds!).accessToken();
    const path = '/batch-processing-service/v2.1/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default';
    const headers = signHeaders(path, '', { token, secret: creds!.secretKey });
    const onB = await fetch(`${b.server.url}${path}`, { headers });
    expect(await onB.json()).toMatchObject({ code: 0 });
    const replayOnA = await fetch(`${a.server.url}${path}`, { headers });
    expect(replayOnA.status).toBe(401);
    expect(await replayOnA.json()).toMatchObject({ code: 1001 });
    // A third api process with another key refuses to start: the store's secrets are sealed with the first.
    await expect(start('api', { auth: true, masterKey: 'cd'.repeat(32) })).rejects.toThrow(/is not the one this store's secrets are sealed with/);
  });
});

describe.runIf(postgresAvailable)('a worker cut off from the database', () => {
  // Its own deadlines add up to more than a minute on a loaded machine: the test's timeout covers them.
  it('fences itself (its task is killed), then comes back under a new identity and the task is retried', { timeout: 150_000 }, async () => {
    const s = newSchema();
    const url = `${TEST_DATABASE_URL}?options=-c%20search_path%3D${s}`;
    const over = { databaseUrl: url, engineHeartbeatMs: 200, engineLeaseMs: 1_500, shutdownGraceMs: 0 };
    const api = await startInProcess({ ...over, role: 'api' });
    let cut = false;
    const worker = await startInProcess({ ...over, role: 'worker' }, undefined, {
      wrapStore: (st) => failingStore(st, () => (cut ? 'before' : null), () => Object.assign(new Error('connection terminated (injected)'), { code: 'ECONNRESET' })),
    });
    try {
      const flowId = await importFlow(api.client, 'partitioned', [{ name: 'job', cmd: 'if [ "$BATCHFLOW_RUN_NUM" = 1 ]; then exec sleep 60; fi; true', retryLimit: 1 }]);
      const id = await api.client.trigger(flowId);
      const tiid = taskInstIds(await api.client.instance(id)).job;
      const first = await waitFor(async () => (await api.server.store.listAttempts(tiid)).find((a) => a.status === 'RUNNING' && a.pid !== null), 20_000, 'the attempt to run with its pid recorded');
      const fenced = new Promise<{ engineId: string; why: string }>((resolve) => worker.server.engine!.events.on('leaseLost', resolve));
      cut = true;
      // When exactly (one heartbeat before the lease ends) is test/engine/lease.test.ts's, on virtual time.
      expect(await fenced).toEqual({ engineId: first.engineId, why: 'fenced' });
      await waitFor(async () => !isAlive(first.pid!), 10_000, 'the fenced attempt to be killed');
      cut = false;
      const done = await waitForInstanceEnd(api.client, id, 30_000);
      expect(done.statusDesc).toBe('SUCCESS');
      const attempts = await api.server.store.listAttempts(tiid);
      expect(attempts.map((a) => a.status)).toEqual(['LOST', 'SUCCESS']);
      expect(attempts[1].startedAt).toBeGreaterThan(attempts[0].endedAt! - 1);
      expect(attempts[1].engineId).not.toBe(first.engineId);
    } finally {
      await worker.close();
      await api.close();
    }
  });

});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.runIf(postgresAvailable)('batchflow migrate on PostgreSQL', () => {
  it('applies the migrations under the lock and prints JSON without the password; again, nothing to do', async () => {
    const { runCli } = await import('./cli.js');
    const s = newSchema();
    const url = `${TEST_DATABASE_URL}?options=-c%20search_path%3D${s}`;
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['migrate', '--database-url', url]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ migrated: true, store: url });
    }
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      const r = await c.query(`select name from ${s}.batchflow_migrations order by name`);
      expect(r.rows.map((x) => x.name)).toEqual(migrations.map((m) => m.name)); // every one, in order
    } finally {
      await c.end();
    }
  });
});
