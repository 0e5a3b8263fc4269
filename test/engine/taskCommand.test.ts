// Task commands: the clean environment, SHELL and PYTHON argv (PYTHON's main() rules run for real
// with /usr/bin/python3), the log banner and success codes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess } from '../../src/engine/executor.js';
import { bannerText, buildTaskCommand, isSuccessCode, type TaskCommandInput } from '../../src/engine/taskCommand.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bf-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function input(type: 'SHELL' | 'PYTHON', renderedCmd: string, over: Partial<TaskCommandInput> = {}): TaskCommandInput {
  return {
    type, renderedCmd, workDir: dir, pythonPath: '/usr/bin/python3', params: new Map(),
    context: {
      instanceId: '12-20240131080000', flowInstanceId: '12-20240131080000', taskId: 7, taskInstanceId: '7-20240131080000', runNum: 2,
      triggerTime: 1706688000000, triggerTimeText: '2024-01-31 08:00:00', timezone: 'Asia/Shanghai', dataDir: '/srv/batchflow', storeId: 'store-1',
    },
    ...over,
  };
}
/** Builds the command, writes its files and runs it; returns the exit code and the merged output. */
async function runTask(i: TaskCommandInput): Promise<{ code: number | null; output: string }> {
  const cmd = buildTaskCommand(i);
  for (const f of cmd.files) writeFileSync(f.path, f.content);
  let output = '';
  const p = startProcess({ argv: cmd.argv, cwd: i.workDir, env: cmd.env, timeoutMs: 10_000, killGraceMs: 1_000, onOutput: (c) => (output += c) });
  const o = await p.done;
  return { code: o.kind === 'exited' ? o.code : null, output };
}
const py = (script: string) => runTask(input('PYTHON', script));

