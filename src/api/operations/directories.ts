// /directories operations: listWorkFlowDirs and create.
import { createDirectory, listTree } from '../../service/directories.js';
import type { ResponseData } from '../openapi/responses.js';
import { defineOp } from '../operation.js';
import { renderDirTree } from '../render/directories.js';
import { CreateDirectoryBody } from '../schemas/directories.js';

export const directoryOperations = [
  defineOp({
    name: 'listWorkFlowDirs', method: 'GET', resource: 'directories', action: 'listWorkFlowDirs', access: 'read',
    schema: {},
    handler: async ({ deps, caller }): Promise<ResponseData<'listWorkFlowDirs'>> => (await listTree(deps, caller)).map(renderDirTree),
  }),
  defineOp({
    name: 'createDirectory', method: 'POST', resource: 'directories', action: 'create', access: 'write',
    schema: { body: CreateDirectoryBody },
    handler: async ({ deps, caller, body }) => createDirectory(deps, caller, body),
  }),
];
