// For every operation, a table of bad inputs: each answers 62102 (HTTP 200) with a message
// naming the field or id at fault, and writes nothing (flows, instances, directories compared).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fails, op, type CallOptions } from '../helpers/api.js';
import { flowJson, importFlow, saveBodyOf, shellTask, taskIds, trigger } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
const ctx = { flowId: 0, periodicId: 0, otherTaskId: 0, a: 0, b: 0, instId: '', taskInstId: '', root: '' };

beforeAll(async () => {
  w = await makeWorld();
  ctx.root = await w.rootDir();
  ctx.flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']] }));
  ctx.periodicId = await importFlow(w, flowJson({ type: 1, cron: '0 0 1 * * ? *' }));
  ({ a: ctx.a, b: ctx.b } = await taskIds(w, ctx.flowId));
  ctx.otherTaskId = (await taskIds(w, ctx.periodicId)).a;
  ctx.instId = await trigger(w, ctx.flowId, w.clock.now() + 3_600_000);
  ctx.taskInstId = `${ctx.a}-${ctx.instId.split('-')[1]}`;
});
afterAll(async () => {
  await w.close();
});

type Case = [string, () => Promise<CallOptions> | CallOptions, RegExp];
interface Table {
  method: 'GET' | 'POST';
  resource: string;
  action: string;
  cases: Case[];
}

