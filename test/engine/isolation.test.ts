// Task isolation (contract §5, issue 8 item 6), with the real engine and real processes: a task sees only
// the §5 environment, never the service's secrets; run by a root service it runs as an unprivileged OS user
// (the flow's doAs mapped, else batchflow-task; root only when configured), with umask 022, in a work dir
// outside the data dir, which it cannot read. The parts that switch users need root and are skipped without.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TaskUsers, type OsUser } from '../../src/engine/taskUsers.js';
import { WorkDirs } from '../../src/engine/workDirs.js';
import { ChildServer, Client, freePort, startInProcess, taskInstIds, taskStatuses, tempDir, waitFor, waitForInstanceEnd, type InProcess, type TaskSpec } from './harness.js';

const AS_ROOT = process.getuid?.() === 0;
if (!AS_ROOT) console.warn('isolation.test.ts: the tests that switch OS users are skipped: they need root (a service switches users only when it runs as root)');

const RULE = `${'='.repeat(60)}\n`;
/** A log's output after its (last) banner. */
const body = (log: string) => log.slice(log.lastIndexOf(RULE) + RULE.length);
const uidOf = (name: string) => Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());

/** Imports a flow with the given doAs and runs it once; each task's log body and status, by name. */
async function run(c: Client, tasks: TaskSpec[], opts: { doAs?: string; parameters?: Array<{ key: string; value: string }> } = {}) {
  const dirs = await c.ok('GET', 'directories', 'listWorkFlowDirs');
  const name = `iso_${Math.random().toString(36).slice(2, 8)}`;
  const flowJson = {
    name, type: 0, doAs: opts.doAs ?? '', parameters: opts.parameters ?? [], relations: [],
    tasks: tasks.map((t) => ({ type: 'SHELL', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', ...t })),
  };
  const { flowId } = await c.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId: dirs[0].key, flowJson });
  const inst = await waitForInstanceEnd(c, await c.trigger(Number(flowId)), 60_000);
  const ids = taskInstIds(inst);
  const logs: Record<string, string> = {};
  for (const t of tasks) logs[t.name] = await c.log(ids[t.name]);
  return { inst, ids, logs, statuses: taskStatuses(inst) as Record<string, string> };
}

/** The fd numbers of an `ls -l /proc/<pid>/fd` listing. */
const openFds = (out: string) => [...out.matchAll(/^l\S+ .* (\d+) -> /gm)].map((m) => m[1]).sort();

const SECRETS = {
  BATCHFLOW_DATABASE_URL: 'postgres://batchflow:pw-in-the-url@db.internal:5432/batchflow',
  BATCHFLOW_MASTER_KEY: 'master-key-0123456789abcdef',
  BATCHFLOW_APP_SECRET: 'app-secret-fedcba9876543210',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-xyz',
  GITHUB_TOKEN: 'ghp_token_123',
  API_TOKEN: 'bearer-token-456',
};
const CONTEXT = ['BATCHFLOW_INSTANCE_ID', 'BATCHFLOW_TASK_ID', 'BATCHFLOW_TASK_INSTANCE_ID', 'BATCHFLOW_RUN_NUM', 'BATCHFLOW_TRIGGER_TIME', 'BATCHFLOW_TRIGGER_TIME_TEXT', 'BATCHFLOW_ATTEMPT'];
const PY_ENV = 'import os\nfor k in sorted(os.environ):\n    print("%s=%s" % (k, os.environ[k]))\n';

describe.each(['spawner', 'direct'] as const)('the environment of a task (%s spawns)', (spawner) => {
  let h: InProcess;
  beforeAll(async () => {
    // The service's own environment holds its database URL, master key and other secrets.
    Object.assign(process.env, SECRETS);
    h = await startInProcess({ spawner });
  });
  afterAll(async () => {
    await h.close();
    for (const k of Object.keys(SECRETS)) delete process.env[k];
  });

  it('is the §5 list, the parameters and the BATCHFLOW_ context only: nothing of the service reaches SHELL or PYTHON tasks', async () => {
    const r = await run(h.client, [{ name: 'sh', cmd: 'env' }, { name: 'py', type: 'PYTHON', cmd: PY_ENV }], { parameters: [{ key: 'region', value: 'eu' }] });
    expect(r.statuses).toEqual({ sh: 'SUCCESS', py: 'SUCCESS' });
    for (const log of Object.values(r.logs)) {
      for (const v of Object.values(SECRETS)) expect(log).not.toContain(v);
      const keys = body(log).trim().split('\n').map((l) => l.slice(0, l.indexOf('=')));
      // PWD is the shell's own; python is started with exactly what the engine gives.
      expect(keys.filter((k) => k !== 'PWD').sort()).toEqual(['HOME', 'LANG', 'PATH', 'TZ', 'region', ...CONTEXT].sort());
    }
  });

  it("cannot read the service's or the spawner's environment, and holds none of its files open", async () => {
    const cmd = `cat /proc/${process.pid}/environ; echo "service rc=$?"; cat /proc/$PPID/environ; echo "parent rc=$?"; ls -l /proc/$$/fd`;
    const r = await run(h.client, [{ name: 't', cmd }]);
    const out = body(r.logs.t);
    for (const v of Object.values(SECRETS)) expect(out).not.toContain(v);
    if (AS_ROOT) {
      expect(out).toMatch(/service rc=1/);
      expect(out).toMatch(/parent rc=1/);
    }
    // Nothing the service opened: not the store, not the lock.
    expect(out).not.toContain(h.dataDir);
    expect(out).not.toMatch(/sqlite|serve\.lock/);
    // The spawner closes what it inherited: stdio only. (Direct spawns from this test process would pass on
    // what the test runner left open; `batchflow serve` closes it at start: see the next test.)
    if (spawner === 'spawner') expect(openFds(out)).toEqual(['0', '1', '2']);
  });
});

describe.each(['spawner', 'direct'])('batchflow serve (%s spawns)', (spawner) => {
  it('passes none of its environment and no inherited file descriptor to a task', async () => {
    const env = { BATCHFLOW_SPAWNER: spawner, AWS_SECRET_ACCESS_KEY: SECRETS.AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN: SECRETS.GITHUB_TOKEN };
    const server = new ChildServer(tempDir(), freePort(), env, true);
    await server.start();
    try {
      const r = await run(server.client, [{ name: 't', cmd: 'env; ls -l /proc/$$/fd' }]);
      const out = body(r.logs.t);
      expect(out).not.toContain(SECRETS.AWS_SECRET_ACCESS_KEY);
      expect(out).not.toContain(SECRETS.GITHUB_TOKEN);
      expect(openFds(out)).toEqual(['0', '1', '2']);
    } finally {
      await server.stop('SIGTERM');
    }
  });
});

describe.skipIf(!AS_ROOT)('tasks of a root service', () => {
  let h: InProcess;
  let nobody: number;
  const umask = process.umask();
  beforeAll(async () => {
    nobody = uidOf('nobody');
    // A restrictive umask of the service must not reach the tasks, nor make their work dirs unreachable.
    process.umask(0o077);
    h = await startInProcess({ taskUsers: { etl: 'nobody', ops: 'root', ghost: 'bf-no-such-user' } });
  });
  afterAll(async () => {
    await h.close();
    process.umask(umask);
  });

  it('run as batchflow-task, with umask 022, in a fresh 0700 dir of theirs outside the data dir, removed afterwards', async () => {
    const r = await run(h.client, [{ name: 't', cmd: 'id -u; id -g; id -G; umask; stat -c "%U %a" .; stat -c "%U %a" ..; ls .. >/dev/null 2>&1; echo "list rc=$?"; pwd' }]);
    expect(r.statuses.t).toBe('SUCCESS');
    const [uid, gid, groups, mask, own, parent, list, cwd] = body(r.logs.t).trim().split('\n');
    const task = uidOf('batchflow-task');
    expect(Number(uid)).toBe(task);
    expect(task).not.toBe(0);
    expect(groups).toBe(gid); // supplementary groups (root's) dropped
    expect(mask).toBe('0022');
    expect(own).toBe('batchflow-task 700');
    expect(parent).toBe('root 711'); // reachable, not listable: other attempts' dirs stay unseen
    expect(list).toBe('list rc=2');
    expect(cwd).toBe(path.join(h.server.engine!.workRoot, `${r.ids.t}.1`));
    expect(path.relative(h.dataDir, cwd).startsWith('..')).toBe(true);
    await waitFor(async () => !existsSync(cwd), 30_000, 'the work dir to be removed');
  });

  it('cannot read the data directory, the key file or the store', async () => {
    writeFileSync(path.join(h.dataDir, 'master.key'), 'MASTER-KEY-IN-FILE\n', { mode: 0o600 });
    writeFileSync(path.join(h.dataDir, 'readable.txt'), 'WORLD-READABLE-BUT-INSIDE\n', { mode: 0o644 });
    chmodSync(path.join(h.dataDir, 'readable.txt'), 0o644);
    expect(statSync(h.dataDir).mode & 0o777).toBe(0o700);
    const d = h.dataDir;
    const cmd = `cat ${d}/master.key; echo "key rc=$?"; cat ${d}/readable.txt; echo "file rc=$?"; ls ${d}; echo "ls rc=$?"; head -c 16 ${d}/batchflow.sqlite; echo "store rc=$?"`;
    const r = await run(h.client, [{ name: 't', cmd }]);
    const out = body(r.logs.t);
    expect(out).not.toContain('MASTER-KEY-IN-FILE');
    expect(out).not.toContain('WORLD-READABLE-BUT-INSIDE');
    expect(out).not.toContain('SQLite format');
    expect(out).toMatch(/Permission denied[\s\S]*key rc=1[\s\S]*file rc=1[\s\S]*ls rc=2[\s\S]*store rc=1/);
  });

  it("run as the OS user the flow's doAs maps to; an unmapped doAs runs as the default; root only when named", async () => {
    const etl = await run(h.client, [{ name: 't', cmd: 'id -u' }], { doAs: 'etl' });
    expect(Number(body(etl.logs.t))).toBe(nobody);
    const other = await run(h.client, [{ name: 't', cmd: 'id -u' }], { doAs: 'someone' });
    expect(Number(body(other.logs.t))).toBe(uidOf('batchflow-task'));
    const ops = await run(h.client, [{ name: 't', cmd: 'id -u' }], { doAs: 'ops' });
    expect(Number(body(ops.logs.t))).toBe(0);
  });

  it('fail the attempt, not the service, when the doAs maps to a user this host does not have', async () => {
    const r = await run(h.client, [{ name: 't', cmd: 'echo never' }], { doAs: 'ghost' });
    expect(r.statuses.t).toBe('FAIL');
    expect(r.logs.t).toContain('BATCHFLOW_TASK_USERS maps the flow\'s doAs "ghost" to the OS user bf-no-such-user, which does not exist on this host');
    expect(body(r.logs.t)).not.toMatch(/^never$/m);
    expect((await run(h.client, [{ name: 't', cmd: 'true' }])).statuses.t).toBe('SUCCESS');
  });

  it('leave nothing behind and reach nothing outside when their dir holds read-only subdirs and links out', async () => {
    const scratch = tempDir('bf-iso-');
    const victim = path.join(scratch, 'victim');
    writeFileSync(victim, 'keep me\n');
    const cmd = `mkdir -p a/b c; echo x > a/b/f; ln -s ${victim} a/b/link; ln -s ${scratch} c/dir; chmod 500 a/b; pwd`;
    const r = await run(h.client, [{ name: 't', cmd }]);
    expect(r.statuses.t).toBe('SUCCESS');
    const cwd = body(r.logs.t).trim();
    await waitFor(async () => !existsSync(cwd), 30_000, 'the work dir to be removed');
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
  });
});

describe.skipIf(!AS_ROOT)('a root service configured to run tasks as root', () => {
  it('runs them as root, in <dataDir>/work', async () => {
    const h = await startInProcess({ taskUser: 'root' });
    try {
      const r = await run(h.client, [{ name: 't', cmd: 'id -u; pwd' }]);
      const [uid, cwd] = body(r.logs.t).trim().split('\n');
      expect(uid).toBe('0');
      expect(path.dirname(cwd)).toBe(path.join(h.dataDir, 'work'));
    } finally {
      await h.close();
    }
  });
});

describe('settings', () => {
  const load = (env: Record<string, string>) => loadConfig({}, env);
  it('parse BATCHFLOW_TASK_USER, BATCHFLOW_TASK_USERS and BATCHFLOW_WORK_ROOT', () => {
    expect(load({})).toMatchObject({ taskUser: 'batchflow-task', taskUsers: {}, workRoot: '' });
    const c = load({ BATCHFLOW_TASK_USER: 'svc-tasks', BATCHFLOW_TASK_USERS: 'etl=etluser, report = nobody,ops=root', BATCHFLOW_WORK_ROOT: 'rel/work' });
    expect(c.taskUser).toBe('svc-tasks');
    expect({ ...c.taskUsers }).toEqual({ etl: 'etluser', report: 'nobody', ops: 'root' });
    expect(c.workRoot).toBe(path.resolve('rel/work'));
  });
  it.each([
    ['BATCHFLOW_TASK_USER', 'bad user'],
    ['BATCHFLOW_TASK_USER', '1000'],
    ['BATCHFLOW_TASK_USERS', 'etl'],
    ['BATCHFLOW_TASK_USERS', 'etl=a=b'],
    ['BATCHFLOW_TASK_USERS', 'etl=,x=y'],
    ['BATCHFLOW_TASK_USERS', '=nobody'],
    ['BATCHFLOW_TASK_USERS', 'etl=nobody,'],
    ['BATCHFLOW_TASK_USERS', 'etl=nobody,etl=root'],
    ['BATCHFLOW_TASK_USERS', 'etl=no body'],
  ])('refuse %s=%j, naming the variable', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(name);
  });
});

