// Engine behaviour through the real API and real processes: DAG order, parallel branches, failure and
// skip, timeout, retries with their logs, cancel, parameters and the clean environment, concurrency.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFlow, startInProcess, taskInstIds, taskStatuses, tempDir, waitFor, waitForInstanceEnd, type InProcess } from './harness.js';

let h: InProcess;
let scratch: string;
beforeAll(async () => {
  process.env.BATCHFLOW_TEST_SECRET = 'do-not-leak';
  h = await startInProcess({ workerConcurrency: 4 });
  scratch = tempDir();
});
afterAll(async () => {
  await h.close();
  delete process.env.BATCHFLOW_TEST_SECRET;
});

/** Each task appends "<name> start|end <ns>" lines to a shared file: the order is read back from it. */
const stamp = (file: string, name: string, body = 'true') => `echo "${name} start $(date +%s%N)" >> ${file}; ${body}; echo "${name} end $(date +%s%N)" >> ${file}`;
function readStamps(file: string): Record<string, { start: number; end: number }> {
  const out: Record<string, { start: number; end: number }> = {};
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [name, what, ns] = line.split(' ');
    out[name] ??= { start: NaN, end: NaN };
    out[name][what as 'start' | 'end'] = Number(ns) / 1e6;
  }
  return out;
}

