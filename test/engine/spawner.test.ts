// The spawner helper process: tasks are forked by it, not by the service; when it dies, what it ran is
// killed and fails with a clear line before anything else starts, and a new helper (or, after repeated
// deaths, direct spawns) takes the next tasks; when the service dies, it exits and leaves the tasks to
// recovery, their output pipes closing as if the service had held them. Engine-level: a killed helper
// turns into a retried attempt that never overlaps its retry.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ExecSpec } from '../../src/engine/executor.js';
import { isSameProcess } from '../../src/engine/procs.js';
import { SpawnerExecutor, type SpawnerEvent } from '../../src/engine/spawnerExecutor.js';
import { importFlow, startInProcess, taskInstIds, tempDir, waitFor, waitForInstanceEnd } from './harness.js';

const dir = tempDir('bf-spawner-');
const executors: SpawnerExecutor[] = [];
const strays: number[] = [];
afterEach(async () => {
  for (const e of executors.splice(0)) await e.close();
  for (const pid of strays.splice(0)) for (const t of [-pid, pid]) try { process.kill(t, 'SIGKILL'); } catch { /* gone */ }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function executor(): { ex: SpawnerExecutor; events: SpawnerEvent[] } {
  const events: SpawnerEvent[] = [];
  const ex = new SpawnerExecutor((e) => events.push(e));
  executors.push(ex);
  return { ex, events };
}

function spec(cmd: string, out: string[] = [], opts: Partial<ExecSpec> = {}): ExecSpec {
  return { argv: ['/bin/sh', '-c', cmd], cwd: dir, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 0, killGraceMs: 300, onOutput: (c) => out.push(c), ...opts };
}

/** Field 4 of /proc/<pid>/stat: the parent's pid. */
function parentOf(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
}
async function expectDead(pid: number): Promise<void> {
  for (let i = 0; i < 100 && isSameProcess(pid, null); i++) await new Promise((r) => setTimeout(r, 10));
  expect(isSameProcess(pid, null)).toBe(false);
}
async function readLine(file: string): Promise<string> {
  return waitFor(async () => {
    try {
      return readFileSync(file, 'utf8').split('\n')[0] || null;
    } catch {
      return null;
    }
  }, 5_000, `a line in ${file}`);
}

describe('SpawnerExecutor', () => {
  it('forks tasks from the helper process, not from this one', async () => {
    const { ex } = executor();
    const p = ex.start(spec('sleep 0.2'));
    const s = (await p.started)!;
    const helper = parentOf(s.pid);
    expect(helper).not.toBe(process.pid);
    expect(parentOf(helper)).toBe(process.pid);
    expect(readFileSync(`/proc/${helper}/cmdline`, 'latin1')).toContain('spawner.cjs');
    expect(await p.done).toEqual({ kind: 'exited', code: 0 });
  });

  it('when the helper is killed, kills the running task before done resolves, says so, and starts a new helper', async () => {
    const { ex, events } = executor();
    const out: string[] = [];
    const f = path.join(dir, 'grandchild');
    const p = ex.start(spec(`sleep 100 & echo $! > ${f}; echo running; wait`, out, { marker: { name: 'BATCHFLOW_ATTEMPT', value: 'spawner-test#1' }, env: { PATH: '/usr/bin:/bin', BATCHFLOW_ATTEMPT: 'spawner-test#1' } }));
    const s = (await p.started)!;
    const grandchild = Number(await readLine(f));
    await waitFor(async () => out.join('') === 'running\n', 5_000, 'output');
    const helper = parentOf(s.pid);
    process.kill(helper, 'SIGKILL');
    const outcome = await p.done;
    expect(outcome).toEqual({ kind: 'signaled', signal: 'SIGTERM' });
    // No overlap: by the time done resolves, nothing of the task is alive.
    expect(isSameProcess(s.pid, s.procStart)).toBe(false);
    expect(isSameProcess(grandchild, null)).toBe(false);
    const text = out.join('');
    expect(text).toContain('running\n');
    expect(text).toMatch(new RegExp(`^running\\n\\[batchflow\\] attempt lost: the spawner process \\(pid ${helper}\\) died \\(signal SIGKILL\\) while it ran, so its exit status is unknown; killed its processes \\d+, \\d+\\n$`));
    expect(events).toEqual([{ kind: 'spawnerDied', pid: helper, code: null, signal: 'SIGKILL', lost: 1 }]);

    // Long enough to read its parent before it exits (a bare echo may be gone by then).
    const next = ex.start(spec('sleep 1; echo again'));
    const s2 = (await next.started)!;
    expect(parentOf(s2.pid)).not.toBe(helper);
    expect(parentOf(s2.pid)).not.toBe(process.pid);
    expect(await next.done).toEqual({ kind: 'exited', code: 0 });
  });

  it('keeps the outcome of a cancel already under way when the helper dies', async () => {
    const { ex } = executor();
    const out: string[] = [];
    const p = ex.start(spec(`trap '' TERM; echo armed; sleep 100`, out, { killGraceMs: 1_000 }));
    const s = (await p.started)!;
    await waitFor(async () => out.join('').includes('armed'), 10_000, 'the trap to be set'); // a SIGTERM before it would kill the shell
    p.kill('cancel'); // SIGTERM is ignored: the SIGKILL is due only after the grace
    await new Promise((r) => setTimeout(r, 50));
    process.kill(parentOf(s.pid), 'SIGKILL');
    expect(await p.done).toEqual({ kind: 'stopped', reason: 'cancel' });
    await expectDead(s.pid);
  });

  it('spawns directly once helpers keep dying soon after their start', async () => {
    const { ex, events } = executor();
    for (let i = 0; i < 3; i++) {
      const p = ex.start(spec('sleep 100'));
      const s = (await p.started)!;
      const helper = parentOf(s.pid);
      expect(helper).not.toBe(process.pid);
      process.kill(helper, 'SIGKILL');
      await p.done;
    }
    expect(events.at(-1)).toEqual({ kind: 'spawnerFallback', deaths: 3 });
    const p = ex.start(spec('sleep 0.1'));
    expect(parentOf((await p.started)!.pid)).toBe(process.pid);
    expect(await p.done).toEqual({ kind: 'exited', code: 0 });
  });
});

describe('when the service process dies', () => {
  it('the helper exits without touching the tasks, and a task still writing output gets EPIPE as with direct spawns', async () => {
    const quiet = path.join(dir, 'quiet');
    const chatty = path.join(dir, 'chatty');
    // A stand-in for the service: starts two tasks through the spawner, prints their pids, waits.
    const script = path.join(dir, 'service.mts');
    writeFileSync(
      script,
      `import { SpawnerExecutor } from ${JSON.stringify(path.resolve('src/engine/spawnerExecutor.ts'))};
const ex = new SpawnerExecutor();
const spec = (cmd) => ({ argv: ['/bin/sh', '-c', cmd], cwd: ${JSON.stringify(dir)}, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 0, killGraceMs: 500, onOutput: () => {} });
const a = ex.start(spec('echo $$ > ${quiet}; exec sleep 100'));
const b = ex.start(spec("trap '' PIPE; echo $$ > ${chatty}; while echo tick; do sleep 0.05; done; echo epipe >> ${chatty}; sleep 100"));
const [sa, sb] = await Promise.all([a.started, b.started]);
console.log(JSON.stringify({ helper: Number((await import('node:fs')).readFileSync('/proc/' + sa.pid + '/stat', 'latin1').split(') ')[1].split(' ')[1]), quiet: sa.pid, chatty: sb.pid }));
setInterval(() => {}, 1000);
`,
    );
    const service = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pids = await new Promise<{ helper: number; quiet: number; chatty: number }>((resolve, reject) => {
      let text = '';
      service.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(JSON.parse(text));
      });
      service.once('exit', (code) => reject(new Error(`stand-in service exited ${code}`)));
    });
    strays.push(pids.quiet, pids.chatty);
    service.kill('SIGKILL');
    await expectDead(pids.helper);
    // The tasks live on for recovery to find; the one writing to its closed pipe sees EPIPE.
    await waitFor(async () => readFileSync(chatty, 'utf8').includes('epipe'), 5_000, 'EPIPE');
    expect(isSameProcess(pids.quiet, null)).toBe(true);
    expect(isSameProcess(pids.chatty, null)).toBe(true);
  });
});

