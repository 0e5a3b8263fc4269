// /flowInstances operations: get, search (List Flow Instances), cancel, rerun (extension).
import { invalid, outOfRange } from '../../domain/errors.js';
import type { FlowInstanceStatus } from '../../domain/status.js';
import { toEpochMs, oneOf } from '../../service/input.js';
import { cancelInstance, getFlowInstance } from '../../service/instances.js';
import { searchFlowInstances } from '../../service/search.js';
import type { ResponseData } from '../openapi/responses.js';
import { defineOp } from '../operation.js';
import { renderFlowInstance } from '../render/instance.js';
import { CancelBody, FlowInstIdQuery, RerunBody, SearchInstancesBody } from '../schemas/instances.js';
import { rerunInstance, rerunModeOf } from '../../service/rerun.js';
import { FLOW_INSTANCE_WIRE, flowInstanceStatusOf } from '../wire.js';

const FLOW_CODES = Object.values(FLOW_INSTANCE_WIRE).sort((a, b) => a - b).join(', ');

/**
 * `status` as "1,2", "" (any) or a number. Every code of ref §4 (-1, 0 to 10) is accepted, as the official
 * samples send the whole list (contract §7); codes no flow instance can have match nothing. null = any.
 */
function parseStatuses(v: string | number): FlowInstanceStatus[] | null {
  const parts = String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) return null;
  const codes = parts.map((p) => {
    const bad = `Invalid parameter: status ${JSON.stringify(p)} is not a status code (-1, 0 to 10; flow instances have ${FLOW_CODES})`;
    if (!/^-?\d+$/.test(p)) throw invalid('status', bad);
    const n = Number(p);
    if (n < -1 || n > 10) throw outOfRange('status', bad);
    return n;
  });
  return codes.map(flowInstanceStatusOf).filter((s): s is FlowInstanceStatus => s !== undefined);
}

export const flowInstanceOperations = [
  defineOp({
    name: 'getFlowInstance', method: 'GET', resource: 'flowInstances', action: 'get', access: 'read',
    schema: { querystring: FlowInstIdQuery },
    handler: async ({ deps, caller, query, version }): Promise<ResponseData<'getFlowInstance'>> =>
      renderFlowInstance(await getFlowInstance(deps, caller, query.flowInstId.trim()), deps.config.timezone, version.flowExtras),
  }),
  defineOp({
    name: 'searchFlowInstances', method: 'POST', resource: 'flowInstances', action: 'search', access: 'read',
    schema: { body: SearchInstancesBody },
    handler: async ({ deps, caller, body, version }): Promise<ResponseData<'searchFlowInstances'>> => {
      const { views, count } = await searchFlowInstances(deps, caller, {
        flowType: oneOf(body.type, 'type', [0, 1, 2] as const),
        expression: body.expression,
        owner: body.owner,
        fromTriggerTime: toEpochMs(body.fromTriggerTime ?? body.startTriggerTime, 'fromTriggerTime'),
        toTriggerTime: toEpochMs(body.toTriggerTime ?? body.endTriggerTime, 'toTriggerTime'),
        statuses: parseStatuses(body.status),
        pagination: body.pagination,
        pageBase: version.pageBase,
      });
      return { flowInsts: views.map((v) => renderFlowInstance(v, deps.config.timezone, version.flowExtras)), count };
    },
  }),
  defineOp({
    name: 'cancelFlowInstance', method: 'POST', resource: 'flowInstances', action: 'cancel', access: 'write',
    schema: { body: CancelBody },
    handler: async ({ deps, caller, body }) => cancelInstance(deps, caller, body.flowInstId.trim()),
  }),
  defineOp({
    name: 'rerunFlowInstance', method: 'POST', resource: 'flowInstances', action: 'rerun', access: 'write', versions: ['v2.1'], idempotent: true,
    schema: { body: RerunBody },
    handler: async ({ deps, caller, body }): Promise<ResponseData<'rerunFlowInstance'>> => rerunInstance(deps, caller, body.flowInstId.trim(), rerunModeOf(body.mode)),
  }),
];
