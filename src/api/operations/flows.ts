// /flows operations: get, export, import, save, delete, enable, disable, getMyFlow, search, loadForEdit,
// trigger, updateAndTrigger, triggerFromTask. Handlers convert wire inputs and call src/service;
// rendering is in src/api/render.
import { parseParams } from '../../domain/params.js';
import { deleteFlow, loadFlowForEdit, setFlowActive } from '../../service/flowLifecycle.js';
import { exportFlow, getFlow, importFlow, saveFlow } from '../../service/flows.js';
import { getMyFlows, searchFlows } from '../../service/search.js';
import { idText, toEpochMs, toInt } from '../../service/input.js';
import { MAX_DESIRED_FLOW_ID } from '../../service/limits.js';
import { triggerFlow } from '../../service/triggers.js';
import { backfillFlow } from '../../service/backfill.js';
import type { ResponseData } from '../openapi/responses.js';
import { defineOp } from '../operation.js';
import { renderFlow, renderMyFlow, renderPageFlow } from '../render/flow.js';
import {
  BackfillBody,
  FlowIdBody,
  FlowIdQuery,
  GetMyFlowQuery,
  ImportBody,
  SaveBody,
  SearchFlowBody,
  TriggerBody,
  TriggerFromTaskBody,
  UpdateAndTriggerBody,
} from '../schemas/flows.js';

const res = 'flows';

export const flowOperations = [
  defineOp({
    name: 'getFlow', method: 'GET', resource: res, action: 'get', access: 'read',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query, version }): Promise<ResponseData<'getFlow'>> =>
      renderFlow(await getFlow(deps, caller, toInt(query.flowId, 'flowId')), deps.config.timezone, version.flowExtras),
  }),
  defineOp({
    name: 'loadFlowForEdit', method: 'GET', resource: res, action: 'loadForEdit', access: 'write',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query, version }): Promise<ResponseData<'loadFlowForEdit'>> =>
      renderFlow(await loadFlowForEdit(deps, caller, toInt(query.flowId, 'flowId')), deps.config.timezone, version.flowExtras),
  }),
  defineOp({
    name: 'getMyFlow', method: 'GET', resource: res, action: 'getMyFlow', access: 'read',
    schema: { querystring: GetMyFlowQuery },
    handler: async ({ deps, caller, query }): Promise<ResponseData<'getMyFlow'>> => (await getMyFlows(deps, caller, query.expression)).map((m) => renderMyFlow(m.flow, m.editable)),
  }),
  defineOp({
    name: 'searchFlow', method: 'POST', resource: res, action: 'search', access: 'read',
    schema: { body: SearchFlowBody },
    handler: async ({ deps, caller, body, version }): Promise<ResponseData<'searchFlow'>> =>
      (await searchFlows(deps, caller, { expression: body.expression, pagination: body.pagination, pageBase: version.pageBase })).map(renderPageFlow),
  }),
  defineOp({
    name: 'exportFlow', method: 'GET', resource: res, action: 'export', access: 'read',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query }) => exportFlow(deps, caller, toInt(query.flowId, 'flowId')),
  }),
  defineOp({
    name: 'importFlow', method: 'POST', resource: res, action: 'import', access: 'write', idempotent: true,
    schema: { body: ImportBody },
    handler: async ({ deps, caller, body }) =>
      importFlow(deps, caller, {
        flowId: body.flowId === undefined ? undefined : toInt(body.flowId, 'flowId', MAX_DESIRED_FLOW_ID, 'a desired id is an Integer of the reference, 32 bits'),
        flowName: typeof body.flowName === 'string' ? body.flowName : '',
        desc: body.desc,
        dirId: idText(body.dirId, 'dirId'),
        flowJson: body.flowJson,
      }),
  }),
  defineOp({
    name: 'saveFlow', method: 'POST', resource: res, action: 'save', access: 'write',
    schema: { body: SaveBody },
    handler: async ({ deps, caller, body }) => saveFlow(deps, caller, toInt(body.id, 'id'), body as Record<string, unknown>),
  }),
  defineOp({
    // A GET that deletes: so the reference has it (ref §6.3).
    name: 'deleteFlow', method: 'GET', resource: res, action: 'delete', access: 'write',
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query }) => deleteFlow(deps, caller, toInt(query.flowId, 'flowId')),
  }),
  defineOp({
    name: 'enableFlow', method: 'POST', resource: res, action: 'enable', access: 'write',
    schema: { body: FlowIdBody },
    handler: async ({ deps, caller, body }) => setFlowActive(deps, caller, toInt(body.flowId, 'flowId'), 1),
  }),
  defineOp({
    name: 'disableFlow', method: 'POST', resource: res, action: 'disable', access: 'write',
    schema: { body: FlowIdBody },
    handler: async ({ deps, caller, body }) => setFlowActive(deps, caller, toInt(body.flowId, 'flowId'), 0),
  }),
  defineOp({
    name: 'triggerFlow', method: 'POST', resource: res, action: 'trigger', access: 'write', idempotent: true,
    schema: { body: TriggerBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, { flowId: toInt(body.flowId, 'flowId'), triggerTime: toEpochMs(body.triggerTime, 'triggerTime') }),
  }),
  defineOp({
    name: 'updateAndTriggerFlow', method: 'POST', resource: res, action: 'updateAndTrigger', access: 'write', idempotent: true,
    schema: { body: UpdateAndTriggerBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, {
        flowId: toInt(body.flowId, 'flowId'),
        triggerTime: toEpochMs(body.triggerTime, 'triggerTime'),
        overrides: parseParams(body.parameters, 'parameters'),
      }),
  }),
  defineOp({
    name: 'triggerFlowFromTask', method: 'POST', resource: res, action: 'triggerFromTask', access: 'write', versions: ['v2.1'], idempotent: true,
    schema: { body: TriggerFromTaskBody },
    handler: async ({ deps, caller, body }) =>
      triggerFlow(deps, caller, {
        flowId: toInt(body.flowId, 'flowId'),
        startTaskId: toInt(body.taskId, 'taskId'),
        triggerTime: toEpochMs(body.triggerTime, 'triggerTime'),
      }),
  }),
  defineOp({
    name: 'backfillFlow', method: 'POST', resource: res, action: 'backfill', access: 'write', versions: ['v2.1'], idempotent: true,
    schema: { body: BackfillBody },
    handler: async ({ deps, caller, body }): Promise<ResponseData<'backfillFlow'>> =>
      backfillFlow(deps, caller, {
        flowId: toInt(body.flowId, 'flowId'),
        fromTime: toEpochMs(body.fromTime, 'fromTime'),
        toTime: toEpochMs(body.toTime, 'toTime'),
        ...(body.cron !== undefined ? { cron: body.cron } : {}),
        ...(body.parameters !== undefined ? { overrides: parseParams(body.parameters, 'parameters') } : {}),
      }),
  }),
];
