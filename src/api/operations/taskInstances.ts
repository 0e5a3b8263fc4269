// /taskInstances operations: get (V2.1 only), getLog, and the live log stream (extension, V2.1 only).
import { getTaskInstance, getTaskLog, parseLogMaxLength } from '../../service/instances.js';
import { openLogStream } from '../../service/logStream.js';
import type { ResponseData } from '../openapi/responses.js';
import { defineOp } from '../operation.js';
import { renderTaskInstance } from '../render/instance.js';
import { TaskInstIdQuery, TaskLogQuery, TaskLogStreamQuery } from '../schemas/instances.js';

export const taskInstanceOperations = [
  defineOp({
    name: 'getTaskInstance', method: 'GET', resource: 'taskInstances', action: 'get', access: 'read', versions: ['v2.1'],
    schema: { querystring: TaskInstIdQuery },
    handler: async ({ deps, caller, query }): Promise<ResponseData<'getTaskInstance'>> => renderTaskInstance(await getTaskInstance(deps, caller, query.taskInstId.trim()), deps.config.timezone),
  }),
  defineOp({
    name: 'getTaskInstanceLog', method: 'GET', resource: 'taskInstances', action: 'getLog', access: 'read',
    schema: { querystring: TaskLogQuery },
    handler: async ({ deps, caller, query }) =>
      getTaskLog(deps, caller, query.taskInstId.trim(), query.maxLength === undefined ? undefined : parseLogMaxLength(query.maxLength, deps.config.logCapBytes)),
  }),
  defineOp({
    name: 'streamTaskInstanceLog', method: 'GET', resource: 'taskInstances', action: 'streamLog', access: 'read', versions: ['v2.1'], stream: true,
    schema: { querystring: TaskLogStreamQuery },
    handler: async ({ deps, caller, query, signal }) =>
      openLogStream(deps, caller, query.taskInstId.trim(), { after: query.after, tailChars: query.tailChars, follow: query.follow, signal: signal ?? new AbortController().signal }),
  }),
];
