// Get Flow Instance, Get Task Instance, Get Task Instance Log and Cancel, with the engine's part played
// by direct store commits (an attempt started, logged and finished).
import { noTransitions } from '../../src/domain/plan.js';
import { driver, ENGINE } from '../helpers/drive.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, shellTask, taskIds, trigger } from '../helpers/flows.js';
import { makeWorld, type World } from '../helpers/world.js';
import { javaDateString } from '../../src/domain/time.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld({ timezone: 'Asia/Shanghai' });
});
afterEach(async () => {
  await w.close();
});

const FLOW_INSTANCE_FIELDS = [
  'instanceId', 'flowId', 'flowName', 'freq', 'cycle', 'parameters', 'overrides', 'doAs', 'graph', 'status', 'statusDesc',
  'triggerTime', 'triggerTimeMs', 'startTime', 'startTimeMs', 'endTime', 'endTimeMs', 'timestamp', 'timestampMs', 'virtual',
  'owner', 'alertMode', 'calDt', 'hasEditPri', 'hasReadPri', 'isCancelled', 'flowVersion', 'flowVersionHash', 'transitions', 'tasks', 'references', 'alerts',
];
const TASK_INSTANCE_FIELDS = [
  'instanceId', 'taskId', 'taskName', 'cycle', 'status', 'stsDesc', 'runNum', 'type', 'syncType', 'freq', 'ifPre', 'recallNum',
  'recallLimit', 'recallInterval', 'timeout', 'isTimeout', 'triggerTime', 'triggerTimeMs', 'startTime', 'startTimeMs', 'endTime',
  'endTimeMs', 'timeStamp', 'timeStampMs', 'flowInstId', 'doAs', 'alert', 'runMode', 'cmd', 'hasResourceBefore', 'resourceName',
  'fileName', 'resourceVersion', 'exitCode', 'transitions',
];

/** Plays the engine: starts the instance, runs one attempt of a task that logs `text` and fails. */
async function runAttempt(flowId: number, taskInstId: string, text: string): Promise<void> {
  const now = w.clock.now();
  const drive = driver(w.store);
  expect(await drive.startInstance(flowId, now)).not.toBeNull();
  await drive.startTask(taskInstId, now, '== banner ==\n');
  await w.store.appendLog(taskInstId, 1, text);
  await w.store.engineTx(async (tx) => {
    const [t] = await tx.tasks([taskInstId]);
    const finish = { runNum: 1, engineId: ENGINE, status: 'FAIL' as const, exitCode: 1, signal: null, logTail: '' };
    await tx.apply({ ...noTransitions(), tasks: [{ id: t.id, instanceId: t.instanceId, from: 'RUNNING', to: 'RERUN', dueAt: now + 6000, exitCode: 1, finish }] }, now + 1000, ENGINE);
  });
}

describe('Get Flow Instance', () => {
  it('answers the FlowInstance struct with the instance graph as a JSON string', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']], cycle: 'D', doAs: 'x', submitter: 'sub' }));
    const t = Date.UTC(2024, 0, 31, 18, 5, 59); // 2024-02-01 02:05:59 in Shanghai
    const id = await trigger(w, flowId, t);
    const i = ok(await op(w, 'bob', 'GET', 'flowInstances', 'get', { query: { flowInstId: id } }));
    expect(Object.keys(i).sort()).toEqual([...FLOW_INSTANCE_FIELDS].sort());
    expect(i).toMatchObject({
      instanceId: id, flowId, status: 5, statusDesc: 'WAIT', triggerTime: '2024-02-01 02:05:59', triggerTimeMs: t,
      startTime: null, endTime: null, timestamp: '2024-03-02 18:20:30.0', timestampMs: w.clock.now(), calDt: '2024-01-31',
      owner: 'admin', isCancelled: false, hasEditPri: false, hasReadPri: true, cycle: 'D', doAs: 'sub', parameters: '[]',
    });
    const g = JSON.parse(i.graph as string);
    const ids = await taskIds(w, flowId);
    expect(g).toMatchObject({ instId: id, id: flowId, owners: 'admin', parameters: [] });
    expect(g.tasks).toEqual([
      { taskName: 'a', taskInstId: `${ids.a}-20240201020500`, x: 0, y: 0, taskId: String(ids.a), nodeId: `t_${ids.a}`, status: 'INIT' },
      { taskName: 'b', taskInstId: `${ids.b}-20240201020500`, x: 0, y: 0, taskId: String(ids.b), nodeId: `t_${ids.b}`, status: 'INIT' },
    ]);
  });

  it('answers 62102 naming an unknown id', async () => {
    fails(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: '9-20240101000000' } }), 62102, 'Flow instance 9-20240101000000 not found');
  });
});

