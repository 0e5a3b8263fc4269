// taskMode 2 (contract §11) end to end through the real API and real processes: one task run once per key
// with `${key}` and BATCHFLOW_KEY, a log section per key, at most maxParallel (and the worker's concurrency)
// at a time, success only when every key succeeded, a retry that runs only the keys that did not, the
// attempt's timeout and cancel stopping every key's process group, and the counts per status in the store.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyByStatus, type KeyStatus } from '../../src/domain/keyStatus.js';
import { importFlow, startInProcess, taskInstIds, taskStatuses, tempDir, waitFor, waitForInstanceEnd, type InProcess, type TaskSpec } from './harness.js';

let h: InProcess;
let scratch: string;
beforeAll(async () => {
  h = await startInProcess({ workerConcurrency: 4, pythonPath: '/usr/bin/python3' });
  scratch = tempDir();
});
afterAll(async () => {
  await h.close();
});

let flows = 0;
/** Runs a one-task flow of taskMode 2 over `keys` to its end: the instance, the task's status, log and id. */
async function runKeyed(cmd: string, keys: string[], runMode: Record<string, unknown> = {}, extra: Partial<TaskSpec> = {}, wait = 60_000) {
  const task = { name: 'k', cmd, runMode: JSON.stringify({ taskMode: 2, keyType: 2, content: keys.join('\n'), ...runMode }), ...extra } as TaskSpec;
  const flowId = await importFlow(h.client, `keyed-${++flows}`, [task]);
  const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId), wait);
  const id = taskInstIds(inst).k;
  return { inst, id, status: taskStatuses(inst).k, log: await h.client.log(id) };
}

