// Every numeric input of every operation (contract §7), as a table: a value at its limit is accepted and
// kept exactly; one past it answers 62102 naming the field and the limit (never 62109); and nothing is
// written by a refused request. Both versions for the paged searches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Envelope, type Reply } from '../helpers/api.js';
import { driver } from '../helpers/drive.js';
import { flowJson, importFlow, saveBodyOf, shellTask, taskIds, trigger } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

const PREFIX = { 'v2.1': '/batch-processing-service/v2.1', 'v2.0': '/dataflow-batch-service/v2.0' } as const;
const EXACT = 2 ** 53 - 1;
const MAX_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const CAP = 16 * 1024 * 1024;

let w: World;
const ctx = { flowId: 0, a: 0, b: 0, taskInstId: '', root: '' };

beforeAll(async () => {
  w = await makeWorld();
  ctx.root = await w.rootDir();
  ctx.flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
  ({ a: ctx.a, b: ctx.b } = await taskIds(w, ctx.flowId));
  // One attempt with a banner, so Get Task Instance Log has something to answer.
  const inst = await trigger(w, ctx.flowId, w.clock.now() - 60_000);
  ctx.taskInstId = `${ctx.a}-${inst.split('-')[1]}`;
  const drive = driver(w.store);
  await drive.startInstance(ctx.flowId, w.clock.now());
  await drive.startTask(ctx.taskInstId, w.clock.now(), '== banner ==\n');
});
afterAll(async () => {
  await w.close();
});

interface Req {
  version?: keyof typeof PREFIX;
  method: 'GET' | 'POST';
  path: string; // "<resource>?action=<action>"
  query?: Record<string, string | number>;
  body?: unknown;
}

async function send(r: Req): Promise<Reply & { code: number }> {
  const [resource, action] = r.path.split('?action=');
  const u = w.users.admin;
  const reply = await call(w.app, r.method, `${PREFIX[r.version ?? 'v2.1']}/${resource}`, { query: { action, userId: u.id, orgId: u.orgId, ...r.query }, body: r.body });
  const env = reply.env as Envelope & { status?: number };
  return { ...reply, code: env.code ?? env.status! };
}

const search = (pagination: unknown, version?: Req['version']): Req => ({ version, method: 'POST', path: 'flows?action=search', body: { expression: '', pagination } });
const instances = (over: Record<string, unknown>, version?: Req['version']): Req => ({
  version, method: 'POST', path: 'flowInstances?action=search', body: { type: 0, owner: '', status: '', fromTriggerTime: 0, toTriggerTime: MAX_MS, ...over },
});
const getLog = (maxLength: string | number): Req => ({ method: 'GET', path: 'taskInstances?action=getLog', query: { taskInstId: ctx.taskInstId, maxLength } });
const byFlowId = (path: string, flowId: unknown): Req =>
  path.startsWith('GET ') ? { method: 'GET', path: path.slice(4), query: { flowId: String(flowId) } } : { method: 'POST', path: path.slice(5), body: { flowId } };
const importOf = (json: Record<string, unknown>, over: Record<string, unknown> = {}): Req => ({
  method: 'POST', path: 'flows?action=import', body: { flowName: `b-${Math.random().toString(36).slice(2, 8)}`, desc: '', dirId: ctx.root, flowJson: flowJson(json), ...over },
});
const withTask = (fields: Record<string, unknown>) => importOf({ tasks: [shellTask('a', fields)] });
const trig = (path: string, over: Record<string, unknown>): Req => ({ method: 'POST', path, body: { flowId: ctx.flowId, triggerTime: w.clock.now() + 86_400_000, ...over } });
const save = async (over: (b: Record<string, unknown>) => Record<string, unknown>): Promise<Req> => ({
  method: 'POST', path: 'flows?action=save', body: over(await saveBodyOf(w, ctx.flowId)),
});
const saveTaskField = (k: string, v: unknown) => save((b) => ({ ...b, tasks: (b.tasks as Array<Record<string, unknown>>).map((t, i) => (i === 0 ? { ...t, [k]: v } : t)) }));
const exported = async (flowId: number) => (await send({ method: 'GET', path: 'flows?action=export', query: { flowId } })).env.data as Record<string, unknown>;

