// The executor runs real processes: exit codes, output streaming, group kills, timeouts, spawn failures.
// Every behaviour holds for both executors: spawning through the helper process (the default) and directly.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directExecutor, type ExecSpec, type Executor, type Outcome, type RunningProcess } from '../../src/engine/executor.js';
import { isSameProcess, readProcStart } from '../../src/engine/procs.js';
import { SpawnerExecutor } from '../../src/engine/spawnerExecutor.js';
import { buildTaskCommand } from '../../src/engine/taskCommand.js';
import { pidFiles, readPid } from '../helpers/pids.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bf-exec-'));
const spawner = new SpawnerExecutor();
afterAll(async () => {
  await spawner.close();
  rmSync(dir, { recursive: true, force: true });
});

let executor: Executor = directExecutor;
/** Starts `sh -c cmd` (or argv) and collects its output. */
function start(cmd: string | ExecSpec['argv'], opts: Partial<ExecSpec> = {}) {
  const chunks: string[] = [];
  const proc: RunningProcess = executor.start({
    argv: typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd,
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    timeoutMs: 0,
    killGraceMs: 2_000,
    onOutput: (c) => chunks.push(c),
    ...opts,
  });
  const result = proc.done.then((outcome: Outcome) => ({ outcome, output: chunks.join(''), chunks }));
  return { proc, result };
}
const run = (cmd: string | ExecSpec['argv'], opts: Partial<ExecSpec> = {}) => start(cmd, opts).result;

const pidFile = pidFiles(dir);
/** Dead: gone, or a zombie waiting for init to reap it (this container's init reaps every ~2 s). */
async function expectDead(pid: number): Promise<void> {
  for (let i = 0; i < 50 && isSameProcess(pid, null); i++) await new Promise((r) => setTimeout(r, 10));
  expect(isSameProcess(pid, null)).toBe(false);
}