describe('engine with the spawner', () => {
  it('fails and retries an attempt whose spawner died, killed before its retry starts', async () => {
    const h = await startInProcess({ workerConcurrency: 2 });
    try {
      const ticks = path.join(dir, 'ticks');
      const helperFile = path.join(dir, 'helper');
      const cmd =
        `tag="$BATCHFLOW_RUN_NUM"; [ "$tag" = 1 ] && echo $PPID > ${helperFile}; echo "$tag start $(date +%s%N)" >> ${ticks}; ` +
        `i=0; while [ $i -lt 5 ]; do sleep 0.1; echo "$tag tick $(date +%s%N)" >> ${ticks}; i=$((i+1)); done; echo done`;
      const flowId = await importFlow(h.client, 'spawner_dies', [{ name: 't', cmd, retryLimit: 1, retryInterval: 0 }]);
      const id = await h.client.trigger(flowId);
      const helper = Number(await readLine(helperFile));
      process.kill(helper, 'SIGKILL');
      const inst = await waitForInstanceEnd(h.client, id, 20_000);
      expect(inst.statusDesc).toBe('SUCCESS');
      const t = taskInstIds(inst).t;
      expect((await h.client.taskInstance(t)).runNum).toBe(2);
      const log = await h.client.log(t);
      expect(log).toMatch(/\[batchflow\] attempt lost: the spawner process \(pid \d+\) died \(signal SIGKILL\) while it ran, so its exit status is unknown; killed its processes/);
      expect(log).toMatch(/retry 1 of 1/);
      const lines = readFileSync(ticks, 'utf8').trim().split('\n').map((l) => l.split(' '));
      const secondStart = Number(lines.find(([run, what]) => run === '2' && what === 'start')![2]);
      for (const [run, , ns] of lines) if (run === '1') expect(Number(ns)).toBeLessThan(secondStart);
    } finally {
      await h.close();
    }
  }, 30_000);

  it('forks tasks itself with BATCHFLOW_SPAWNER=direct; another value stops the start', async () => {
    expect(loadConfig({}, {}).spawner).toBe('spawner');
    expect(loadConfig({}, { BATCHFLOW_SPAWNER: 'direct' }).spawner).toBe('direct');
    expect(() => loadConfig({}, { BATCHFLOW_SPAWNER: 'fork' })).toThrow('BATCHFLOW_SPAWNER must be spawner or direct, got "fork"');
    const h = await startInProcess({ spawner: 'direct' });
    try {
      const f = path.join(dir, 'direct-parent');
      const flowId = await importFlow(h.client, 'direct_spawn', [{ name: 't', cmd: `echo $PPID > ${f}` }]);
      expect((await waitForInstanceEnd(h.client, await h.client.trigger(flowId))).statusDesc).toBe('SUCCESS');
      expect(Number(readFileSync(f, 'utf8'))).toBe(process.pid);
    } finally {
      await h.close();
    }
  });
});