// ---- refused: 62102, the message names the field and its limit ----

type Refusal = [what: string, req: () => Req | Promise<Req>, msg: RegExp];
const refusals: Refusal[] = [
  // Get Task Instance Log: 1 to the attempt log cap.
  ['maxLength above the log cap', () => getLog(CAP + 1), /^Invalid parameter: maxLength must be a positive integer up to 16777216 \(the attempt log cap\), got "16777217"$/],
  ['maxLength 0', () => getLog(0), /maxLength must be a positive integer up to 16777216 .*got "0"/],
  ['maxLength negative', () => getLog(-1), /maxLength must be a positive integer up to 16777216 .*got "-1"/],
  ['maxLength fractional', () => getLog('1.5'), /maxLength must be a positive integer up to 16777216 .*got "1.5"/],
  ['maxLength in exponent form', () => getLog('1e3'), /maxLength must be a positive integer up to 16777216/],
  ['maxLength of 20 digits', () => getLog('99999999999999999999'), /maxLength must be a positive integer up to 16777216/],
  ['maxLength empty', () => getLog(''), /maxLength must be a positive integer up to 16777216/],
  // Paging: the page may start at most 10,000,000 rows in; both versions, both paged searches.
  ['Search Flow page past 10,000,000 rows', () => search({ pageNo: 10_002, pageSize: 1000 }), /^Invalid parameter: pagination\.pageNo is out of range: a page may start at most 10000000 rows in \(\(pageNo - 1\) \* pageSize\); with pageSize 1000, pageNo is at most 10001, got 10002$/],
  ['Search Flow pageNo 1e20 (was 62109)', () => search({ pageNo: 1e20, pageSize: 10 }), /pagination\.pageNo is out of range: .*pageNo is at most 1000001, got 100000000000000000000$/],
  ['Search Flow pageNo of 20 digits (was 62109)', () => search({ pageNo: '99999999999999999999', pageSize: 10 }), /pagination\.pageNo is out of range/],
  ['Search Flow pageNo 2^53', () => search({ pageNo: 2 ** 53, pageSize: 1 }), /pagination\.pageNo is out of range: .*pageNo is at most 10000001/],
  ['Search Flow V2.0 page past 10,000,000 rows', () => search({ pageNo: 10_001, pageSize: 1000 }, 'v2.0'), /pagination\.pageNo is out of range: a page may start at most 10000000 rows in \(pageNo \* pageSize\); with pageSize 1000, pageNo is at most 10000, got 10001$/],
  ['Search Flow V2.0 pageNo 1e20 (was 62109)', () => search({ pageNo: 1e20, pageSize: 10 }, 'v2.0'), /pagination\.pageNo is out of range/],
  ['List Flow Instances page past 10,000,000 rows', () => instances({ pagination: { pageNo: 10_000_002, pageSize: 1 } }), /pagination\.pageNo is out of range: .*with pageSize 1, pageNo is at most 10000001, got 10000002$/],
  ['List Flow Instances pageNo 1e20 (was 62109)', () => instances({ pagination: { pageNo: 1e20, pageSize: 1000 } }), /pagination\.pageNo is out of range/],
  ['List Flow Instances V2.0 page past 10,000,000 rows', () => instances({ pagination: { pageNo: 1_000_001, pageSize: 10 } }, 'v2.0'), /pagination\.pageNo is out of range: .*pageNo is at most 1000000, got 1000001$/],
  ['List Flow Instances V2.0 pageNo of 20 digits (was 62109)', () => instances({ pagination: JSON.stringify({ pageNo: '99999999999999999999' }) }, 'v2.0'), /pagination\.pageNo is out of range/],
  ['pageSize 1001', () => search({ pageNo: 1, pageSize: 1001 }), /pagination\.pageSize must be between 1 and 1000, got 1001/],
  ['pageSize 1e20', () => instances({ pagination: { pageNo: 1, pageSize: 1e20 } }), /pagination\.pageSize must be between 1 and 1000/],
  // Ids: exact up to 2^53 - 1.
  ...['GET flows?action=get', 'GET flows?action=export', 'GET flows?action=loadForEdit', 'GET flows?action=delete', 'POST flows?action=enable', 'POST flows?action=disable'].map(
    (p): Refusal => [`${p} flowId 2^53`, () => byFlowId(p, 2 ** 53), /^Invalid parameter: flowId is out of range: at most 9007199254740991 \(2\^53 - 1, the largest integer a number carries exactly\), got "?9007199254740992"?$/],
  ),
  ['Get Flow flowId of 20 digits', () => byFlowId('GET flows?action=get', '99999999999999999999'), /flowId is out of range: at most 9007199254740991 .*got "99999999999999999999"/],
  ['Trigger flowId 1e20', () => trig('flows?action=trigger', { flowId: 1e20 }), /flowId is out of range: at most 9007199254740991/],
  ['Update And Trigger flowId 2^63', () => ({ ...trig('flows?action=updateAndTrigger', { flowId: '9223372036854775808' }), body: { flowId: '9223372036854775808', triggerTime: 1e12, parameters: [] } }), /flowId is out of range/],
  ['Trigger From Task taskId 2^53', () => trig('flows?action=triggerFromTask', { taskId: 2 ** 53 }), /^Invalid parameter: taskId is out of range: at most 9007199254740991/],
  ['Save Flow id 2^53', () => save((b) => ({ ...b, id: 2 ** 53 })), /^Invalid parameter: id is out of range: at most 9007199254740991/],
  ['Save Flow tasks[].taskId 2^53', () => saveTaskField('taskId', 2 ** 53), /tasks\[0\]\.taskId is out of range: at most 9007199254740991/],
  ['Import desired flowId 2^31', () => importOf({}, { flowId: 2 ** 31 }), /^Invalid parameter: flowId is out of range: at most 2147483647 \(a desired id is an Integer of the reference, 32 bits\), got 2147483648$/],
  ['Import desired flowId 2^53 - 1 (poisoned the id counter)', () => importOf({}, { flowId: EXACT }), /flowId is out of range: at most 2147483647/],
  ['Import dirId as a number past 2^53', () => importOf({}, { dirId: 2 ** 60 }), /^Invalid parameter: dirId is out of range: at most 9007199254740991/],
  ['Create Directory parentId as a number past 2^53', () => ({ method: 'POST', path: 'directories?action=create', body: { parentId: 1e21, dirName: 'x' } }), /^Invalid parameter: parentId is out of range: at most 9007199254740991/],
  ['Import flowLinks[].flowId of 20 digits', () => importOf({ flowLinks: [{ linkId: 'f_1', flowId: '99999999999999999999' }] }), /flowJson\.flowLinks\[0\]\.flowId is out of range: at most 9007199254740991/],
  // Times: epoch ms up to 9999-12-31, and a trigger time from 1973-03-03 (below: seconds).
  ['Trigger triggerTime past year 9999', () => trig('flows?action=trigger', { triggerTime: MAX_MS + 1 }), /^Invalid parameter: triggerTime is out of range: at most 253402300799999 \(9999-12-31T23:59:59\.999Z in epoch milliseconds\), got 253402300800000$/],
  ['Trigger triggerTime 2^53', () => trig('flows?action=trigger', { triggerTime: 2 ** 53 }), /triggerTime is out of range: at most 253402300799999/],
  ['Trigger triggerTime of 20 digits', () => trig('flows?action=trigger', { triggerTime: '99999999999999999999' }), /triggerTime is out of range: at most 253402300799999/],
  ['Trigger triggerTime in seconds', () => trig('flows?action=trigger', { triggerTime: 1_709_374_830 }), /^Invalid parameter: triggerTime is out of range: at least 100000000000 \(1973-03-03T09:46:40Z\): it looks like seconds where epoch milliseconds are expected, got 1709374830$/],
  ['Update And Trigger triggerTime past year 9999', () => trig('flows?action=updateAndTrigger', { triggerTime: 1e20, parameters: [] }), /triggerTime is out of range: at most 253402300799999/],
  ['Update And Trigger triggerTime in seconds', () => trig('flows?action=updateAndTrigger', { triggerTime: 99_999_999_999, parameters: [] }), /triggerTime is out of range: at least 100000000000/],
  ['Trigger From Task triggerTime past year 9999', () => trig('flows?action=triggerFromTask', { taskId: ctx.a, triggerTime: MAX_MS + 1 }), /triggerTime is out of range: at most 253402300799999/],
  ['Trigger From Task triggerTime in seconds', () => trig('flows?action=triggerFromTask', { taskId: ctx.a, triggerTime: 1 }), /triggerTime is out of range: at least 100000000000/],
  ['List Flow Instances toTriggerTime past year 9999', () => instances({ toTriggerTime: MAX_MS + 1 }), /^Invalid parameter: toTriggerTime is out of range: at most 253402300799999/],
  ['List Flow Instances fromTriggerTime 2^53', () => instances({ fromTriggerTime: 2 ** 53 }), /^Invalid parameter: fromTriggerTime is out of range: at most 253402300799999/],
  ['List Flow Instances endTriggerTime (alias) of 20 digits', () => instances({ toTriggerTime: undefined, endTriggerTime: '99999999999999999999' }), /toTriggerTime is out of range/],
  // Small enums: a huge number names the allowed values.
  ['List Flow Instances type 2^53', () => instances({ type: 2 ** 53 }), /^Invalid parameter: type must be one of 0, 1, 2, got 9007199254740992$/],
  ['List Flow Instances status 11', () => instances({ status: '1,11' }), /^Invalid parameter: status "11" is not a status code \(-1, 0 to 10; flow instances have -1, 1, 2, 4, 5, 8\)$/],
  ['List Flow Instances status 2^60', () => instances({ status: 2 ** 60 }), /status "1152921504606847000" is not a status code/],
  ['Save Flow alertMode 1e20', () => save((b) => ({ ...b, alertMode: 1e20 })), /alertMode must be one of 0, 1, 2, 3, got 100000000000000000000/],
  ['Save Flow active 2^53', () => save((b) => ({ ...b, active: String(2 ** 53) })), /active must be one of 0, 1, got "9007199254740992"/],
  ['Import flowJson.type 2^31', () => importOf({ type: 2 ** 31 }), /flowJson\.type must be one of 0, 1, 2, got 2147483648/],
  ['Import flowJson.syncType 2', () => importOf({ syncType: 2 }), /flowJson\.syncType must be one of 0, 1, got 2/],
  // Task settings: each fits a 32-bit column, with the service's own (smaller) limit named.
  ['task timeout above 366 days', () => withTask({ timeout: 31_622_401 }), /^Invalid parameter: flowJson\.tasks\[0\]\.timeout is out of range: from 0 to 31622400 \(seconds, 366 days; 0 = none\), got 31622401$/],
  ['task timeout 2^31', () => withTask({ timeout: 2 ** 31 }), /flowJson\.tasks\[0\]\.timeout is out of range: from 0 to 31622400/],
  ['task timeout negative', () => withTask({ timeout: -1 }), /flowJson\.tasks\[0\]\.timeout is out of range: from 0 to 31622400 .*got -1$/],
  ['task timeout fractional', () => withTask({ timeout: 1.5 }), /flowJson\.tasks\[0\]\.timeout must be an integer from 0 to 31622400/],
  ['task retryLimit 101', () => withTask({ retryLimit: 101 }), /flowJson\.tasks\[0\]\.retryLimit is out of range: from 0 to 100, got 101$/],
  ['task retryLimit 2^31', () => withTask({ retryLimit: 2 ** 31 }), /flowJson\.tasks\[0\]\.retryLimit is out of range: from 0 to 100/],
  ['task retryInterval above a day', () => withTask({ retryInterval: 86_401 }), /flowJson\.tasks\[0\]\.retryInterval is out of range: from 0 to 86400 \(seconds, one day\), got 86401$/],
  ['task retryInterval 2^31 as a string', () => withTask({ retryInterval: String(2 ** 31) }), /flowJson\.tasks\[0\]\.retryInterval is out of range: from 0 to 86400/],
  ['task priorityLevel 2^40', () => withTask({ priorityLevel: 2 ** 40 }), /flowJson\.tasks\[0\]\.priorityLevel is out of range: from 0 to 1000/],
  ['task syncType 2', () => withTask({ syncType: 2 }), /flowJson\.tasks\[0\]\.syncType is out of range: from 0 to 1, got 2$/],
  ['Save Flow task timeout 2^31', () => saveTaskField('timeout', 2 ** 31), /^Invalid parameter: tasks\[0\]\.timeout is out of range: from 0 to 31622400/],
  ['Save Flow task retryLimit 1e20', () => saveTaskField('retryLimit', 1e20), /tasks\[0\]\.retryLimit is out of range: from 0 to 100/],
  // Numbers kept as JSON text: one that JSON parsing already rounded would be stored changed.
  ['task runMode number past 2^53', () => withTask({ runMode: '{"taskMode":2,"maxParallel":99999999999999999999}' }), /flowJson\.tasks\[0\]\.runMode\.maxParallel is out of range: at most 9007199254740991 in magnitude/],
  ['flow parameter value past 2^53', () => importOf({ parameters: '[{"key":"big","value":12345678901234567890}]' }), /flowJson\.parameters\[0\]\.value \(key "big"\) is out of range: at most 9007199254740991 as a number \(send larger values as strings\)/],
  ['Update And Trigger parameter value past 2^53', () => trig('flows?action=updateAndTrigger', { parameters: '{"big": 12345678901234567890}' }), /parameters\.big is out of range: at most 9007199254740991 as a number/],
];