describe('engine', () => {
  it('runs a diamond in DAG order with the two branches in parallel', async () => {
    const f = path.join(scratch, 'diamond');
    const flowId = await importFlow(
      h.client,
      'diamond',
      [
        { name: 'a', cmd: stamp(f, 'a') },
        { name: 'b', cmd: stamp(f, 'b', 'sleep 0.4') },
        { name: 'c', cmd: stamp(f, 'c', 'sleep 0.4') },
        { name: 'd', cmd: stamp(f, 'd') },
      ],
      [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']],
    );
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('SUCCESS');
    expect(inst.status).toBe(1);
    const s = readStamps(f);
    expect(s.b.start).toBeGreaterThanOrEqual(s.a.end);
    expect(s.c.start).toBeGreaterThanOrEqual(s.a.end);
    expect(s.d.start).toBeGreaterThanOrEqual(Math.max(s.b.end, s.c.end));
    // parallel: b and c overlap in time
    expect(Math.max(s.b.start, s.c.start)).toBeLessThan(Math.min(s.b.end, s.c.end));
  });

  it('fails the instance at once, skips the downstream nodes and lets the running branch finish', async () => {
    const f = path.join(scratch, 'fail');
    const flowId = await importFlow(
      h.client,
      'failing',
      [
        { name: 'root', cmd: 'true' },
        { name: 'bad', cmd: 'echo going wrong; exit 3' },
        { name: 'slow', cmd: stamp(f, 'slow', 'sleep 0.6') },
        { name: 'after_bad', cmd: 'echo never' },
        { name: 'after_slow', cmd: 'echo never' },
      ],
      [['root', 'bad'], ['root', 'slow'], ['bad', 'after_bad'], ['slow', 'after_slow']],
    );
    const id = await h.client.trigger(flowId);
    const failed = await waitFor(async () => {
      const i = await h.client.instance(id);
      return i.statusDesc === 'FAIL' ? i : null;
    });
    // FAIL is visible while the independent branch still runs
    expect(taskStatuses(failed).slow).toBe('RUNNING');
    await waitFor(async () => taskStatuses(await h.client.instance(id)).slow === 'SUCCESS');
    const end = await h.client.instance(id);
    expect(taskStatuses(end)).toEqual({ root: 'SUCCESS', bad: 'FAIL', slow: 'SUCCESS', after_bad: 'SKIP', after_slow: 'SKIP' });
    const ids = taskInstIds(end);
    const bad = await h.client.taskInstance(ids.bad);
    expect(bad.status).toBe(-1);
    expect(bad.stsDesc).toBe('FAIL');
    const log = await h.client.log(ids.bad);
    expect(log).toContain('going wrong');
    expect(log).toMatch(/exit code 3 is not a success code/);
  });

  it('times a task out, kills its process group and marks it TIMEOUT', async () => {
    const pidFile = path.join(scratch, 'timeout.pid');
    const flowId = await importFlow(h.client, 'timeout', [{ name: 'sleepy', cmd: `sleep 30 & echo $! > ${pidFile}; wait`, timeout: 1 }]);
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('FAIL');
    const t = await h.client.taskInstance(taskInstIds(inst).sleepy);
    expect(t.stsDesc).toBe('TIMEOUT');
    expect(t.isTimeout).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(async () => !alive(grandchild), 3000, 'the grandchild to die');
    expect(await h.client.log(taskInstIds(inst).sleepy)).toMatch(/timed out after 1 s/);
  });

  it('retries a failing task with its interval, one log section per attempt', async () => {
    const counter = path.join(scratch, 'retry.count');
    const flowId = await importFlow(h.client, 'retry', [
      { name: 'flaky', cmd: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; echo "attempt $n"; [ $n -ge 3 ]`, retryLimit: 2, retryInterval: 1 },
    ]);
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('SUCCESS');
    const id = taskInstIds(inst).flaky;
    const t = await h.client.taskInstance(id);
    expect(t.runNum).toBe(3);
    expect(t.recallNum).toBe(2);
    const log = await h.client.log(id);
    for (const n of [1, 2, 3]) {
      expect(log).toContain(`run num:\t${n}`);
      expect(log).toContain(`attempt ${n}`);
    }
    expect(log).toContain('retry 1 of 2 in 1 s');
    expect(log.indexOf('attempt 1')).toBeLessThan(log.indexOf('run num:\t2'));
    // the retry waited for its interval
    expect(t.endTimeMs - t.startTimeMs).toBeGreaterThanOrEqual(2000);
  });

  it('fails for good after retryLimit retries', async () => {
    const flowId = await importFlow(h.client, 'always_fails', [{ name: 'x', cmd: 'exit 1', retryLimit: 1, retryInterval: 0 }, { name: 'y', cmd: 'true' }], [['x', 'y']]);
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('FAIL');
    const t = await h.client.taskInstance(taskInstIds(inst).x);
    expect(t.runNum).toBe(2);
    expect(taskStatuses(inst).y).toBe('SKIP');
  });

  it('honours a success code list', async () => {
    const flowId = await importFlow(h.client, 'success_codes', [{ name: 'x', cmd: 'exit 2', successCode: '0,2' }]);
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('SUCCESS');
  });

  it('cancels a running instance: the grandchild dies, nothing else of it runs', async () => {
    const pidFile = path.join(scratch, 'cancel.pid');
    const never = path.join(scratch, 'cancel.never');
    const flowId = await importFlow(
      h.client,
      'cancel',
      [
        { name: 'long', cmd: `sh -c 'sleep 60 & echo $! > ${pidFile}; wait'` },
        { name: 'next', cmd: `touch ${never}` },
      ],
      [['long', 'next']],
    );
    const id = await h.client.trigger(flowId);
    await waitFor(async () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000, 'the grandchild pid');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(grandchild)).toBe(true);
    await h.client.cancel(id);
    const inst = await waitFor(async () => {
      const i = await h.client.instance(id);
      return taskStatuses(i).long === 'CANCEL' ? i : null;
    });
    expect(inst.statusDesc).toBe('CANCEL');
    expect(inst.isCancelled).toBe(true);
    expect(taskStatuses(inst).next).toBe('CANCEL');
    await waitFor(async () => !alive(grandchild), 3000, 'the grandchild to die');
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(never)).toBe(false);
    const again = await h.client.raw('POST', 'flowInstances', 'cancel', { flowInstId: id });
    expect(again.code).toBe(62102);
    expect(again.msg).toContain('CANCEL');
  });

  it('substitutes parameters by precedence and exports them, in a clean environment', async () => {
    const flowId = await importFlow(
      h.client,
      'params',
      [
        {
          name: 'show',
          cmd: 'echo "g=${g} t=${t} o=${o} dt=${cal_dt} id=${instance_id} env_t=$t secret=[$BATCHFLOW_TEST_SECRET] home=$HOME unknown=${not_a_param}"',
          parameters: [{ key: 't', value: 'task' }, { key: 'o', value: 'task' }],
        },
      ],
      [],
      [{ key: 'g', value: 'flow-${cal_dt8}' }, { key: 't', value: 'flow' }, { key: 'o', value: 'flow' }],
    );
    const triggerTime = Date.UTC(2024, 2, 1, 10, 30); // business date 2024-02-29
    const res = await h.client.ok('POST', 'flows', 'updateAndTrigger', { flowId, triggerTime, parameters: [{ key: 'o', value: 'override' }] });
    const inst = await waitForInstanceEnd(h.client, res.flowInstanceId);
    expect(inst.statusDesc).toBe('SUCCESS');
    const tid = taskInstIds(inst).show;
    const log = await h.client.log(tid);
    // HOME is the attempt's fresh working directory (under the work root: see test/engine/isolation.test.ts).
    const home = path.join(h.server.engine!.workRoot, `${tid}.1`);
    expect(log).toContain(`g=flow-20240229 t=task o=override dt=2024-02-29 id=${res.flowInstanceId} env_t=task secret=[] home=${home} unknown=`);
    expect(log).toContain('unknown=');
    expect(log).toContain(`cmdline:\techo "g=flow-20240229`);
  });

  it('never runs more tasks at once than the worker concurrency', async () => {
    const f = path.join(scratch, 'concurrency');
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const flowId = await importFlow(h.client, 'wide', names.map((n) => ({ name: n, cmd: stamp(f, n, 'sleep 0.3') })));
    const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
    expect(inst.statusDesc).toBe('SUCCESS');
    const s = readStamps(f);
    const events = Object.values(s).flatMap((x) => [[x.start, 1], [x.end, -1]] as Array<[number, number]>).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (now += d));
    expect(peak).toBe(4);
  });

  it('makes the log readable while the task runs', async () => {
    const flowId = await importFlow(h.client, 'live_log', [{ name: 'talk', cmd: 'echo first line; sleep 2; echo second line' }]);
    const id = await h.client.trigger(flowId);
    const inst = await waitFor(async () => {
      const i = await h.client.instance(id);
      return taskStatuses(i).talk === 'RUNNING' ? i : null;
    });
    const tid = taskInstIds(inst).talk;
    const live = await waitFor(async () => {
      const log = await h.client.log(tid);
      return /^first line$/m.test(log) ? log : null;
    }, 3000, 'the first line in the log');
    expect(live).not.toMatch(/^second line$/m);
    expect((await h.client.instance(id)).statusDesc).toBe('RUNNING');
    await waitForInstanceEnd(h.client, id);
    expect(await h.client.log(tid)).toMatch(/^second line$/m);
  });

  it('runs only the run set of triggerFromTask', async () => {
    const f = path.join(scratch, 'fromtask');
    const flowId = await importFlow(
      h.client,
      'from_task',
      ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: n, cmd: `echo ${n} >> ${f}` })),
      [
        ['a', 'b'],
        ['b', 'c'],
        { sourceTaskName: 'b', targetTaskName: 'd', rerun: false },
        ['a', 'e'],
        ['c', 'e'],
      ],
    );
    const flow = await h.client.ok('GET', 'flows', 'get', undefined, `&flowId=${flowId}`);
    const b = JSON.parse(flow.graph).tasks.find((t: any) => t.taskName === 'b');
    const res = await h.client.ok('POST', 'flows', 'triggerFromTask', { flowId, taskId: Number(b.taskId), triggerTime: Date.now() });
    const inst = await waitForInstanceEnd(h.client, res.flowInstanceId);
    expect(inst.statusDesc).toBe('SUCCESS');
    expect(taskStatuses(inst)).toEqual({ a: 'SKIP', b: 'SUCCESS', c: 'SUCCESS', d: 'SKIP', e: 'SUCCESS' });
    expect(readFileSync(f, 'utf8').trim().split('\n')).toEqual(['b', 'c', 'e']);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
