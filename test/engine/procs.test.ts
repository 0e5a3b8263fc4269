// Crash-recovery helpers against real processes: start-time reads, pid reuse guard, marker search, kills.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findProcessesWithEnv, groupAlive, isSameProcess, killAttemptProcesses, readProcStart } from '../../src/engine/procs.js';
import { pidFiles, readPid } from '../helpers/pids.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bf-procs-'));
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) for (const t of [-c.pid!, c.pid!]) try { process.kill(t, 'SIGKILL'); } catch { /* gone */ }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A detached process group running `sh -c cmd`, as a task would be (left behind by a dead service). */
function detached(cmd: string, env: Record<string, string> = {}, argv0 = '/bin/sh'): ChildProcess {
  const c = spawn(argv0, ['-c', cmd], { detached: true, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', ...env } });
  c.on('error', () => {});
  started.push(c);
  return c;
}
const pidFile = pidFiles(dir);
const alive = (pid: number) => isSameProcess(pid, null);
const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));
const marker = (value: string) => ({ name: 'BATCHFLOW_ATTEMPT', value });
/** A pid that surely belongs to no process: one that just exited and was reaped. */
function deadPid(): number {
  return spawnSync('/bin/true').pid!;
}

describe('readProcStart / isSameProcess', () => {
  it('reads field 22 of a live process, and null for a dead pid', () => {
    const own = readProcStart(process.pid);
    const viaShell = spawnSync('/bin/sh', ['-c', `sed 's/.*) //' /proc/${process.pid}/stat | cut -d' ' -f20`], { encoding: 'utf8' }).stdout.trim();
    expect(own).toBe(viaShell);
    expect(readProcStart(deadPid())).toBeNull();
  });

  it('parses after the last ")" when the command name holds spaces and parentheses', async () => {
    const odd = path.join(dir, 'a b) (c');
    symlinkSync('/bin/sleep', odd);
    const c = spawn(odd, ['5'], { stdio: 'ignore' });
    started.push(c);
    await new Promise((r) => setTimeout(r, 50));
    const expected = spawnSync('/bin/sh', ['-c', `sed 's/.*) //' /proc/${c.pid}/stat | cut -d' ' -f20`], { encoding: 'utf8' }).stdout.trim();
    expect(readFileSync(`/proc/${c.pid}/stat`, 'latin1')).toContain('(a b) (c)');
    expect(readProcStart(c.pid!)).toBe(expected);
  });

  it('tells the recorded process from a dead pid or a different start time', () => {
    const start = readProcStart(process.pid)!;
    expect(isSameProcess(process.pid, start)).toBe(true);
    expect(isSameProcess(process.pid, null)).toBe(true);
    expect(isSameProcess(process.pid, String(Number(start) + 1))).toBe(false);
    expect(isSameProcess(deadPid(), null)).toBe(false);
  });

  it('sees a group alive while it has a member', async () => {
    const c = detached('exec sleep 5'); // one process, reaped by us: no orphan zombie
    await new Promise((r) => setTimeout(r, 20));
    expect(groupAlive(c.pid!)).toBe(true);
    process.kill(-c.pid!, 'SIGKILL');
    await exited(c);
    expect(groupAlive(c.pid!)).toBe(false);
  });
});

describe('findProcessesWithEnv', () => {
  it('finds processes carrying NAME=value exactly, never our own', async () => {
    const c = detached('exec sleep 5', { BATCHFLOW_ATTEMPT: 'find-1#1' });
    await new Promise((r) => setTimeout(r, 50));
    expect(findProcessesWithEnv('BATCHFLOW_ATTEMPT', 'find-1#1')).toEqual([c.pid]);
    expect(findProcessesWithEnv('BATCHFLOW_ATTEMPT', 'find-1#')).toEqual([]);
    expect(findProcessesWithEnv('BATCHFLOW_ATTEMP', 'find-1#1')).toEqual([]);
    expect(findProcessesWithEnv('PATH', process.env.PATH!)).not.toContain(process.pid);
  });
});

describe('killAttemptProcesses', () => {
  it('kills the group of a recorded leader that is still the same process, grandchildren included', async () => {
    const f = pidFile();
    const c = detached(`sleep 100 & echo $! > ${f}; wait`);
    const grandchild = await readPid(f);
    const res = await killAttemptProcesses({ pid: c.pid!, pgid: c.pid!, procStart: readProcStart(c.pid!), marker: null }, 1_000);
    expect(res.killed).toEqual([c.pid!, grandchild].sort((a, b) => a - b));
    expect(alive(c.pid!)).toBe(false);
    expect(alive(grandchild)).toBe(false);
  });

  it('kills a process found only by its marker (pgid never recorded, or escaped with setsid)', async () => {
    const f = pidFile();
    detached(`setsid sleep 100 & echo $! > ${f}; exec sleep 100`, { BATCHFLOW_ATTEMPT: 'mark-1#2' });
    const escaped = await readPid(f);
    await new Promise((r) => setTimeout(r, 50)); // let setsid exec sleep
    const res = await killAttemptProcesses({ pid: null, pgid: null, procStart: null, marker: marker('mark-1#2') }, 1_000);
    expect(res.killed).toContain(escaped);
    expect(res.killed.length).toBe(2);
    for (const pid of res.killed) expect(alive(pid)).toBe(false);
  });

  it('kills the rest of a group whose leader is gone when its members carry the marker', async () => {
    const f = pidFile();
    const c = detached(`sleep 100 & echo $! > ${f}`, { BATCHFLOW_ATTEMPT: 'orphan-1#1' });
    const start = readProcStart(c.pid!);
    await exited(c);
    const member = await readPid(f);
    const res = await killAttemptProcesses({ pid: c.pid!, pgid: c.pid!, procStart: start, marker: marker('orphan-1#1') }, 1_000);
    expect(res.killed).toEqual([member]);
    expect(alive(member)).toBe(false);
  });

  it('does not kill a live process whose start time differs (reused pid), nor a group without the marker', async () => {
    const c = detached('sleep 100');
    await new Promise((r) => setTimeout(r, 20));
    const reused = { pid: c.pid!, pgid: c.pid!, procStart: String(Number(readProcStart(c.pid!)) - 7), marker: marker('other-1#1') };
    expect((await killAttemptProcesses(reused, 200)).killed).toEqual([]);
    expect(alive(c.pid!)).toBe(true);
    expect(groupAlive(c.pid!)).toBe(true);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const c = detached(`trap '' TERM; sleep 100`, { BATCHFLOW_ATTEMPT: 'stubborn-1#1' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const res = await killAttemptProcesses({ pid: c.pid!, pgid: c.pid!, procStart: readProcStart(c.pid!), marker: marker('stubborn-1#1') }, 200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(res.killed.length).toBe(2);
    for (const pid of res.killed) expect(alive(pid)).toBe(false);
  });

  it('does nothing when nothing of the attempt is left', async () => {
    expect(await killAttemptProcesses({ pid: deadPid(), pgid: deadPid(), procStart: '1', marker: marker('none-1#1') }, 100)).toEqual({ killed: [] });
  });
});
