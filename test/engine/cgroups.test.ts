// Resource limits with control groups (contract §11): a run over its memory is killed and its attempt fails
// with a line naming the limit; a run at cpu 0.5 gets about half a core; what a limited run left behind
// (even a daemon that dropped the attempt's marker and ignores SIGTERM) is killed through its group at its
// end; and where groups cannot be made, the service says so once at start and in /readyz, and runs tasks
// without limits. Through the real engine and API, with both spawn paths where it matters.
//
// The tests that need real groups skip loudly on a host that cannot make them (not root, no writable
// hierarchy); under CI=true they run, and fail, instead: these machines can make them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { gatedArgv, groupFor, ResourceLimits, type ExecGroup } from '../../src/engine/cgroups.js';
import { directExecutor, type ExecSpec, type Executor, type Outcome } from '../../src/engine/executor.js';
import { SpawnerExecutor } from '../../src/engine/spawnerExecutor.js';
import { attemptResult } from '../../src/engine/outcome.js';
import { startServer } from '../../src/server.js';
import { StartupError } from '../../src/startup/errors.js';
import { importFlow, startInProcess, taskInstIds, tempDir, waitFor, waitForInstanceEnd, type InProcess, type TaskSpec } from './harness.js';

const CI = process.env.CI === 'true';
const hostProbe = ResourceLimits.setUp({ resourceLimits: 'auto', cgroupRoot: '/sys/fs/cgroup' }, 'cgroups-test');
await hostProbe.close();
const canMakeGroups = hostProbe.status.enforced;
const noGroups = !canMakeGroups && !CI;
if (!canMakeGroups) {
  const reason = hostProbe.status.enforced ? '' : hostProbe.status.reason;
  console.warn(`\n*** cgroups.test.ts: this host cannot make control groups (${reason}): ${CI ? 'FAILING (CI=true)' : 'SKIPPING the tests that need them'} ***\n`);
}

const withRunMode = (t: TaskSpec, runMode: Record<string, unknown>): TaskSpec => ({ ...t, runMode }) as TaskSpec;
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
};
const runOf = async (h: InProcess, flowId: number) => {
  const id = await h.client.trigger(flowId);
  const inst = await waitForInstanceEnd(h.client, id, 90_000);
  const log = await h.client.log(taskInstIds(inst).t);
  return { inst, log };
};

it.skipIf(noGroups)('this host can make control groups (required under CI=true)', () => {
  expect(hostProbe.status).toMatchObject({ enforced: true, cgroup: expect.stringMatching(/^v[12]$/) });
});