const importBody = (over: Record<string, unknown> = {}, json: Record<string, unknown> = {}) => ({
  body: { flowName: 'x', desc: '', dirId: ctx.root, flowJson: flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']], ...json }), ...over },
});
const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
const save = async (over: Record<string, unknown> = {}, id = ctx.flowId) => ({ body: { ...(await saveBodyOf(w, id)), ...over } });
const saveWithout = async (k: string) => ({ body: without(await saveBodyOf(w, ctx.flowId), k) });
const DEEP = '['.repeat(10_000) + ']'.repeat(10_000);
const DEEP_OBJECT = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
const malformed: Case = ['malformed JSON', () => ({ body: '{"flowId": ' }), /^Invalid request body: malformed JSON/];

const tables: Table[] = [
  {
    method: 'POST', resource: 'flows', action: 'import',
    cases: [
      malformed,
      ['missing flowName', () => ({ body: without(importBody().body, 'flowName') }), /^Invalid parameter: flowName/],
      ['empty flowName', () => importBody({ flowName: ' ' }), /^Invalid parameter: flowName/],
      ['missing desc', () => ({ body: without(importBody().body, 'desc') }), /Missing parameter: desc/],
      ['desc not a string', () => importBody({ desc: 5 }), /desc must be a string/],
      ['flowName over 256 characters', () => importBody({ flowName: 'n'.repeat(257) }), /^Invalid parameter: flowName must be at most 256 characters, got 257$/],
      ['desc over 10,000 characters', () => importBody({ desc: 'd'.repeat(10_001) }), /^Invalid parameter: desc must be a string of at most 10000 characters$/],
      ['missing dirId', () => ({ body: without(importBody().body, 'dirId') }), /Missing parameter: dirId/],
      ['unknown dirId', () => importBody({ dirId: 'f'.repeat(32) }), /^Directory does not exist: dirId "f{32}"/],
      ['missing flowJson', () => ({ body: without(importBody().body, 'flowJson') }), /Missing parameter: flowJson/],
      ['flowJson malformed JSON text', () => importBody({ flowJson: '{"tasks": [' }), /flowJson is not valid JSON/],
      ['flowJson an array', () => importBody({ flowJson: [] }), /flowJson must be/],
      ['flowId not a number', () => importBody({ flowId: 'abc' }), /flowId must be/],
      ['bad cron', () => importBody({}, { type: 1, cron: '0 0 25 * * ? *' }), /flowJson\.cron: invalid cron "0 0 25 \* \* \? \*"/],
      ['unknown flow type', () => importBody({}, { type: 7 }), /flowJson\.type must be one of 0, 1, 2/],
      ['cycle', () => importBody({}, { edges: [['a', 'b'], ['b', 'a']] }), /flowJson\.relations: the graph has a cycle: "a" -> "b" -> "a"/],
      ['duplicate task name', () => importBody({}, { tasks: ['a', 'a'], edges: [] }), /duplicate task name "a"/],
      ['a task parameter changing how processes load', () => importBody({}, { tasks: [{ name: 'a', type: 'SHELL', cmd: 'true', parameters: [{ key: 'NODE_OPTIONS', value: '--require /tmp/x.js' }] }], edges: [] }), /parameter key "NODE_OPTIONS" is refused/],
      ['task without cmd (command for cmd)', () => importBody({}, { tasks: [{ name: 'a', type: 'SHELL', command: 'echo hi' }], edges: [] }), /Missing parameter: flowJson\.tasks\[0\]\.cmd: task "a" has no command/],
      ['reference to no workflow (linkId "0")', () => importBody({}, { flowLinks: [{ linkId: '0', sourceFlowName: 'ghost' }], linkRelations: [{ linkId: '0', targetTaskName: 'a' }] }), /flowJson\.flowLinks\[0\]\.sourceFlowName: no workflow named "ghost" in this organization/],
      ['bad flow parameter key', () => importBody({}, { parameters: [{ key: '1bad', value: 'x' }] }), /flowJson\.parameters.*invalid parameter key "1bad"/],
      ['bad task parameter key', () => importBody({}, { tasks: [shellTask('a', { parameters: 'bad-key=1' })], edges: [] }), /flowJson\.tasks\[0\]\.parameters.*"bad-key"/],
      ['unknown task type', () => importBody({}, { tasks: [shellTask('a', { type: 'SPARK' })], edges: [] }), /flowJson\.tasks\[0\]\.type must be SHELL/],
      ['task without name', () => importBody({}, { tasks: [{ type: 'SHELL', cmd: 'exit 0' }], edges: [] }), /flowJson\.tasks\[0\]\.name/],
      ['task without type', () => importBody({}, { tasks: [{ name: 'a', cmd: 'exit 0' }], edges: [] }), /flowJson\.tasks\[0\]\.type/],
      ['negative timeout', () => importBody({}, { tasks: [shellTask('a', { timeout: -1 })], edges: [] }), /flowJson\.tasks\[0\]\.timeout/],
      ['bad successCode', () => importBody({}, { tasks: [shellTask('a', { successCode: 'ok' })], edges: [] }), /flowJson\.tasks\[0\]\.successCode/],
      ['malformed runMode', () => importBody({}, { tasks: [shellTask('a', { runMode: '{' })], edges: [] }), /flowJson\.tasks\[0\]\.runMode is not valid JSON/],
      // Checked by a recursion that overflowed the stack on 10,000 levels: 62109.
      ['runMode 10,000 levels deep', () => importBody({}, { tasks: [shellTask('a', { runMode: `{"taskMode":1,"keys":${DEEP}}` })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode is nested too deeply: at most 16 levels of objects and arrays$/],
      // Contract §11: the run mode's values, each naming its field.
      ['runMode cpu 3 cores', () => importBody({}, { tasks: [shellTask('a', { runMode: '{"taskMode":1,"cpu":3}' })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.cpu is out of range: from 0\.1 to 2 cores, got 3$/],
      ['runMode memory 0.1 GB', () => importBody({}, { tasks: [shellTask('a', { runMode: { memory: 0.1 } })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.memory is out of range: from 0\.3 to 4 GB, got 0\.1$/],
      ['runMode cpu not a number', () => importBody({}, { tasks: [shellTask('a', { runMode: '{"cpu":"lots"}' })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.cpu must be a number of cores from 0\.1 to 2, got "lots"$/],
      ['runMode keyType 1 (a data source)', () => importBody({}, { tasks: [shellTask('a', { runMode: '{"taskMode":2,"keyType":1,"datasourceId":7,"path":"/keys.txt"}' })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.keyType is 1 .*data sources are not supported/],
      ['runMode taskMode 3', () => importBody({}, { tasks: [shellTask('a', { runMode: '{"taskMode":3}' })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.taskMode must be 1 \(single task\) or 2 \(one run per key\), got 3$/],
      ['runMode taskMode 2 without keys', () => importBody({}, { tasks: [shellTask('a', { runMode: '{"taskMode":2,"keyType":2,"content":" , \\n"}' })], edges: [] }), /^Invalid parameter: flowJson\.tasks\[0\]\.runMode\.content has no keys/],
      ['relation to unknown task', () => importBody({}, { edges: [['a', 'zz']] }), /flowJson\.relations\[0\]\.targetTaskName names no task.*"zz"/],
      ['owner not a user', () => importBody({}, { owners: 'ghost' }), /flowJson\.owners names no user of organization o-default: "ghost"/],
      ['visitor of another org', () => importBody({}, { visitors: 'eve' }), /flowJson\.visitors names no user of organization o-default: "eve"/],
      ['bad effective date', () => importBody({}, { startTime: '2024-13-01' }), /flowJson\.startTime must be a date yyyy-MM-dd/],
    ],
  },
  ...(['get', 'export'] as const).map((action) => ({
    method: 'GET' as const, resource: 'flows', action,
    cases: [
      ['missing flowId', () => ({}), /Missing parameter: flowId/],
      ['flowId not numeric', () => ({ query: { flowId: 'abc' } }), /Invalid parameter: flowId must be a non-negative integer/],
      ['negative flowId', () => ({ query: { flowId: '-1' } }), /flowId must be a non-negative integer/],
      ['unknown flowId', () => ({ query: { flowId: 99999 } }), /^Workflow 99999 not found$/],
    ] as Case[],
  })),
  {
    method: 'POST', resource: 'flows', action: 'save',
    cases: [
      malformed,
      ['missing id', () => saveWithout('id'), /Missing parameter: id$/],
      ['id not numeric', () => save({ id: 'x' }), /Invalid parameter: id must be/],
      ['name over 256 characters', () => save({ name: 'n'.repeat(257) }), /^Invalid parameter: name must be a string of at most 256 characters$/],
      ['desc over 10,000 characters', () => save({ desc: 'd'.repeat(10_001) }), /^Invalid parameter: desc must be a string of at most 10000 characters$/],
      ['unknown id', () => save({ id: 99999 }), /^Workflow 99999 not found$/],
      ['missing owners', () => saveWithout('owners'), /Missing parameter: owners/],
      ['missing freq', () => saveWithout('freq'), /Missing parameter: freq/],
      ['empty name', () => save({ name: '' }), /name must not be empty/],
      ['type changed', () => save({ type: 1 }), /type cannot change/],
      ['alertMode out of range', () => save({ alertMode: 9 }), /alertMode must be one of 0, 1, 2, 3/],
      ['bad effective date', () => save({ startTime: 'tomorrow' }), /startTime must be a date yyyy-MM-dd/],
      ['owner not a user', () => save({ owners: 'admin;ghost' }), /owners names no user of organization o-default: "ghost"/],
      ['bad cron of a periodic flow', () => save({ freq: 'every day' }, ctx.periodicId), /Incorrect parameter: freq: invalid cron "every day"/],
      ['cycle', async () => save({ relations: [{ source: `t_${ctx.a}`, target: `t_${ctx.b}` }, { source: `t_${ctx.b}`, target: `t_${ctx.a}` }] }), /Incorrect parameter: relations: the graph has a cycle/],
      ['relation to unknown node', () => save({ relations: [{ source: `t_${ctx.a}`, target: 't_999999' }] }), /refers to unknown node t_999999/],
      ['task of another flow', () => save({ tasks: [{ taskId: ctx.otherTaskId, x: 0, y: 0 }], relations: [] }), new RegExp(`tasks\\[0\\]\\.taskId ${'\\d+'} is not a task of workflow`)],
      ['duplicate task name', () => save({ tasks: [{ taskId: ctx.a }, { taskId: ctx.b }, { nodeId: 'n1', taskName: 'a', type: 'SHELL', cmd: 'true' }] }), /duplicate task name "a"/],
      ['new task without cmd', () => save({ tasks: [{ taskId: ctx.a }, { taskId: ctx.b }, { nodeId: 'n1', taskName: 'c', type: 'SHELL' }] }), /Missing parameter: tasks\[2\]\.cmd: task "c" has no command/],
      ['cmd emptied', () => save({ tasks: [{ taskId: ctx.a, cmd: '  ' }, { taskId: ctx.b }] }), /Missing parameter: tasks\[0\]\.cmd: task "a" has no command/],
      ['new task without type', () => save({ tasks: [{ taskId: ctx.a }, { taskId: ctx.b }, { nodeId: 'n1', taskName: 'c' }] }), /tasks\[2\]\.type/],
      ['bad parameter key', () => save({ parameters: [{ key: 'has space', value: '1' }] }), /parameters.*invalid parameter key "has space"/],
      ['tasks malformed JSON text', () => save({ tasks: '[{' }), /tasks is not valid JSON/],
      ['unknown task type', () => save({ tasks: [{ taskId: ctx.a, type: 'JAVA' }, { taskId: ctx.b }] }), /tasks\[0\]\.type must be SHELL/],
      ['runMode memory 5 GB', () => save({ tasks: [{ taskId: ctx.a, runMode: '{"memory":5}' }, { taskId: ctx.b }] }), /^Invalid parameter: tasks\[0\]\.runMode\.memory is out of range: from 0\.3 to 4 GB, got 5$/],
    ],
  },
  {
    method: 'POST', resource: 'flows', action: 'trigger',
    cases: [
      malformed,
      ['missing flowId', () => ({ body: { triggerTime: 1 } }), /Missing parameter: flowId/],
      ['flowId not numeric', () => ({ body: { flowId: 'one', triggerTime: 1 } }), /flowId must be a non-negative integer/],
      ['missing triggerTime', () => ({ body: { flowId: ctx.flowId } }), /Missing parameter: triggerTime/],
      ['triggerTime not numeric', () => ({ body: { flowId: ctx.flowId, triggerTime: 'soon' } }), /triggerTime must be epoch milliseconds/],
      ['negative triggerTime', () => ({ body: { flowId: ctx.flowId, triggerTime: -5 } }), /triggerTime must be epoch milliseconds/],
      ['fractional triggerTime', () => ({ body: { flowId: ctx.flowId, triggerTime: 1.5 } }), /triggerTime must be epoch milliseconds/],
      ['triggerTime past year 9999', () => ({ body: { flowId: ctx.flowId, triggerTime: 1e15 } }), /triggerTime is out of range/],
      ['unknown flowId', () => ({ body: { flowId: 99999, triggerTime: 1 } }), /^Workflow 99999 not found$/],
      ['same minute as an existing instance', () => ({ body: { flowId: ctx.flowId, triggerTime: w.clock.now() + 3_600_000 } }), /^Cannot create workflow instance\./],
    ],
  },
  {
    method: 'POST', resource: 'flows', action: 'updateAndTrigger',
    cases: [
      malformed,
      ['missing parameters', () => ({ body: { flowId: ctx.flowId, triggerTime: 1 } }), /Missing parameter: parameters/],
      ['bad parameter key', () => ({ body: { flowId: ctx.flowId, triggerTime: 1, parameters: [{ key: 'a b', value: '1' }] } }), /parameters: invalid parameter key "a b"/],
      ['a parameter changing how processes load', () => ({ body: { flowId: ctx.flowId, triggerTime: 1, parameters: [{ key: 'LD_PRELOAD', value: '/tmp/evil.so' }] } }), /parameters: parameter key "LD_PRELOAD" is refused/],
      ['parameters malformed JSON text', () => ({ body: { flowId: ctx.flowId, triggerTime: 1, parameters: '[{"key":' } }), /parameters is not valid JSON/],
      ['parameters a number', () => ({ body: { flowId: ctx.flowId, triggerTime: 1, parameters: 42 } }), /parameters must be a list of \{key,value\}/],
      ['missing triggerTime', () => ({ body: { flowId: ctx.flowId, parameters: [] } }), /Missing parameter: triggerTime/],
      ['unknown flowId', () => ({ body: { flowId: 99999, triggerTime: 1, parameters: [] } }), /^Workflow 99999 not found$/],
    ],
  },
  {
    method: 'POST', resource: 'flows', action: 'triggerFromTask',
    cases: [
      malformed,
      ['missing taskId', () => ({ body: { flowId: ctx.flowId, triggerTime: 1 } }), /Missing parameter: taskId/],
      ['taskId not numeric', () => ({ body: { flowId: ctx.flowId, taskId: 'a', triggerTime: 1 } }), /taskId must be a non-negative integer/],
      ['taskId of another flow', () => ({ body: { flowId: ctx.flowId, taskId: ctx.otherTaskId, triggerTime: 1 } }), /taskId \d+ is not a task of workflow/],
      ['unknown flowId', () => ({ body: { flowId: 99999, taskId: ctx.a, triggerTime: 1 } }), /^Workflow 99999 not found$/],
    ],
  },
  {
    method: 'GET', resource: 'flowInstances', action: 'get',
    cases: [
      ['missing flowInstId', () => ({}), /Missing parameter: flowInstId/],
      ['empty flowInstId', () => ({ query: { flowInstId: '' } }), /flowInstId must be a non-empty string/],
      ['unknown flowInstId', () => ({ query: { flowInstId: '1-19990101000000' } }), /^Flow instance 1-19990101000000 not found$/],
    ],
  },
  {
    method: 'POST', resource: 'flowInstances', action: 'cancel',
    cases: [
      malformed,
      ['missing flowInstId', () => ({ body: {} }), /Missing parameter: flowInstId/],
      ['flowInstId a number', () => ({ body: { flowInstId: 5 } }), /flowInstId must be a non-empty string/],
      ['unknown flowInstId', () => ({ body: { flowInstId: '1-19990101000000' } }), /^Flow instance 1-19990101000000 not found$/],
    ],
  },
  {
    method: 'GET', resource: 'taskInstances', action: 'get',
    cases: [
      ['missing taskInstId', () => ({}), /Missing parameter: taskInstId/],
      ['unknown taskInstId', () => ({ query: { taskInstId: '7-19990101000000' } }), /^Task instance 7-19990101000000 not found$/],
    ],
  },
  {
    method: 'GET', resource: 'taskInstances', action: 'getLog',
    cases: [
      ['missing taskInstId', () => ({}), /Missing parameter: taskInstId/],
      ['zero maxLength', () => ({ query: { taskInstId: ctx.taskInstId, maxLength: 0 } }), /maxLength must be a positive integer/],
      ['negative maxLength', () => ({ query: { taskInstId: ctx.taskInstId, maxLength: -3 } }), /maxLength must be a positive integer/],
      ['maxLength not numeric', () => ({ query: { taskInstId: ctx.taskInstId, maxLength: 'lots' } }), /maxLength must be a positive integer/],
      ['unknown taskInstId', () => ({ query: { taskInstId: '7-19990101000000' } }), /Invalid taskInstId or it has no log: 7-19990101000000/],
    ],
  },
  {
    method: 'GET', resource: 'flows', action: 'delete',
    cases: [
      ['missing flowId', () => ({}), /Missing parameter: flowId/],
      ['flowId not numeric', () => ({ query: { flowId: 'x1' } }), /flowId must be a non-negative integer/],
      ['unknown flowId', () => ({ query: { flowId: 424242 } }), /^Workflow 424242 not found$/],
    ],
  },
  ...(['enable', 'disable'] as const).map((action) => ({
    method: 'POST' as const, resource: 'flows', action,
    cases: [
      malformed,
      ['missing flowId', () => ({ body: {} }), /Missing parameter: flowId/],
      ['flowId negative', () => ({ body: { flowId: -1 } }), /flowId must be a non-negative integer/],
      ['unknown flowId', () => ({ body: { flowId: 424242 } }), /^Workflow 424242 not found$/],
    ] as Case[],
  })),
  {
    method: 'GET', resource: 'flows', action: 'loadForEdit',
    cases: [
      ['missing flowId', () => ({}), /Missing parameter: flowId/],
      ['unknown flowId', () => ({ query: { flowId: 424242 } }), /^Workflow 424242 not found$/],
    ],
  },
  {
    method: 'POST', resource: 'flows', action: 'search',
    cases: [
      malformed,
      ['expression not a string', () => ({ body: { expression: 5 } }), /expression must be a string/],
      ['pageSize over 1000', () => ({ body: { pagination: { pageNo: 1, pageSize: 5000 } } }), /pagination\.pageSize must be between 1 and 1000/],
      ['unknown sorter', () => ({ body: { pagination: { pageNo: 1, pageSize: 5, sorters: [{ field: 'flowName' }] } } }), /^The sorters field parameter is invalid/],
      // The message's echo of the value overflowed JSON.stringify's stack: 62109.
      ['pageNo 10,000 levels deep', () => ({ body: `{"pagination":{"pageNo":${DEEP},"pageSize":5}}` }), /^Invalid parameter: pagination\.pageNo must be .*got \[\[\.\.\.\]\]$/],
      ['a sorter field 10,000 levels deep', () => ({ body: `{"pagination":{"pageNo":1,"pageSize":5,"sorters":[{"field":${DEEP_OBJECT}}]}}` }), /^The sorters field parameter is invalid: pagination\.sorters\[0\] has field \{\.\.\.\}/],
    ],
  },
  {
    method: 'POST', resource: 'flowInstances', action: 'search',
    cases: [
      malformed,
      ['missing type', () => ({ body: { owner: '', status: '', fromTriggerTime: 0, toTriggerTime: 1 } }), /Missing parameter: type/],
      ['unknown status code', () => ({ body: { type: 0, owner: '', status: '1,42', fromTriggerTime: 0, toTriggerTime: 1 } }), /status "42" is not a status code \(-1, 0 to 10/],
      ['window reversed', () => ({ body: { type: 0, owner: '', status: '', fromTriggerTime: 5, toTriggerTime: 1 } }), /fromTriggerTime \(5\) is after toTriggerTime \(1\)/],
      ['pageNo 0', () => ({ body: { type: 0, owner: '', status: '', fromTriggerTime: 0, toTriggerTime: 1, pagination: { pageNo: 0, pageSize: 5 } } }), /pagination\.pageNo must be 1 or more/],
    ],
  },
  {
    method: 'POST', resource: 'directories', action: 'create',
    cases: [
      malformed,
      ['dirName not a string', () => ({ body: { parentId: ctx.root, dirName: ['x'] } }), /dirName must be a string/],
      ['unknown parentId', () => ({ body: { parentId: 'nope', dirName: 'x' } }), /^parentId not found: nope/],
    ],
  },
];

for (const t of tables) {
  describe(`${t.method} /${t.resource}?action=${t.action} refuses bad input`, () => {
    for (const [name, build, msg] of t.cases) {
      it(`${name}: 62102 naming it, nothing written`, async () => {
        const before = await storeSnapshot(w.store);
        const r = await op(w, 'admin', t.method, t.resource, t.action, await build());
        fails(r, 62102, msg);
        expect(await storeSnapshot(w.store)).toEqual(before);
      });
    }
  });
}
