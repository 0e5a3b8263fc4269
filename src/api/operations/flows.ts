// /flows operations of this issue: get, export, import, save, trigger, updateAndTrigger, triggerFromTask.
// Handlers convert wire inputs and call src/service; rendering is in src/api/render.
import { parseParams } from '../../domain/params.js';
import { exportFlow, getFlow, importFlow, saveFlow } from '../../service/flows.js';
import { toEpochMs, toInt } from '../../service/input.js';
import { triggerFlow } from '../../service/triggers.js';
import { defineOp } from '../operation.js';
import { renderFlow } from '../render/flow.js';
import { FlowIdQuery, ImportBody, SaveBody, TriggerBody, TriggerFromTaskBody, UpdateAndTriggerBody } from '../schemas/flows.js';

const res = 'flows';

export const flowOperations = [
  defineOp({
    name: 'getFlow', method: 'GET', resource: res, action: 'get', access: 'read',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query }) => renderFlow(await getFlow(deps, caller, toInt(query.flowId, 'flowId')), deps.config.timezone),
  }),
  defineOp({
    name: 'exportFlow', method: 'GET', resource: res, action: 'export', access: 'read',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query }) => exportFlow(deps, caller, toInt(query.flowId, 'flowId')),
  }),
  defineOp({
    name: 'importFlow', method: 'POST', resource: res, action: 'import', access: 'write',
    schema: { body: ImportBody },
    handler: async ({ deps, caller, body }) =>
      importFlow(deps, caller, {
        flowId: body.flowId === undefined ? undefined : toInt(body.flowId, 'flowId'),
        flowName: typeof body.flowName === 'string' ? body.flowName : '',
        desc: body.desc,
        dirId: String(body.dirId),
        flowJson: body.flowJson,
      }),
  }),
  defineOp({
    name: 'saveFlow', method: 'POST', resource: res, action: 'save', access: 'write',
    schema: { body: SaveBody },
    handler: async ({ deps, caller, body }) => saveFlow(deps, caller, toInt(body.id, 'id'), body as Record<string, unknown>),
  }),
  defineOp({
    name: 'triggerFlow', method: 'POST', resource: res, action: 'trigger', access: 'write',
    schema: { body: TriggerBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, { flowId: toInt(body.flowId, 'flowId'), triggerTime: toEpochMs(body.triggerTime, 'triggerTime') }),
  }),
  defineOp({
    name: 'updateAndTriggerFlow', method: 'POST', resource: res, action: 'updateAndTrigger', access: 'write',
    schema: { body: UpdateAndTriggerBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, {
        flowId: toInt(body.flowId, 'flowId'),
        triggerTime: toEpochMs(body.triggerTime, 'triggerTime'),
        overrides: parseParams(body.parameters, 'parameters'),
      }),
  }),
  defineOp({
    name: 'triggerFlowFromTask', method: 'POST', resource: res, action: 'triggerFromTask', access: 'write', versions: ['v2.1'],
    schema: { body: TriggerFromTaskBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, {
        flowId: toInt(body.flowId, 'flowId'),
        startTaskId: toInt(body.taskId, 'taskId'),
        triggerTime: toEpochMs(body.triggerTime, 'triggerTime'),
      }),
  }),
];

