// End to end over real HTTP: a real server (engine on), and a client written from the reference walks
// every operation of both API versions in a realistic order. The walk records each operation it called;
// the last test checks the walk covered every operation the service mounts, and that README.md's
// operation table lists each of them as "works".
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../src/api/operations/index.js';
import { API_VERSIONS } from '../src/api/versions.js';
import { startInProcess, waitFor, type InProcess } from './engine/harness.js';

let h: InProcess;
const called = new Set<string>();
beforeAll(async () => {
  h = await startInProcess({ workerConcurrency: 4 });
});
afterAll(() => h.close());

interface Wire {
  prefix: string;
  /** The success test of the version's envelope. */
  okKey: 'code' | 'status';
  okMsg: string;
  firstPage: number;
}
const V21: Wire = { prefix: '/batch-processing-service/v2.1', okKey: 'code', okMsg: 'OK', firstPage: 1 };
const V20: Wire = { prefix: '/dataflow-batch-service/v2.0', okKey: 'status', okMsg: 'Success', firstPage: 0 };
const ID = { userId: 'u-admin', orgId: 'o-default' };

async function api(v: Wire, method: 'GET' | 'POST', resource: string, action: string, args: { query?: Record<string, unknown>; body?: unknown; anonymous?: boolean } = {}): Promise<any> {
  const q = new URLSearchParams({ action, ...(args.anonymous ? {} : ID), ...Object.fromEntries(Object.entries(args.query ?? {}).map(([k, x]) => [k, String(x)])) });
  const res = await fetch(`${h.server.url}${v.prefix}/${resource}?${q}`, {
    method,
    headers: args.body === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' },
    body: args.body === undefined ? undefined : JSON.stringify(args.body),
  });
  expect(res.status).toBe(200);
  const env = (await res.json()) as Record<string, any>;
  expect({ [v.okKey]: env[v.okKey], msg: env.msg }, `${method} ${resource}?action=${action}: ${JSON.stringify(env)}`).toEqual({ [v.okKey]: 0, msg: v.okMsg });
  expect(env.requestId).toMatch(/^[0-9a-f-]{36}$/);
  called.add(`${v.prefix} ${method} /${resource} ${action}`);
  return env.data;
}

const diamond = (name: string) => ({
  name,
  type: 0,
  cycle: 'D',
  parameters: [{ key: 'greeting', value: 'hello' }],
  tasks: [
    { name: 'extract', type: 'SHELL', cmd: 'echo "${greeting} from extract"' },
    { name: 'left', type: 'SHELL', cmd: 'echo left' },
    { name: 'right', type: 'PYTHON', cmd: 'def main():\n    print("right")\n    return 0\n' },
    { name: 'load', type: 'SHELL', cmd: 'echo "load ${greeting}"' },
  ],
  relations: [
    { sourceTaskName: 'extract', targetTaskName: 'left', rerun: true },
    { sourceTaskName: 'extract', targetTaskName: 'right', rerun: true },
    { sourceTaskName: 'left', targetTaskName: 'load', rerun: true },
    { sourceTaskName: 'right', targetTaskName: 'load', rerun: true },
  ],
});