describe.skipIf(noGroups).each(['spawner', 'direct'] as const)('limits enforced (%s spawns)', (spawner) => {
  let h: InProcess;
  const dir = tempDir('bf-cgroups-');
  beforeAll(async () => {
    h = await startInProcess({ spawner, killGraceMs: 300 });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/readyz says the limits are enforced, and with which cgroup version', async () => {
    const body = (await (await fetch(`${h.server.url}/readyz`)).json()) as Record<string, unknown>;
    expect(body.limits).toEqual({ enforced: true, cgroup: hostProbe.status.enforced ? hostProbe.status.cgroup : 'v1' });
  });

  it('a task allocating past memory 0.3 is killed, and its attempt fails with a line naming the limit', async () => {
    // 600 MB written (so charged), twice the limit; the shell goes on and exits 0: the attempt fails anyway.
    const cmd = `/usr/bin/python3 -c "x = b'x' * (600 << 20); print('allocated', len(x))"; echo "after python: $?"`;
    const flowId = await importFlow(h.client, `oom_${spawner}`, [withRunMode({ name: 't', cmd }, { taskMode: 1, memory: 0.3 })]);
    const { inst, log } = await runOf(h, flowId);
    expect(inst.statusDesc).toBe('FAIL');
    expect(log).not.toMatch(/^allocated \d+$/m); // (the banner's cmdline says `allocated` too)
    expect(log).toContain('after python: 137'); // SIGKILLed by the kernel
    expect(log).toContain('[batchflow] killed: over its memory limit of 0.3 GB (runMode.memory)');
  }, 120_000);

  it('a task within its memory limit succeeds, and its group is gone at its end', async () => {
    const cmd = `/usr/bin/python3 -c "x = b'x' * (100 << 20); print('allocated', len(x))"; cat /proc/self/cgroup`;
    const flowId = await importFlow(h.client, `fits_${spawner}`, [withRunMode({ name: 't', cmd }, { memory: 0.3, cpu: 2 })]);
    const { inst, log } = await runOf(h, flowId);
    expect(inst.statusDesc).toBe('SUCCESS');
    expect(log).toContain(`allocated ${100 << 20}`);
    // Its group, named after the attempt: in the task's own view of /proc/self/cgroup, and removed since.
    const line = log.split('\n').find((l) => /^\d+:[^:]*\bmemory\b[^:]*:|^0::/.test(l) && l.includes('/batchflow/'));
    expect(line).toMatch(new RegExp(`/batchflow/[^/]+-${process.pid}/${taskInstIds(inst).t}\\.1$`));
    const rel = line!.slice(line!.indexOf(':', line!.indexOf(':') + 1) + 1);
    // Removed shortly after the run's end (batched off the hot path: groupRemoval.ts removeLater).
    const places = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].map((mount) => path.join(mount, rel));
    await waitFor(async () => places.every((p) => !existsSync(p)), 20_000, 'the run\'s group removed');
  }, 120_000);

  it.each([['with limits', { cpu: 1 }], ['without limits', {}]] as const)('a task %s that daemonizes a child dropping the marker and ignoring SIGTERM: the child is killed through the group', async (what, limits) => {
    const pidFile = path.join(dir, `daemon-${spawner}-${what.replace(' ', '-')}`);
    // A double fork into a session of its own, with an empty environment (no BATCHFLOW_ATTEMPT marker to find it by).
    const cmd = `( setsid env -i /bin/sh -c 'trap "" TERM; echo $$ > ${pidFile}; exec /bin/sleep 120' </dev/null >/dev/null 2>&1 & ); sleep 0.5; echo started`;
    const flowId = await importFlow(h.client, `daemon_${spawner}_${what.replace(' ', '_')}`, [withRunMode({ name: 't', cmd }, limits)]);
    const id = await h.client.trigger(flowId);
    const pid = await waitFor(async () => (existsSync(pidFile) && /^\d+\n/.test(readFileSync(pidFile, 'utf8')) ? Number(readFileSync(pidFile, 'utf8')) : null), 30_000, 'the daemon pid');
    expect(alive(pid)).toBe(true);
    expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain('BATCHFLOW_ATTEMPT');
    expect(readFileSync(`/proc/${pid}/cgroup`, 'latin1')).toContain('/batchflow/');
    expect((await waitForInstanceEnd(h.client, id, 60_000)).statusDesc).toBe('SUCCESS');
    await waitFor(async () => !alive(pid), 10_000, `daemon ${pid} to be killed`);
  }, 120_000);
});

describe.skipIf(noGroups)('cpu limit', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({});
  });
  afterAll(() => h.close());

  it('a CPU-bound PYTHON task at cpu 0.5 uses about half a core', async () => {
    // Busy for 2 s of wall time, then its own CPU time over that wall time (a whole core unlimited).
    const script = ['import os, time', 't0 = time.time()', 'while time.time() - t0 < 2.0:', '    pass', 'u = os.times()', "print('cores=%.3f' % ((u.user + u.system) / (time.time() - t0)))"].join('\n');
    const flowId = await importFlow(h.client, 'cpu_half', [withRunMode({ name: 't', cmd: script, type: 'PYTHON' }, { cpu: 0.5 })]);
    const { inst, log } = await runOf(h, flowId);
    expect(inst.statusDesc).toBe('SUCCESS');
    const cores = Number(/cores=([\d.]+)/.exec(log)?.[1]);
    expect(cores).toBeGreaterThanOrEqual(0.3);
    expect(cores).toBeLessThanOrEqual(0.7);
  }, 120_000);
});