describe('TaskUsers', () => {
  const passwd: Record<string, OsUser> = {
    'batchflow-task': { name: 'batchflow-task', uid: 999, gid: 995, home: '/' },
    nobody: { name: 'nobody', uid: 65534, gid: 65534, home: '/' },
    root: { name: 'root', uid: 0, gid: 0, home: '/root' },
    toor: { name: 'toor', uid: 0, gid: 0, home: '/root' },
  };
  const lookUp = (n: string) => passwd[n] ?? null;
  const cfg = (taskUser = 'batchflow-task', taskUsers: Record<string, string> = {}) => ({ taskUser, taskUsers });

  it('does not switch in a service that is not root, and says so when users are configured', async () => {
    const warned: string[] = [];
    const u = await TaskUsers.prepare(cfg('nobody', { etl: 'nobody' }), { uid: 1000, lookUp, warn: (m) => warned.push(m) });
    expect(u.userFor('etl')).toEqual({ ok: true, user: null });
    expect(u.mayRunAsOthers).toBe(false);
    expect(warned[0]).toContain('does not run as root');
  });

  it('creates the default user when missing, and refuses the start naming the setting when that fails', async () => {
    const made: string[] = [];
    const table: Record<string, OsUser> = {};
    const u = await TaskUsers.prepare(cfg(), { uid: 0, lookUp: (n) => table[n] ?? null, createUser: async (n) => void (made.push(n), (table[n] = passwd[n])) });
    expect(made).toEqual(['batchflow-task']);
    expect(u.userFor('')).toEqual({ ok: true, user: passwd['batchflow-task'] });
    await expect(TaskUsers.prepare(cfg(), { uid: 0, lookUp: () => null, createUser: async () => { throw Object.assign(new Error('useradd failed'), { stderr: 'useradd: cannot lock /etc/passwd' }); } }))
      .rejects.toThrow(/BATCHFLOW_TASK_USER: the OS user batchflow-task for tasks does not exist and could not be created \(useradd: cannot lock/);
    await expect(TaskUsers.prepare(cfg('someone'), { uid: 0, lookUp })).rejects.toThrow('BATCHFLOW_TASK_USER: the OS user someone for tasks does not exist');
  });

  it('allows root only by its name, never through another name with uid 0', async () => {
    await expect(TaskUsers.prepare(cfg('toor'), { uid: 0, lookUp })).rejects.toThrow('has uid 0 (root); name root explicitly');
    const u = await TaskUsers.prepare(cfg('batchflow-task', { a: 'toor', b: 'root' }), { uid: 0, lookUp });
    expect(u.userFor('a')).toMatchObject({ ok: false, error: expect.stringContaining('BATCHFLOW_TASK_USERS: the OS user toor has uid 0') });
    expect(u.userFor('b')).toEqual({ ok: true, user: null });
    expect(u.userFor('__proto__')).toEqual({ ok: true, user: passwd['batchflow-task'] });
    expect((await TaskUsers.prepare(cfg('root'), { uid: 0, lookUp })).mayRunAsOthers).toBe(false);
  });
});

describe.skipIf(!AS_ROOT)('WorkDirs', () => {
  it('refuses a work root for other users inside the data dir, or that others could replace', () => {
    const dataDir = tempDir('bf-wd-data-');
    // tempDir is world-writable (for tasks): as a work root's ancestor it would be refused, rightly.
    const base = tempDir('bf-wd-');
    chmodSync(base, 0o755);
    expect(() => WorkDirs.prepare({ dataDir, workRoot: path.join(dataDir, 'w') }, true)).toThrow('is inside the data directory');
    const theirs = path.join(base, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, uidOf('nobody'), 0);
    expect(() => WorkDirs.prepare({ dataDir, workRoot: path.join(theirs, 'w') }, true)).toThrow(/belongs to uid \d+, who could replace/);
    const open = path.join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => WorkDirs.prepare({ dataDir, workRoot: path.join(open, 'w') }, true)).toThrow('writable by other users without the sticky bit');
    expect(() => WorkDirs.prepare({ dataDir, workRoot: open }, true)).toThrow('is writable by other users');
    const w = WorkDirs.prepare({ dataDir, workRoot: path.join(base, 'ok', 'w') }, true);
    expect(statSync(w.root).mode & 0o777).toBe(0o711);
    expect(statSync(path.dirname(w.root)).mode & 0o777).toBe(0o711);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });
});