describe('a number past its limit', () => {
  for (const [what, build, msg] of refusals) {
    it(`${what}: 62102 naming the field and the limit, nothing written`, async () => {
      const before = await storeSnapshot(w.store);
      const r = await send(await build());
      expect({ http: r.status, code: r.code }, r.env.msg).toEqual({ http: 200, code: 62102 });
      expect(r.env.msg).toMatch(msg);
      expect(r.env.data).toBeNull();
      expect(await storeSnapshot(w.store)).toEqual(before);
    });
  }
});

// ---- accepted at the limit, and kept exactly ----

type Acceptance = [what: string, run: () => Promise<void>];
const okData = async (req: Req): Promise<Record<string, unknown>> => {
  const r = await send(req);
  expect({ code: r.code, msg: r.env.msg }).toEqual({ code: 0, msg: r.env.msg });
  return r.env.data as Record<string, unknown>;
};
const acceptances: Acceptance[] = [
  ['maxLength equal to the log cap', async () => expect(await okData(getLog(CAP))).toEqual({ log: '== banner ==\n' })],
  ['a page starting exactly 10,000,000 rows in (V2.1 and V2.0)', async () => {
    expect(await okData(search({ pageNo: 10_001, pageSize: 1000 }))).toEqual([]);
    expect(await okData(search({ pageNo: 10_000, pageSize: 1000 }, 'v2.0'))).toEqual([]);
    expect(await okData(instances({ pagination: { pageNo: 10_000_001, pageSize: 1 } }))).toEqual({ flowInsts: [], count: expect.any(Number) });
    expect(await okData(instances({ pagination: { pageNo: 1_000_000, pageSize: 10 } }, 'v2.0'))).toEqual({ flowInsts: [], count: expect.any(Number) });
  }],
  ['ids up to 2^53 - 1 (not found, not out of range)', async () => {
    const r = await send(byFlowId('GET flows?action=get', EXACT));
    expect([r.code, r.env.msg]).toEqual([62102, `Workflow ${EXACT} not found`]);
    const d = await send({ method: 'POST', path: 'directories?action=create', body: { parentId: EXACT, dirName: 'x' } });
    expect([d.code, d.env.msg]).toEqual([62102, `parentId not found: ${EXACT}`]);
  }],
  ['a desired flowId of 2^31 - 1, and the ids allocated after it stay exact', async () => {
    const big = await okData(importOf({}, { flowId: 2 ** 31 - 1 }));
    expect(big).toEqual({ flowId: 2 ** 31 - 1 });
    const next = (await okData(importOf({}))).flowId as number;
    expect(next).toBe(2 ** 31);
    expect((await okData(byFlowId('GET flows?action=get', next))).flowId).toBe(next);
  }],
  ['a trigger time of 9999-12-31T23:59:59.999Z, stored exactly', async () => {
    const { flowInstanceId } = (await okData(trig('flows?action=trigger', { triggerTime: MAX_MS }))) as { flowInstanceId: string };
    expect(flowInstanceId).toBe(`${ctx.flowId}-99991231235900`);
    const inst = await okData({ method: 'GET', path: 'flowInstances?action=get', query: { flowInstId: flowInstanceId } });
    expect(inst.triggerTimeMs).toBe(MAX_MS);
  }],
  ['a trigger time of exactly 100000000000 (1973-03-03)', async () => {
    expect(await okData(trig('flows?action=trigger', { triggerTime: 100_000_000_000 }))).toEqual({ flowInstanceId: `${ctx.flowId}-19730303094600` });
  }],
  ['a trigger-time window of 0 to 9999-12-31', async () => {
    expect((await okData(instances({ fromTriggerTime: 0, toTriggerTime: MAX_MS }))).count).toBeGreaterThan(0);
  }],
  ['every status code of ref §4', async () => {
    expect((await okData(instances({ status: '-1,0,1,2,3,4,5,6,7,8,9,10' }))).count).toBeGreaterThan(0);
  }],
  ['task settings at their limits, exported exactly', async () => {
    const limits = { timeout: 31_622_400, retryLimit: 100, retryInterval: 86_400, priorityLevel: 1000, syncType: 1 };
    const { flowId } = (await okData(withTask(limits))) as { flowId: number };
    expect((await exported(flowId)).tasks).toEqual([expect.objectContaining(limits)]);
  }],
  ['coordinates, runMode numbers and parameter values that JSON carries exactly', async () => {
    const task = shellTask('a', { x: 1e308, y: -0.5, runMode: '{"taskMode":2,"maxParallel":9007199254740991,"cpu":0.1,"keyType":2,"content":"k1,k2"}', parameters: '[{"key":"big","value":"12345678901234567890"}]' });
    const { flowId } = (await okData(importOf({ tasks: [task], parameters: [{ key: 'n', value: EXACT }] }))) as { flowId: number };
    const e = await exported(flowId);
    expect((e.tasks as Array<Record<string, unknown>>)[0]).toMatchObject({ x: 1e308, y: -0.5, runMode: '{"taskMode":2,"maxParallel":9007199254740991,"cpu":0.1,"keyType":2,"content":"k1,k2"}' });
    expect(JSON.parse((e.tasks as Array<Record<string, string>>)[0].parameters)).toEqual([{ key: 'big', value: '12345678901234567890' }]);
    expect(JSON.parse(e.parameters as string)).toEqual([{ key: 'n', value: String(EXACT) }]);
  }],
];

describe('a number at its limit', () => {
  for (const [what, run] of acceptances) it(`${what}: accepted and kept exactly`, run);
});

describe('the log cap is the configured one', () => {
  it('names the configured cap, not the default', async () => {
    const small = await makeWorld({ logCapBytes: 4096 });
    try {
      const u = small.users.admin;
      const r = await call(small.app, 'GET', `${PREFIX['v2.1']}/taskInstances`, { query: { action: 'getLog', userId: u.id, orgId: u.orgId, taskInstId: '1-20240101000000', maxLength: 4097 } });
      expect([r.env.code, r.env.msg]).toEqual([62102, 'Invalid parameter: maxLength must be a positive integer up to 4096 (the attempt log cap), got "4097"']);
    } finally {
      await small.close();
    }
  });
});
