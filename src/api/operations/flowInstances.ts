// /flowInstances operations: get, cancel.
import { cancelInstance, getFlowInstance } from '../../service/instances.js';
import { defineOp } from '../operation.js';
import { renderFlowInstance } from '../render/instance.js';
import { CancelBody, FlowInstIdQuery } from '../schemas/instances.js';

export const flowInstanceOperations = [
  defineOp({
    name: 'getFlowInstance', method: 'GET', resource: 'flowInstances', action: 'get', access: 'read',
    schema: { querystring: FlowInstIdQuery },
    handler: async ({ deps, caller, query }) => renderFlowInstance(await getFlowInstance(deps, caller, query.flowInstId.trim()), deps.config.timezone),
  }),
  defineOp({
    name: 'cancelFlowInstance', method: 'POST', resource: 'flowInstances', action: 'cancel', access: 'write',
    schema: { body: CancelBody },
    handler: async ({ deps, caller, body }) => cancelInstance(deps, caller, body.flowInstId.trim()),
  }),
];
