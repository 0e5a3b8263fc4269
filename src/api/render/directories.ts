// WorkFlowDir tree nodes (ref §5.8): directories with key = directory id, flows as leaves with key =
// flowId (a number) and `editable` for the caller.
import type { DirNode } from '../../service/directories.js';
import type { WorkFlowDirWire } from '../openapi/structs.js';

const WORKFLOW_DIR_TYPE = 1; // ref §4 WorkFlowDir.type: 1 Workflow

export function renderDirTree(n: DirNode): WorkFlowDirWire {
  return {
    title: n.dir.parentId === null ? 'Workflow' : n.dir.name,
    type: WORKFLOW_DIR_TYPE,
    key: n.dir.id,
    isDirectory: true,
    children: [
      ...n.dirs.map(renderDirTree),
      ...n.flows.map(({ flow, editable }): WorkFlowDirWire => ({ title: flow.name, type: WORKFLOW_DIR_TYPE, key: flow.id, isDirectory: false, editable })),
    ],
  };
}