describe('where groups cannot be made', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  /** A server on a fresh data dir, its log lines collected. */
  async function serve(over: Partial<Config>) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bf-nolimits-'));
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const config = loadConfig({ dataDir, port: 0, auth: false, logLevel: 'info', killGraceMs: 300, ...over } as Record<string, unknown>, {});
    const server = await startServer(config, { logger });
    const h = {
      server,
      lines,
      close: async () => {
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    servers.push(h);
    return h;
  }
  const readyz = async (url: string) => (await (await fetch(`${url}/readyz`)).json()) as Record<string, any>;
  const warnings = (lines: Array<Record<string, unknown>>) => lines.filter((l) => (l.level as number) >= 40 && /limits are NOT enforced/.test(String(l.msg)));

  it('a cgroup root with no hierarchy: one warning at start, /readyz says why, and limited tasks run without limits', async () => {
    // Plain directories where the hierarchies would be: not a control group file system.
    const fake = mkdtempSync(path.join(os.tmpdir(), 'bf-fake-cgroup-'));
    for (const d of ['memory', 'cpu', 'unified']) mkdirSync(path.join(fake, d));
    writeFileSync(path.join(fake, 'cgroup.controllers'), 'memory cpu\n');
    const s = await serve({ cgroupRoot: fake });
    const w = warnings(s.lines);
    expect(w).toHaveLength(1);
    expect(String(w[0].msg)).toContain(`no control group hierarchy at ${fake}`);
    const body = await readyz(s.server.url);
    expect(body.status).toBe('ready');
    expect(body.limits).toEqual({ enforced: false, reason: expect.stringContaining(`no control group hierarchy at ${fake}`) });
    // A task with limits still runs: without a group.
    const { Client } = await import('./harness.js');
    const c = new Client(s.server.url);
    const flowId = await importFlow(c, 'unlimited', [withRunMode({ name: 't', cmd: 'cat /proc/self/cgroup; echo ran' }, { memory: 0.3, cpu: 0.5 })]);
    const inst = await waitForInstanceEnd(c, await c.trigger(flowId), 60_000);
    expect(inst.statusDesc).toBe('SUCCESS');
    const log = await c.log(taskInstIds(inst).t);
    expect(log).toContain('ran');
    expect(log).not.toContain('/batchflow/');
    expect(warnings(s.lines)).toHaveLength(1); // said once, not per task
    rmSync(fake, { recursive: true, force: true });
  }, 90_000);

  it('a cgroup v2 hierarchy without the memory and cpu controllers cannot limit', async () => {
    // These machines mount one (controllers bound to v1) at /sys/fs/cgroup/unified.
    const unified = '/sys/fs/cgroup/unified';
    const l = ResourceLimits.setUp({ resourceLimits: 'auto', cgroupRoot: unified }, 'cgroups-test');
    if (existsSync(path.join(unified, 'cgroup.controllers')) && !/\bmemory\b/.test(readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8'))) {
      expect(l.status).toEqual({ enforced: false, reason: expect.stringMatching(/cgroup v2 hierarchy at \/sys\/fs\/cgroup\/unified has no memory and cpu controller/) });
    } else {
      expect(l.status.enforced).toBe(canMakeGroups);
    }
    await l.close();
  });

  it('BATCHFLOW_RESOURCE_LIMITS=off: no groups, one warning, /readyz says it is turned off', async () => {
    expect(loadConfig({}, { BATCHFLOW_RESOURCE_LIMITS: 'off' }).resourceLimits).toBe('off');
    const s = await serve({ resourceLimits: 'off' });
    expect(warnings(s.lines)).toHaveLength(1);
    expect((await readyz(s.server.url)).limits).toEqual({ enforced: false, reason: 'turned off (BATCHFLOW_RESOURCE_LIMITS=off)' });
  });

  it('BATCHFLOW_RESOURCE_LIMITS=required refuses to start where groups cannot be made; a bad value is a config error', async () => {
    expect(() => ResourceLimits.setUp({ resourceLimits: 'required', cgroupRoot: '/nonexistent-cgroup-root' }, 'x')).toThrow(StartupError);
    expect(() => ResourceLimits.setUp({ resourceLimits: 'required', cgroupRoot: '/nonexistent-cgroup-root' }, 'x')).toThrow(/BATCHFLOW_RESOURCE_LIMITS=required, but task resource limits cannot be enforced: no control group hierarchy/);
    expect(() => loadConfig({}, { BATCHFLOW_RESOURCE_LIMITS: 'maybe' })).toThrow(/BATCHFLOW_RESOURCE_LIMITS must be auto, required or off, got "maybe"/);
  });
});

describe('groups and the executors (a stand-in group: no privileges needed)', () => {
  const dir = mkdtempSync(path.join(tmpdirOf(), 'bf-gate-'));
  const spawner = new SpawnerExecutor();
  afterAll(async () => {
    await spawner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A group whose "cgroup.procs" is a plain file: the gate's pid lands there; close() is recorded. */
  function standIn(name: string, over: { oomKilled?: boolean; procsFiles?: string[] } = {}) {
    const file = path.join(dir, `${name}.procs`);
    const events: string[] = [];
    const group: ExecGroup = {
      procsFiles: over.procsFiles ?? [file],
      memoryBytes: Math.round(0.5 * 2 ** 30),
      close: async () => {
        events.push('close');
        return { oomKilled: over.oomKilled ?? false };
      },
    };
    return { group, file, events };
  }
  function run(ex: Executor, argv: ExecSpec['argv'], group: ExecGroup) {
    const out: string[] = [];
    const proc = ex.start({ argv, cwd: dir, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 0, killGraceMs: 500, onOutput: (c) => out.push(c), group });
    return { proc, done: proc.done.then((o: Outcome) => ({ outcome: o, output: out.join('') })) };
  }

  it('gates a SHELL command in place and wraps any other argv', () => {
    expect(gatedArgv(['/bin/sh', '-c', 'echo hi'])).toEqual(['/bin/sh', '-c', 'read -r _ ; exec </dev/null; echo hi']);
    expect(gatedArgv(['/usr/bin/python3', '-u', 'x.py'])).toEqual(['/bin/sh', '-c', 'read -r _ ; exec "$@" </dev/null', 'batchflow-gate', '/usr/bin/python3', '-u', 'x.py']);
  });

  it('no group where limits are off (a run without limits gets one where they are on: see the daemon test)', () => {
    expect(groupFor(null, { taskInstanceId: '1-20240101000000', runNum: 1 }, { cpu: 0.5, memoryBytes: null })).toBeUndefined();
    const off = ResourceLimits.setUp({ resourceLimits: 'off', cgroupRoot: '/sys/fs/cgroup' }, 'x');
    expect(groupFor(off, { taskInstanceId: '1-20240101000000', runNum: 1 }, { cpu: 0.5, memoryBytes: 2 ** 30 })).toBeUndefined();
    expect(groupFor(off, { taskInstanceId: '1-20240101000000', runNum: 1 }, { cpu: null, memoryBytes: null })).toBeUndefined();
  });

  it('an over-memory outcome fails the attempt naming the limit, whatever the exit code', () => {
    expect(attemptResult({ kind: 'overMemory', limitBytes: Math.round(0.3 * 2 ** 30), code: 0, signal: null }, '0', 0)).toEqual({
      status: 'FAIL',
      exitCode: 0,
      signal: null,
      note: 'killed: over its memory limit of 0.3 GB (runMode.memory)',
    });
    expect(attemptResult({ kind: 'overMemory', limitBytes: 4 * 2 ** 30, code: null, signal: 'SIGKILL' }, '0', 0).note).toBe('killed: over its memory limit of 4 GB (runMode.memory)');
  });

  describe.each([
    ['direct', directExecutor],
    ['spawner', spawner],
  ] as const)('%s executor', (name, ex) => {
    it('writes the pid before the task runs, gives it /dev/null as stdin, and closes the group before done', async () => {
      const { group, file, events } = standIn(`${name}-order`);
      // The task's first act reads the file: the pid is there already.
      const r = run(ex, ['/bin/sh', '-c', `cat ${file}; echo "pid $$"; readlink /proc/self/fd/0`], group);
      const started = await r.proc.started;
      const { outcome, output } = await r.done;
      expect(outcome).toEqual({ kind: 'exited', code: 0 });
      expect(output).toBe(`${started!.pid}pid ${started!.pid}\n/dev/null\n`);
      expect(events).toEqual(['close']);
    });

    it('a wrapped argv runs as itself (same pid), inside the gate', async () => {
      const { group, file } = standIn(`${name}-wrapped`);
      const r = run(ex, ['/bin/cat', file], group);
      const started = await r.proc.started;
      expect(await r.done).toEqual({ outcome: { kind: 'exited', code: 0 }, output: String(started!.pid) });
    });

    it("an OOM kill in the group turns the outcome, except a stop's", async () => {
      const { group } = standIn(`${name}-oom`, { oomKilled: true });
      expect((await run(ex, ['/bin/sh', '-c', 'exit 3'], group).done).outcome).toEqual({ kind: 'overMemory', limitBytes: group.memoryBytes, code: 3, signal: null });
      const stopped = standIn(`${name}-oom-stop`, { oomKilled: true });
      const r = run(ex, ['/bin/sh', '-c', 'sleep 30'], stopped.group);
      await r.proc.started;
      r.proc.kill('cancel');
      expect((await r.done).outcome).toEqual({ kind: 'stopped', reason: 'cancel' });
    });

    it('a pid that cannot be placed fails the spawn, and the group is still closed', async () => {
      const { group, events } = standIn(`${name}-noplace`, { procsFiles: [path.join(dir, 'no-such-dir', 'cgroup.procs')] });
      const { outcome } = await run(ex, ['/bin/sh', '-c', 'echo ran'], group).done;
      expect(outcome).toMatchObject({ kind: 'spawnFailed', error: expect.stringContaining('cannot place the process in its control group') });
      expect(events).toEqual(['close']);
    });
  });
});

function tmpdirOf(): string {
  return os.tmpdir();
}