describe('Get Task Instance and its log', () => {
  async function setup() {
    const task = shellTask('a', { retryLimit: 2, retryInterval: 5, timeout: 30, cmd: 'echo ${x}', runMode: '{"taskMode":1}', resource: 'res' });
    const flowId = await importFlow(w, flowJson({ tasks: [task], cycle: 'H', submitter: 'sub', alertMode: 1 }));
    const instId = await trigger(w, flowId, Date.UTC(2024, 1, 2, 9, 35, 0));
    const taskInstId = `${(await taskIds(w, flowId)).a}-${instId.split('-')[1]}`;
    return { flowId, instId, taskInstId };
  }

  it('answers every TaskInstance field, with retries and the task settings', async () => {
    const { flowId, instId, taskInstId } = await setup();
    await runAttempt(flowId, taskInstId, 'hello\n');
    const t = ok(await op(w, 'bob', 'GET', 'taskInstances', 'get', { query: { taskInstId } }));
    expect(Object.keys(t).sort()).toEqual([...TASK_INSTANCE_FIELDS].sort());
    expect(t).toMatchObject({
      instanceId: taskInstId, taskName: 'a', cycle: 'H', status: 9, stsDesc: 'RERUN', runNum: 1, type: 3, ifPre: 1, recallNum: 0,
      recallLimit: 2, recallInterval: 5, timeout: 30, isTimeout: false, triggerTime: '2024-02-02 17:35:00', flowInstId: instId,
      doAs: 'sub', alert: true, runMode: '{"taskMode":1}', cmd: 'echo ${x}', resourceName: 'res', timeStamp: javaDateString(w.clock.now(), 'Asia/Shanghai'),
      startTimeMs: w.clock.now(), exitCode: 1,
    });
    expect(t.startTime).toBe('2024-03-02 18:20:30');
    expect(t.timeStamp).toMatch(/^Sat Mar 02 18:20:30 .+ 2024$/);
  });

  it('shows every status change of the task instance and of the instance, in order (extension: transitions)', async () => {
    const { flowId, instId, taskInstId } = await setup();
    await runAttempt(flowId, taskInstId, 'hello\n');
    const t = ok<{ transitions: Array<Record<string, unknown>> }>(await op(w, 'bob', 'GET', 'taskInstances', 'get', { query: { taskInstId } }));
    expect(t.transitions.map((x) => [x.kind, x.from, x.to, x.runNum, x.engineId])).toEqual([
      ['task', 'INIT', 'READY', 0, ENGINE],
      ['task', 'READY', 'RUNNING', 1, ENGINE],
      ['task', 'RUNNING', 'RERUN', 1, ENGINE],
    ]);
    expect(t.transitions[2]).toMatchObject({ id: taskInstId, atMs: w.clock.now() + 1000, at: '2024-03-02 18:20:31', reason: null });
    ok(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: instId } }));
    const i = ok<{ transitions: Array<Record<string, unknown>> }>(await op(w, 'bob', 'GET', 'flowInstances', 'get', { query: { flowInstId: instId } }));
    expect(i.transitions.map((x) => `${x.kind} ${x.from}>${x.to}`)).toEqual([
      'instance WAIT>RUNNING', 'task INIT>READY', 'task READY>RUNNING', 'task RUNNING>RERUN', 'instance RUNNING>CANCEL', 'task RERUN>CANCEL',
    ]);
    expect(i.transitions.at(-1)).toMatchObject({ reason: 'cancelled by admin', engineId: null });
    expect((i.transitions as Array<{ seq: number }>).map((x) => x.seq)).toEqual([...(i.transitions as Array<{ seq: number }>).map((x) => x.seq)].sort((a, b) => a - b));
  });

  it('answers the log tail, maxLength characters at most', async () => {
    const { flowId, taskInstId } = await setup();
    await runAttempt(flowId, taskInstId, 'line one\nline two\n');
    const full = ok<{ log: string }>(await op(w, 'bob', 'GET', 'taskInstances', 'getLog', { query: { taskInstId } }));
    expect(full.log).toContain('== banner ==');
    expect(full.log.endsWith('line two\n')).toBe(true);
    const tail = ok<{ log: string }>(await op(w, 'bob', 'GET', 'taskInstances', 'getLog', { query: { taskInstId, maxLength: 9 } }));
    expect(tail).toEqual({ log: 'line two\n' });
  });

  it('answers 62102 naming the id when no attempt ran yet, or the id is unknown', async () => {
    const { taskInstId } = await setup();
    fails(await op(w, 'admin', 'GET', 'taskInstances', 'getLog', { query: { taskInstId } }), 62102, `Invalid taskInstId or it has no log: ${taskInstId}`);
    fails(await op(w, 'admin', 'GET', 'taskInstances', 'getLog', { query: { taskInstId: '1-1' } }), 62102, 'Invalid taskInstId or it has no log: 1-1');
    fails(await op(w, 'admin', 'GET', 'taskInstances', 'get', { query: { taskInstId: '1-1' } }), 62102, 'Task instance 1-1 not found');
  });
});

describe('Cancel Flow Instance', () => {
  it('cancels a waiting instance and then refuses naming the status', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'] }));
    const id = await trigger(w, flowId, w.clock.now() + 3_600_000);
    expect(ok(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: id } }))).toBe('');
    const i = ok(await op(w, 'admin', 'GET', 'flowInstances', 'get', { query: { flowInstId: id } }));
    expect(i).toMatchObject({ status: 8, statusDesc: 'CANCEL', isCancelled: true, endTimeMs: w.clock.now() });
    expect(Object.values(await (async () => JSON.parse(i.graph as string).tasks.map((t: { status: string }) => t.status))())).toEqual(['CANCEL', 'CANCEL']);
    fails(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: id } }), 62102, `flow instance ${id} is CANCEL`);
  });

  it('cancels a running instance', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a'] }));
    const id = await trigger(w, flowId);
    expect(await driver(w.store).startInstance(flowId, w.clock.now())).not.toBeNull();
    ok(await op(w, 'admin', 'POST', 'flowInstances', 'cancel', { body: { flow_inst_id: id } }));
    expect((await w.store.getFlowInstance('o-default', id))!.status).toBe('CANCEL');
  });
});
