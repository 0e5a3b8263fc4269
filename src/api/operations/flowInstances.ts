// /flowInstances operations: get, search (List Flow Instances), cancel.
import { invalid } from '../../domain/errors.js';
import type { FlowInstanceStatus } from '../../domain/status.js';
import { toEpochMs, oneOf } from '../../service/input.js';
import { cancelInstance, getFlowInstance } from '../../service/instances.js';
import { searchFlowInstances } from '../../service/search.js';
import { defineOp } from '../operation.js';
import { renderFlowInstance } from '../render/instance.js';
import { CancelBody, FlowInstIdQuery, SearchInstancesBody } from '../schemas/instances.js';
import { flowInstanceStatusOf } from '../wire.js';

/** `status` as "1,2", "" (any) or a number: the wire codes of flow instance statuses. */
function parseStatuses(v: string | number): FlowInstanceStatus[] {
  const parts = String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
  return parts.map((p) => {
    const s = /^-?\d+$/.test(p) ? flowInstanceStatusOf(Number(p)) : undefined;
    if (!s) throw invalid('status', `Invalid parameter: status ${JSON.stringify(p)} is not a flow instance status code (-1, 1, 2, 4, 5, 8)`);
    return s;
  });
}

export const flowInstanceOperations = [
  defineOp({
    name: 'getFlowInstance', method: 'GET', resource: 'flowInstances', action: 'get', access: 'read',
    schema: { querystring: FlowInstIdQuery },
    handler: async ({ deps, caller, query, version }) =>
      renderFlowInstance(await getFlowInstance(deps, caller, query.flowInstId.trim()), deps.config.timezone, version.flowExtras),
  }),
  defineOp({
    name: 'searchFlowInstances', method: 'POST', resource: 'flowInstances', action: 'search', access: 'read',
    schema: { body: SearchInstancesBody },
    handler: async ({ deps, caller, body, version }) => {
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
];