async function walk(v: Wire, tag: string): Promise<void> {
  const hasV21Only = v === V21;
  // time
  expect(Math.abs((await api(v, 'GET', 'time', 'getCurrentTime', { anonymous: true })) - Date.now())).toBeLessThan(5_000);
  expect(await api(v, 'GET', 'time', 'getTimeZone', { anonymous: true })).toEqual({ timezone: 'GMT+0' });
  // directories
  const root = (await api(v, 'GET', 'directories', 'listWorkFlowDirs'))[0].key as string;
  const { dirId } = await api(v, 'POST', 'directories', 'create', { body: { parentId: root, dirName: `team-${tag}` } });
  expect(dirId).toMatch(/^[0-9a-f]{32}$/);
  // flows: import, get, export, getMyFlow, search, loadForEdit, save, enable, disable
  const { flowId } = await api(v, 'POST', 'flows', 'import', { body: { flowName: `walk-${tag}`, desc: 'e2e', dirId, flowJson: diamond(`walk-${tag}`) } });
  const flow = await api(v, 'GET', 'flows', 'get', { query: { flowId } });
  expect(flow).toMatchObject({ flowId, flowName: `walk-${tag}`, owner: 'admin' });
  const graph = JSON.parse(flow.graph);
  const taskId = (name: string) => Number(graph.tasks.find((t: any) => t.taskName === name).taskId);
  const exported = await api(v, 'GET', 'flows', 'export', { query: { flowId } });
  expect(exported.tasks.map((t: any) => t.name)).toEqual(['extract', 'left', 'right', 'load']);
  expect((await api(v, 'GET', 'flows', 'getMyFlow', { query: v === V20 ? { searchValue: tag } : { expression: tag } })).map((f: any) => f.flowId)).toEqual([String(flowId)]);
  const found = await api(v, 'POST', 'flows', 'search', { body: { expression: `walk-${tag}`, pagination: { pageNo: v.firstPage, pageSize: 10, sorters: [{ field: 'createTime', order: 'DESC' }] } } });
  expect(found).toEqual([{ flowId, flowName: `walk-${tag}` }]);
  const edit = await api(v, 'GET', 'flows', 'loadForEdit', { query: { flowId } });
  expect(edit).toMatchObject({ flowId, locked: false });
  const save = { id: flowId, type: 0, name: `walk-${tag}`, freq: '', cycle: 'D', alertMode: 0, doAs: '', owners: 'admin', visitors: '', startTime: '', active: 0, desc: 'saved', parameters: [{ key: 'greeting', value: 'hi' }], tasks: graph.tasks, relations: graph.relations, flows: [] };
  expect(await api(v, 'POST', 'flows', 'save', { body: save })).toEqual({ flowId });
  if (hasV21Only) {
    // extensions: the Save changed desc and parameters, so the workflow has a second version
    const vs = await api(v, 'GET', 'flows', 'listVersions', { query: { flowId } });
    expect(vs).toMatchObject({ flowId, currentVersion: 2 });
    expect((await api(v, 'GET', 'flows', 'getVersion', { query: { flowId, version: 2 } })).flow.desc).toBe('saved');
    const diff = await api(v, 'GET', 'flows', 'compareVersions', { query: { flowId, from: 1, to: 2 } });
    expect(diff.flow.map((c: any) => c.field)).toEqual(['desc', 'parameters']);
  }
  expect(await api(v, 'POST', 'flows', 'enable', { body: { flowId } })).toBe('');
  expect(await api(v, 'POST', 'flows', 'disable', { body: { flowId } })).toBe('');
  // triggers, instances, task instances, logs
  const now = Date.now();
  const { flowInstanceId: run1 } = await api(v, 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: now } });
  const { flowInstanceId: run2 } = await api(v, 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: now - 3_600_000, parameters: [{ key: 'greeting', value: 'override' }] } });
  const runs = [run1, run2];
  if (hasV21Only) runs.push((await api(v, 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: taskId('right'), triggerTime: now - 7_200_000 } })).flowInstanceId);
  const future = (await api(v, 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: now + 86_400_000 } })).flowInstanceId;
  expect(await api(v, 'POST', 'flowInstances', 'cancel', { body: { flowInstId: future } })).toBe('');
  const ended = await Promise.all(
    runs.map((id) =>
      waitFor(async () => {
        const i = await api(v, 'GET', 'flowInstances', 'get', { query: { flowInstId: id } });
        return ['SUCCESS', 'FAIL', 'CANCEL'].includes(i.statusDesc) ? i : null;
      }, 30_000, `instance ${id}`),
    ),
  );
  expect(ended.map((i) => i.statusDesc)).toEqual(runs.map(() => 'SUCCESS'));
  const statuses = (i: any) => Object.fromEntries(JSON.parse(i.graph).tasks.map((t: any) => [t.taskName, t.status]));
  if (hasV21Only) expect(statuses(ended[2])).toEqual({ extract: 'SKIP', left: 'SKIP', right: 'SUCCESS', load: 'SUCCESS' });
  const loadInst = JSON.parse(ended[1].graph).tasks.find((t: any) => t.taskName === 'load').taskInstId;
  expect((await api(v, 'GET', 'taskInstances', 'getLog', { query: { taskInstId: loadInst } })).log).toContain('load override');
  if (hasV21Only) expect(await api(v, 'GET', 'taskInstances', 'get', { query: { taskInstId: loadInst } })).toMatchObject({ instanceId: loadInst, stsDesc: 'SUCCESS', runNum: 1 });
  if (hasV21Only) {
    // The live log stream of an ended task: its status, its whole log, then `end`.
    const q = new URLSearchParams({ action: 'streamLog', ...ID, taskInstId: loadInst });
    const res = await fetch(`${h.server.url}${v.prefix}/taskInstances?${q}`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toMatch(/event: status\n/);
    expect(text).toContain('load override');
    expect(text).toMatch(/event: end\ndata: \{"status":"SUCCESS","terminal":true\}/);
    called.add(`${v.prefix} GET /taskInstances streamLog`);
  }
  const listed = await api(v, 'POST', 'flowInstances', 'search', {
    body: { type: 0, expression: `walk-${tag}`, owner: '', status: '1,8', fromTriggerTime: now - 86_400_000, toTriggerTime: now + 86_400_000, pagination: { pageNo: v.firstPage, pageSize: 10, sorters: [{ field: 'triggerTime', order: 'ASC' }] } },
  });
  expect(listed.count).toBe(runs.length + 1);
  expect(listed.flowInsts.map((i: any) => i.instanceId)).toEqual([...runs, future].sort((a, b) => a.localeCompare(b)));
  if (hasV21Only) {
    // extensions (contract §12): rerun the cancelled future run (back to WAIT, due at its trigger time),
    // and backfill two days at noon (kind backfill, one instance per fire)
    expect(await api(v, 'POST', 'flowInstances', 'rerun', { body: { flowInstId: future, mode: 'failed' } })).toMatchObject({ flowInstanceId: future, mode: 'failed' });
    expect((await api(v, 'GET', 'flowInstances', 'get', { query: { flowInstId: future } })).statusDesc).toBe('WAIT');
    const day = 86_400_000;
    const filled = await api(v, 'POST', 'flows', 'backfill', { body: { flowId, fromTime: now - 3 * day, toTime: now - day, cron: '0 0 12 * * ? *' } });
    expect(filled.flowInstanceIds).toHaveLength(2);
    expect(filled.skipped).toEqual([]);
    await api(v, 'POST', 'flowInstances', 'cancel', { body: { flowInstId: future } });
    for (const id of filled.flowInstanceIds) await waitFor(async () => ['SUCCESS', 'FAIL'].includes((await api(v, 'GET', 'flowInstances', 'get', { query: { flowInstId: id } })).statusDesc), 30_000, `backfilled ${id}`);
  }
  // delete last: the flow and its instances go
  expect(await api(v, 'GET', 'flows', 'delete', { query: { flowId } })).toBe('');
}

describe('every operation over HTTP', () => {
  it('V2.1 works end to end', () => walk(V21, 'v21'), 60_000);
  it('V2.0 works end to end', () => walk(V20, 'v20'), 60_000);

  it('covered every mounted operation of both versions, and the README table says each works', () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const spec of API_VERSIONS) {
      for (const op of OPERATIONS.filter((o) => !o.versions || o.versions.includes(spec.name))) {
        const key = `${spec.prefix} ${op.method} /${op.resource} ${op.action}`;
        expect(called, `the walk never called ${key}`).toContain(key);
        const row = readme.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${op.method} /${op.resource}?action=${op.action}\``) && l.includes(spec.name.toUpperCase()));
        expect(row, `README has no row for ${spec.name} ${op.method} /${op.resource}?action=${op.action}`).toBeDefined();
        expect(row).toMatch(/\| works \|$/);
      }
    }
  });
});