describe('buildTaskCommand: environment', () => {
  it('gives the task a clean environment: the base variables, the parameters and the BATCHFLOW_ context only', async () => {
    process.env.BATCHFLOW_TEST_SECRET = 'hunter2';
    try {
      const { output } = await runTask(input('SHELL', 'env', { params: new Map([['region', 'cn'], ['a.b', 'x']]) }));
      expect(output).not.toContain('hunter2');
      const env = Object.fromEntries(output.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(env).toEqual({
        PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', TZ: 'Asia/Shanghai', PWD: dir, region: 'cn',
        BATCHFLOW_INSTANCE_ID: '12-20240131080000', BATCHFLOW_TASK_ID: '7', BATCHFLOW_TASK_INSTANCE_ID: '7-20240131080000',
        BATCHFLOW_RUN_NUM: '2', BATCHFLOW_TRIGGER_TIME: '1706688000000', BATCHFLOW_TRIGGER_TIME_TEXT: '2024-01-31 08:00:00',
        BATCHFLOW_ATTEMPT: 'store-1/7-20240131080000#2',
      });
    } finally {
      delete process.env.BATCHFLOW_TEST_SECRET;
    }
  });

  it('never lets a parameter overwrite PATH, HOME, LANG, TZ or a BATCHFLOW_ variable', () => {
    const params = new Map([['PATH', '/evil'], ['HOME', '/'], ['LANG', 'C'], ['TZ', 'UTC'], ['BATCHFLOW_ATTEMPT', 'x'], ['BATCHFLOW_OTHER', 'y'], ['ok_1', 'v']]);
    const { env } = buildTaskCommand(input('SHELL', 'true', { params }));
    expect(env).toMatchObject({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', TZ: 'Asia/Shanghai', BATCHFLOW_ATTEMPT: 'store-1/7-20240131080000#2', ok_1: 'v' });
    expect(env).not.toHaveProperty('BATCHFLOW_OTHER');
  });

  it('never exports a parameter that would change how the process loads (a definition stored before that rule)', () => {
    const params = new Map([['LD_PRELOAD', '/tmp/x.so'], ['BASH_ENV', '/tmp/rc'], ['PYTHONSTARTUP', '/tmp/s.py'], ['NODE_OPTIONS', '--require x'], ['ok_1', 'v']]);
    const { env } = buildTaskCommand(input('SHELL', 'true', { params }));
    expect(Object.keys(env).filter((k) => !k.startsWith('BATCHFLOW_')).sort()).toEqual(['HOME', 'LANG', 'PATH', 'TZ', 'ok_1']);
  });

  it('puts the directory of a non-default python in front of PATH, and honours basePath', () => {
    expect(buildTaskCommand(input('SHELL', 'true', { pythonPath: '/opt/py/bin/python3' })).env.PATH).toBe('/opt/py/bin:/usr/local/bin:/usr/bin:/bin');
    expect(buildTaskCommand(input('SHELL', 'true', { basePath: '/bin' })).env.PATH).toBe('/usr/bin:/bin');
    expect(buildTaskCommand(input('SHELL', 'true', { pythonPath: 'python3' })).env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});

describe('buildTaskCommand: SHELL', () => {
  it('runs the command with /bin/sh -c, writes no file, and merges stderr into stdout in order', async () => {
    const cmd = buildTaskCommand(input('SHELL', 'echo "$region"; echo err >&2; exit 3', { params: new Map([['region', 'cn']]) }));
    expect(cmd.argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(cmd.files).toEqual([]);
    expect(await runTask(input('SHELL', 'echo "$region"; echo err >&2; exit 3', { params: new Map([['region', 'cn']]) }))).toEqual({ code: 3, output: 'cn\nerr\n' });
  });

  it("keeps the shell's line numbers in error messages", async () => {
    expect((await runTask(input('SHELL', 'true\nno_such_cmd_x'))).output).toMatch(/: 2: no_such_cmd_x: not found/);
  });
});

describe('buildTaskCommand: PYTHON', () => {
  it('writes the script to task.py in the work dir and runs it with the configured python, unbuffered', () => {
    const cmd = buildTaskCommand(input('PYTHON', 'print(1)'));
    expect(cmd.files).toEqual([{ path: path.join(dir, 'task.py'), content: 'print(1)' }]);
    expect(cmd.argv[0]).toBe('/usr/bin/python3');
    expect(cmd.argv.slice(1, 3)).toEqual(['-u', '-c']);
    expect(cmd.argv[4]).toBe(path.join(dir, 'task.py'));
  });

  it('succeeds when a script without main() exits 0, and keeps stdout/stderr order', async () => {
    expect(await py('import sys\nprint("a"); print("b", file=sys.stderr); print("c")\n')).toEqual({ code: 0, output: 'a\nb\nc\n' });
  });

  it('calls main() and succeeds when it returns 0', async () => {
    expect(await py('def main():\n    print("in main")\n    return 0\n')).toEqual({ code: 0, output: 'in main\n' });
  });

  it('fails when main() returns None, saying how to succeed', async () => {
    expect(await py('def main():\n    print("forgot")\n')).toEqual({ code: 1, output: 'forgot\n[batchflow] main() returned None; return 0 for success\n' });
  });

  it('fails when main() returns anything but 0, showing its repr (an int becomes the exit code)', async () => {
    expect(await py('def main():\n    return "ok"\n')).toEqual({ code: 1, output: "[batchflow] main() returned 'ok'; return 0 for success\n" });
    expect(await py('def main():\n    return False\n')).toEqual({ code: 1, output: '[batchflow] main() returned False; return 0 for success\n' });
    expect((await py('def main():\n    return 2\n')).code).toBe(2);
  });

  it('prints the traceback of an uncaught exception from the script and exits 1', async () => {
    const { code, output } = await py('def f():\n    raise ValueError("boom")\ndef main():\n    f()\n    return 0\n');
    expect(code).toBe(1);
    expect(output).toMatch(/^Traceback \(most recent call last\):\n {2}File ".*task\.py", line 4, in main\n/);
    expect(output).toMatch(/ValueError: boom\n$/);
    expect((await py('raise RuntimeError("top")\n')).code).toBe(1);
  });

  it('does not call main() a second time when the script calls it itself', async () => {
    const guarded = 'def main():\n    print("once")\n    return 0\nif __name__ == "__main__":\n    main()\n';
    expect(await py(guarded)).toEqual({ code: 0, output: 'once\n' });
    expect(await py('def main():\n    print("once")\n    return 0\nmain()\n')).toEqual({ code: 0, output: 'once\n' });
  });

  it('lets sys.exit decide the exit code', async () => {
    expect(await py('import sys\ndef main():\n    return 0\nsys.exit(3)\n')).toEqual({ code: 3, output: '' });
    expect(await py('import sys\ndef main():\n    sys.exit(5)\n')).toEqual({ code: 5, output: '' });
  });

  it('reports a syntax error and exits 1', async () => {
    const { code, output } = await py('def main(:\n');
    expect(code).toBe(1);
    expect(output).toContain('SyntaxError');
  });
});

describe('bannerText', () => {
  it('has the reference shape: rule, run num, instance, cmdline, submitter, current time, rule', () => {
    const text = bannerText({
      runNum: 1, taskInstanceId: '104452-20190808032200', cmdline: 'echo "uuu"', submitter: 'db_envision', now: 1565234558000,
      timezone: 'UTC', javaDate: (ms, tz) => `date(${ms},${tz})`,
    });
    const rule = '='.repeat(60);
    expect(text).toBe(`${rule}\nrun num:\t1\ninstance:\t104452-20190808032200\ncmdline:\techo "uuu"\nsubmitter:\tdb_envision\ncurrent time:\tdate(1565234558000,UTC)\n${rule}\n`);
  });
});

describe('isSuccessCode', () => {
  it.each([
    ['0', 0, true], ['0', 1, false], ['0,2', 2, true], ['0,2', 1, false], [' 1 ; 3 ', 3, true], [' 1 ; 3 ', 0, false],
    ['', 0, true], ['  ', 2, false], ['1 2', 2, true], ['x,1', 1, true],
  ])('successCode %j with exit %i -> %s', (codes, exit, ok) => {
    expect(isSuccessCode(codes, exit)).toBe(ok);
  });
});
