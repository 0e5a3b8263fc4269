// PYTHON tasks end to end (contract §3): the script runs with the configured interpreter; success is exit
// 0 and, when the script defines main(), main() returning 0; parameters are substituted into the script
// and exported; output and tracebacks land in the task's log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFlow, startInProcess, taskInstIds, taskStatuses, waitForInstanceEnd, type InProcess } from './harness.js';

let h: InProcess;
beforeAll(async () => {
  h = await startInProcess({ pythonPath: '/usr/bin/python3' });
});
afterAll(async () => {
  await h.close();
});

async function runOne(cmd: string, extra: Record<string, unknown> = {}) {
  const flowId = await importFlow(h.client, `py-${Math.random().toString(36).slice(2, 8)}`, [{ name: 'py', type: 'PYTHON', cmd, ...extra }], [], [{ key: 'region', value: 'eu-west' }]);
  const inst = await waitForInstanceEnd(h.client, await h.client.trigger(flowId));
  const tid = taskInstIds(inst).py;
  return { inst, status: taskStatuses(inst).py, log: await h.client.log(tid), task: await h.client.taskInstance(tid) };
}

describe('PYTHON tasks', () => {
  it('runs a script with main() returning 0: SUCCESS, with parameters substituted and exported', async () => {
    const r = await runOne(['import os, sys', 'def main():', '    print("region", "${region}", os.environ["region"], sys.version_info[0])', '    return 0'].join('\n'));
    expect(r.status).toBe('SUCCESS');
    expect(r.log).toContain('region eu-west eu-west 3');
    expect(r.task).toMatchObject({ type: 8, stsDesc: 'SUCCESS', exitCode: 0 });
  });

  it('fails when main() returns non-zero, with the value as the exit code', async () => {
    const r = await runOne('def main():\n    print("bad input")\n    return 3\n');
    expect(r.status).toBe('FAIL');
    expect(r.inst.statusDesc).toBe('FAIL');
    expect(r.task.exitCode).toBe(3);
    expect(r.log).toContain('bad input');
  });

  it('fails on an uncaught exception and logs its traceback', async () => {
    const r = await runOne('def main():\n    raise ValueError("no such table")\n');
    expect(r.status).toBe('FAIL');
    expect(r.log).toMatch(/Traceback[\s\S]*ValueError: no such table/);
  });

  it('runs a plain script without main(): exit status decides, and successCode applies', async () => {
    expect((await runOne('print("plain")')).status).toBe('SUCCESS');
    expect((await runOne('import sys\nsys.exit(4)', { successCode: '0,4' })).status).toBe('SUCCESS');
    expect((await runOne('import sys\nsys.exit(4)')).status).toBe('FAIL');
  });
});