async function counts(id: string): Promise<Partial<Record<KeyStatus, number>> & { total: number; runNum: number }> {
  const c = (await h.server.store.keyCounts([id])).get(id);
  if (!c) throw new Error(`no key counts for ${id}`);
  return { total: c.total, runNum: c.runNum, ...Object.fromEntries(Object.entries(c.byStatus).filter(([, n]) => n > 0)) };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Most of the [start, end] intervals that overlap at one time. */
function maxOverlap(stampsFile: string): number {
  const ev: Array<[number, number]> = [];
  for (const line of readFileSync(stampsFile, 'utf8').trim().split('\n')) {
    const [, what, ns] = line.split(' ');
    ev.push([Number(ns), what === 'start' ? 1 : -1]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same instant
  let now = 0;
  let max = 0;
  for (const [, d] of ev) max = Math.max(max, (now += d));
  return max;
}
const stamp = (file: string, body: string) => `echo "$BATCHFLOW_KEY start $(date +%s%N)" >> ${file}; ${body}; echo "$BATCHFLOW_KEY end $(date +%s%N)" >> ${file}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('taskMode 2: one task over many keys', () => {
  it('runs every key with ${key} and BATCHFLOW_KEY, each in its own log section, and succeeds', async () => {
    const keys = ['alpha', 'beta', 'gamma delta', 'k4', 'k5'];
    const r = await runKeyed('echo "${key} $BATCHFLOW_KEY"', keys, { maxParallel: 3 });
    expect(r.status).toBe('SUCCESS');
    keys.forEach((k, i) => {
      const section = new RegExp(`\\[batchflow\\] key ${i + 1}/5 "${esc(k)}" started\\n${esc(k)} ${esc(k)}\\n\\[batchflow\\] key ${i + 1} "${esc(k)}" exited 0 in \\d+ ms\\n`);
      expect(r.log).toMatch(section);
    });
    expect(r.log).toContain('[batchflow] taskMode 2: 5 keys, at most 3 at a time');
    expect(r.log).toContain('every key succeeded: 5 of 5 keys run');
    // The banner shows the command as written: `${key}` is each key's.
    expect(r.log).toContain('cmdline:\techo "${key} $BATCHFLOW_KEY"');
    expect(await counts(r.id)).toEqual({ total: 5, runNum: 1, SUCCESS: 5 });
    const t = await h.client.taskInstance(r.id);
    expect(t.stsDesc).toBe('SUCCESS');
  });

  it('never runs more than maxParallel keys at once, nor more than the worker concurrency', async () => {
    const two = path.join(scratch, 'parallel2');
    const r = await runKeyed(stamp(two, 'sleep 0.3'), ['a', 'b', 'c', 'd', 'e', 'f'], { maxParallel: 2 });
    expect(r.status).toBe('SUCCESS');
    expect(maxOverlap(two)).toBe(2);
    // maxParallel 10 on a worker of 4: 4 at a time.
    const four = path.join(scratch, 'parallel4');
    const r4 = await runKeyed(stamp(four, 'sleep 0.3'), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { maxParallel: 10 });
    expect(r4.status).toBe('SUCCESS');
    expect(maxOverlap(four)).toBeLessThanOrEqual(4);
    expect(maxOverlap(four)).toBeGreaterThanOrEqual(2);
    expect(r4.log).toContain("at most 4 at a time (maxParallel 10, within the worker's concurrency of 4)");
  });

  it('fails when a key fails; the retry runs only the keys that failed', async () => {
    const flag = path.join(scratch, 'retry.c');
    // c fails once, e always; the others succeed.
    const cmd = `echo "run $BATCHFLOW_KEY"; if [ "$BATCHFLOW_KEY" = c ] && [ ! -e ${flag} ]; then touch ${flag}; exit 3; fi; [ "$BATCHFLOW_KEY" != e ] || exit 4`;
    const r = await runKeyed(cmd, ['a', 'b', 'c', 'd', 'e'], { maxParallel: 2 }, { retryLimit: 1, retryInterval: 0 });
    expect(r.status).toBe('FAIL');
    const [first, second] = r.log.split('run num:\t2');
    expect(second).toBeDefined();
    // Attempt 1: every key ran; c and e failed; the note names the first to fail and the counts.
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) expect(first).toContain(`[batchflow] key ${i + 1}/5 "${k}" started\nrun ${k}\n`);
    expect(first).toContain('[batchflow] key 3 "c" exited 3 in');
    expect(first).toMatch(/key [35] "[ce]" failed first: exit code [34] is not a success code \(0\); keys run: 3 succeeded, 2 failed of 5; retry 1 of 1/);
    // Attempt 2: only c and e.
    expect(second).toContain('[batchflow] taskMode 2: running the 2 of 5 keys that did not succeed before (3 "c", 5 "e")');
    expect(second).toContain('[batchflow] key 3/5 "c" started\nrun c\n[batchflow] key 3 "c" exited 0 in');
    expect(second).toContain('[batchflow] key 5/5 "e" started\nrun e\n[batchflow] key 5 "e" exited 4 in');
    for (const k of ['a', 'b', 'd']) expect(second).not.toContain(`run ${k}\n`);
    expect(second).toMatch(/key 5 "e" failed first: exit code 4 is not a success code \(0\); keys run: 1 succeeded, 1 failed of 2 \(the other 3 had succeeded in earlier attempts\)/);
    expect(await counts(r.id)).toEqual({ total: 5, runNum: 2, SUCCESS: 4, FAIL: 1 });
    const t = await h.client.taskInstance(r.id);
    expect(t.runNum).toBe(2);
    expect(t.exitCode).toBe(4);
    // Get Task Instance shows the counts per status (extension field `keys`).
    expect(t.keys).toEqual({ runNum: 2, total: 5, byStatus: { ...emptyByStatus(), SUCCESS: 4, FAIL: 1 } });
  });

  it('a retry that completes the keys succeeds', async () => {
    const flag = path.join(scratch, 'retry.once');
    const cmd = `if [ "$BATCHFLOW_KEY" = k2 ] && [ ! -e ${flag} ]; then touch ${flag}; exit 1; fi; echo "done $BATCHFLOW_KEY"`;
    const r = await runKeyed(cmd, ['k1', 'k2', 'k3'], {}, { retryLimit: 2, retryInterval: 0 });
    expect(r.status).toBe('SUCCESS');
    const second = r.log.split('run num:\t2')[1]!;
    expect(second).toContain('running the 1 of 3 keys that did not succeed before (2 "k2")');
    expect(second).toContain('every key succeeded: 1 of 3 keys run (the other 2 had succeeded in earlier attempts)');
    expect(r.log).not.toContain('run num:\t3');
    expect(await counts(r.id)).toEqual({ total: 3, runNum: 2, SUCCESS: 3 });
  });

  it('cancel stops every key process group', async () => {
    const dir = tempDir('batchflow-keyed-cancel-');
    const keys = ['p1', 'p2', 'p3'];
    const task = {
      name: 'k',
      cmd: `sleep 60 & echo $! > ${dir}/$BATCHFLOW_KEY.child; echo $$ > ${dir}/$BATCHFLOW_KEY.pid; wait`,
      runMode: JSON.stringify({ taskMode: 2, keyType: 2, content: [...keys, 'p4', 'p5'].join(','), maxParallel: 3 }),
    } as TaskSpec;
    const flowId = await importFlow(h.client, 'keyed-cancel', [task]);
    const id = await h.client.trigger(flowId);
    const files = keys.map((k) => path.join(dir, `${k}.child`));
    await waitFor(async () => files.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim() !== ''), 30_000, 'the three keys to run');
    const pids = keys.flatMap((k) => [path.join(dir, `${k}.child`), path.join(dir, `${k}.pid`)]).map((f) => Number(readFileSync(f, 'utf8')));
    await h.client.cancel(id);
    const inst = await waitForInstanceEnd(h.client, id, 30_000);
    expect(inst.statusDesc).toBe('CANCEL');
    const tid = taskInstIds(inst).k;
    await waitFor(async () => (await h.client.taskInstance(tid)).stsDesc === 'CANCEL', 30_000, 'the task to end CANCEL');
    await waitFor(async () => pids.every((p) => !alive(p)), 10_000, 'every key process to die');
    expect(await counts(tid)).toEqual({ total: 5, runNum: 1, CANCEL: 3, PENDING: 2 });
    const log = await h.client.log(tid);
    for (const [i, k] of keys.entries()) expect(log).toContain(`[batchflow] key ${i + 1} "${k}" stopped after`);
    expect(log).not.toContain('"p4" started');
  });

  it('times out the whole attempt: the running key is stopped and no other starts', async () => {
    const r = await runKeyed('[ "$BATCHFLOW_KEY" != slow ] || sleep 30', ['fast', 'slow', 'never'], { maxParallel: 1 }, { timeout: 2 });
    const t = await h.client.taskInstance(r.id);
    expect(t.stsDesc).toBe('TIMEOUT');
    expect(r.log).toContain('[batchflow] key 1 "fast" exited 0 in');
    expect(r.log).toMatch(/\[batchflow\] key 2 "slow" stopped after \d+ ms: the attempt timed out after 2 s/);
    expect(r.log).not.toContain('"never" started');
    expect(r.log).toContain('keys run: 1 succeeded, 1 timed out, 1 not run of 3');
    expect(await counts(r.id)).toEqual({ total: 3, runNum: 1, SUCCESS: 1, TIMEOUT: 1, PENDING: 1 });
  });

  it('PYTHON: a script naming ${key} runs once per key with its own text', async () => {
    const r = await runKeyed('import os\nprint("py", "${key}", os.environ["BATCHFLOW_KEY"])', ['x', 'y'], { maxParallel: 2 }, { type: 'PYTHON' });
    expect(r.status).toBe('SUCCESS');
    expect(r.log).toContain('\npy x x\n');
    expect(r.log).toContain('\npy y y\n');
  });

  it('a parameter named key does not hide each key', async () => {
    const r = await runKeyed('echo "[${key}] ${other}"', ['one', 'two'], {}, { parameters: [{ key: 'key', value: 'param' }, { key: 'other', value: 'o' }] });
    expect(r.status).toBe('SUCCESS');
    expect(r.log).toContain('\n[one] o\n');
    expect(r.log).toContain('\n[two] o\n');
  });

  it('with cpu or memory limits, each key runs in a control group of its own', async (ctx) => {
    if (!h.server.engine?.limitsStatus?.enforced) ctx.skip();
    const r = await runKeyed('grep -o "[^/]*$" /proc/self/cgroup | sort -u | tr "\\n" " "; echo', ['a', 'b'], { maxParallel: 2, memory: 0.5 });
    expect(r.status).toBe('SUCCESS');
    expect(r.log).toMatch(new RegExp(`${esc(r.id)}\\.1\\.k0\\b`));
    expect(r.log).toMatch(new RegExp(`${esc(r.id)}\\.1\\.k1\\b`));
  });

  it('keeps the log bounded for many keys: successes past the first 100 are counted, failures shown', async () => {
    const keys = Array.from({ length: 1200 }, (_, i) => `k${i + 1}`);
    const r = await runKeyed('[ "$BATCHFLOW_KEY" != k1111 ] || { echo boom; exit 2; }', keys, { maxParallel: 4 }, {}, 180_000);
    expect(r.status).toBe('FAIL');
    expect((r.log.match(/ started\n/g) ?? []).length).toBe(101);
    expect(r.log).toContain('[batchflow] keys that succeed from now on are counted, not shown');
    expect(r.log).toContain('[batchflow] key 1111/1200 "k1111" started\nboom\n[batchflow] key 1111 "k1111" exited 2 in');
    expect(r.log).toMatch(/\[batchflow\] keys: 1000 of 1200 ended: \d+ succeeded/);
    expect(await counts(r.id)).toEqual({ total: 1200, runNum: 1, SUCCESS: 1199, FAIL: 1 });
  }, 240_000);
});

describe('taskMode 2 across a restart', () => {
  it('a service stopped while keys run resumes with only the keys that did not succeed', async () => {
    const dataDir = tempDir('batchflow-keyed-restart-');
    const work = tempDir('batchflow-keyed-restart-work-');
    const flag = path.join(work, 'k3.flag');
    let s1: InProcess | null = await startInProcess({ workerConcurrency: 2, shutdownGraceMs: 100 }, undefined, { dataDir });
    let s2: InProcess | null = null;
    try {
      // k3 blocks the first time (until the service stops it), then passes.
      const cmd = `echo "run $BATCHFLOW_KEY"; if [ "$BATCHFLOW_KEY" = k3 ] && [ ! -e ${flag} ]; then touch ${flag}; sleep 30; fi`;
      const task = { name: 'k', cmd, runMode: JSON.stringify({ taskMode: 2, keyType: 2, content: 'k1,k2,k3,k4', maxParallel: 1 }) } as TaskSpec;
      const flowId = await importFlow(s1.client, 'keyed-restart', [task]);
      const id = await s1.client.trigger(flowId);
      await waitFor(async () => existsSync(flag), 30_000, 'k3 to run');
      const tid = taskInstIds(await s1.client.instance(id)).k;
      // Keys 1 and 2 are recorded as succeeded before the end of the attempt is (the end is INTERRUPTED).
      await s1.server.close();
      s1 = null;
      s2 = await startInProcess({ workerConcurrency: 2 }, undefined, { dataDir });
      const inst = await waitForInstanceEnd(s2.client, id, 60_000);
      expect(inst.statusDesc).toBe('SUCCESS');
      const log = await s2.client.log(tid);
      const [first, second] = log.split('run num:\t2');
      expect(first).toContain('[batchflow] key 2 "k2" exited 0 in');
      expect(first).toMatch(/\[batchflow\] key 3 "k3" stopped after \d+ ms: service shutdown/);
      expect(second).toContain('[batchflow] taskMode 2: running the 2 of 4 keys that did not succeed before (3 "k3", 4 "k4")');
      expect(second).not.toContain('run k1');
      expect(second).not.toContain('run k2');
      expect(second).toContain('run k3');
      expect(second).toContain('run k4');
      expect(await s2.server.store.keyCounts([tid])).toEqual(new Map([[tid, { runNum: 2, total: 4, byStatus: { ...emptyByStatus(), SUCCESS: 4 } }]]));
    } finally {
      if (s1) await s1.server.close();
      if (s2) await s2.close();
      else rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
