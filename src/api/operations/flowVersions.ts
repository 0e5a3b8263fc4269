// /flows version operations (extensions, V2.1 only): listVersions, getVersion, compareVersions. Every
// import and every Save that changes a workflow makes a version; instances name the one they ran.
import { toInt } from '../../service/input.js';
import { compareFlowVersions, getFlowVersion, listFlowVersions, versionNumber } from '../../service/versions.js';
import type { ResponseData } from '../openapi/responses.js';
import { defineOp } from '../operation.js';
import { renderComparison, renderVersion, renderVersionList } from '../render/versions.js';
import { CompareVersionsQuery, FlowIdQuery, FlowVersionQuery } from '../schemas/flows.js';

const res = 'flows';

export const flowVersionOperations = [
  defineOp({
    name: 'listFlowVersions', method: 'GET', resource: res, action: 'listVersions', access: 'read', versions: ['v2.1'],
    schema: { querystring: FlowIdQuery },
    handler: async ({ deps, caller, query }): Promise<ResponseData<'listFlowVersions'>> => renderVersionList(await listFlowVersions(deps, caller, toInt(query.flowId, 'flowId')), deps.config.timezone),
  }),
  defineOp({
    name: 'getFlowVersion', method: 'GET', resource: res, action: 'getVersion', access: 'read', versions: ['v2.1'],
    schema: { querystring: FlowVersionQuery },
    handler: async ({ deps, caller, query }): Promise<ResponseData<'getFlowVersion'>> =>
      renderVersion(await getFlowVersion(deps, caller, toInt(query.flowId, 'flowId'), versionNumber(query.version, 'version')), deps.config.timezone),
  }),
  defineOp({
    name: 'compareFlowVersions', method: 'GET', resource: res, action: 'compareVersions', access: 'read', versions: ['v2.1'],
    schema: { querystring: CompareVersionsQuery },
    handler: async ({ deps, caller, query }): Promise<ResponseData<'compareFlowVersions'>> =>
      renderComparison(
        await compareFlowVersions(deps, caller, toInt(query.flowId, 'flowId'), versionNumber(query.from, 'from'), versionNumber(query.to, 'to')),
        deps.config.timezone,
      ),
  }),
];