describe.each([
  ['direct', directExecutor],
  ['spawner', spawner],
])('%s executor', (_name, ex) => {
  beforeAll(() => {
    executor = ex;
  });

  it('reports the exit code', async () => {
    expect((await run('exit 0')).outcome).toEqual({ kind: 'exited', code: 0 });
    expect((await run('exit 3')).outcome).toEqual({ kind: 'exited', code: 3 });
  });

  it('reports a signal it did not send', async () => {
    expect((await run('kill -9 $$')).outcome).toEqual({ kind: 'signaled', signal: 'SIGKILL' });
  });

  it('runs the process as the leader of its own group and records its start time', async () => {
    const { proc, result } = start('sleep 0.2');
    const s = (await proc.started)!;
    expect(s.pgid).toBe(s.pid);
    const stat = readFileSync(`/proc/${s.pid}/stat`, 'latin1');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])).toBe(s.pid);
    expect(s.procStart).toMatch(/^\d+$/);
    expect(s.procStart).toBe(readProcStart(s.pid));
    expect(s.hr).toBeGreaterThanOrEqual(proc.spawnHr);
    await result;
    expect(proc.exitHr).toBeGreaterThan(s.hr);
  });

  it('keeps the exact order of stdout and stderr of a shell task', async () => {
    const { argv, env } = buildTaskCommand({
      type: 'SHELL', renderedCmd: 'echo a; echo b >&2; echo c', workDir: dir, pythonPath: '/usr/bin/python3', params: new Map(),
      context: { instanceId: 'i', flowInstanceId: 'i', taskId: 1, taskInstanceId: '1-x', runNum: 1, triggerTime: 0, triggerTimeText: '', timezone: 'UTC', dataDir: dir, storeId: 's' },
    });
    // Two pipes read by one event loop reorder these writes almost every time: repeat to be sure.
    for (let i = 0; i < 20; i++) expect((await run(argv, { env })).output).toBe('a\nb\nc\n');
  });

  it('delivers a large output completely', async () => {
    const { output, outcome } = await run("head -c 5242880 /dev/zero | tr '\\0' x");
    expect(outcome).toEqual({ kind: 'exited', code: 0 });
    expect(output.length).toBe(5_242_880);
    expect(/^x+$/.test(output)).toBe(true);
  });

  it('waits for the pipes after the exit, so output still in flight is not lost', async () => {
    for (let i = 0; i < 3; i++) expect((await run('(sleep 0.01; echo late) & echo early')).output).toBe('early\nlate\n');
  });

  it('never splits a multi-byte character across chunks', async () => {
    const euro = await run(["/bin/sh", "-c", "printf '\\342\\202'; sleep 0.05; printf '\\254\\n'"]);
    expect(euro.output).toBe('€\n');
    const many = await run(['/usr/bin/python3', '-c', "import sys; sys.stdout.write('€' * 200000)"]);
    expect(many.chunks.length).toBeGreaterThan(1);
    expect(many.output).toBe('€'.repeat(200_000));
  });

  it('kills the whole group, grandchildren included, on timeout', async () => {
    const f = pidFile();
    const t0 = Date.now();
    const { outcome } = await run(`sleep 100 & echo $! > ${f}; wait`, { timeoutMs: 300 });
    expect(outcome).toEqual({ kind: 'timedOut' });
    expect(Date.now() - t0).toBeLessThan(1_500);
    await expectDead(await readPid(f));
  });

  it('escalates to SIGKILL after the grace when SIGTERM is ignored', async () => {
    const f = pidFile();
    const t0 = Date.now();
    const { outcome } = await run(`trap '' TERM; sleep 100 & echo $! > ${f}; wait`, { timeoutMs: 200, killGraceMs: 300 });
    expect(outcome).toEqual({ kind: 'timedOut' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(480);
    await expectDead(await readPid(f));
  });

  it("kill('cancel') stops the process and its grandchildren", async () => {
    const f = pidFile();
    const { proc, result } = start(['/usr/bin/bash', '-c', `(sleep 100; true) & echo $! > ${f}; sleep 100`]);
    const grandchild = await readPid(f);
    proc.kill('cancel');
    expect((await result).outcome).toEqual({ kind: 'stopped', reason: 'cancel' });
    await expectDead(grandchild);
    await expectDead((await proc.started)!.pid);
  });

  it('kill() right after the start, before the pid is known, stops the process', async () => {
    const f = pidFile();
    const { proc, result } = start(`echo $$ > ${f}; sleep 100`);
    proc.kill('cancel');
    expect((await result).outcome).toEqual({ kind: 'stopped', reason: 'cancel' });
    const pid = (await proc.started)?.pid;
    if (pid) await expectDead(pid);
  });

  it("reports a shutdown stop even when the process exits 0 on SIGTERM", async () => {
    const { proc, result } = start(`trap 'exit 0' TERM; sleep 100 & wait`);
    await new Promise((r) => setTimeout(r, 100));
    proc.kill('shutdown');
    expect((await result).outcome).toEqual({ kind: 'stopped', reason: 'shutdown' });
  });

  it('does not hang when a grandchild keeps the pipe open, and kills that grandchild', async () => {
    const f = pidFile();
    const t0 = Date.now();
    const { outcome, output } = await run(`sleep 30 & echo $! > ${f}; echo done`);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(outcome).toEqual({ kind: 'exited', code: 0 });
    expect(output).toBe('done\n');
    await expectDead(await readPid(f));
  });

  it('leaves no background process of a finished task behind', async () => {
    const f = pidFile();
    await run(`sleep 30 >/dev/null 2>&1 & echo $! > ${f}`);
    await expectDead(await readPid(f));
  });

  it('ignores kill() once the process has exited', async () => {
    const { proc, result } = start('exit 4');
    const r = await result;
    proc.kill('cancel');
    expect(r.outcome).toEqual({ kind: 'exited', code: 4 });
  });

  it('resolves spawnFailed, without throwing, for a missing executable or working directory', async () => {
    const missing = start(['/nonexistent/bin/tool', 'x']);
    expect(await missing.proc.started).toBeNull();
    const r = await missing.result;
    expect(r.outcome.kind).toBe('spawnFailed');
    expect(r.outcome.kind === 'spawnFailed' && r.outcome.error).toContain('ENOENT');
    expect((await run('true', { cwd: path.join(dir, 'no-such-dir') })).outcome.kind).toBe('spawnFailed');
    expect((await run(['/bin/sh', '-c', 'true'], { env: { BAD: 'a\0b' } })).outcome.kind).toBe('spawnFailed');
  });

  it('passes exactly the given environment', async () => {
    const { output } = await run('env', { env: { PATH: '/usr/bin:/bin', ONLY: 'me' } });
    const keys = output.trim().split('\n').map((l) => l.split('=')[0]).sort();
    expect(keys).toEqual(['ONLY', 'PATH', 'PWD']); // dash adds PWD itself
  });
});
